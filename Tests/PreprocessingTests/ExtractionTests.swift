import NIfTI
import TestSupport
import XCTest

@testable import Preprocessing

/// Masks, smoothing and region extraction on the real nitime run, against nilearn 0.14
/// (bench/golden/extraction.py).
final class ExtractionTests: XCTestCase {
    nonisolated(unsafe) static let golden: [String: Any] = (try? Fixtures.json("extraction/golden.json") as? [String: Any]) ?? [:]

    func loadRun() throws -> NIfTIImage { try NIfTIImage(contentsOf: Fixtures.path("fmri/fmri1.nii.gz")) }

    func testEPIAndBackgroundMasksMatchNilearn() throws {
        let image = try loadRun()
        let epi = try BrainMask.epi(image)
        let expectedEPI = try XCTUnwrap(Self.golden["epi_mask"] as? [Int])
        XCTAssertEqual(expectedEPI.count, 13)
        XCTAssertTrue(epi.indices == expectedEPI, "EPI mask: \(epi.count) voxels vs nilearn's \(expectedEPI.count)")
        let background = try BrainMask.background(image)
        let expectedBackground = try XCTUnwrap(Self.golden["background_mask"] as? [Int])
        XCTAssertTrue(background.indices == expectedBackground, "background mask: \(background.count) voxels vs nilearn's \(expectedBackground.count)")
    }

    func testSmoothingMatchesNilearn() throws {
        let image = try loadRun()
        let stream = try image.volumeStream()
        var volume: [Double] = try XCTUnwrap(stream.nextVolume(as: Double.self))
        let grid = Grid(image.header)
        volume.withUnsafeMutableBufferPointer { GaussianSmoothing(grid: grid, fwhm: 5).apply($0) }
        let expected = GoldenArray((Self.golden["smooth"] as? [String: Any])?["volume"])
        // nilearn smooths this int16-derived volume in float32.
        XCTAssertClose(volume, expected.values, absolute: 1e-4, relative: 1e-6)
    }

    func testLabelStrategiesMatchNilearn() throws {
        let image = try loadRun()
        let cases = try XCTUnwrap(Self.golden["labels"] as? [[String: Any]])
        let strategies: [String: ReductionStrategy] = ["mean": .mean, "median": .median, "sum": .sum, "minimum": .min,
                                                       "maximum": .max, "standard_deviation": .std]
        for entry in cases {
            let atlas = Fixtures.path("extraction/" + (entry["atlas"] as? String ?? ""))
            let strategy = try XCTUnwrap(strategies[entry["strategy"] as? String ?? ""])
            let (regions, warnings) = try RegionSet.labels(atlas: atlas, on: Grid(image.header))
            if let ids = entry["region_ids"] as? [Int] { XCTAssertEqual(regions.names, ids.map(String.init)) }
            var signals = try RegionExtraction.extract(image, regions: regions, strategy: strategy)
            if let clean = entry["clean"] as? [String: Any] {
                let options = CleaningOptions(detrend: true, filter: .butterworth, highPass: clean["high_pass"] as? Double,
                                              lowPass: clean["low_pass"] as? Double, repetitionTime: clean["t_r"] as? Double,
                                              standardize: .zscore)
                signals = try SignalCleaner(options: options, timePoints: signals.timePoints).clean(signals)
            }
            let expected = GoldenArray(entry["signals"])
            XCTAssertEqual([signals.timePoints, signals.columns], expected.shape, "\(entry["atlas"] ?? "") \(strategy)")
            // nilearn reduces Float32 data in Float64 as fmridyn does; tolerance covers summation order.
            XCTAssertClose(signals.rows.flatMap { $0 }, expected.values, absolute: 1e-6, relative: 1e-9, "\(entry["atlas"] ?? "") \(strategy)")
            if (entry["atlas"] as? String) == "labels_fine.nii.gz" {
                XCTAssertEqual(warnings.count, 1)
                XCTAssertTrue(warnings.first?.contains(": 9") ?? false, "label 9 lies outside the data: \(warnings)")
            }
        }
    }

