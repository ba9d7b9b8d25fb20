import Foundation

/// Okabe-Ito colours: distinguishable under the common colour-vision deficiencies.
public enum Palette {
    public static let colours = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
    public static func colour(_ index: Int) -> String { colours[index % colours.count] }
}

/// One named line of a chart; `x` and `y` have equal length. Non-finite points are skipped.
public struct Series: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    public init(name: String, x: [Double], y: [Double]) { self.name = name; self.x = x; self.y = y }
}

/// A shaded interval on the x axis (a condition block on a time axis).
public struct Band: Sendable {
    public var start: Double, end: Double, label: String
    public init(start: Double, end: Double, label: String) { self.start = start; self.end = end; self.label = label }
}

/// Maps data coordinates to the plot area and draws labelled axes with "nice" ticks.
struct Frame {
    let width = 640.0, height = 300.0, left = 70.0, right = 150.0, top = 30.0, bottom = 50.0
    let xRange: ClosedRange<Double>, yRange: ClosedRange<Double>

    /// `padding` widens each range by that fraction on both sides (scatter plots keep their
    /// outermost points off the axes).
    init(x: [Double], y: [Double], padding: Double = 0) {
        xRange = Frame.range(x, padding: padding)
        yRange = Frame.range(y, padding: padding)
    }

    static func range(_ values: [Double], padding: Double = 0) -> ClosedRange<Double> {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return 0...1 }
        // A constant series (e.g. a fixed learning rate) gets a range in its own scale.
        if low == high { let half = low == 0 ? 0.5 : abs(low) * 0.5; return (low - half)...(high + half) }
        let margin = (high - low) * padding
        return (low - margin)...(high + margin)
    }

    func px(_ x: Double) -> Double { left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * (width - left - right) }
    func py(_ y: Double) -> Double { height - bottom - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * (height - top - bottom) }

    /// Tick positions at 1, 2 or 5 times a power of ten, four to seven per axis.
    static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        let span = range.upperBound - range.lowerBound
        let raw = span / 5, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= 0.7 * raw } ?? raw
        var ticks: [Double] = [], value = ceil(range.lowerBound / step) * step
        while value <= range.upperBound + step * 1e-9 { ticks.append(value); value += step }
        return ticks
    }

    func axes(title: String, xLabel: String, yLabel: String, xTicks: Bool = true) -> String {
        var svg = "<text class=\"title\" x=\"\(fmt(left))\" y=\"18\">\(escapeHTML(title))</text>"
        svg += "<line class=\"axis\" x1=\"\(fmt(left))\" y1=\"\(fmt(height - bottom))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(height - bottom))\"/>"
        svg += "<line class=\"axis\" x1=\"\(fmt(left))\" y1=\"\(fmt(top))\" x2=\"\(fmt(left))\" y2=\"\(fmt(height - bottom))\"/>"
        for tick in xTicks ? Frame.ticks(xRange) : [] {
            svg += "<text class=\"tick\" x=\"\(fmt(px(tick)))\" y=\"\(fmt(height - bottom + 16))\" text-anchor=\"middle\">\(label(tick))</text>"
        }
        for tick in Frame.ticks(yRange) {
            svg += "<text class=\"tick\" x=\"\(fmt(left - 6))\" y=\"\(fmt(py(tick) + 4))\" text-anchor=\"end\">\(label(tick))</text>"
            svg += "<line class=\"grid\" x1=\"\(fmt(left))\" y1=\"\(fmt(py(tick)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(py(tick)))\"/>"
        }
        svg += "<text class=\"label\" x=\"\(fmt((left + width - right) / 2))\" y=\"\(fmt(height - 10))\" text-anchor=\"middle\">\(escapeHTML(xLabel))</text>"
        svg += "<text class=\"label\" transform=\"translate(16 \(fmt((top + height - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escapeHTML(yLabel))</text>"
        return svg
    }

    func legend(_ names: [String]) -> String {
        names.enumerated().map { index, name in
            let y = top + 16 * Double(index)
            return "<rect x=\"\(fmt(width - right + 12))\" y=\"\(fmt(y))\" width=\"10\" height=\"10\" fill=\"\(Palette.colour(index))\"/>"
                + "<text class=\"tick\" x=\"\(fmt(width - right + 26))\" y=\"\(fmt(y + 9))\">\(escapeHTML(name))</text>"
        }.joined()
    }

    func document(_ body: String, kind: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"\(kind)\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" width=\"\(fmt(width))\" height=\"\(fmt(height))\">\(body)</svg>"
    }
}

func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
func label(_ value: Double) -> String {
    let magnitude = abs(value)
    if magnitude < 1e-12 { return "0" }
    if magnitude != 0 && (magnitude >= 1e5 || magnitude < 1e-3) { return String(format: "%.1e", value) }
    return String(format: "%g", (value * 1e6).rounded() / 1e6)
}

