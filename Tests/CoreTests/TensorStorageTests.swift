import TestSupport
import XCTest

@testable import Core

/// Copy on write, views and buffer reuse of the tensors' pooled storage.
final class TensorStorageTests: XCTestCase {
    func testCopiesAreIndependentAfterAWrite() {
        let original = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        var copy = original
        XCTAssertTrue(copy.scalars.sharesBlock(with: original.scalars), "a copy shares storage until written")
        copy.withUnsafeMutableScalars { $0[4] = -5 }
        XCTAssertFalse(copy.scalars.sharesBlock(with: original.scalars))
        XCTAssertEqual(original.scalars.array, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(copy.scalars.array, [1, 2, 3, 4, -5, 6])

        var storage: TensorStorage<Double> = [1, 2, 3]
        let kept = storage
        storage[1] = 20
        XCTAssertEqual(kept.array, [1, 2, 3])
        XCTAssertEqual(storage.array, [1, 20, 3])
        XCTAssertEqual(storage.map { $0 * 2 }, [2, 40, 6])
    }

    func testLeadingAxisSlicesAreViews() {
        // Time-major [T, B, F]: a time step is contiguous, so the slice shares the sequence's block.
        let sequence = Tensor<Float>(shape: [3, 2, 2], scalars: (0..<12).map(Float.init))
        var step = sequence.slice(alongAxis: 0, 1..<2)
        XCTAssertEqual(step.shape, [1, 2, 2])
        XCTAssertEqual(step.scalars.array, [4, 5, 6, 7])
        let shared = step.scalars.withUnsafeBufferPointer { view in
            sequence.scalars.withUnsafeBufferPointer { whole in view.baseAddress == whole.baseAddress.map { $0 + 4 } }
        }
        XCTAssertTrue(shared, "the slice must point into the sequence's storage")
        // Writing into the view copies it: the sequence is unchanged.
        step.withUnsafeMutableScalars { $0[0] = 100 }
        XCTAssertEqual(sequence.scalars[4], 4)
        XCTAssertEqual(step.scalars.array, [100, 5, 6, 7])
        // A batch-major slice along time is strided: a copy with the right values.
        let batchMajor = Tensor<Float>(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        XCTAssertEqual(batchMajor.slice(alongAxis: 1, 2..<3).scalars.array, [4, 5, 10, 11])
    }

    func testSizeClasses() {
        XCTAssertEqual(ScalarPool.blockBytes(forRequest: 1), 64)
        XCTAssertEqual(ScalarPool.blockBytes(forRequest: 64), 64)
        XCTAssertEqual(ScalarPool.blockBytes(forRequest: 65), 128)
        XCTAssertEqual(ScalarPool.blockBytes(forRequest: 4096 * 4), 16384)
        XCTAssertEqual(ScalarPool.blockBytes(forRequest: 64 << 20), 64 << 20)
        XCTAssertNil(ScalarPool.sizeClass(bytes: (64 << 20) + 1), "blocks above 64 MiB are not pooled")
    }

    /// A block freed on another thread (the gradients of a batch part are made on a worker and
    /// freed on the caller) is found by the next thread that needs one, not allocated again.
    func testBlocksFreedOnAnotherThreadAreReused() {
        let pool = ScalarPool.shared
        pool.trim()
        let bytes = 3 << 20  // a 4 MiB class, rare elsewhere in the tests
        nonisolated(unsafe) var block: UnsafeMutableRawPointer? = nil
        runOnNewThread { block = pool.take(bytes: bytes) }
        guard let made = block else { return XCTFail("no block") }
        pool.give(made, bytes: bytes)  // on this thread
        pool.resetStatistics()
        nonisolated(unsafe) var again: UnsafeMutableRawPointer? = nil
        runOnNewThread { again = pool.take(bytes: bytes) }
        XCTAssertEqual(again, made, "the freed block is handed out again")
        XCTAssertEqual(pool.statistics.allocated, 0)
        XCTAssertEqual(pool.statistics.reused, 1)
        if let again { pool.give(again, bytes: bytes) }
    }

    private func runOnNewThread(_ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.start()
        done.wait()
    }

    /// Once training has warmed up, a step takes every scalar buffer from the pool. (The second
    /// step may still allocate: the optimizer's moment buffers, made during the first step's
    /// update, stay alive through the second step's backward pass, so its peak is higher.)
    func testASecondTrainingStepAllocatesNoScalarBuffers() {
        var random = RandomSource(seed: 7)
        var model = StepModel(gru: GRU<Float>(inputSize: 6, hiddenSize: 5, random: &random),
                              head: MLP<Float>(widths: [5, 8, 3], activation: .tanh, random: &random))
        let x = Tensor<Float>(shape: [4, 7, 6], scalars: (0..<168).map { Float(sin(Double($0))) })
        var optimizer = Adam<Float>(learningRate: 1e-3)
        func step() -> Float {
            let (loss, gradient) = valueAndGradient(of: model) { model -> Tensor<Float> in
                let states = model.gru(x, initial: Tensor(zeros: [4, 5]))
                let last = states.slice(alongAxis: 1, 6..<7).reshaped([4, 5])
                return model.head(last).squared().mean()
            }
            optimizer.update(&model, along: gradient, masks: nil)
            return loss
        }
        let first = step()
        _ = step()
        ScalarPool.shared.resetStatistics()
        let third = step()
        let thirdStep = ScalarPool.shared.statistics
        ScalarPool.shared.resetStatistics()
        _ = step()
        let fourthStep = ScalarPool.shared.statistics
        XCTAssertEqual(thirdStep.allocated, 0, "the third step allocated \(thirdStep.allocated) scalar buffers")
        XCTAssertEqual(fourthStep.allocated, 0, "the fourth step allocated \(fourthStep.allocated) scalar buffers")
        // Every buffer of a step (the same ones each time) came from the pool.
        XCTAssertGreaterThan(thirdStep.reused, 20)
        XCTAssertEqual(thirdStep.reused, fourthStep.reused)
        XCTAssertNotEqual(first, third, "the updates changed the model")
    }
}

/// A GRU and a head, for the reuse test.
struct StepModel: Module {
    var gru: GRU<Float>
    var head: MLP<Float>

    var parameters: [(name: String, path: WritableKeyPath<StepModel, Tensor<Float>>)] {
        nested(\.gru, prefix: "gru") + nested(\.head, prefix: "head")
    }
}
