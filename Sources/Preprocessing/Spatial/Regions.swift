import NIfTI

/// Regions on a data grid: for each region, its name and the flat indices of its voxels.
/// Label atlases, coordinate (sphere) atlases and voxel masks all reduce to this.
public struct RegionSet: Equatable, Sendable {
    public let grid: Grid
    public let names: [String]
    /// Flat voxel indices (NIfTI order) of each region, ascending.
    public let voxels: [[Int]]

    public init(grid: Grid, names: [String], voxels: [[Int]]) {
        precondition(names.count == voxels.count)
        self.grid = grid
        self.names = names
        self.voxels = voxels
    }

    public var count: Int { names.count }
}

/// Problems with atlases and masks, with their fixes.
public struct AtlasError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension RegionSet {
    /// Regions of a label image (integers; 0 is background), resampled to `grid` by nearest
    /// neighbour through the two affines, restricted to `mask` when given. Regions are ordered
    /// by ascending label value. `warnings` lists labels lost in resampling or masking.
    public static func labels(atlas path: String, on grid: Grid, mask: BrainMask? = nil) throws -> (regions: RegionSet, warnings: [String]) {
        let image = try NIfTIImage(contentsOf: path)
        guard image.header.volumeCount == 1 else {
            throw AtlasError("\(path): a label atlas must be 3-D; this image has \(image.header.volumeCount) volumes (a probabilistic atlas is not supported)")
        }
        let values: [Double] = try image.readAll(as: Double.self)
        for value in values where value != value.rounded() || !value.isFinite {
            throw AtlasError("\(path): label \(value) is not an integer; a label atlas stores integer region labels")
        }
        let atlasGrid = Grid(image.header)
        let allLabels = Set(values.map { Int64($0) }).subtracting([0])
        var resampled: [Int64]
        if atlasGrid == grid {
            resampled = values.map { Int64($0) }
        } else {
            resampled = try nearestNeighbour(values.map { Int64($0) }, from: atlasGrid, to: grid, path: path)
        }
        if let mask {
            guard mask.grid.shape == grid.shape else {
                throw AtlasError("the mask grid \(mask.grid.shape) differs from the data grid \(grid.shape); resample the mask to the data first")
            }
            for index in resampled.indices where !mask.voxels[index] { resampled[index] = 0 }
        }
        var members: [Int64: [Int]] = [:]
        for (index, label) in resampled.enumerated() where label != 0 { members[label, default: []].append(index) }
        guard !members.isEmpty else {
            throw AtlasError("\(path): no labelled voxel falls inside the data (atlas \(atlasGrid.extentDescription); data \(grid.extentDescription)); check that both are in the same space")
        }
        var warnings: [String] = []
        let lost = allLabels.subtracting(members.keys).sorted()
        if !lost.isEmpty {
            warnings.append("\(path): \(lost.count) label(s) have no voxel on the data grid\(mask == nil ? "" : " inside the mask") and are left out: \(lost.prefix(20).map(String.init).joined(separator: ", "))\(lost.count > 20 ? ", ..." : "")")
        }
        let labels = members.keys.sorted()
        return (RegionSet(grid: grid, names: labels.map(String.init), voxels: labels.map { members[$0] ?? [] }), warnings)
    }

    /// Nearest-neighbour resampling of a label volume onto `target` (0 outside the source).
    static func nearestNeighbour(_ values: [Int64], from source: Grid, to target: Grid, path: String) throws -> [Int64] {
        guard let inverse = source.inverseAffine else {
            throw AtlasError("\(path): the atlas affine is singular; fix its header")
        }
        // target voxel -> world -> source voxel, as one affine.
        var combined = [Double](repeating: 0, count: 12)
        for row in 0..<3 {
            for column in 0..<4 {
                var sum = 0.0
                for k in 0..<4 { sum += inverse[row, k] * target.affine[k, column] }
                combined[4 * row + column] = sum
            }
        }
        let (sx, sy, sz) = (source.shape[0], source.shape[1], source.shape[2])
        var result = [Int64](repeating: 0, count: target.voxelCount)
        for k in 0..<target.shape[2] {
            for j in 0..<target.shape[1] {
                for i in 0..<target.shape[0] {
                    let (x, y, z) = (Double(i), Double(j), Double(k))
                    let si = (combined[0] * x + combined[1] * y + combined[2] * z + combined[3]).rounded()
                    let sj = (combined[4] * x + combined[5] * y + combined[6] * z + combined[7]).rounded()
                    let sk = (combined[8] * x + combined[9] * y + combined[10] * z + combined[11]).rounded()
                    guard si >= 0, sj >= 0, sk >= 0, si < Double(sx), sj < Double(sy), sk < Double(sz) else { continue }
                    result[target.index(i, j, k)] = values[Int(si) + sx * (Int(sj) + sy * Int(sk))]
                }
            }
        }
        return result
    }

