import Pipeline
import Sparse
import XCTest

/// `sparsity.json` from its typed record: the achieved sparsity over the prunable layers and
/// the keys in the order the file has always had.
final class SparsityReportTests: XCTestCase {
    func testRecordKeysAndAchievedSparsity() throws {
        var report = SparsityReport(method: .gsp, sparsity: 0.8, scope: .layer)
        report.hoyerTarget = 0.7
        report.interval = 50
        report.gspGroup = .layer
        report.layers = [.init(name: "a.weight", count: 100, nonzero: 30), .init(name: "b.weight", count: 300, nonzero: 50)]
        report.bytesDenseUpdate = 1600
        report.bytesSparseUpdate = 640
        XCTAssertEqual(report.achievedSparsity, 0.8, accuracy: 1e-12, "1 - 80 / 400")
        guard case .object(let members) = report.json else { return XCTFail("not an object") }
        XCTAssertEqual(members.map(\.0), ["method", "sparsity", "scope", "hoyer_target", "interval", "gsp_group", "achieved_sparsity", "layers",
                                          "bytes_dense_update", "bytes_sparse_update", "compact_export"])
        XCTAssertEqual(report.json["layers"]?["a.weight"]?.rendered(indent: nil), #"{"count":100,"nonzero":30,"density":0.3}"#)
        var snip = SparsityReport(method: .snip, sparsity: 0.9, scope: .global)
        snip.sites = .init(kind: .subject, aggregation: .mean, windows: [(site: "01", count: 12), (site: "02", count: 9)])
        snip.batches = 4
        XCTAssertEqual(snip.json["site_windows"]?.rendered(indent: nil), #"{"01":12,"02":9}"#)
        XCTAssertEqual(snip.json["site_count"]?.rendered(indent: nil), "2")
    }
}
