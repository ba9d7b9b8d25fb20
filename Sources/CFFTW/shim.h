/* FFTW 3, single and double precision. */
#include <fftw3.h>