    /// Spheres of `radius` mm around world coordinates, as nilearn's NiftiSpheresMasker: every
    /// voxel (inside `mask`, when given) whose centre is within the radius, plus the voxel
    /// nearest the seed. An empty sphere is an error; so is overlap unless `allowOverlap`.
    public static func spheres(seeds: [(x: Double, y: Double, z: Double)], names: [String]? = nil, radius: Double,
                               on grid: Grid, mask: BrainMask? = nil, allowOverlap: Bool = false) throws -> RegionSet {
        guard let inverse = grid.inverseAffine else { throw AtlasError("the data affine is singular") }
        // 0 is nilearn's None: the nearest voxel only.
        guard radius >= 0, radius.isFinite else { throw AtlasError("the sphere radius must be a finite number of mm, 0 or more (got \(radius))") }
        for (number, seed) in seeds.enumerated() where !(seed.x.isFinite && seed.y.isFinite && seed.z.isFinite) {
            throw AtlasError("seed \(names?[number] ?? String(number + 1)) has a non-finite coordinate (\(seed.x), \(seed.y), \(seed.z)); fix the atlas table")
        }
        let sizes = grid.voxelSizes
        var regions: [[Int]] = []
        var owner = [Int](repeating: -1, count: grid.voxelCount)
        for (number, seed) in seeds.enumerated() {
            let centre = inverse.apply((seed.x, seed.y, seed.z))
            var members: [Int] = []
            // Search the bounding box of the sphere in voxel space (generous for oblique grids).
            let reach = (0..<3).map { Int((radius / sizes[$0]).rounded(.up)) + 2 }
            let centreIndex = [centre.0, centre.1, centre.2].map { Int($0.rounded()) }
            let low = (0..<3).map { max(0, centreIndex[$0] - reach[$0]) }
            let high = (0..<3).map { min(grid.shape[$0] - 1, centreIndex[$0] + reach[$0]) }
            for k in stride(from: low[2], through: high[2], by: 1) {
                for j in stride(from: low[1], through: high[1], by: 1) {
                    for i in stride(from: low[0], through: high[0], by: 1) {
                        let index = grid.index(i, j, k)
                        if let mask, !mask.voxels[index] { continue }
                        let p = grid.affine.apply((Double(i), Double(j), Double(k)))
                        let distance = ((p.0 - seed.x) * (p.0 - seed.x) + (p.1 - seed.y) * (p.1 - seed.y) + (p.2 - seed.z) * (p.2 - seed.z)).squareRoot()
                        if distance <= radius { members.append(index) }
                    }
                }
            }
            let nearestInside = (0..<3).allSatisfy { centreIndex[$0] >= 0 && centreIndex[$0] < grid.shape[$0] }
            if nearestInside {
                let nearest = grid.index(centreIndex[0], centreIndex[1], centreIndex[2])
                if mask?.voxels[nearest] ?? true, !members.contains(nearest) { members.append(nearest) }
            }
            members.sort()
            let label = names?[number] ?? String(number + 1)
            guard !members.isEmpty else {
                throw AtlasError("the sphere around seed \(label) at (\(seed.x), \(seed.y), \(seed.z)) mm holds no voxel\(mask == nil ? "" : " of the mask"); the data covers \(grid.extentDescription). Check the coordinates' space or enlarge `radius`")
            }
            if !allowOverlap {
                for index in members {
                    if owner[index] >= 0 {
                        let other = names?[owner[index]] ?? String(owner[index] + 1)
                        throw AtlasError("the spheres around seeds \(other) and \(label) overlap at radius \(radius) mm; reduce `radius` or pass `allowOverlap`")
                    }
                    owner[index] = number
                }
            }
            regions.append(members)
        }
        return RegionSet(grid: grid, names: names ?? (1...seeds.count).map(String.init), voxels: regions)
    }

    /// Every voxel of a mask as its own region (voxel mode), in ascending flat-index order.
    public static func voxels(of mask: BrainMask) -> RegionSet {
        let indices = mask.indices
        return RegionSet(grid: mask.grid, names: indices.map(String.init), voxels: indices.map { [$0] })
    }
}
