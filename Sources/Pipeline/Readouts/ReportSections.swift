import Analysis
import Core
import Foundation
import Model
import NIfTI
import Preprocessing
import Reporting

/// The report's sections, each drawn from the files a stage wrote (training log, latents CSV,
/// `fixed_points.json`, decoding JSON, maps): what `fmridyn report`, `demo` and the BIDS App's
/// group level put on their pages.
public enum ReportSections {
    /// `maps.json` beside localisation maps: one condition name per volume.
    struct MapTitles: Decodable {
        var conditions: [String]?
    }

    /// Training, latent and fixed-point sections (shared with `fmridyn demo`).
    public static func assemble(model: String, latents: String?, fixedPoints: String?) throws -> HTMLReport {
        var report = HTMLReport(title: "fmridyn report: \((model as NSString).lastPathComponent)")
        report.add(id: "training", title: "Training", body: try trainingSection(model: model))
        var projection: LatentProjection?
        if let latents {
            let (body, projected) = try latentSection(path: latents)
            report.add(id: "latents", title: "Latent trajectories", body: body)
            projection = projected
        }
        if let fixedPoints { report.add(id: "fixed-points", title: "Fixed points", body: try fixedPointSection(path: fixedPoints, projection: projection)) }
        return report
    }

    public static func provenance(model: String) -> String {
        var provenance: [(String, String)] = [("fmridyn version", FMRIDynVersion.current), ("command line", CommandLine.arguments.joined(separator: " ")),
                                              ("written", ISO8601DateFormatter().string(from: Date())), ("model directory", model)]
        provenance += LibraryVersions.all.map { ("library: \($0.name)", $0.version) }
        if let data = FileManager.default.contents(atPath: ModelDirectory(model).configuration),
           case .object(var members)? = try? JSONValue(parsing: data) {
            // Region names would drown the settings: give their count and the first few.
            if let index = members.firstIndex(where: { $0.0 == "featureNames" }), case .array(let names) = members[index].1, names.count > 6 {
                members[index].1 = .string("\(names.count) regions: " + names.prefix(5).map(\.display).joined(separator: ", ") + ", ...")
            }
            provenance.append(("model configuration", JSONValue.object(members).rendered()))
        }
        return HTMLReport.table(provenance)
    }

    public static func trainingSection(model: String) throws -> String {
        let path = ModelDirectory(model).trainingLog
        guard FileManager.default.fileExists(atPath: path) else {
            throw PipelineError("\(path) does not exist: `model` must be a directory written by fmridyn fit.")
        }
        let log = try DelimitedTable(contentsOf: path, delimiter: ",")
        let epoch = try log.numericColumn("epoch")
        func series(_ column: String, _ name: String) throws -> Series { Series(name: name, x: epoch, y: try log.numericColumn(column)) }
        return LineChart(title: "Evidence lower bound per window", xLabel: "epoch", yLabel: "ELBO (nats)",
                         series: [try series("train_elbo", "train"), try series("val_elbo", "validation")]).svg()
            + LineChart(title: "Loss terms (training)", xLabel: "epoch", yLabel: "nats per window",
                        series: [try series("recon", "reconstruction"), try series("kl", "KL")]).svg()
            + LineChart(title: "Learning rate", xLabel: "epoch", yLabel: "learning rate", series: [try series("lr", "learning rate")]).svg()
    }

    /// The volumes on the top two principal axes of the latents, kept to draw fixed points on.
    public struct LatentProjection {
        public var pca: PCA
        public var x: [Double], y: [Double], conditions: [String]
    }

