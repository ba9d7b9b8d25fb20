import TestSupport
import XCTest

@testable import Sparse

final class GroupSparseProjectionTests: XCTestCase {
    /// The authors' MATLAB test vector (columns are the vectors, s = 0.5), printed to 4 decimals
    /// at their tolerance 1e-3.
    func testAuthorsReferenceVector() {
        let x: [[Double]] = [[0.8147, 0.6324, 0.9575, 0.9572, 0.4218, 0.6557], [0.9058, 0.0975, 0.9649, 0.4854, 0.9157, 0.0357],
                             [0.1270, 0.2785, 0.1576, 0.8003, 0.7922, 0.8491], [0.9134, 0.5469, 0.9706, 0.1419, 0.9595, 0.9340]]
        let expected: [[Double]] = [[0.6646, 0.6324, 0.9460, 1.0705, 0, 0.1704], [0.9495, 0, 0.9657, 0, 0.9337, 0],
                                    [0, 0, 0, 0.5972, 0.5657, 0.7874], [0.9732, 0, 0.9809, 0, 1.0641, 1.0581]]
        let columns = (0..<6).map { c in x.map { $0[c] } }
        let projected = GroupSparseProjection.project(columns, target: 0.5, tolerance: 1e-8)
        for c in 0..<6 {
            // Their solution stops at tolerance 1e-3; ours is solved tightly.
            XCTAssertClose(projected[c], expected.map { $0[c] }, absolute: 1e-3, relative: 0, "column \(c)")
        }
        let average = projected.reduce(0) { $0 + GroupSparseProjection.hoyer($1) } / 6
        XCTAssertEqual(average, 0.5, accuracy: 1e-4)
        // A vector already sparser than the target is left as it is.
        let sparse: [[Double]] = [[0, 0, 5, 0.1], [1, 1, 1, 1]]
        XCTAssertEqual(GroupSparseProjection.project(sparse, target: 0.5)[0], sparse[0])
    }

    func testHoyerProperties() {
        XCTAssertEqual(GroupSparseProjection.hoyer([0, 0, 3, 0]), 1, accuracy: 1e-15)
        XCTAssertEqual(GroupSparseProjection.hoyer([2, 2, 2, 2]), 0, accuracy: 1e-15)
        XCTAssertEqual(GroupSparseProjection.hoyer([-1, 1, -1, 1, 1]), 0, accuracy: 1e-15)
    }

    func testDifferentLengthsReachTheTarget() {
        let vectors: [[Double]] = [(1...10).map { Double($0) }, [3, -1, 2], (0..<50).map { sin(Double($0)) + 1.5 }]
        for target in [0.3, 0.6, 0.9] {
            let projected = GroupSparseProjection.project(vectors, target: target, tolerance: 1e-10)
            XCTAssertEqual(projected.reduce(0) { $0 + GroupSparseProjection.hoyer($1) } / 3, target, accuracy: 1e-4, "target \(target)")
            for (p, v) in zip(projected, vectors) { for (a, b) in zip(p, v) where a != 0 { XCTAssertEqual(a.sign, b.sign) } }
        }
    }
}
