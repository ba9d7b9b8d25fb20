import LinearAlgebra
import XCTest

/// Each wrapper against a hand-solved case, in both layouts where the layout matters.
final class DenseLinearAlgebraTests: XCTestCase {
    /// The lower Cholesky factor of [[4, 2], [2, 3]] by hand, [[2, 0], [1, sqrt 2]]; an
    /// indefinite matrix is refused.
    func testCholeskyLower() throws {
        let l = try DenseLinearAlgebra.choleskyLower([4, 2, 2, 3], n: 2)
        XCTAssertEqual(l[0], 2, accuracy: 1e-14)
        XCTAssertEqual(l[1], 0)
        XCTAssertEqual(l[2], 1, accuracy: 1e-14)
        XCTAssertEqual(l[3], 2.0.squareRoot(), accuracy: 1e-14)
        XCTAssertThrowsError(try DenseLinearAlgebra.choleskyLower([1, 2, 2, 1], n: 2))
    }

    /// A^T A of a row-major 3 x 2 matrix, by hand: both triangles filled.
    func testGramIsATransposeA() {
        let a: [Double] = [1, 2, 3, 4, 5, 6]  // rows (1, 2), (3, 4), (5, 6)
        XCTAssertEqual(DenseLinearAlgebra.gram(a, rows: 3, columns: 2), [35, 44, 44, 56])
    }

    func testSolveGivesTheInverseTimesTheRightHandSides() throws {
        var a = [2.0, 1, 1, 3], b = [3.0, 5]
        try DenseLinearAlgebra.solve(&a, &b, n: 2)
        XCTAssertEqual(b[0], 0.8, accuracy: 1e-14)
        XCTAssertEqual(b[1], 1.4, accuracy: 1e-14)
        // Two right-hand sides, row-major B (2 x 2) = [[3, 1], [5, 0]]; column-major storage of the same system.
        var rowA = [2.0, 1, 1, 3], rowB = [3.0, 1, 5, 0]
        try DenseLinearAlgebra.solve(&rowA, &rowB, n: 2, rightHandSides: 2)
        var colA = [2.0, 1, 1, 3], colB = [3.0, 5, 1, 0]
        try DenseLinearAlgebra.solve(&colA, &colB, n: 2, rightHandSides: 2, layout: .columnMajor)
        // Second column: A x = (1, 0) gives x = (3, -1) / 5.
        XCTAssertEqual(rowB, [0.8, 0.6, 1.4, -0.2].map { $0 }, accuracy: 1e-14)
        XCTAssertEqual(colB, [0.8, 1.4, 0.6, -0.2], accuracy: 1e-14)
        var singular = [1.0, 2, 2, 4], rhs = [1.0, 1]
        XCTAssertThrowsError(try DenseLinearAlgebra.solve(&singular, &rhs, n: 2)) { error in
            XCTAssertEqual((error as? LinearAlgebraError)?.routine, "dgesv")
            XCTAssertGreaterThan((error as? LinearAlgebraError)?.info ?? 0, 0)
        }
    }

    func testEigenvaluesOfARotationAndADiagonal() throws {
        let rotation = try DenseLinearAlgebra.eigenvalues([0, -2, 2, 0], n: 2).sorted { $0.1 < $1.1 }
        XCTAssertEqual(rotation.map(\.0), [0, 0], accuracy: 1e-14)
        XCTAssertEqual(rotation.map(\.1), [-2, 2], accuracy: 1e-14)
        let diagonal = try DenseLinearAlgebra.eigenvalues([2, 0, 0, -1], n: 2).map(\.0).sorted()
        XCTAssertEqual(diagonal, [-1, 2], accuracy: 1e-14)
    }