    public static func latentSection(path: String) throws -> (String, LatentProjection) {
        let table = try DelimitedTable(contentsOf: path, delimiter: ",")
        let names = table.header.filter { $0.first == "z" && Int($0.dropFirst()) != nil }
        guard !names.isEmpty else { throw TableError(path: path, "has no z1..zK columns; pass a CSV from fmridyn latents") }
        let columns = try names.map { try table.numericColumn($0, allowMissing: false) }
        let rows = (0..<columns[0].count).map { t in columns.map { $0[t] } }
        let conditions = (try? table.column("condition")) ?? Array(repeating: "n/a", count: rows.count)
        let time = (try? table.numericColumn("time_s")) ?? (0..<rows.count).map(Double.init)
        // The first run: consecutive rows sharing subject, session, task and run.
        let keyColumns = try ["subject", "session", "task", "run"].filter { table.columnIndex($0) != nil }.map { try table.column($0) }
        let runKey = (0..<rows.count).map { t in keyColumns.map { $0[t] }.filter { !$0.isEmpty }.joined(separator: "/") }
        let firstRun = runKey.prefix { $0 == runKey.first }.count
        var bands: [Band] = []
        var start = 0
        for t in 1...firstRun where t == firstRun || conditions[t] != conditions[start] {
            if conditions[start] != "rest" && conditions[start] != "n/a" {
                let end = t < firstRun ? time[t] : time[t - 1]
                bands.append(Band(start: time[start], end: end, label: conditions[start]))
            }
            start = t
        }
        let timeCourses = LineChart(title: "Latent time courses, run \(runKey.first ?? "")", xLabel: "time (s)", yLabel: "latent (posterior mean)",
                                    series: names.enumerated().map { Series(name: $1, x: Array(time[0..<firstRun]), y: columns[$0].prefix(firstRun).map { $0 }) },
                                    bands: bands)
        let pca = PCA(fitting: rows, components: min(2, names.count))
        let projected = pca.transform(rows)
        let scatter = ScatterChart(title: "All volumes on the top two principal axes of the latents", xLabel: "PC1 (latent units)",
                                   yLabel: names.count > 1 ? "PC2 (latent units)" : "PC1", x: projected.map { $0[0] },
                                   y: projected.map { $0.count > 1 ? $0[1] : $0[0] }, classes: conditions)
        let legend = "<p>Shaded blocks: " + Array(Set(bands.map(\.label))).sorted().map(escapeHTML).joined(separator: ", ") + ".</p>"
        return (timeCourses.svg() + legend + "<div id=\"projection\">" + scatter.svg() + "</div>",
                LatentProjection(pca: pca, x: scatter.x, y: scatter.y, conditions: conditions))
    }

    public static func fixedPointSection(path: String, projection: LatentProjection?) throws -> String {
        let report = try FixedPointReport.read(contentsOf: path)
        let points = report.fixedPoints
        // A flow is stable where every eigenvalue has Re < 0; a map where every |lambda| < 1.
        let isMap = report.isMap
        var table = "<table class=\"fixed-points\"><tr><th>#</th><th>stability</th><th>coordinates z</th><th>\(isMap ? "largest |&lambda;|" : "largest Re &lambda;")</th>"
            + "<th>starts converged (of \(report.starts))</th><th>speed q</th></tr>"
        var re: [Double] = [], im: [Double] = [], owner: [String] = [], markers: [ScatterChart.Marker] = []
        for (index, point) in points.enumerated() {
            let kind = point.classification
            table += "<tr><td>\(index + 1)</td><td>\(escapeHTML(kind))</td><td>(\(point.z.map { String(format: "%.3f", $0) }.joined(separator: ", ")))</td>"
                + "<td>\(point.leadingEigenvalue(isMap: isMap).map { String(format: "%.4g", $0) } ?? "n/a")</td><td>\(point.count)</td>"
                + "<td>\(String(format: "%.2e", point.q))</td></tr>"
            for pair in point.eigenvalues where pair.count == 2 {
                re.append(pair[0]); im.append(pair[1]); owner.append("#\(index + 1) \(kind)")
            }
            if let projection, point.z.count == projection.pca.mean.count, let p = projection.pca.transform([point.z]).first {
                markers.append(.init(x: p[0], y: p.count > 1 ? p[1] : p[0], label: "#\(index + 1) \(kind)", filled: kind == "stable"))
            }
        }
        var body = "<p>\(points.count) fixed points of the \(isMap ? "map" : "flow"): \(points.filter { $0.classification == "stable" }.count) stable.</p>" + table + "</table>"
        if let projection, !markers.isEmpty {
            body += ScatterChart(title: "Fixed points over the volumes' latent projection (filled: stable, open: not)", xLabel: "PC1 (latent units)",
                                 yLabel: "PC2 (latent units)", x: projection.x, y: projection.y, classes: projection.conditions, markers: markers).svg()
        }
        if !re.isEmpty {
            var plane = ScatterChart(title: isMap ? "Jacobian eigenvalues (dashed: unit circle, stable inside)" : "Jacobian eigenvalues (dashed: Re = 0, stable to the left)",
                                     xLabel: "real part (1/step)", yLabel: "imaginary part (1/step)", x: re, y: im, classes: owner, pointRadius: 5)
            plane.reference = isMap ? .unitCircle : .imaginaryAxis
            body += plane.svg()
        }
        return body
    }