    func testSpheresMatchNilearn() throws {
        let image = try loadRun()
        let cases = try XCTUnwrap(Self.golden["spheres"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 2)
        for entry in cases {
            let seeds = (entry["seeds"] as? [[Double]] ?? []).map { (x: $0[0], y: $0[1], z: $0[2]) }
            let radius = entry["radius"] as? Double ?? 0  // nilearn's None: the nearest voxel only
            let regions = try RegionSet.spheres(seeds: seeds, radius: radius, on: Grid(image.header))
            let signals = try RegionExtraction.extract(image, regions: regions)
            // nilearn stores sphere means in float32.
            XCTAssertClose(signals.rows.flatMap { $0 }, GoldenArray(entry["signals"]).values, absolute: 1e-4, relative: 1e-6, "radius \(radius)")
        }
    }

    func testAtlasErrors() throws {
        let image = try loadRun()
        let grid = Grid(image.header)
        XCTAssertThrowsError(try RegionSet.spheres(seeds: [(x: 500, y: 500, z: 500)], radius: 5, on: grid)) { error in
            XCTAssertTrue("\(error)".contains("holds no voxel") && "\(error)".contains("mm"), "\(error)")
        }
        let seeds = [(x: 88.0, y: -40.0, z: -60.0), (x: 89.0, y: -40.0, z: -60.0)]
        XCTAssertThrowsError(try RegionSet.spheres(seeds: seeds, radius: 6, on: grid)) { error in
            XCTAssertTrue("\(error)".contains("`allowOverlap`"), "\(error)")
        }
        // A label atlas that does not overlap the data prints both extents.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let far = directory.file("far.nii.gz")
        var affine = Affine.identity
        affine[0, 3] = 5000
        try NIfTIWriter.write([Float](repeating: 3, count: 27), header: .make(shape: [3, 3, 3], affine: affine, datatype: .int16), to: far)
        XCTAssertThrowsError(try RegionSet.labels(atlas: far, on: grid)) { error in
            XCTAssertTrue("\(error)".contains("atlas x 5000.0..5002.0") && "\(error)".contains("data x"), "\(error)")
        }
    }
}

extension ExtractionTests {
    /// Voxel mode: nilearn's NiftiMasker column order and cleaning.
    func testVoxelModeMatchesNiftiMasker() throws {
        let image = try loadRun()
        let mask = try BrainMask.background(image)
        let signals = try VoxelExtraction.extract(image, mask: mask)
        let cleaned = try SignalCleaner(options: CleaningOptions(detrend: true, standardize: .zscore), timePoints: signals.timePoints).clean(signals)
        let expected = GoldenArray((Self.golden["voxels"] as? [String: Any])?["signals"])
        XCTAssertEqual([cleaned.timePoints, cleaned.columns], expected.shape)
        XCTAssertClose(cleaned.rows.flatMap { $0 }, expected.values, absolute: 1e-5, relative: 1e-5)
    }
}

/// NaN and infinite voxels: an error naming region and volume, zeroed as nilearn's maskers do
/// (`ensure_finite`), or left out of the region's reduction; counted for the warning.
final class NonFiniteVoxelTests: XCTestCase {
    func testPolicies() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // 4 x 1 x 1 voxels, 3 volumes; region a = voxels 0, 1; region b = voxels 2, 3.
        var values: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        values[1] = .nan            // volume 0, region a
        values[4 + 3] = .infinity   // volume 1, region b
        let path = directory.file("nan.nii")
        try NIfTIWriter.write(values, header: .make(shape: [4, 1, 1, 3]), to: path)
        let image = try NIfTIImage(contentsOf: path)
        let regions = RegionSet(grid: Grid(image.header), names: ["a", "b"], voxels: [[0, 1], [2, 3]])

