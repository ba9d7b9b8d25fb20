/// The floating-point types fmridyn reads voxels into.
public protocol VoxelScalar: BinaryFloatingPoint, Sendable {
    init(_ value: Double)
}

extension Float: VoxelScalar {}
extension Double: VoxelScalar {}

/// Converts stored voxel bytes to Float32/Float64 with byte order and scaling applied.
///
/// Integer values are scaled in Float64 (`value * slope + intercept`, as nibabel does) and
/// then rounded once to the output type, so Float32 output equals Float32(nibabel's value).
enum VoxelConversion {
    static func convert<Output: VoxelScalar>(
        _ source: UnsafeRawPointer, count: Int, datatype: NIfTIDataType, bigEndian: Bool,
        scaling: (slope: Double, intercept: Double)?, into output: UnsafeMutablePointer<Output>
    ) {
        let swap = bigEndian != (UInt16(1).bigEndian == 1)
        switch datatype {
        case .uint8: integers(source, count, UInt8.self, swap, scaling, output)
        case .int8: integers(source, count, Int8.self, swap, scaling, output)
        case .int16: integers(source, count, Int16.self, swap, scaling, output)
        case .uint16: integers(source, count, UInt16.self, swap, scaling, output)
        case .int32: integers(source, count, Int32.self, swap, scaling, output)
        case .uint32: integers(source, count, UInt32.self, swap, scaling, output)
        case .int64: integers(source, count, Int64.self, swap, scaling, output)
        case .uint64: integers(source, count, UInt64.self, swap, scaling, output)
        case .float32:
            for index in 0..<count {
                var bits = source.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)
                if swap { bits = bits.byteSwapped }
                let value = Float(bitPattern: bits)
                if let (slope, intercept) = scaling {
                    output[index] = Output(Double(value) * slope + intercept)
                } else {
                    output[index] = Output(value)
                }
            }
        case .float64:
            for index in 0..<count {
                var bits = source.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self)
                if swap { bits = bits.byteSwapped }
                let value = Double(bitPattern: bits)
                output[index] = Output(scaling.map { value * $0.slope + $0.intercept } ?? value)
            }
        case .complex64, .complex128, .complex256, .rgb24, .rgba32, .float128:
            preconditionFailure("unsupported datatypes are refused when the image is opened")
        }
    }

    private static func integers<Stored: FixedWidthInteger, Output: VoxelScalar>(
        _ source: UnsafeRawPointer, _ count: Int, _: Stored.Type, _ swap: Bool,
        _ scaling: (slope: Double, intercept: Double)?, _ output: UnsafeMutablePointer<Output>
    ) {
        let size = MemoryLayout<Stored>.size
        if let (slope, intercept) = scaling {
            for index in 0..<count {
                var value = source.loadUnaligned(fromByteOffset: size * index, as: Stored.self)
                if swap { value = value.byteSwapped }
                output[index] = Output(Double(value) * slope + intercept)
            }
        } else {
            for index in 0..<count {
                var value = source.loadUnaligned(fromByteOffset: size * index, as: Stored.self)
                if swap { value = value.byteSwapped }
                output[index] = Output(value)
            }
        }
    }
}
