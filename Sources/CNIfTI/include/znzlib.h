/* Debian's nifti2_io.h includes <znzlib.h> without the nifti/ prefix; forward it. */
#include <nifti/znzlib.h>
