/// Byte layout of the two header versions (offsets from nifti1.h / nifti2.h; a test checks
/// them against the C structs of the NIfTI library).
enum HeaderLayout {
    struct Offsets {
        let sizeofHdr = 0, magic: Int, magicLength: Int, dimInfo: Int, dim: Int, dimSize: Int
        let intentP: Int, realSize: Int, intentCode: Int, intSize: Int, datatype: Int, bitpix: Int
        let sliceStart: Int, sliceStartSize: Int, pixdim: Int, voxOffset: Int, sclSlope: Int, sclInter: Int
        let sliceEnd: Int, sliceEndSize: Int, sliceCode: Int, sliceCodeSize: Int, xyztUnits: Int, xyztSize: Int
        let calMax: Int, calMin: Int, sliceDuration: Int, toffset: Int, descrip: Int, auxFile: Int
        let qformCode: Int, sformCode: Int, codeSize: Int, quaternB: Int, qoffsetX: Int, srowX: Int
        let intentName: Int
    }

    static let nifti1 = Offsets(
        magic: 344, magicLength: 4, dimInfo: 39, dim: 40, dimSize: 2,
        intentP: 56, realSize: 4, intentCode: 68, intSize: 2, datatype: 70, bitpix: 72,
        sliceStart: 74, sliceStartSize: 2, pixdim: 76, voxOffset: 108, sclSlope: 112, sclInter: 116,
        sliceEnd: 120, sliceEndSize: 2, sliceCode: 122, sliceCodeSize: 1, xyztUnits: 123, xyztSize: 1,
        calMax: 124, calMin: 128, sliceDuration: 132, toffset: 136, descrip: 148, auxFile: 228,
        qformCode: 252, sformCode: 254, codeSize: 2, quaternB: 256, qoffsetX: 268, srowX: 280,
        intentName: 328)

    static let nifti2 = Offsets(
        magic: 4, magicLength: 8, dimInfo: 524, dim: 16, dimSize: 8,
        intentP: 80, realSize: 8, intentCode: 504, intSize: 4, datatype: 12, bitpix: 14,
        sliceStart: 224, sliceStartSize: 8, pixdim: 104, voxOffset: 168, sclSlope: 176, sclInter: 184,
        sliceEnd: 232, sliceEndSize: 8, sliceCode: 496, sliceCodeSize: 4, xyztUnits: 500, xyztSize: 4,
        calMax: 192, calMin: 200, sliceDuration: 208, toffset: 216, descrip: 240, auxFile: 320,
        qformCode: 344, sformCode: 348, codeSize: 4, quaternB: 352, qoffsetX: 376, srowX: 400,
        intentName: 508)

    static let nifti2MagicTail: [UInt8] = [0x0D, 0x0A, 0x1A, 0x0A]
}