    /// One run of the data summary.
    public struct DataRow {
        public var run: String
        public var repetitionTime: Double
        public var kept: Int
        /// Volumes in the original run (kept + censored or dropped).
        public var total: Int
        public var confounds: [String]

        public init(run: String, repetitionTime: Double, kept: Int, total: Int, confounds: [String]) {
            self.run = run
            self.repetitionTime = repetitionTime
            self.kept = kept
            self.total = total
            self.confounds = confounds
        }
    }

    /// The data-summary section: per run the TR, volumes kept and censored or dropped, the
    /// confounds regressed; then the preprocessing settings.
    public static func dataSummary(_ rows: [DataRow], settings: [(String, String)]) -> String {
        var table = "<table><tr><th>run</th><th>TR (s)</th><th>volumes kept</th><th>censored or dropped</th><th>confounds regressed</th></tr>"
        for row in rows {
            table += "<tr><td>\(escapeHTML(row.run))</td><td>\(row.repetitionTime)</td><td>\(row.kept)</td><td>\(max(0, row.total - row.kept))</td>"
                + "<td>\(row.confounds.isEmpty ? "none" : "\(row.confounds.count): " + escapeHTML(row.confounds.joined(separator: ", ")))</td></tr>"
        }
        return table + "</table><h3>Preprocessing</h3>" + HTMLReport.table(settings)
    }

    /// Per condition, the decoder-mapped weights grouped by network (mean +- SD over the
    /// network's regions), or the 20 regions of largest magnitude when no networks are known.
    public static func mapsSection(path: String) throws -> String {
        let table = try DelimitedTable(contentsOf: path)
        guard table.header.count >= 3, table.header[0] == "region", table.header[1] == "network" else {
            throw PipelineError("\(path) is not a maps.tsv (region, network, one column per condition); write one with fmridyn decode `maps`.")
        }
        let regions = try table.column("region"), networks = try table.column("network")
        let known = networks.contains { $0 != "n/a" && !$0.isEmpty }
        var body = "<p>Classifier weights mapped through the linear decoder: decoded standardised signal per unit of each condition's score."
            + (known ? " Bars: mean over the network's regions, whiskers: SD.</p>" : " The 20 regions of largest magnitude.</p>")
        for condition in table.header.dropFirst(2) {
            let values = try table.numericColumn(condition, allowMissing: false)
            if known {
                let names = Array(Set(networks)).sorted()
                var means: [Double] = [], sds: [Double] = []
                for network in names {
                    let members = values.indices.filter { networks[$0] == network }.map { values[$0] }
                    let mean = members.reduce(0, +) / Double(members.count)
                    means.append(mean)
                    sds.append((members.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(members.count)).squareRoot())
                }
                body += BarChart(title: "\(condition): map by network", yLabel: "weight (a.u.)", labels: names, values: means, errors: sds, reference: nil,
                                 legend: true).svg()
            } else {
                let top = values.indices.sorted { abs(values[$0]) > abs(values[$1]) }.prefix(20)
                body += BarChart(title: "\(condition): strongest regions", yLabel: "weight (a.u.)", labels: top.map { regions[$0] },
                                 values: top.map { values[$0] }, errors: top.map { _ in 0 }, reference: nil, legend: true).svg()
            }
        }
        return body
    }