/// Escapes text for HTML and SVG content and attribute values.
public func escapeHTML(_ text: String) -> String {
    var result = ""
    for character in text {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        default: result.append(character)
        }
    }
    return result
}

/// Lines over a shared x axis, with optional shaded bands (one polyline per series).
public struct LineChart: Sendable {
    public var title: String, xLabel: String, yLabel: String
    public var series: [Series]
    public var bands: [Band] = []
    public init(title: String, xLabel: String, yLabel: String, series: [Series], bands: [Band] = []) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.bands = bands
    }

    public func svg() -> String {
        let frame = Frame(x: series.flatMap(\.x), y: series.flatMap(\.y))
        var body = ""
        let bandLabels = Array(Set(bands.map(\.label))).sorted()
        for band in bands {
            let shade = (bandLabels.firstIndex(of: band.label) ?? 0) + 1
            body += "<rect class=\"band\" data-label=\"\(escapeHTML(band.label))\" x=\"\(fmt(frame.px(band.start)))\" y=\"\(fmt(frame.top))\" width=\"\(fmt(frame.px(band.end) - frame.px(band.start)))\" height=\"\(fmt(frame.height - frame.top - frame.bottom))\" fill=\"\(Palette.colour(shade + 3))\" fill-opacity=\"0.15\"><title>\(escapeHTML(band.label))</title></rect>"
            body += "<text class=\"tick\" x=\"\(fmt(frame.px(band.start) + 2))\" y=\"\(fmt(frame.top + 10))\">\(escapeHTML(band.label))</text>"
        }
        body += frame.axes(title: title, xLabel: xLabel, yLabel: yLabel)
        for (index, line) in series.enumerated() {
            let points = zip(line.x, line.y).filter { $0.0.isFinite && $0.1.isFinite }.map { "\(fmt(frame.px($0.0))),\(fmt(frame.py($0.1)))" }
            body += "<polyline data-series=\"\(escapeHTML(line.name))\" fill=\"none\" stroke=\"\(Palette.colour(index))\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
        }
        body += frame.legend(series.map(\.name))
        return frame.document(body, kind: "line-chart")
    }
}

/// Points coloured by class, with optional highlighted markers (fixed points).
public struct ScatterChart: Sendable {
    public struct Marker: Sendable {
        public var x: Double, y: Double, label: String, filled: Bool
        public init(x: Double, y: Double, label: String, filled: Bool) { self.x = x; self.y = y; self.label = label; self.filled = filled }
    }
    public var title: String, xLabel: String, yLabel: String
    public var x: [Double], y: [Double], classes: [String]
    public var markers: [Marker] = []
    /// Point radius in pixels: small for thousands of volumes, larger for a few eigenvalues.
    public var pointRadius: Double
    /// Stability references of an eigenvalue plane: the imaginary axis (Re = 0, flows) or the
    /// unit circle (maps), drawn dashed and always inside the plotted range.
    public enum Reference: Sendable { case imaginaryAxis, unitCircle }
    public var reference: Reference? = nil
    public init(title: String, xLabel: String, yLabel: String, x: [Double], y: [Double], classes: [String], markers: [Marker] = [], pointRadius: Double = 2) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.x = x; self.y = y; self.classes = classes; self.markers = markers
        self.pointRadius = pointRadius
    }

    public func svg() -> String {
        let extraX: [Double] = reference == .imaginaryAxis ? [0] : reference == .unitCircle ? [-1, 1] : []
        let extraY: [Double] = reference == .unitCircle ? [-1, 1] : []
        let frame = Frame(x: x + markers.map(\.x) + extraX, y: y + markers.map(\.y) + extraY, padding: 0.05)
        let names = Array(Set(classes)).sorted()
        var body = frame.axes(title: title, xLabel: xLabel, yLabel: yLabel)
        switch reference {
        case .imaginaryAxis:
            body += "<line class=\"reference\" x1=\"\(fmt(frame.px(0)))\" y1=\"\(fmt(frame.top))\" x2=\"\(fmt(frame.px(0)))\" y2=\"\(fmt(frame.height - frame.bottom))\" stroke=\"#000000\" stroke-dasharray=\"4 3\"><title>Re = 0: stable to the left</title></line>"
        case .unitCircle:
            let points = (0...72).map { k -> String in
                let angle = Double(k) / 72 * 2 * Double.pi
                return "\(fmt(frame.px(cos(angle)))),\(fmt(frame.py(sin(angle))))"
            }
            body += "<polyline class=\"reference\" fill=\"none\" stroke=\"#000000\" stroke-dasharray=\"4 3\" points=\"\(points.joined(separator: " "))\"><title>|lambda| = 1: stable inside</title></polyline>"
        case nil: break
        }
        for (index, (px, py)) in zip(x, y).enumerated() where px.isFinite && py.isFinite {
            let colour = Palette.colour(names.firstIndex(of: classes[index]) ?? 0)
            body += "<circle class=\"point\" cx=\"\(fmt(frame.px(px)))\" cy=\"\(fmt(frame.py(py)))\" r=\"\(fmt(pointRadius))\" fill=\"\(colour)\" fill-opacity=\"\(pointRadius > 2 ? "1" : "0.6")\"/>"
        }
        for marker in markers {
            body += "<circle class=\"marker\" data-label=\"\(escapeHTML(marker.label))\" cx=\"\(fmt(frame.px(marker.x)))\" cy=\"\(fmt(frame.py(marker.y)))\" r=\"6\" stroke=\"#000000\" stroke-width=\"2\" fill=\"\(marker.filled ? "#000000" : "#ffffff")\"><title>\(escapeHTML(marker.label))</title></circle>"
        }
        body += frame.legend(names)
        return frame.document(body, kind: "scatter-chart")
    }
}