extension NIfTIHeader {
    /// Parses and validates a header block (the first 348 or 540 bytes of a file).
    ///
    /// - Parameters:
    ///   - bytes: at least the header; extra bytes are ignored.
    ///   - path: the file name used in error messages.
    /// - Throws: `NIfTIError` naming the field at fault.
    public static func parse(_ bytes: [UInt8], path: String) throws -> NIfTIHeader {
        guard bytes.count >= 4 else {
            throw NIfTIError(.notNIfTI, path: path, "file is \(bytes.count) bytes long, too short for a NIfTI header (348 or 540 bytes)")
        }
        let little = FieldReader(bytes: bytes, bigEndian: false).int32(0)
        let big = FieldReader(bytes: bytes, bigEndian: true).int32(0)
        var header = NIfTIHeader()
        switch (little, big) {
        case (348, _): header.version = 1
        case (540, _): header.version = 2
        case (_, 348): header.version = 1; header.isBigEndian = true
        case (_, 540): header.version = 2; header.isBigEndian = true
        default:
            throw NIfTIError(.notNIfTI, path: path, field: "sizeof_hdr",
                             "is \(little), expected 348 (NIfTI-1) or 540 (NIfTI-2); this is not a NIfTI file")
        }
        guard bytes.count >= header.headerSize else {
            throw NIfTIError(.truncatedData, path: path,
                             "file ends after \(bytes.count) bytes, inside the \(header.headerSize)-byte NIfTI-\(header.version) header")
        }
        let layout = header.version == 1 ? HeaderLayout.nifti1 : HeaderLayout.nifti2
        let reader = FieldReader(bytes: bytes, bigEndian: header.isBigEndian)
        try header.decodeMagic(bytes, layout: layout, path: path)

        func real(_ offset: Int) -> Double {
            layout.realSize == 4 ? Double(reader.float32(offset)) : reader.float64(offset)
        }
        func integer(_ offset: Int, _ size: Int) -> Int64 {
            switch size {
            case 1: return Int64(reader.uint8(offset))
            case 2: return Int64(reader.int16(offset))
            case 4: return Int64(reader.int32(offset))
            default: return reader.int64(offset)
            }
        }

        header.dim = (0..<8).map { integer(layout.dim + $0 * layout.dimSize, layout.dimSize) }
        header.pixdim = (0..<8).map { real(layout.pixdim + $0 * layout.realSize) }
        let datatypeCode = reader.int16(layout.datatype)
        header.bitpix = reader.int16(layout.bitpix)
        header.voxOffset = 0
        let voxOffsetValue = layout.realSize == 4 ? Double(reader.float32(layout.voxOffset)) : Double(reader.int64(layout.voxOffset))
        header.sclSlope = real(layout.sclSlope)
        header.sclInter = real(layout.sclInter)
        header.calMax = real(layout.calMax)
        header.calMin = real(layout.calMin)
        header.sliceDuration = real(layout.sliceDuration)
        header.toffset = real(layout.toffset)
        header.sliceStart = integer(layout.sliceStart, layout.sliceStartSize)
        header.sliceEnd = integer(layout.sliceEnd, layout.sliceEndSize)
        header.sliceCode = Int32(truncatingIfNeeded: integer(layout.sliceCode, layout.sliceCodeSize))
        header.xyztUnits = Int32(truncatingIfNeeded: integer(layout.xyztUnits, layout.xyztSize))
        header.dimInfo = reader.uint8(layout.dimInfo)
        header.intentCode = Int32(truncatingIfNeeded: integer(layout.intentCode, layout.intSize))
        header.intentParameters = (0..<3).map { real(layout.intentP + $0 * layout.realSize) }
        header.intentName = reader.string(layout.intentName, length: 16)
        header.description = reader.string(layout.descrip, length: 80)
        header.auxFile = reader.string(layout.auxFile, length: 24)
        header.qformCode = Int32(truncatingIfNeeded: integer(layout.qformCode, layout.codeSize))
        header.sformCode = Int32(truncatingIfNeeded: integer(layout.sformCode, layout.codeSize))
        header.quaternB = real(layout.quaternB)
        header.quaternC = real(layout.quaternB + layout.realSize)
        header.quaternD = real(layout.quaternB + 2 * layout.realSize)
        header.qoffset = (0..<3).map { real(layout.qoffsetX + $0 * layout.realSize) }
        header.srow = (0..<3).map { row in
            (0..<4).map { real(layout.srowX + (4 * row + $0) * layout.realSize) }
        }

        try header.validateDimensions(path: path)
        guard let datatype = NIfTIDataType(rawValue: datatypeCode) else {
            throw NIfTIError(.unsupportedDatatype, path: path, field: "datatype",
                             "code \(datatypeCode) is not a NIfTI datatype (nifti1.h lists 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304)")
        }
        header.datatype = datatype
        try header.validateVoxOffset(voxOffsetValue, path: path)
        try header.validateByteCount(path: path)
        return header
    }

