#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCompression

/// Which inflate library decompresses `.gz` files.
public enum InflateBackend: String, Sendable, CaseIterable {
    /// Intel ISA-L's igzip: about twice as fast as zlib on x86-64; multi-member gzip supported.
    case isal
    /// zlib: the fallback for streams ISA-L rejects (zlib-wrapped data, unusual gzip headers).
    case zlib
}

/// A sequential reader of a file's (decompressed) bytes.
protocol ByteSource: AnyObject {
    /// Fills `buffer` completely unless the data ends first; returns the bytes written.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Discards the next `count` bytes; returns how many were there.
    func skip(_ count: Int) throws -> Int
    /// Bytes of the file on disk (compressed size for gzip).
    var fileSize: Int { get }
    /// Called once the image's last byte has been read: a compressed source inflates what is
    /// left (the gzip trailer, any padding) so that its CRC-32 and length are checked even when
    /// the image ends before the stream does. Nothing to do for a plain file.
    func verifyEnd() throws
}

extension ByteSource {
    func verifyEnd() throws {}
}

/// Opens a file for reading, failing with a message that names it.
func openFile(_ path: String) throws -> (descriptor: Int32, size: Int) {
    // Non-blocking, so that a FIFO is refused instead of waiting for a writer forever.
    let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard descriptor >= 0 else {
        let code = errno
        if code == ENOENT {
            throw NIfTIError(.fileNotFound, path: path, "no such file; check the path (relative paths are taken from the current directory)")
        }
        throw NIfTIError(.unreadable, path: path, "cannot open: \(String(cString: strerror(code)))")
    }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
        close(descriptor)
        throw NIfTIError(.unreadable, path: path, "cannot stat: \(String(cString: strerror(errno)))")
    }
    if (status.st_mode & S_IFMT) == S_IFDIR {
        close(descriptor)
        throw NIfTIError(.unreadable, path: path, "is a directory, not a NIfTI file")
    }
    if (status.st_mode & S_IFMT) != S_IFREG {
        close(descriptor)
        let kind = (status.st_mode & S_IFMT) == S_IFIFO ? "a pipe (FIFO)" : "not a regular file"
        throw NIfTIError(.unreadable, path: path, "is \(kind); fmridyn reads images from regular files (copy the stream to a file first)")
    }
    _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
    return (descriptor, Int(status.st_size))
}

/// Reads up to `count` bytes from a descriptor, retrying short reads; returns bytes read.
func readFully(_ descriptor: Int32, _ base: UnsafeMutableRawPointer, _ count: Int, path: String) throws -> Int {
    var done = 0
    while done < count {
        let result = Glibc.read(descriptor, base + done, min(count - done, 1 << 30))
        if result < 0 {
            if errno == EINTR { continue }
            throw NIfTIError(.unreadable, path: path, "read failed: \(String(cString: strerror(errno)))")
        }
        if result == 0 { break }
        done += result
    }
    return done
}

/// Whether the file starts with the gzip magic bytes 1f 8b.
func isGzipFile(_ path: String) throws -> Bool {
    let (descriptor, size) = try openFile(path)
    defer { close(descriptor) }
    guard size >= 2 else { return false }
    var magic: (UInt8, UInt8) = (0, 0)
    let count = try withUnsafeMutableBytes(of: &magic) { try readFully(descriptor, $0.baseAddress!, 2, path: path) }
    return count == 2 && magic.0 == 0x1F && magic.1 == 0x8B
}

/// An uncompressed file.
final class FileByteSource: ByteSource {
    private let descriptor: Int32
    private let path: String
    let fileSize: Int

    init(path: String) throws {
        (descriptor, fileSize) = try openFile(path)
        self.path = path
    }

    deinit { close(descriptor) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        return try readFully(descriptor, base, buffer.count, path: path)
    }

    func skip(_ count: Int) throws -> Int {
        let current = lseek(descriptor, 0, SEEK_CUR)
        let available = max(0, fileSize - Int(current))
        let step = min(count, available)
        guard lseek(descriptor, off_t(step), SEEK_CUR) >= 0 else {
            throw NIfTIError(.unreadable, path: path, "seek failed: \(String(cString: strerror(errno)))")
        }
        return step
    }
}

/// A gzip file inflated as it is read, in bounded memory (one compressed input buffer).
final class GzipByteSource: ByteSource {
    private let descriptor: Int32
    private let path: String
    let fileSize: Int
    private let input: UnsafeMutableRawBufferPointer
    private var inputEnded = false
    private var finished = false
    private var backend: InflateBackend
    private var isal: UnsafeMutablePointer<inflate_state>?
    private var zlib: UnsafeMutablePointer<z_stream>?
    private var bytesOut = 0

