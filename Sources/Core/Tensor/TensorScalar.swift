import CLinearAlgebra
import Foundation

/// Element-wise functions with a derivative, applied by `TensorScalar.unary`.
public enum UnaryFunction: Sendable, Equatable {
    case exp, log, tanh, sigmoid, softplus, relu, elu(Double), square, sqrt, negate
    case scale(Double), shift(Double)
}

/// Element-wise binary operations.
public enum BinaryOperation: Sendable {
    case add, subtract, multiply, divide
}

/// The scalar types tensors hold: Float (training) and Double (gradient checks).
///
/// Every loop over elements lives in these requirements, implemented once per concrete type,
/// so generic tensor code pays one dynamic call per operation, never per element.
public protocol TensorScalar: BinaryFloatingPoint & Sendable & Codable & GRUGateKernel where Self.RawSignificand: FixedWidthInteger {
    /// safetensors dtype name ("F32", "F64").
    static var safetensorsName: String { get }

    /// C = alpha * op(A) * op(B) + beta * C, row-major (cblas_?gemm).
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// output[i] = f(input[i]).
    static func unary(_ function: UnaryFunction, _ input: UnsafePointer<Self>, _ output: UnsafeMutablePointer<Self>, count: Int)

    /// gradInput[i] = gradOutput[i] * f'(input[i]) (given input x and output y = f(x)).
    static func unaryBackward(_ function: UnaryFunction, input: UnsafePointer<Self>, output: UnsafePointer<Self>,
                              gradOutput: UnsafePointer<Self>, gradInput: UnsafeMutablePointer<Self>, count: Int)

    /// output[i] = a[i % aCount] op b[i % bCount] over `count` elements; aCount and bCount divide
    /// count (same shape, scalar, or trailing-dimension broadcast).
    static func binary(_ operation: BinaryOperation, _ a: UnsafePointer<Self>, aCount: Int, _ b: UnsafePointer<Self>, bCount: Int,
                       _ output: UnsafeMutablePointer<Self>, count: Int)

    /// y += alpha * x.
    static func axpy(_ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count: Int)

    /// Sum in Float64 (deterministic order).
    static func sum(_ x: UnsafePointer<Self>, count: Int) -> Double

    /// e^x and tanh x in the type's own precision (expf/tanhf for Float).
    static func exponential(_ x: Self) -> Self
    static func hyperbolicTangent(_ x: Self) -> Self
}

extension TensorScalar {
    /// Whether every value is finite.
    @_specialize(where Self == Float)
    @_specialize(where Self == Double)
    static func allFinite(_ values: TensorStorage<Self>) -> Bool {
        values.withUnsafeBufferPointer { buffer in
            for value in buffer where !value.isFinite { return false }
            return true
        }
    }

    @inline(__always)
    static func applyUnary(_ function: UnaryFunction, _ x: Self) -> Self {
        switch function {
        case .exp: return Self(Foundation.exp(Double(x)))
        case .log: return Self(Foundation.log(Double(x)))
        case .tanh: return Self(Foundation.tanh(Double(x)))
        case .sigmoid: return Self(1 / (1 + Foundation.exp(-Double(x))))
        case .softplus:
            // log(1 + e^x), stable for large |x| (PyTorch's threshold 20).
            let v = Double(x)
            return v > 20 ? x : Self(Foundation.log1p(Foundation.exp(v)))
        case .relu: return x > 0 ? x : 0
        case .elu(let alpha): return x > 0 ? x : Self(alpha * (Foundation.exp(Double(x)) - 1))
        case .square: return x * x
        case .sqrt: return x.squareRoot()
        case .negate: return -x
        case .scale(let factor): return x * Self(factor)
        case .shift(let offset): return x + Self(offset)
        }
    }

    @inline(__always)
    static func applyDerivative(_ function: UnaryFunction, x: Self, y: Self) -> Self {
        switch function {
        case .exp: return y
        case .log: return 1 / x
        case .tanh: return 1 - y * y
        case .sigmoid: return y * (1 - y)
        case .softplus: return Self(1 / (1 + Foundation.exp(-Double(x))))
        case .relu: return x > 0 ? 1 : 0
        case .elu(let alpha): return x > 0 ? 1 : y + Self(alpha)
        case .square: return 2 * x
        case .sqrt: return 1 / (2 * y)
        case .negate: return -1
        case .scale(let factor): return Self(factor)
        case .shift: return 1
        }
    }
}

/// Shared element loops, specialised for each concrete scalar at the conformances below.
enum ScalarKernels {
    @inline(__always)
    static func unary<T: TensorScalar>(_ function: UnaryFunction, _ input: UnsafePointer<T>, _ output: UnsafeMutablePointer<T>, count: Int) {
        switch function {
        case .tanh:
            for i in 0..<count { output[i] = T.hyperbolicTangent(input[i]) }
        case .exp:
            for i in 0..<count { output[i] = T.exponential(input[i]) }
        case .sigmoid:
            for i in 0..<count { output[i] = 1 / (1 + T.exponential(-input[i])) }
        default:
            for i in 0..<count { output[i] = T.applyUnary(function, input[i]) }
        }
    }

