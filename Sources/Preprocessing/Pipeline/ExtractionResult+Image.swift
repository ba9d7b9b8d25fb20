import NIfTI

extension ExtractionResult {
    /// Voxel mode as a 4-D NIfTI image: each column's cleaned values back in its voxel of the
    /// mask, zeros outside it; voxel sizes and the transform code of `bold`'s header, the
    /// result's grid and repetition time. No mask (region results): nothing is written.
    public func writeVoxelImage(to path: String, like bold: String) throws {
        guard let mask else { return }
        let volumes = signals.timePoints, voxels = grid.voxelCount
        var values = [Float](repeating: 0, count: voxels * volumes)
        for (column, index) in mask.columnOrder.enumerated() {
            for t in 0..<volumes { values[t * voxels + index] = Float(signals[t, column]) }
        }
        let source = try NIfTIImage(contentsOf: bold).header
        var header = NIfTIHeader.make(shape: grid.shape + [volumes], zooms: Array(source.pixdim[1...3]),
                                      affine: grid.affine, datatype: .float32, code: max(1, source.sformCode), repetitionTime: repetitionTime)
        header.description = "fmridyn extract"
        try NIfTIWriter.write(values, header: header, to: path)
    }
}
