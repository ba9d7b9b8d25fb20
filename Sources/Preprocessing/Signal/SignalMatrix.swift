/// Signals over time: `timePoints` rows by `columns` signals, stored column-major (each
/// signal's timeseries is contiguous), in Float64.
///
/// Cleaning works on one signal at a time (filters, splines) or on all of them through BLAS
/// (confound projection), and both are fastest with contiguous columns.
public struct SignalMatrix: Equatable, Sendable {
    public let timePoints: Int
    public let columns: Int
    /// `values[column * timePoints + t]`.
    public var values: [Double]

    public init(timePoints: Int, columns: Int, values: [Double]) {
        precondition(values.count == timePoints * columns, "values must hold timePoints x columns")
        self.timePoints = timePoints
        self.columns = columns
        self.values = values
    }

    public init(timePoints: Int, columns: Int) {
        self.init(timePoints: timePoints, columns: columns, values: [Double](repeating: 0, count: timePoints * columns))
    }

    /// From rows (one array per time point), as a TSV is read.
    public init(rows: [[Double]]) {
        let columns = rows.first?.count ?? 0
        var values = [Double](repeating: 0, count: rows.count * columns)
        for (t, row) in rows.enumerated() {
            precondition(row.count == columns, "every row must have \(columns) values")
            for (c, value) in row.enumerated() { values[c * rows.count + t] = value }
        }
        self.init(timePoints: rows.count, columns: columns, values: values)
    }

    public subscript(t: Int, column: Int) -> Double {
        get { values[column * timePoints + t] }
        set { values[column * timePoints + t] = newValue }
    }

    public func column(_ index: Int) -> ArraySlice<Double> {
        values[(index * timePoints)..<((index + 1) * timePoints)]
    }

    /// Rows (time points) as arrays, for printing.
    public var rows: [[Double]] { (0..<timePoints).map { t in (0..<columns).map { self[t, $0] } } }

    /// Keeps the given time points (in the order given).
    public func selectingTimePoints(_ kept: [Int]) -> SignalMatrix {
        var result = SignalMatrix(timePoints: kept.count, columns: columns)
        for c in 0..<columns {
            for (row, t) in kept.enumerated() { result.values[c * kept.count + row] = values[c * timePoints + t] }
        }
        return result
    }

    /// Columns side by side.
    public func appendingColumns(_ other: SignalMatrix) -> SignalMatrix {
        precondition(other.timePoints == timePoints, "matrices must have the same time points")
        return SignalMatrix(timePoints: timePoints, columns: columns + other.columns, values: values + other.values)
    }
}
