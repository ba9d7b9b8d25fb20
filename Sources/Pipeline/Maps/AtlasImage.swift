import Foundation
import NIfTI
import Preprocessing

/// An atlas as an image for drawing region values: its regions' voxels (coordinate atlases as
/// spheres on the bundled MNI152 2 mm grid) and each region's network, matched to a model's
/// features by name.
public struct AtlasImage {
    public let grid: Grid
    /// Voxels of each requested region, in the order of the names given.
    public let voxels: [[Int]]
    /// Network of each requested region ("n/a" when the atlas names none).
    public let networks: [String]

    public init(_ atlas: String, radius: Double, regions names: [String]) throws {
        let resolved = try BundledAtlases.path(for: atlas) ?? atlas
        let lower = resolved.lowercased()
        let set: RegionSet
        var networkOf: [String: String] = [:]
        if lower.hasSuffix(".tsv") || lower.hasSuffix(".csv") {
            let table = try CoordinateAtlas(contentsOf: resolved)
            guard let maskPath = try BundledAtlases.path(for: "mni152") else { throw PipelineError("the bundled MNI152 mask is missing (atlases/)") }
            set = try RegionSet.spheres(seeds: table.seeds, names: table.labels, radius: radius, on: Grid(try NIfTIImage(contentsOf: maskPath).header),
                                        allowOverlap: true)
            networkOf = Dictionary(zip(table.labels, table.networks), uniquingKeysWith: { first, _ in first })
        } else {
            set = try RegionSet.labels(atlas: resolved, on: Grid(try NIfTIImage(contentsOf: resolved).header)).regions
        }
        let position = Dictionary(set.names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let missing = names.filter { position[$0] == nil }
        guard missing.isEmpty else {
            throw PipelineError("\(atlas) has no regions named \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? " ..." : ""); give the atlas the model's regions were extracted with")
        }
        grid = set.grid
        voxels = names.map { set.voxels[position[$0] ?? 0] }
        networks = names.map { networkOf[$0] ?? "n/a" }
    }

    /// One 3-D volume per map (values per region, in the names' order), stacked.
    public func paint(_ maps: [[Double]]) -> [Float] {
        let count = grid.voxelCount
        var volume = [Float](repeating: 0, count: count * maps.count)
        for (index, map) in maps.enumerated() {
            for (region, members) in voxels.enumerated() { for voxel in members { volume[index * count + voxel] = Float(map[region]) } }
        }
        return volume
    }

    /// Writes `maps` as a 3-D (one map) or 4-D NIfTI image.
    public func write(_ maps: [[Double]], to path: String) throws {
        let shape = maps.count == 1 ? grid.shape : grid.shape + [maps.count]
        let zooms = maps.count == 1 ? grid.voxelSizes : grid.voxelSizes + [1]
        try NIfTIWriter.write(paint(maps), header: .make(shape: shape, zooms: zooms, affine: grid.affine, code: 4), to: path)
    }
}
