import Foundation
import Pipeline
import TestSupport
import XCTest

final class OutputLocationTests: XCTestCase {
    /// Files need an existing folder; folders may be created below the nearest existing parent,
    /// which must be a folder; each refusal names the output and the reason.
    func testOutputsAreCheckedBeforeAnyWork() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        XCTAssertNoThrow(try OutputLocation.requireWritable(file: directory.file("a.json")))
        XCTAssertNoThrow(try OutputLocation.requireWritable(directory: directory.file("new/deeper/model")))
        XCTAssertNoThrow(try OutputLocation.requireWritable(file: "relative.json"))
        XCTAssertThrowsError(try OutputLocation.requireWritable(file: directory.file("missing/a.json"))) { error in
            XCTAssertEqual((error as? PipelineError)?.kind, .input)
            XCTAssertTrue("\(error)".contains("missing/a.json") && "\(error)".contains("does not exist"), "\(error)")
        }
        let file = directory.file("plain.txt")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try OutputLocation.requireWritable(directory: file + "/model")) { error in
            XCTAssertTrue("\(error)".contains("plain.txt is a file"), "\(error)")
        }
        XCTAssertThrowsError(try OutputLocation.requireWritable(file: file + "/a.json")) { error in
            XCTAssertTrue("\(error)".contains("plain.txt is a file"), "\(error)")
        }
    }
}
