import Foundation
import XCTest

@testable import Reporting

final class ReportingTests: XCTestCase {
    func testTicksAreNiceAndCoverTheRange() {
        XCTAssertEqual(Frame.ticks(0...1), [0, 0.2, 0.4, 0.6, 0.8, 1.0].map { $0 }, accuracy: 1e-12)
        XCTAssertEqual(Frame.ticks(-13884...(-11000)), [-13500, -13000, -12500, -12000, -11500, -11000], accuracy: 1e-9)
        XCTAssertEqual(Frame.ticks(3...97), [20, 40, 60, 80], accuracy: 1e-12)
    }

    func testMethodsMarkdownBecomesEscapedHTML() {
        let markdown = "# Methods\n\n**Region signals.** Cleaned with `signal.clean` & <scaled>.\nSecond line.\n\n## References\n\n- One (2014).\n- Two **b**.\n"
        XCTAssertEqual(MarkdownHTML.render(markdown),
                       "<p><strong>Region signals.</strong> Cleaned with <code>signal.clean</code> &amp; &lt;scaled&gt;. Second line.</p>"
                       + "<h4>References</h4><ul><li>One (2014).</li><li>Two <strong>b</strong>.</li></ul>")
        XCTAssertEqual(MarkdownHTML.render("# Title\ntext", skipTitle: false), "<h3>Title</h3><p>text</p>")
        XCTAssertEqual(MarkdownHTML.inline("a ** b"), "a ** b", "an unpaired marker stays")
        XCTAssertEqual(MarkdownHTML.inline("**x** and **y"), "<strong>x</strong> and **y")
    }

    func testEscaping() {
        XCTAssertEqual(escapeHTML("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;")
        XCTAssertEqual(label(-0.0), "0")
        XCTAssertEqual(label(-1e-17), "0")
        XCTAssertEqual(label(0.25), "0.25")
        XCTAssertEqual(label(-13500), "-13500")
    }

    /// Data corners land on the plot-area corners: x from left (70) to width - right (490),
    /// y from bottom (300 - 50) to top (30).
    func testLineChartMapsDataToThePlotArea() throws {
        let chart = LineChart(title: "t", xLabel: "epoch", yLabel: "ELBO", series: [Series(name: "train", x: [1, 2, 3], y: [-10, -4, -7])],
                              bands: [Band(start: 2, end: 3, label: "left_hand")])
        let svg = chart.svg()
        let points = try XCTUnwrap(attribute("points", in: svg))
        XCTAssertEqual(points, "70.0,250.0 280.0,30.0 490.0,140.0")
        XCTAssertTrue(svg.contains("data-label=\"left_hand\" x=\"280.0\""), svg)
        XCTAssertTrue(svg.contains(">epoch</text>") && svg.contains(">ELBO</text>"))
    }

    func testNonFiniteValuesAreSkipped() throws {
        let svg = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [Series(name: "s", x: [0, 1, 2], y: [0, .nan, 1])]).svg()
        XCTAssertEqual(try XCTUnwrap(attribute("points", in: svg)), "70.0,250.0 490.0,30.0")
    }

    /// Scatter plots pad both ranges by 5%: 0...10 becomes -0.5...10.5, so x = 0 sits 0.5/11 of
    /// the 420 px width right of 70 (89.1) and y = 0 sits 0.5/11 of the 220 px height above 250 (240).
    func testScatterPadsItsRanges() {
        let svg = ScatterChart(title: "s", xLabel: "re", yLabel: "im", x: [0, 10], y: [0, 10], classes: ["a", "a"], pointRadius: 5).svg()
        XCTAssertTrue(svg.contains("cx=\"89.1\" cy=\"240.0\" r=\"5.0\""), svg)
        XCTAssertTrue(svg.contains("cx=\"470.9\" cy=\"40.0\" r=\"5.0\""), svg)
    }

    func testBarChartHeightsAndChanceLine() {
        let svg = BarChart(title: "b", yLabel: "acc", labels: ["node", "pca"], values: [0.8, 0.5], errors: [0.1, 0.0], reference: 0.25).svg()
        // y range 0...1.1 x 0.9 = 0.99: a bar of 0.8 is 0.8/0.99 of the 220 px plot height
        // (177.8 px, top at 250 - 177.8), chance 0.25 at 250 - 55.6.
        XCTAssertTrue(svg.contains("data-label=\"node\" data-value=\"0.8\" x=\"112.0\" y=\"72.2\" width=\"126.0\" height=\"177.8\""), svg)
        XCTAssertTrue(svg.contains("class=\"reference\" x1=\"70.0\" y1=\"194.4\""), svg)
        XCTAssertFalse(svg.contains(">0.5</text>"), "no numeric ticks on the category axis")
    }

