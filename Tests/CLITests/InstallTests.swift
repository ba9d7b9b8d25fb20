import Foundation
import TestSupport
import XCTest

/// A copied binary finds its atlases in PREFIX/share/fmridyn/atlases (what `make install`
/// lays out), and without them says how to install them.
final class InstallTests: XCTestCase {
    func testInstalledBinaryFindsItsAtlases() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let prefix = directory.file("prefix")
        let bin = prefix + "/bin", share = prefix + "/share/fmridyn/atlases"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let binary = bin + "/fmridyn"
        try FileManager.default.copyItem(atPath: CommandRunner.executable.path, toPath: binary)
        func run(_ arguments: [String]) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory.path)  // outside the repository
            var environment = ProcessInfo.processInfo.environment
            environment["FMRIDYN_ATLAS_DIR"] = nil
            process.environment = environment
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = Pipe()
            try process.run()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        let simulate = ["simulate", "--out", directory.file("sim"), "--subjects", "1", "--runs", "1", "--volumes", "10", "--grid", "4mm", "-q"]
        let missing = try run(simulate)
        XCTAssertNotEqual(missing.0, 0)
        XCTAssertTrue(missing.1.contains("make install") && missing.1.contains("FMRIDYN_ATLAS_DIR"), missing.1)
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        let atlases = Fixtures.repositoryRoot + "/atlases"
        for file in try FileManager.default.contentsOfDirectory(atPath: atlases) {
            try FileManager.default.copyItem(atPath: atlases + "/" + file, toPath: share + "/" + file)
        }
        try? FileManager.default.removeItem(atPath: directory.file("sim"))
        let installed = try run(simulate)
        XCTAssertEqual(installed.0, 0, installed.1)
    }
}
