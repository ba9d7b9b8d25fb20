import Foundation

/// The atlases shipped in the repository's `atlases/` folder, found at run time.
///
/// Search order: `$FMRIDYN_ATLAS_DIR`, then `../share/fmridyn/atlases` from the running
/// executable (an installed binary: `make install PREFIX=...`), then an `atlases/` folder beside
/// or above the executable (a build inside the repository), then above the current directory.
public enum BundledAtlases {
    public static let coordinateAtlases = ["power264", "dosenbach160", "seitzman300"]
    public static let masks = ["mni152": "mni152_2009_brain_mask_2mm.nii.gz", "mni152gm": "mni152_2009_gm_mask_2mm.nii.gz"]

    /// The folder holding the bundled atlases, or nil when none is found.
    public static func directory() -> String? {
        var candidates: [String] = []
        if let override = ProcessInfo.processInfo.environment["FMRIDYN_ATLAS_DIR"] { candidates.append(override) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/fmridyn/atlases").path)
        for start in [executable.deletingLastPathComponent(), URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            var folder = start
            for _ in 0..<6 {
                candidates.append(folder.appendingPathComponent("atlases").path)
                folder = folder.deletingLastPathComponent()
            }
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/power264.tsv") }
    }

    /// Resolves a bundled name (`power264`, `mni152`, ...) to its file, or nil for other names.
    public static func path(for name: String) throws -> String? {
        let file: String
        if coordinateAtlases.contains(name) {
            file = name + ".tsv"
        } else if let mask = masks[name] {
            file = mask
        } else {
            return nil
        }
        guard let directory = directory() else {
            throw AtlasError("the bundled atlas \(name) was not found: install fmridyn with its atlases (make install PREFIX=DIR puts them in DIR/share/fmridyn/atlases), or set FMRIDYN_ATLAS_DIR to the repository's atlases/ folder")
        }
        return directory + "/" + file
    }
}

/// A table of ROI centres: `x y z` in world mm, with `label` and `network` columns optional.
public struct CoordinateAtlas: Sendable {
    public var seeds: [(x: Double, y: Double, z: Double)]
    public var labels: [String]
    public var networks: [String]

    public init(contentsOf path: String) throws {
        let table = try DelimitedTable(contentsOf: path)
        let x = try table.numericColumn("x", allowMissing: false)
        let y = try table.numericColumn("y", allowMissing: false)
        let z = try table.numericColumn("z", allowMissing: false)
        seeds = (0..<x.count).map { (x: x[$0], y: y[$0], z: z[$0]) }
        labels = table.columnIndex("label") != nil ? try table.column("label") : (1...max(1, x.count)).prefix(x.count).map(String.init)
        networks = table.columnIndex("network") != nil ? try table.column("network") : Array(repeating: "n/a", count: x.count)
        guard !seeds.isEmpty else { throw AtlasError("\(path): the coordinate table has no rows") }
    }
}

extension BrainMask {
    /// This mask on another grid, by nearest neighbour through the two affines.
    public func resampled(to target: Grid, path: String) throws -> BrainMask {
        if target == grid { return self }
        let labels = try RegionSet.nearestNeighbour(voxels.map { $0 ? 1 : 0 }, from: grid, to: target, path: path)
        let mask = BrainMask(grid: target, voxels: labels.map { $0 != 0 })
        guard mask.count > 0 else {
            throw AtlasError("\(path): the mask does not overlap the data (mask \(grid.extentDescription); data \(target.extentDescription)); check that both are in the same space")
        }
        return mask
    }
}