        XCTAssertThrowsError(try RegionExtraction.extract(image, regions: regions)) { error in
            XCTAssertTrue("\(error)".contains("region a") && "\(error)".contains("volume 0") && "\(error)".contains(path), "\(error)")
        }
        var zeroTally = NonFiniteTally()
        let zeroed = try RegionExtraction.extract(image, regions: regions, nonFinite: .zero, tally: &zeroTally)
        XCTAssertEqual(zeroed.rows, [[0.5, 3.5], [5.5, 3.5], [9.5, 11.5]])
        XCTAssertEqual(zeroTally.values, 2)
        XCTAssertEqual(zeroTally.volumes, 2)
        XCTAssertEqual(zeroTally.perColumn, [0: 1, 1: 1])
        XCTAssertTrue(zeroTally.warning(path: path, names: regions.names, policy: .zero)?.contains("2 non-finite voxel values in 2 volumes were set to 0") ?? false)
        var dropTally = NonFiniteTally()
        let dropped = try RegionExtraction.extract(image, regions: regions, nonFinite: .drop, tally: &dropTally)
        XCTAssertEqual(dropped.rows, [[1, 3.5], [5.5, 7], [9.5, 11.5]])
        XCTAssertEqual(dropTally.values, 2)
        // A region with no finite voxel in a volume cannot be dropped to nothing.
        var allBad = values
        allBad[8] = .nan; allBad[9] = .nan
        let worse = directory.file("worse.nii")
        try NIfTIWriter.write(allBad, header: .make(shape: [4, 1, 1, 3]), to: worse)
        var tally = NonFiniteTally()
        XCTAssertThrowsError(try RegionExtraction.extract(try NIfTIImage(contentsOf: worse), regions: regions, nonFinite: .drop, tally: &tally)) { error in
            XCTAssertTrue("\(error)".contains("volume 2"), "\(error)")
        }
        // Strategies that do not carry NaN into their result (median, max) still see it: the
        // whole volume is scanned for them; std carries it and takes the same path as mean.
        var medianTally = NonFiniteTally()
        XCTAssertEqual(try RegionExtraction.extract(image, regions: regions, strategy: .median, nonFinite: .zero, tally: &medianTally).rows,
                       [[0.5, 3.5], [5.5, 3.5], [9.5, 11.5]])
        XCTAssertEqual(medianTally.values, 2)
        XCTAssertThrowsError(try RegionExtraction.extract(image, regions: regions, strategy: .max)) { XCTAssertTrue("\($0)".contains("region a"), "\($0)") }
        var stdTally = NonFiniteTally()
        XCTAssertEqual(try RegionExtraction.extract(image, regions: regions, strategy: .std, nonFinite: .drop, tally: &stdTally).rows,
                       [[0, 0.5], [0.5, 0], [0.5, 0.5]])
        // A NaN in no region changes nothing and is not counted.
        let outside = RegionSet(grid: Grid(image.header), names: ["c"], voxels: [[0, 2]])
        var outsideTally = NonFiniteTally()
        XCTAssertEqual(try RegionExtraction.extract(image, regions: outside, nonFinite: .error, tally: &outsideTally).rows, [[2], [6], [10]])
        XCTAssertEqual(outsideTally.values, 0)
        // Voxel mode: error names the voxel; zero replaces it.
        let mask = BrainMask(grid: Grid(image.header), voxels: [true, true, true, true])
        XCTAssertThrowsError(try VoxelExtraction.extract(image, mask: mask)) { error in XCTAssertTrue("\(error)".contains("voxel 1"), "\(error)") }
        var voxelTally = NonFiniteTally()
        let voxels = try VoxelExtraction.extract(image, mask: mask, nonFinite: .zero, tally: &voxelTally)
        XCTAssertEqual(voxels.rows, [[1, 0, 3, 4], [5, 6, 7, 0], [9, 10, 11, 12]])
        XCTAssertEqual(voxelTally.values, 2)
        // A NaN outside the mask is neither an error nor counted (voxel 1 is left out).
        let partial = BrainMask(grid: Grid(image.header), voxels: [true, false, true, false])
        var partialTally = NonFiniteTally()
        XCTAssertEqual(try VoxelExtraction.extract(image, mask: partial, nonFinite: .error, tally: &partialTally).rows, [[1, 3], [5, 7], [9, 11]])
        XCTAssertEqual(partialTally.values, 0)
    }
}
