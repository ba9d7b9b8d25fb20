import Foundation
import XCTest

@testable import Core

/// The start-up choice of OpenBLAS kernels.
final class BLASKernelsTests: XCTestCase {
    /// Whatever kernels run, products equal plain loops; an explicit OPENBLAS_CORETYPE is left alone.
    func testProductsAreRightAndAPinnedKernelStays() throws {
        XCTAssertTrue(BLASKernels.productsAreRight(), "kernels \(BLASKernels.current)")
        XCTAssertFalse(BLASKernels.current.isEmpty)
        let before = BLASKernels.current
        let pinned = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        setenv("OPENBLAS_CORETYPE", before, 1)
        defer { if let pinned { setenv("OPENBLAS_CORETYPE", pinned, 1) } else { unsetenv("OPENBLAS_CORETYPE") } }
        XCTAssertEqual(BLASKernels.preferAVX512(), before)
        XCTAssertEqual(BLASKernels.current, before)
    }
}
