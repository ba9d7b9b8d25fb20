/* OpenBLAS (CBLAS) and LAPACKE. */
#include <cblas.h>
#include <lapacke.h>
