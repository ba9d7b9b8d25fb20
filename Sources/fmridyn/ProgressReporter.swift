import Foundation

/// Progress on stderr: a redrawn line on a terminal, a few plain lines otherwise (logs).
final class ProgressReporter {
    private let label: String
    private let quiet: Bool
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastPercent = -1
    private let start = Date()

    init(label: String, quiet: Bool) {
        self.label = label
        self.quiet = quiet
    }

    func update(_ done: Int, _ total: Int) {
        guard !quiet, total > 0 else { return }
        let percent = 100 * done / total
        let step = isTerminal ? 1 : 25
        guard percent / step != lastPercent / step || done == total else { return }
        lastPercent = percent
        let elapsed = Date().timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let line = String(format: "%@: %d/%d (%d%%), %.1f s, ETA %.1f s", label, done, total, percent, elapsed, eta)
        FileHandle.standardError.write(Data((isTerminal ? "\r" + line : line + "\n").utf8))
    }

    func finish() {
        if !quiet && isTerminal && lastPercent >= 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