    func testSignedBarsHangFromZero() {
        let svg = BarChart(title: "map", yLabel: "w", labels: ["a", "b"], values: [-1, 2], errors: [0, 0], reference: nil).svg()
        // y range -1.1...2.2 over 220 px: zero at 250 - 1.1/3.3 x 220 = 176.7; the -1 bar hangs
        // 66.7 px below it, the 2 bar rises 133.3 px above it.
        XCTAssertTrue(svg.contains("data-label=\"a\" data-value=\"-1.0\" x=\"112.0\" y=\"176.7\" width=\"126.0\" height=\"66.7\""), svg)
        XCTAssertTrue(svg.contains("data-label=\"b\" data-value=\"2.0\" x=\"322.0\" y=\"43.3\" width=\"126.0\" height=\"133.3\""), svg)
        let many = BarChart(title: "n", yLabel: "w", labels: (1...9).map { "networks-\($0)" }, values: Array(repeating: 1, count: 9),
                            errors: Array(repeating: 0, count: 9), reference: nil).svg()
        XCTAssertTrue(many.contains("<title>networks-1</title>networks\u{2026}</text>"), "long labels slanted and shortened, full name kept")
    }

    func testMaximumIntensityProjectionsKeepTheSignedExtreme() {
        // A 4 x 3 x 2 volume: +2 at (x 1, y 2, z 0), -5 at (x 3, y 0, z 1), +1 at (x 1, y 2, z 1).
        var values = [Float](repeating: 0, count: 24)
        func set(_ x: Int, _ y: Int, _ z: Int, _ v: Float) { values[x + 4 * (y + 3 * z)] = v }
        set(1, 2, 0, 2)
        set(3, 0, 1, -5)
        set(1, 2, 1, 1)
        let map = ProjectionMap(title: "t", shape: [4, 3, 2], values: values)
        let (sagittal, coronal, axial) = map.projections()
        // Rows run top (superior / anterior) to bottom.
        XCTAssertEqual(sagittal, [[-5, 0, 1], [0, 0, 2]])           // over x: [z][y]
        XCTAssertEqual(coronal, [[0, 1, 0, -5], [0, 2, 0, 0]])      // over y: [z][x]
        XCTAssertEqual(axial, [[0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, -5]])  // over z: [y][x], the +2 beats the +1
        XCTAssertEqual(map.scale, 5)
        let svg = map.svg()
        XCTAssertEqual(svg.components(separatedBy: "class=\"mip\"").count - 1, 3)
        XCTAssertTrue(svg.contains("fill=\"#0072B2\""), "the -5 extreme is full blue")
        XCTAssertEqual(ProjectionMap.colour(0), "#FFFFFF")
        XCTAssertEqual(ProjectionMap.colour(1), "#E69F00")
        // Pooling: a 130-wide volume is drawn in blocks of 3 (at most 64 pixels a side).
        let wide = ProjectionMap(title: "w", shape: [130, 2, 2], values: [Float](repeating: 1, count: 520))
        XCTAssertEqual(wide.projections().axial.first?.count, 44)
    }

    func testReportIsSelfContained() {
        var report = HTMLReport(title: "fit <1>")
        report.add(id: "training", title: "Training", body: LineChart(title: "t", xLabel: "x", yLabel: "y", series: [Series(name: "s", x: [0, 1], y: [0, 1])]).svg())
        report.add(id: "provenance", title: "Provenance", body: HTMLReport.table([("seed", "1")]))
        let html = report.rendered()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<title>fit &lt;1&gt;</title>"))
        XCTAssertTrue(html.contains("<section id=\"training\">") && html.contains("<section id=\"provenance\">"))
        XCTAssertTrue(html.contains("<tr><th>seed</th><td>1</td></tr>"))
        XCTAssertFalse(html.contains("src=") || html.contains("href=\"http"), "no external assets")
    }

    private func attribute(_ name: String, in svg: String) -> String? {
        guard let range = svg.range(of: "\(name)=\"") else { return nil }
        let rest = svg[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// The eigenvalue plane draws its stability reference inside the plotted range, even when
    /// every eigenvalue is on one side of it; bar charts can carry a legend.
    func testStabilityReferencesAndLegends() {
        var flow = ScatterChart(title: "t", xLabel: "x", yLabel: "y", x: [-3, -2], y: [0.5, -0.5], classes: ["a", "a"], pointRadius: 5)
        flow.reference = .imaginaryAxis
        let svg = flow.svg()
        XCTAssertTrue(svg.contains("stable to the left"))
        // Re = 0 lies right of both points: the line's x is the largest of the chart's x positions.
        let line = svg.components(separatedBy: "<line class=\"reference\" x1=\"")[1].prefix { $0 != "\"" }
        let points = svg.components(separatedBy: "class=\"point\" cx=\"").dropFirst().map { Double($0.prefix { $0 != "\"" }) ?? 0 }
        XCTAssertGreaterThan(Double(line) ?? 0, points.max() ?? 1000)
        var map = ScatterChart(title: "t", xLabel: "x", yLabel: "y", x: [0.2], y: [0.1], classes: ["a"], pointRadius: 5)
        map.reference = .unitCircle
        XCTAssertTrue(map.svg().contains("stable inside"))
        XCTAssertEqual(ScatterChart(title: "t", xLabel: "x", yLabel: "y", x: [0.2], y: [0.1], classes: ["a"]).svg().contains("class=\"reference\""), false)
        let bars = BarChart(title: "b", yLabel: "w", labels: ["Default", "Visual"], values: [1, -1], errors: [0, 0], reference: nil, legend: true).svg()
        XCTAssertEqual(bars.components(separatedBy: ">Default</text>").count - 1, 2, "one label under the bar, one in the legend")
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(a) vs \(b)", file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, "\(a) vs \(b)", file: file, line: line) }
}
