#ifndef CNIFTI_H
#define CNIFTI_H
/* The NIfTI C library (libnifti2). Only nifti2_io.h is used: it covers NIfTI-1 and NIfTI-2. */
#include <nifti/nifti2_io.h>
#include <stddef.h>

/* Byte offset of a header field as the C structs lay it out, or -1 for an unknown name.
   version is 1 or 2. The Swift reader's field table is tested against these. */
long cnifti_field_offset(int version, const char *field);

/* sizeof(nifti_1_header) or sizeof(nifti_2_header). */
long cnifti_header_size(int version);
#endif
