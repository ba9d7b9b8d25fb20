import Foundation
import NIfTI
import TestSupport
import XCTest

@testable import Preprocessing

/// Tables that are empty, separated by the wrong delimiter, or not files at all get messages
/// that say so (they said `cannotReadHeaderRow`, "column is missing", or hung on a FIFO).
final class TableMessageTests: XCTestCase {
    func testMessagesNameTheProblem() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for (name, text) in [("empty.tsv", ""), ("blank.tsv", "\n  \n")] {
            let path = directory.file(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try DelimitedTable(contentsOf: path)) { error in
                XCTAssertTrue("\(error)".contains("is empty") && "\(error)".contains(path), "\(error)")
            }
        }
        let commas = directory.file("confounds.tsv")
        try "trans_x,trans_y\n0.1,0\n".write(toFile: commas, atomically: true, encoding: .utf8)
        let table = try DelimitedTable(contentsOf: commas)
        XCTAssertThrowsError(try table.column("trans_x")) { error in
            XCTAssertTrue("\(error)".contains("separated by commas") && "\(error)".contains("tab"), "\(error)")
        }
        // A tab-separated file missing the column still lists the columns it has.
        let tabs = directory.file("tabs.tsv")
        try "a\tb\n1\t2\n".write(toFile: tabs, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DelimitedTable(contentsOf: tabs).column("c")) { error in
            XCTAssertTrue("\(error)".contains("the file has columns a, b"), "\(error)")
        }
        // A FIFO is refused at once, for tables and for images.
        let fifo = directory.file("pipe.tsv")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        XCTAssertThrowsError(try DelimitedTable(contentsOf: fifo)) { error in XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)") }
        let fifoImage = directory.file("pipe.nii")
        XCTAssertEqual(mkfifo(fifoImage, 0o644), 0)
        XCTAssertThrowsError(try NIfTIImage(contentsOf: fifoImage)) { error in XCTAssertTrue("\(error)".contains("FIFO"), "\(error)") }
    }
}