    private mutating func decodeMagic(_ bytes: [UInt8], layout: HeaderLayout.Offsets, path: String) throws {
        let magic = Array(bytes[layout.magic..<(layout.magic + 4)])
        let digit = UInt8(ascii: version == 1 ? "1" : "2")
        if magic == [UInt8(ascii: "n"), UInt8(ascii: "+"), digit, 0] {
            isPair = false
        } else if magic == [UInt8(ascii: "n"), UInt8(ascii: "i"), digit, 0] {
            isPair = true
        } else {
            let shown = magic.map { (0x20...0x7E).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            throw NIfTIError(.notNIfTI, path: path, field: "magic",
                             "is \"\(shown)\", expected \"n+\(version)\" (single file) or \"ni\(version)\" (.hdr/.img pair); ANALYZE 7.5 images are not supported, convert them to NIfTI first")
        }
        if version == 2 && Array(bytes[8..<12]) != HeaderLayout.nifti2MagicTail {
            throw NIfTIError(.notNIfTI, path: path, field: "magic",
                             "NIfTI-2 signature bytes 4-7 should be \\r\\n\\x1a\\n; the file was probably transferred in text mode and is corrupt")
        }
    }

    private mutating func validateDimensions(path: String) throws {
        guard (1...7).contains(dim[0]) else {
            throw NIfTIError(.invalidHeader, path: path, field: "dim[0]",
                             "is \(dim[0]), the number of dimensions must be 1 to 7")
        }
        for axis in 1...Int(dim[0]) where dim[axis] < 1 {
            throw NIfTIError(.invalidHeader, path: path, field: "dim[\(axis)]",
                             "is \(dim[axis]); every used dimension must be at least 1")
        }
        for axis in (Int(dim[0]) + 1)..<8 { dim[axis] = 1 }
        var product: Int64 = 1
        for axis in 1...Int(dim[0]) {
            let (next, overflow) = product.multipliedReportingOverflow(by: dim[axis])
            guard !overflow, next <= Int64(Int32.max) * 64 else {
                throw NIfTIError(.invalidHeader, path: path, field: "dim",
                                 "dimensions \(shape) hold more voxels than any real image (over \(Int64(Int32.max) * 64)); the header is corrupt")
            }
            product = next
        }
    }

    private mutating func validateVoxOffset(_ value: Double, path: String) throws {
        guard value.isFinite, value >= 0, value == value.rounded(), value < 1e15 else {
            throw NIfTIError(.invalidHeader, path: path, field: "vox_offset",
                             "is \(value); it must be a whole, non-negative byte offset")
        }
        var offset = Int64(value)
        if !isPair {
            let minimum = Int64(headerSize + 4)
            if offset == 0 {
                offset = minimum  // Some writers leave 0; the data then follows the extension flag.
            } else if offset < minimum {
                throw NIfTIError(.invalidHeader, path: path, field: "vox_offset",
                                 "is \(offset), inside the header; a single-file NIfTI-\(version) stores data at byte \(minimum) or later")
            }
        }
        voxOffset = offset
    }

    private func validateByteCount(path: String) throws {
        let (bytes, overflow) = Int64(voxelCount).multipliedReportingOverflow(by: Int64(datatype.byteSize))
        guard !overflow, voxOffset.addingReportingOverflow(bytes).overflow == false else {
            throw NIfTIError(.invalidHeader, path: path, field: "dim",
                             "dimensions \(shape) of \(datatype.name) exceed the addressable size; the header is corrupt")
        }
    }
}

extension NIfTIHeader {
    /// Encodes this header as a little-endian NIfTI-1 or NIfTI-2 block (no extension bytes).
    ///
    /// NIfTI-1 fields are Float32 and Int16: values that do not fit (dimensions above 32767)
    /// need `version = 2`; `NIfTIWriter` chooses that automatically.
    public func encoded() -> [UInt8] {
        let layout = version == 1 ? HeaderLayout.nifti1 : HeaderLayout.nifti2
        var writer = FieldWriter(size: headerSize)
        func real(_ value: Double, _ offset: Int) {
            if layout.realSize == 4 { writer.float32(Float(value), at: offset) } else { writer.float64(value, at: offset) }
        }
        func integer(_ value: Int64, _ offset: Int, _ size: Int) {
            switch size {
            case 1: writer.uint8(UInt8(truncatingIfNeeded: value), at: offset)
            case 2: writer.int16(Int16(truncatingIfNeeded: value), at: offset)
            case 4: writer.int32(Int32(truncatingIfNeeded: value), at: offset)
            default: writer.int64(value, at: offset)
            }
        }
        writer.int32(Int32(headerSize), at: 0)
        let digit = UInt8(ascii: version == 1 ? "1" : "2")
        let magic: [UInt8] = [UInt8(ascii: "n"), isPair ? UInt8(ascii: "i") : UInt8(ascii: "+"), digit, 0]
            + (version == 2 ? HeaderLayout.nifti2MagicTail : [])
        for (index, byte) in magic.enumerated() { writer.uint8(byte, at: layout.magic + index) }
        if version == 1 { writer.int32(0, at: 32); writer.uint8(UInt8(ascii: "r"), at: 38) } // extents, regular
        for axis in 0..<8 { integer(dim[axis], layout.dim + axis * layout.dimSize, layout.dimSize) }
        for axis in 0..<8 { real(pixdim[axis], layout.pixdim + axis * layout.realSize) }
        writer.int16(datatype.rawValue, at: layout.datatype)
        writer.int16(Int16(datatype.byteSize * 8), at: layout.bitpix)
        if version == 1 { writer.float32(Float(voxOffset), at: layout.voxOffset) } else { writer.int64(voxOffset, at: layout.voxOffset) }
        real(sclSlope, layout.sclSlope)
        real(sclInter, layout.sclInter)
        real(calMax, layout.calMax)
        real(calMin, layout.calMin)
        real(sliceDuration, layout.sliceDuration)
        real(toffset, layout.toffset)
        integer(sliceStart, layout.sliceStart, layout.sliceStartSize)
        integer(sliceEnd, layout.sliceEnd, layout.sliceEndSize)
        integer(Int64(sliceCode), layout.sliceCode, layout.sliceCodeSize)
        integer(Int64(xyztUnits), layout.xyztUnits, layout.xyztSize)
        writer.uint8(dimInfo, at: layout.dimInfo)
        integer(Int64(intentCode), layout.intentCode, layout.intSize)
        for index in 0..<3 { real(intentParameters[index], layout.intentP + index * layout.realSize) }
        writer.string(intentName, at: layout.intentName, length: 16)
        writer.string(description, at: layout.descrip, length: 80)
        writer.string(auxFile, at: layout.auxFile, length: 24)
        integer(Int64(qformCode), layout.qformCode, layout.codeSize)
        integer(Int64(sformCode), layout.sformCode, layout.codeSize)
        real(quaternB, layout.quaternB)
        real(quaternC, layout.quaternB + layout.realSize)
        real(quaternD, layout.quaternB + 2 * layout.realSize)
        for index in 0..<3 { real(qoffset[index], layout.qoffsetX + index * layout.realSize) }
        for row in 0..<3 {
            for column in 0..<4 { real(srow[row][column], layout.srowX + (4 * row + column) * layout.realSize) }
        }
        return writer.bytes
    }
}
