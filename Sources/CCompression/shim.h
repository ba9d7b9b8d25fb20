/* Inflate libraries: Intel ISA-L's igzip (fast path) and zlib (fallback). */
#include <isa-l/igzip_lib.h>
#include <zlib.h>