/// Vertical bars with +- error whiskers and an optional dashed reference line (chance).
public struct BarChart: Sendable {
    public var title: String, yLabel: String
    public var labels: [String], values: [Double], errors: [Double]
    public var reference: Double?
    /// A legend of the bars' colours beside the plot (for many, slanted labels).
    public var legend: Bool = false
    public init(title: String, yLabel: String, labels: [String], values: [Double], errors: [Double], reference: Double?, legend: Bool = false) {
        self.title = title; self.yLabel = yLabel; self.labels = labels; self.values = values; self.errors = errors; self.reference = reference
        self.legend = legend
    }

    public func svg() -> String {
        let tops = zip(values, errors).map { $0 + $1 } + [reference ?? 0]
        let bottoms = zip(values, errors).map { $0 - $1 } + [0]
        // 10% headroom so the whiskers and the reference line stay clear of the title; negative
        // values (signed maps) get the same room below zero.
        let lowest = min(0, bottoms.min() ?? 0)
        let frame = Frame(x: [0, Double(labels.count)], y: [1.1 * lowest, 1.1 * (tops.max() ?? 1)])
        var body = frame.axes(title: title, xLabel: "", yLabel: yLabel, xTicks: false)
        for (index, name) in labels.enumerated() {
            let left = frame.px(Double(index) + 0.2), right = frame.px(Double(index) + 0.8)
            let top = frame.py(values[index]), base = frame.py(0)
            body += "<rect class=\"bar\" data-label=\"\(escapeHTML(name))\" data-value=\"\(values[index])\" x=\"\(fmt(left))\" y=\"\(fmt(min(top, base)))\" width=\"\(fmt(right - left))\" height=\"\(fmt(abs(base - top)))\" fill=\"\(Palette.colour(index))\"/>"
            let middle = (left + right) / 2
            body += "<line class=\"whisker\" x1=\"\(fmt(middle))\" y1=\"\(fmt(frame.py(values[index] - errors[index])))\" x2=\"\(fmt(middle))\" y2=\"\(fmt(frame.py(values[index] + errors[index])))\" stroke=\"#000000\"/>"
            // Slant the labels when the longest would not fit under its bar (about 6.5 px a character).
            let slotWidth = (frame.width - frame.left - frame.right) / Double(max(1, labels.count))
            if labels.count > 8 || Double(labels.map(\.count).max() ?? 0) * 6.5 > slotWidth {
                // Many categories: labels slanted so neighbours do not overlap.
                let y = frame.height - frame.bottom + 16
                // At most 9 characters fit the bottom margin at this slant; the full name is the tooltip.
                let short = name.count > 9 ? String(name.prefix(8)) + "\u{2026}" : name
                body += "<text class=\"tick\" x=\"\(fmt(middle))\" y=\"\(fmt(y))\" text-anchor=\"end\" transform=\"rotate(-35 \(fmt(middle)) \(fmt(y)))\"><title>\(escapeHTML(name))</title>\(escapeHTML(short))</text>"
            } else {
                body += "<text class=\"tick\" x=\"\(fmt(middle))\" y=\"\(fmt(frame.height - frame.bottom + 30))\" text-anchor=\"middle\">\(escapeHTML(name))</text>"
            }
        }
        if let reference {
            body += "<line class=\"reference\" x1=\"\(fmt(frame.left))\" y1=\"\(fmt(frame.py(reference)))\" x2=\"\(fmt(frame.width - frame.right))\" y2=\"\(fmt(frame.py(reference)))\" stroke=\"#000000\" stroke-dasharray=\"4 3\"/>"
        }
        if legend { body += frame.legend(labels) }
        return frame.document(body, kind: "bar-chart")
    }
}