    /// Maximum-intensity projections of each volume of a 3-D or 4-D map image; titles from the
    /// `conditions` of a `maps.json` beside it.
    public static func imageMapsSection(path: String) throws -> String {
        let image = try NIfTIImage(contentsOf: path)
        let shape = Array(image.header.shape.prefix(3))
        guard shape.count == 3 else { throw PipelineError("\(path): a map image must be 3-D or 4-D") }
        let values: [Float] = try image.readAll()
        let count = shape.reduce(1, *), volumes = max(1, values.count / max(1, count))
        let sidecar = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("maps.json")
        let titles = FileManager.default.contents(atPath: sidecar).flatMap { try? JSONDecoder().decode(MapTitles.self, from: $0) }?.conditions
            ?? (1...volumes).map { "volume \($0)" }
        var body = "<p>Maximum-intensity projections (largest magnitude along each axis, sign kept; orange positive, blue negative).</p>"
        for volume in 0..<volumes {
            let title = volume < titles.count ? titles[volume] : "volume \(volume + 1)"
            body += ProjectionMap(title: title, shape: shape, values: Array(values[(volume * count)..<((volume + 1) * count)])).svg()
        }
        return body
    }

    /// Projections of `z1.nii.gz`, `z2.nii.gz`, ... in a directory.
    public static func latentMapsSection(directory: String) throws -> String {
        var body = "<p>Each latent's decoder column in the input space (maximum-intensity projections).</p>"
        var latent = 1
        while FileManager.default.fileExists(atPath: directory + "/z\(latent).nii.gz") {
            let image = try NIfTIImage(contentsOf: directory + "/z\(latent).nii.gz")
            body += ProjectionMap(title: "z\(latent)", shape: Array(image.header.shape.prefix(3)), values: try image.readAll()).svg()
            latent += 1
        }
        guard latent > 1 else { throw PipelineError("\(directory) has no z1.nii.gz; write the maps with fmridyn latents `maps`") }
        return body
    }

    /// Bars from a `fmridyn decode` JSON (one bar) or a `fmridyn compare` JSON (one bar per
    /// method), and the confusion matrix of the first.
    public static func decodingSection(path: String) throws -> String {
        decodingSection(try DecodingReport.read(contentsOf: path))
    }

    /// One bar per method (mean +- SD over folds, chance dashed), the folds' warnings, and the
    /// confusion matrix of the first method.
    public static func decodingSection(_ report: DecodingReport) -> String {
        let labels = report.methods.map(\.name)
        var body = ""
        for warning in report.warnings { body += "<p class=\"warning\"><strong>Warning:</strong> \(escapeHTML(warning))</p>" }
        body += BarChart(title: "Balanced accuracy (mean +- SD over folds; dashed: chance)", yLabel: "balanced accuracy",
                         labels: labels, values: report.methods.map(\.balancedAccuracyMean), errors: report.methods.map(\.balancedAccuracySD),
                         reference: report.chance.isFinite ? report.chance : nil).svg()
        if !report.classes.isEmpty, let confusion = report.methods.first?.confusion, !confusion.isEmpty {
            if report.methods.count > 1 { body += "<p>Confusion matrix of \(escapeHTML(labels[0])) (rows true, columns predicted).</p>" }
            var table = "<table class=\"confusion\"><tr><th>true \\ predicted</th>" + report.classes.map { "<th>\(escapeHTML($0))</th>" }.joined() + "</tr>"
            for (name, row) in zip(report.classes, confusion) {
                let total = max(row.reduce(0, +), 1)
                table += "<tr><th>\(escapeHTML(name))</th>" + row.map { count in
                    let share = Double(count) / Double(total)
                    return "<td style=\"background:rgba(0,114,178,\(String(format: "%.2f", share)))\">\(count)</td>"
                }.joined() + "</tr>"
            }
            body += table + "</table>"
        }
        return body
    }
}