    func testSymmetricEigenVectorsSatisfyTheEquationInEitherLayout() throws {
        for layout in [MatrixLayout.rowMajor, .columnMajor] {
            let matrix = [2.0, 1, 0, 1, 2, 0, 0, 0, 5]
            var a = matrix
            let values = try DenseLinearAlgebra.symmetricEigen(&a, n: 3, layout: layout)
            XCTAssertEqual(values, [1, 3, 5], accuracy: 1e-13)
            for j in 0..<3 {
                let v = (0..<3).map { i in layout == .rowMajor ? a[i * 3 + j] : a[j * 3 + i] }
                XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-13)
                for i in 0..<3 {
                    let product = (0..<3).reduce(0.0) { $0 + matrix[i * 3 + $1] * v[$1] }
                    XCTAssertEqual(product, values[j] * v[i], accuracy: 1e-13)
                }
            }
        }
    }

    /// y = 1, 3, 6 at x = 0, 1, 2: normal equations give intercept 5/6, slope 5/2, RSS 1/6.
    func testLeastSquaresLineAndItsResidual() throws {
        let design = [1.0, 1, 1, 0, 1, 2]  // column-major 3 x 2: intercept, x
        let fit = try DenseLinearAlgebra.leastSquaresQR(design, [1, 3, 6], rows: 3, columns: 2, rightHandSides: 1)
        XCTAssertEqual(fit.solution, [5.0 / 6, 2.5], accuracy: 1e-13)
        XCTAssertEqual(fit.residualSumOfSquares[0], 1.0 / 6, accuracy: 1e-13)
    }
}

extension DenseLinearAlgebraTests {
    func testSVDReconstructsTheMatrixWithDescendingValues() throws {
        let a = [3.0, 1, -1, 2, 0.5, 4]  // 3 x 2
        let (u, s, vt) = try DenseLinearAlgebra.svd(a, rows: 3, columns: 2)
        XCTAssertEqual(s.count, 2)
        XCTAssertGreaterThanOrEqual(s[0], s[1])
        for i in 0..<3 {
            for j in 0..<2 {
                let value = (0..<2).reduce(0.0) { $0 + u[i * 2 + $1] * s[$1] * vt[$1 * 2 + j] }
                XCTAssertEqual(value, a[i * 2 + j], accuracy: 1e-13)
            }
        }
        let full = try DenseLinearAlgebra.svd([2, 0, 0, -3], rows: 2, columns: 2, full: true)
        XCTAssertEqual(full.s, [3, 2], accuracy: 1e-14)
    }

    /// A rank-one system: the minimum-norm solution splits the value equally.
    func testSVDLeastSquaresGivesTheMinimumNormSolution() throws {
        let fit = try DenseLinearAlgebra.leastSquaresSVD([1, 1, 1, 1], [2, 2], rows: 2, columns: 2, rightHandSides: 1)
        XCTAssertEqual(fit.rank, 1)
        XCTAssertEqual(fit.solution, [1, 1], accuracy: 1e-13)
    }

    /// Columns (1,1,0), (2,2,0), (0,0,1) span a plane: two orthonormal columns that reproduce them.
    func testColumnBasisDropsDependentColumns() throws {
        let a = [1.0, 1, 0, 2, 2, 0, 0, 0, 1]  // column-major 3 x 3
        let (basis, rank) = try DenseLinearAlgebra.orthonormalColumnBasis(a, rows: 3, columns: 3, tolerance: 100 * Double.ulpOfOne)
        XCTAssertEqual(rank, 2)
        for p in 0..<rank {
            for q in 0..<rank {
                let dot = (0..<3).reduce(0.0) { $0 + basis[p * 3 + $1] * basis[q * 3 + $1] }
                XCTAssertEqual(dot, p == q ? 1 : 0, accuracy: 1e-13)
            }
        }
        for column in 0..<3 {
            let x = Array(a[(column * 3)..<(column * 3 + 3)])
            var projected = [Double](repeating: 0, count: 3)
            for p in 0..<rank {
                let c = (0..<3).reduce(0.0) { $0 + basis[p * 3 + $1] * x[$1] }
                for i in 0..<3 { projected[i] += c * basis[p * 3 + i] }
            }
            XCTAssertEqual(projected, x, accuracy: 1e-13)
        }
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
