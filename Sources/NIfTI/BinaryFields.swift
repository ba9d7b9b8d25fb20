/// Reads and writes fixed-offset little- or big-endian fields of a header block.
struct FieldReader {
    let bytes: [UInt8]
    let bigEndian: Bool

    func uint(at offset: Int, size: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<size {
            let byte = UInt64(bytes[offset + (bigEndian ? index : size - 1 - index)])
            value = (value << 8) | byte
        }
        return value
    }

    func int16(_ offset: Int) -> Int16 { Int16(truncatingIfNeeded: uint(at: offset, size: 2)) }
    func int32(_ offset: Int) -> Int32 { Int32(truncatingIfNeeded: uint(at: offset, size: 4)) }
    func int64(_ offset: Int) -> Int64 { Int64(bitPattern: uint(at: offset, size: 8)) }
    func float32(_ offset: Int) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: uint(at: offset, size: 4))) }
    func float64(_ offset: Int) -> Double { Double(bitPattern: uint(at: offset, size: 8)) }
    func uint8(_ offset: Int) -> UInt8 { bytes[offset] }

    /// A NUL-terminated (or full-width) string field, non-UTF-8 bytes replaced.
    func string(_ offset: Int, length: Int) -> String {
        let slice = bytes[offset..<(offset + length)]
        let end = slice.firstIndex(of: 0) ?? slice.endIndex
        return String(decoding: slice[offset..<end], as: UTF8.self)
    }
}

/// Builds a little-endian header block.
struct FieldWriter {
    private(set) var bytes: [UInt8]

    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }

    mutating func put(_ value: UInt64, at offset: Int, size: Int) {
        for index in 0..<size { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }

    mutating func int16(_ value: Int16, at offset: Int) { put(UInt64(UInt16(bitPattern: value)), at: offset, size: 2) }
    mutating func int32(_ value: Int32, at offset: Int) { put(UInt64(UInt32(bitPattern: value)), at: offset, size: 4) }
    mutating func int64(_ value: Int64, at offset: Int) { put(UInt64(bitPattern: value), at: offset, size: 8) }
    mutating func float32(_ value: Float, at offset: Int) { put(UInt64(value.bitPattern), at: offset, size: 4) }
    mutating func float64(_ value: Double, at offset: Int) { put(value.bitPattern, at: offset, size: 8) }
    mutating func uint8(_ value: UInt8, at offset: Int) { bytes[offset] = value }

    /// Writes at most `length - 1` bytes of UTF-8 so the field stays NUL-terminated.
    mutating func string(_ value: String, at offset: Int, length: Int) {
        for (index, byte) in value.utf8.prefix(length - 1).enumerated() { bytes[offset + index] = byte }
    }
}
