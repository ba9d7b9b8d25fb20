import Foundation

/// Orthogonal maximum-intensity projections of a signed 3-D map (glass-brain style): along each
/// axis the value of largest magnitude, with its sign, drawn as three panels (sagittal: over x,
/// coronal: over y, axial: over z) on a diverging blue-white-orange scale symmetric about zero.
/// Volumes wider than `maxPixels` per axis are pooled in blocks (largest magnitude wins).
public struct ProjectionMap: Sendable {
    public var title: String
    /// [X, Y, Z] in NIfTI (x fastest) order.
    public var shape: [Int]
    public var values: [Float]
    public var maxPixels = 64

    public init(title: String, shape: [Int], values: [Float]) {
        precondition(shape.count == 3 && values.count == shape.reduce(1, *), "a 3-D map with shape.count == 3")
        self.title = title
        self.shape = shape
        self.values = values
    }

    /// The three projections (each [rows][columns], rows running superior/anterior to
    /// inferior/posterior as drawn) after pooling.
    public func projections() -> (sagittal: [[Float]], coronal: [[Float]], axial: [[Float]]) {
        let (nx, ny, nz) = (shape[0], shape[1], shape[2])
        let block = max(1, Int((Double(max(nx, ny, nz)) / Double(maxPixels)).rounded(.up)))
        let (bx, by, bz) = ((nx + block - 1) / block, (ny + block - 1) / block, (nz + block - 1) / block)
        var sagittal = [[Float]](repeating: [Float](repeating: 0, count: by), count: bz)  // rows z (top = superior), columns y
        var coronal = [[Float]](repeating: [Float](repeating: 0, count: bx), count: bz)   // rows z, columns x
        var axial = [[Float]](repeating: [Float](repeating: 0, count: bx), count: by)     // rows y (top = anterior), columns x
        func keep(_ current: inout Float, _ value: Float) { if abs(value) > abs(current) { current = value } }
        for z in 0..<nz {
            for y in 0..<ny {
                for x in 0..<nx {
                    let value = values[x + nx * (y + ny * z)]
                    guard value != 0, value.isFinite else { continue }
                    let (px, py, pz) = (x / block, y / block, z / block)
                    keep(&sagittal[bz - 1 - pz][py], value)
                    keep(&coronal[bz - 1 - pz][px], value)
                    keep(&axial[by - 1 - py][px], value)
                }
            }
        }
        return (sagittal, coronal, axial)
    }

    /// Largest magnitude in the map (the colour scale's end).
    public var scale: Float { values.filter(\.isFinite).map(abs).max() ?? 0 }

    /// Diverging colour for v in [-1, 1]: blue (#0072B2) through white to orange (#E69F00).
    static func colour(_ v: Float) -> String {
        let t = Double(max(-1, min(1, v)))
        let (end): (Double, Double, Double) = t < 0 ? (0, 114, 178) : (230, 159, 0)
        let w = abs(t)
        let r = Int((255 * (1 - w) + end.0 * w).rounded()), g = Int((255 * (1 - w) + end.1 * w).rounded()), b = Int((255 * (1 - w) + end.2 * w).rounded())
        return String(format: "#%02X%02X%02X", r, g, b)
    }

    public func svg() -> String {
        let (sagittal, coronal, axial) = projections()
        let scale = self.scale
        let pixel = 4.0, gap = 16.0, top = 30.0, left = 10.0
        let panels: [(String, [[Float]])] = [("sagittal", sagittal), ("coronal", coronal), ("axial", axial)]
        var x = left
        var body = "<text class=\"title\" x=\"\(fmt(left))\" y=\"18\">\(escapeHTML(title))</text>"
        var height = top
        for (name, grid) in panels {
            let rows = grid.count, columns = grid.first?.count ?? 0
            body += "<g class=\"mip\" data-view=\"\(name)\">"
            body += "<rect x=\"\(fmt(x))\" y=\"\(fmt(top))\" width=\"\(fmt(Double(columns) * pixel))\" height=\"\(fmt(Double(rows) * pixel))\" fill=\"#FFFFFF\" stroke=\"#BBBBBB\"/>"
            for (r, row) in grid.enumerated() {
                for (c, value) in row.enumerated() where value != 0 && scale > 0 {
                    body += "<rect x=\"\(fmt(x + Double(c) * pixel))\" y=\"\(fmt(top + Double(r) * pixel))\" width=\"\(fmt(pixel))\" height=\"\(fmt(pixel))\" fill=\"\(Self.colour(value / scale))\"/>"
                }
            }
            body += "<text class=\"tick\" x=\"\(fmt(x))\" y=\"\(fmt(top + Double(rows) * pixel + 14))\">\(name)</text></g>"
            x += Double(columns) * pixel + gap
            height = max(height, top + Double(rows) * pixel + 24)
        }
        // Colour bar: -scale ... 0 ... +scale.
        let barX = x, barHeight = max(60, height - top - 30)
        for step in 0..<20 {
            let v = 1 - Double(step) / 19 * 2
            body += "<rect x=\"\(fmt(barX))\" y=\"\(fmt(top + Double(step) * barHeight / 20))\" width=\"12\" height=\"\(fmt(barHeight / 20 + 0.5))\" fill=\"\(Self.colour(Float(v)))\"/>"
        }
        body += "<text class=\"tick\" x=\"\(fmt(barX + 16))\" y=\"\(fmt(top + 8))\">\(label(Double(scale)))</text>"
        body += "<text class=\"tick\" x=\"\(fmt(barX + 16))\" y=\"\(fmt(top + barHeight / 2 + 4))\">0</text>"
        body += "<text class=\"tick\" x=\"\(fmt(barX + 16))\" y=\"\(fmt(top + barHeight))\">\(label(-Double(scale)))</text>"
        let width = barX + 70
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"projection-map\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" width=\"\(fmt(width))\" height=\"\(fmt(height))\">\(body)</svg>"
    }
}
