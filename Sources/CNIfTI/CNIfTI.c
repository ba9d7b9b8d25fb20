#include "CNIfTI.h"
#include <string.h>

#define FIELD(name) if (strcmp(field, #name) == 0) return (long)offsetof(HDR, name);

long cnifti_field_offset(int version, const char *field) {
    if (version == 1) {
#define HDR nifti_1_header
        FIELD(sizeof_hdr) FIELD(dim_info) FIELD(dim) FIELD(intent_p1) FIELD(intent_code)
        FIELD(datatype) FIELD(bitpix) FIELD(slice_start) FIELD(pixdim) FIELD(vox_offset)
        FIELD(scl_slope) FIELD(scl_inter) FIELD(slice_end) FIELD(slice_code) FIELD(xyzt_units)
        FIELD(cal_max) FIELD(cal_min) FIELD(slice_duration) FIELD(toffset) FIELD(descrip)
        FIELD(aux_file) FIELD(qform_code) FIELD(sform_code) FIELD(quatern_b) FIELD(qoffset_x)
        FIELD(srow_x) FIELD(srow_y) FIELD(srow_z) FIELD(intent_name) FIELD(magic)
#undef HDR
    } else if (version == 2) {
#define HDR nifti_2_header
        FIELD(sizeof_hdr) FIELD(magic) FIELD(datatype) FIELD(bitpix) FIELD(dim) FIELD(intent_p1)
        FIELD(pixdim) FIELD(vox_offset) FIELD(scl_slope) FIELD(scl_inter) FIELD(cal_max)
        FIELD(cal_min) FIELD(slice_duration) FIELD(toffset) FIELD(slice_start) FIELD(slice_end)
        FIELD(descrip) FIELD(aux_file) FIELD(qform_code) FIELD(sform_code) FIELD(quatern_b)
        FIELD(qoffset_x) FIELD(srow_x) FIELD(srow_y) FIELD(srow_z) FIELD(slice_code)
        FIELD(xyzt_units) FIELD(intent_code) FIELD(intent_name) FIELD(dim_info)
#undef HDR
    }
    return -1;
}

long cnifti_header_size(int version) {
    return version == 1 ? (long)sizeof(nifti_1_header) : (version == 2 ? (long)sizeof(nifti_2_header) : -1);
}
