import NIfTI

/// Region signals of a CIFTI-2 dense timeseries: the mean of each parcel of a CIFTI dense
/// label file (`.dlabel.nii`, e.g. Glasser's 360 or Schaefer's parcels), or every grayordinate.
///
/// Grayordinates are matched between the two files by structure and vertex (surfaces) or
/// structure and voxel (i, j, k), so the label file may list its grayordinates in another
/// order, or more of them, than the timeseries.
public enum CIFTIExtraction {
    /// Parcel means [time points, parcels], parcels in increasing label key (key 0, the
    /// unlabelled `???`, left out), named by the label table. Parcels without a grayordinate in
    /// the timeseries are refused.
    public static func parcels(_ series: CIFTIImage, labels: CIFTIImage) throws -> (signals: SignalMatrix, names: [String]) {
        let (values, models) = try denseValues(series)
        guard let labelModels = labels.brainModelMap?.brainModels, labels.map(for: 0)?.kind == .labels else {
            throw AtlasError("\(labels.path) is not a CIFTI dense label file (.dlabel.nii: labels by brain models); give a parcellation such as Glasser's 360 .dlabel.nii")
        }
        let table = labels.map(for: 0)?.labelTables.first ?? [:]
        let keys = try labels.readAll()  // first label map: one key per grayordinate (grayordinate-major, one row)
        var keyOf: [String: Int] = [:]
        for model in labelModels {
            for index in 0..<model.count { keyOf[model.key(index)] = Int(keys[(model.offset + index) * labels.rows]) }
        }
        var members: [Int: [Int]] = [:]
        for model in models {
            for index in 0..<model.count {
                if let key = keyOf[model.key(index)], key != 0 { members[key, default: []].append(model.offset + index) }
            }
        }
        let used = table.keys.filter { $0 != 0 }.sorted()
        guard !members.isEmpty else {
            throw AtlasError("\(labels.path) labels none of the grayordinates of \(series.path); the two files cover different structures or surfaces (check the mesh, e.g. 32k fs_LR)")
        }
        let parcels = used.filter { members[$0] != nil }
        let time = series.rows
        var signals = SignalMatrix(timePoints: time, columns: parcels.count)
        for (column, key) in parcels.enumerated() {
            let grayordinates = members[key] ?? []
            values.withUnsafeBufferPointer { source in
                for t in 0..<time {
                    var sum = 0.0
                    for g in grayordinates { sum += Double(source[g * time + t]) }
                    signals[t, column] = sum / Double(grayordinates.count)
                }
            }
        }
        return (signals, parcels.map { table[$0] ?? String($0) })
    }

    /// Every grayordinate as a column [time points, grayordinates], named by structure and
    /// vertex or voxel (whole-grayordinate mode: 91,282 columns for HCP's standard space).
    public static func grayordinates(_ series: CIFTIImage) throws -> (signals: SignalMatrix, names: [String]) {
        let (values, models) = try denseValues(series)
        let time = series.rows, count = series.columns
        var signals = SignalMatrix(timePoints: time, columns: count)
        values.withUnsafeBufferPointer { source in
            signals.values.withUnsafeMutableBufferPointer { target in
                // SignalMatrix is column-major: column g is rows g * time ..< (g + 1) * time, as on disk.
                for index in 0..<(time * count) { target[index] = Double(source[index]) }
            }
        }
        var names = [String](repeating: "", count: count)
        for model in models { for index in 0..<model.count { names[model.offset + index] = model.key(index) } }
        return (signals, names)
    }

    static func denseValues(_ series: CIFTIImage) throws -> ([Float], [CIFTIBrainModel]) {
        guard series.map(for: 0)?.kind == .series, let models = series.brainModelMap?.brainModels, series.map(for: 1)?.kind == .brainModels else {
            throw AtlasError("\(series.path) is not a CIFTI dense timeseries (.dtseries.nii: a series by brain models)")
        }
        return (try series.readAll(), models)
    }
}
