import Core
import Foundation
import TestSupport
import XCTest

/// Checkpoint sets swap in whole and recover from every point a writer can be killed at; the
/// directory lock admits one writer and names the holder.
final class CheckpointSetTests: XCTestCase {
    func write(_ text: String, in directory: String) throws {
        try CheckpointSet.write(in: directory) { staging in
            try Data(("a:" + text).utf8).write(to: URL(fileURLWithPath: staging + "/a.bin"))
            try Data(("b:" + text).utf8).write(to: URL(fileURLWithPath: staging + "/b.bin"))
        }
    }

    func contents(_ path: String) -> String? { FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }

    func testSwapRecoverAndVerify() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = directory.path
        try write("1", in: root)
        try write("2", in: root)
        XCTAssertEqual(contents(root + "/checkpoint/a.bin"), "a:2")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), ["checkpoint"])
        XCTAssertTrue(try CheckpointSet.verify(in: root))

        // Killed after moving the old set aside, before the new one took its name.
        try FileManager.default.moveItem(atPath: root + "/checkpoint", toPath: root + "/checkpoint.previous")
        try FileManager.default.createDirectory(atPath: root + "/checkpoint.staging-999999", withIntermediateDirectories: true)
        try CheckpointSet.recover(in: root)
        XCTAssertEqual(contents(root + "/checkpoint/b.bin"), "b:2")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), ["checkpoint"])
        XCTAssertTrue(try CheckpointSet.verify(in: root))

        // A file from another step makes a mixed set, which verify refuses.
        try Data("a:1".utf8).write(to: URL(fileURLWithPath: root + "/checkpoint/a.bin"))
        XCTAssertThrowsError(try CheckpointSet.verify(in: root)) { error in
            XCTAssertTrue("\(error)".contains("a.bin") && "\(error)".contains("manifest"), "\(error)")
        }
        try FileManager.default.removeItem(atPath: root + "/checkpoint/b.bin")
        XCTAssertThrowsError(try CheckpointSet.verify(in: root))
        // A set without a manifest (written before sets existed) is accepted as it is.
        try FileManager.default.removeItem(atPath: root + "/checkpoint/" + CheckpointSet.manifestFile)
        XCTAssertFalse(try CheckpointSet.verify(in: root))
    }

    /// Failed writes name the file and the reason, not Foundation's error domain and code.
    func testAtomicWriteNamesTheProblem() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("missing/config.json")
        XCTAssertThrowsError(try AtomicWrite.write(Data("{}".utf8), to: path)) { error in
            XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("does not exist"), "\(error)")
            XCTAssertFalse("\(error)".contains("NSCocoaErrorDomain"), "\(error)")
        }
        try AtomicWrite.write(Data("{}".utf8), to: directory.file("config.json"))
        XCTAssertEqual(FileManager.default.contents(atPath: directory.file("config.json")), Data("{}".utf8))
    }

    /// A killed writer's temporaries anywhere in a derivative tree are removed; a live one's stay.
    func testStaleTemporariesAreRemovedThroughoutATree() throws {
        let root = NSTemporaryDirectory() + "tree-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/sub-01/func", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dead = root + "/sub-01/func/.x_timeseries.tsv.tmp-4194303-1", live = root + "/sub-01/func/.y.tmp-\(getppid())-1"
        let table = root + "/sub-01/func/x_timeseries.tsv", top = root + "/.dataset_description.json.tmp-4194303-2"
        for path in [dead, live, table, top] { XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("x".utf8))) }
        DirectoryLock.removeStaleTemporaries(inTree: root)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead))
        XCTAssertFalse(FileManager.default.fileExists(atPath: top))
        XCTAssertTrue(FileManager.default.fileExists(atPath: live), "a live process's temporary stays")
        XCTAssertTrue(FileManager.default.fileExists(atPath: table))
    }

    func testDirectoryLockAdmitsOneWriter() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let out = directory.file("out")
        let lock = try DirectoryLock.acquire(out)
        let nested = try DirectoryLock.acquire(out + "/.")  // re-entrant within the process
        // Another open file description (as another process would have) cannot take it.
        let other = open(out + "/" + DirectoryLock.fileName, O_RDWR)
        XCTAssertGreaterThanOrEqual(other, 0)
        XCTAssertNotEqual(flock(other, LOCK_EX | LOCK_NB), 0, "held")
        nested.release()
        XCTAssertNotEqual(flock(other, LOCK_EX | LOCK_NB), 0, "still held by the outer acquisition")
        lock.release()
        XCTAssertEqual(flock(other, LOCK_EX | LOCK_NB), 0, "released")
        // Now the other holder has it: acquiring fails at once and says so.
        XCTAssertThrowsError(try DirectoryLock.acquire(out)) { error in
            XCTAssertTrue("\(error)".contains("another fmridyn process"), "\(error)")
        }
        close(other)
        try DirectoryLock.acquire(out).release()
    }
}
