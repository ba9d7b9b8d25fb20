/* Open MPI's C interface. Its handles (MPI_COMM_WORLD, MPI_FLOAT, ...) are macros over
   addresses of library globals, which Swift cannot import: these functions return them. */
#include <mpi.h>

static inline MPI_Comm fmridyn_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype fmridyn_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype fmridyn_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype fmridyn_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype fmridyn_mpi_int(void) { return MPI_INT; }