    /// - Parameter backend: `.isal` falls back to zlib when ISA-L rejects the stream's start.
    init(path: String, backend: InflateBackend = .isal, inputBufferSize: Int = 1 << 20) throws {
        (descriptor, fileSize) = try openFile(path)
        self.path = path
        self.backend = backend
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: inputBufferSize, alignment: 64)
        try startBackend()
    }

    deinit {
        close(descriptor)
        input.deallocate()
        if let isal { isal.deallocate() }
        if let zlib { inflateEnd(zlib); zlib.deallocate() }
    }

    private var availableInput: Int {
        switch backend {
        case .isal: return Int(isal?.pointee.avail_in ?? 0)
        case .zlib: return Int(zlib?.pointee.avail_in ?? 0)
        }
    }

    private func startBackend() throws {
        switch backend {
        case .isal:
            let state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
            isal_inflate_init(state)
            state.pointee.crc_flag = UInt32(ISAL_GZIP)
            isal = state
        case .zlib:
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // windowBits 15 + 32: detect gzip or zlib wrappers automatically.
            let status = inflateInit2_(stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                stream.deallocate()
                throw NIfTIError(.corruptCompression, path: path, "zlib could not start (status \(status))")
            }
            zlib = stream
        }
    }

    /// Reads more compressed bytes when the input buffer is empty.
    private func refillIfEmpty() throws {
        guard availableInput == 0, !inputEnded, let base = input.baseAddress else { return }
        let count = try readFully(descriptor, base, input.count, path: path)
        if count < input.count { inputEnded = true }
        let start = base.assumingMemoryBound(to: UInt8.self)
        switch backend {
        case .isal:
            isal?.pointee.next_in = start
            isal?.pointee.avail_in = UInt32(count)
        case .zlib:
            zlib?.pointee.next_in = start
            zlib?.pointee.avail_in = UInt32(count)
        }
    }

    /// After one gzip member ends: another member follows (multi-member gzip) or the file ends.
    private func startNextMemberOrFinish() throws {
        try refillIfEmpty()
        guard availableInput > 0 else { finished = true; return }
        switch backend {
        case .isal:
            guard let state = isal else { return }
            let next = state.pointee.next_in, count = state.pointee.avail_in
            if count >= 2, next?[0] == 0x1F, next?[1] == 0x8B {
                isal_inflate_reset(state)
                state.pointee.crc_flag = UInt32(ISAL_GZIP)
                state.pointee.next_in = next
                state.pointee.avail_in = count
            } else {
                finished = true  // Trailing padding after the last member is ignored, as gzip does.
            }
        case .zlib:
            guard let stream = zlib else { return }
            if stream.pointee.avail_in >= 2, stream.pointee.next_in[0] == 0x1F, stream.pointee.next_in[1] == 0x8B {
                inflateReset(stream)
            } else {
                finished = true
            }
        }
    }

    private func switchToZlib() throws {
        if let isal { isal.deallocate() }
        isal = nil
        backend = .zlib
        guard lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw NIfTIError(.unreadable, path: path, "seek failed: \(String(cString: strerror(errno)))")
        }
        inputEnded = false
        try startBackend()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var produced = 0
        while produced < buffer.count && !finished {
            try refillIfEmpty()
            let want = min(buffer.count - produced, Int(UInt32.max))
            let out = (base + produced).assumingMemoryBound(to: UInt8.self)
            let inputBefore = availableInput
            let made: Int
            var memberEnded = false
            switch backend {
            case .isal:
                guard let state = isal else { return produced }
                state.pointee.next_out = out
                state.pointee.avail_out = UInt32(want)
                let status = isal_inflate(state)
                made = want - Int(state.pointee.avail_out)
                if status < 0 {
                    if bytesOut == 0 && produced == 0 && made == 0 {
                        try switchToZlib()  // Not a stream ISA-L understands: let zlib try.
                        continue
                    }
                    throw corrupt(isalStatus: status)
                }
                memberEnded = state.pointee.block_state == ISAL_BLOCK_FINISH
            case .zlib:
                guard let stream = zlib else { return produced }
                stream.pointee.next_out = out
                stream.pointee.avail_out = UInt32(want)
                let status = inflate(stream, Z_NO_FLUSH)
                made = want - Int(stream.pointee.avail_out)
                if status == Z_STREAM_END {
                    memberEnded = true
                } else if status != Z_OK && status != Z_BUF_ERROR {
                    let reason = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw NIfTIError(.corruptCompression, path: path, "gzip data is corrupt (zlib: \(reason)); re-create or re-download the file")
                }
            }
            produced += made
            bytesOut += made
            if memberEnded {
                try startNextMemberOrFinish()
            } else if made == 0 && availableInput == inputBefore && inputEnded && availableInput == 0 {
                throw NIfTIError(.truncatedData, path: path,
                                 "the gzip stream ends after \(bytesOut) decompressed bytes without its end marker; the file is truncated")
            }
        }
        return produced
    }

    private func corrupt(isalStatus status: Int32) -> NIfTIError {
        let reason: String
        switch status {
        case ISAL_INCORRECT_CHECKSUM: reason = "CRC-32 check failed"
        case ISAL_INVALID_WRAPPER: reason = "invalid gzip header"
        case ISAL_INVALID_BLOCK, ISAL_INVALID_SYMBOL, ISAL_INVALID_LOOKBACK: reason = "invalid deflate data"
        default: reason = "ISA-L status \(status)"
        }
        return NIfTIError(.corruptCompression, path: path,
                          "gzip data is corrupt after \(bytesOut) decompressed bytes (\(reason)); re-create or re-download the file")
    }

    /// Inflates to the end of the last member, discarding the bytes: the backends check each
    /// member's CRC-32 and ISIZE only when they reach its trailer.
    func verifyEnd() throws {
        guard !finished else { return }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 64)
        defer { scratch.deallocate() }
        while !finished {
            if try read(into: scratch) == 0 && !finished {
                throw NIfTIError(.truncatedData, path: path, "the gzip stream ends after \(bytesOut) decompressed bytes without its trailer; the file is truncated")
            }
        }
    }

    func skip(_ count: Int) throws -> Int {
        let scratchSize = min(count, 1 << 20)
        guard scratchSize > 0 else { return 0 }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: scratchSize, alignment: 64)
        defer { scratch.deallocate() }
        var skipped = 0
        while skipped < count {
            let step = min(scratchSize, count - skipped)
            let got = try read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<step]))
            skipped += got
            if got < step { break }
        }
        return skipped
    }
}

/// Opens a file's bytes, inflating when it is gzip (by content, not by file name).
func openByteSource(_ path: String, backend: InflateBackend = .isal) throws -> ByteSource {
    if try isGzipFile(path) {
        return try GzipByteSource(path: path, backend: backend)
    }
    return try FileByteSource(path: path)
}