    @inline(__always)
    static func unaryBackward<T: TensorScalar>(_ function: UnaryFunction, input: UnsafePointer<T>, output: UnsafePointer<T>,
                                               gradOutput: UnsafePointer<T>, gradInput: UnsafeMutablePointer<T>, count: Int) {
        switch function {
        case .scale(let factor):
            let c = T(factor)
            for i in 0..<count { gradInput[i] = gradOutput[i] * c }
        case .shift:
            for i in 0..<count { gradInput[i] = gradOutput[i] }
        case .negate:
            for i in 0..<count { gradInput[i] = -gradOutput[i] }
        case .tanh:
            for i in 0..<count { gradInput[i] = gradOutput[i] * (1 - output[i] * output[i]) }
        case .sigmoid:
            for i in 0..<count { gradInput[i] = gradOutput[i] * output[i] * (1 - output[i]) }
        case .exp:
            for i in 0..<count { gradInput[i] = gradOutput[i] * output[i] }
        default:
            for i in 0..<count { gradInput[i] = gradOutput[i] * T.applyDerivative(function, x: input[i], y: output[i]) }
        }
    }

    @inline(__always)
    static func binary<T: TensorScalar>(_ operation: BinaryOperation, _ a: UnsafePointer<T>, aCount: Int, _ b: UnsafePointer<T>, bCount: Int,
                                        _ output: UnsafeMutablePointer<T>, count: Int) {
        @inline(__always) func loop(_ f: (T, T) -> T) {
            if aCount == count && bCount == count {
                for i in 0..<count { output[i] = f(a[i], b[i]) }
            } else if bCount == 1 {
                let s = b[0]
                for i in 0..<count { output[i] = f(a[i % aCount], s) }
            } else if aCount == 1 {
                let s = a[0]
                for i in 0..<count { output[i] = f(s, b[i % bCount]) }
            } else if aCount == count {
                var i = 0
                while i < count {
                    for j in 0..<bCount { output[i + j] = f(a[i + j], b[j]) }
                    i += bCount
                }
            } else {
                for i in 0..<count { output[i] = f(a[i % aCount], b[i % bCount]) }
            }
        }
        switch operation {
        case .add: loop(+)
        case .subtract: loop(-)
        case .multiply: loop(*)
        case .divide: loop(/)
        }
    }
}

extension Float: TensorScalar {
    public static var safetensorsName: String { "F32" }
    @inline(__always) public static func exponential(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) public static func hyperbolicTangent(_ x: Float) -> Float { Foundation.tanhf(x) }

    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// tanh and sigmoid run eight lanes at a time through `FastMath` (absolute error < 4e-7);
    /// everything else through libm.
    public static func unary(_ function: UnaryFunction, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int) {
        switch function {
        case .tanh, .sigmoid:
            var i = 0
            while i + 8 <= count {
                let x = UnsafeRawPointer(input + i).loadUnaligned(as: SIMD8<Float>.self)
                let y = function == .tanh ? FastMath.tanh(x) : FastMath.sigmoid(x)
                UnsafeMutableRawPointer(output + i).storeBytes(of: y, as: SIMD8<Float>.self)
                i += 8
            }
            if i < count { ScalarKernels.unary(function, input + i, output + i, count: count - i) }
        default:
            ScalarKernels.unary(function, input, output, count: count)
        }
    }

    public static func unaryBackward(_ function: UnaryFunction, input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                                     gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>, count: Int) {
        ScalarKernels.unaryBackward(function, input: input, output: output, gradOutput: gradOutput, gradInput: gradInput, count: count)
    }

    public static func binary(_ operation: BinaryOperation, _ a: UnsafePointer<Float>, aCount: Int, _ b: UnsafePointer<Float>, bCount: Int,
                              _ output: UnsafeMutablePointer<Float>, count: Int) {
        ScalarKernels.binary(operation, a, aCount: aCount, b, bCount: bCount, output, count: count)
    }

    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        for i in 0..<count { total += Double(x[i]) }
        return total
    }
}

extension Double: TensorScalar {
    public static var safetensorsName: String { "F64" }
    @inline(__always) public static func exponential(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func hyperbolicTangent(_ x: Double) -> Double { Foundation.tanh(x) }

    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static func unary(_ function: UnaryFunction, _ input: UnsafePointer<Double>, _ output: UnsafeMutablePointer<Double>, count: Int) {
        ScalarKernels.unary(function, input, output, count: count)
    }

    public static func unaryBackward(_ function: UnaryFunction, input: UnsafePointer<Double>, output: UnsafePointer<Double>,
                                     gradOutput: UnsafePointer<Double>, gradInput: UnsafeMutablePointer<Double>, count: Int) {
        ScalarKernels.unaryBackward(function, input: input, output: output, gradOutput: gradOutput, gradInput: gradInput, count: count)
    }

    public static func binary(_ operation: BinaryOperation, _ a: UnsafePointer<Double>, aCount: Int, _ b: UnsafePointer<Double>, bCount: Int,
                              _ output: UnsafeMutablePointer<Double>, count: Int) {
        ScalarKernels.binary(operation, a, aCount: aCount, b, bCount: bCount, output, count: count)
    }

    public static func axpy(_ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        cblas_daxpy(Int32(count), alpha, x, 1, y, 1)
    }

    public static func sum(_ x: UnsafePointer<Double>, count: Int) -> Double {
        var total = 0.0
        for i in 0..<count { total += x[i] }
        return total
    }
}
