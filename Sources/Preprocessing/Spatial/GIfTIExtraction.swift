import NIfTI

/// Region signals of a GIfTI surface timeseries (`.func.gii`): the mean of each label of a
/// GIfTI label file (`.label.gii`, one key per vertex of the same surface), or every vertex.
public enum GIfTIExtraction {
    /// Label means [time points, labels], labels in increasing key (key 0 left out), named by
    /// the label table.
    public static func parcels(_ series: GIfTIImage, labels: GIfTIImage) throws -> (signals: SignalMatrix, names: [String]) {
        let rows = try series.timeseries()
        guard let keys = labels.arrays.first?.values, !labels.labelTable.isEmpty else {
            throw AtlasError("\(labels.path) is not a GIfTI label file (a label table and one key per vertex); give a .label.gii parcellation")
        }
        guard keys.count == series.vertexCount else {
            throw AtlasError("\(labels.path) labels \(keys.count) vertices but \(series.path) has \(series.vertexCount); use the parcellation of the same surface mesh and hemisphere")
        }
        var members: [Int: [Int]] = [:]
        for (vertex, key) in keys.enumerated() where Int(key) != 0 { members[Int(key), default: []].append(vertex) }
        let parcels = members.keys.sorted()
        var signals = SignalMatrix(timePoints: rows.count, columns: parcels.count)
        for (column, key) in parcels.enumerated() {
            let vertices = members[key] ?? []
            for (t, row) in rows.enumerated() {
                var sum = 0.0
                for vertex in vertices { sum += Double(row[vertex]) }
                signals[t, column] = sum / Double(vertices.count)
            }
        }
        return (signals, parcels.map { labels.labelTable[$0] ?? String($0) })
    }

    /// Every vertex as a column [time points, vertices], named `vVERTEX`.
    public static func vertices(_ series: GIfTIImage) throws -> (signals: SignalMatrix, names: [String]) {
        let rows = try series.timeseries()
        let count = series.vertexCount
        var signals = SignalMatrix(timePoints: rows.count, columns: count)
        for (t, row) in rows.enumerated() { for v in 0..<count { signals[t, v] = Double(row[v]) } }
        return (signals, (0..<count).map { "v\($0)" })
    }
}
