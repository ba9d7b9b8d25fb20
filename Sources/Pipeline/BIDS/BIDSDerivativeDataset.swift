import Core
import Foundation
import Preprocessing

/// The BIDS App's derivative dataset as a whole: its folder, `dataset_description.json` and
/// `.bidsignore`, written by both analysis levels before their own outputs.
public enum BIDSDerivativeDataset {
    /// Creates `outputDir`, removes temporaries that killed jobs of either level left anywhere in
    /// it, and writes the dataset description and `.bidsignore`.
    /// - Parameters:
    ///   - level: "participant" or "group".
    ///   - commandLine: recorded in this level's `GeneratedBy` entry.
    public static func prepare(outputDir: String, bidsDir: String, level: String, commandLine: String) throws {
        try OutputDirectory.create(outputDir)
        DirectoryLock.removeStaleTemporaries(inTree: outputDir)
        try writeDescription(outputDir: outputDir, bidsDir: bidsDir, level: level, commandLine: commandLine)
        try writeIgnoreFile(outputDir: outputDir)
    }

    /// `GeneratedBy` keeps one entry per level: this level's replaces its previous run, the other
    /// level's stays. `DatasetLinks` names the input dataset `raw`, which the sidecars'
    /// `bids:raw:` URIs refer to.
    static func writeDescription(outputDir: String, bidsDir: String, level: String, commandLine: String) throws {
        let path = outputDir + "/dataset_description.json"
        let levelName = "\(level) level"
        var generatedBy: [JSONValue] = []
        if let data = FileManager.default.contents(atPath: path), let previous = try? JSONValue(parsing: data),
           case .array(let entries)? = previous["GeneratedBy"] {
            for case .object(let members) in entries where members.first(where: { $0.0 == "Description" })?.1.display != levelName {
                generatedBy.append(.object(members.map { ($0.0, .string($0.1.display)) }))
            }
        }
        generatedBy.append(.object([("Name", .string("fmridyn")), ("Version", .string(FMRIDynVersion.current)), ("Description", .string(levelName)),
                                    ("CommandLine", .string(commandLine))]))
        let input = BIDSParticipantLevel.canonical(bidsDir)
        let source = "file://" + input
        let description: [(String, JSONValue)] = [
            ("Name", .string("fmridyn derivatives of \((input as NSString).lastPathComponent)")),
            ("BIDSVersion", .string("1.9.0")), ("DatasetType", .string("derivative")),
            ("GeneratedBy", .array(generatedBy)),
            ("SourceDatasets", .array([.object([("URL", .string(source))])])),
            ("DatasetLinks", .object([("raw", .string(source))])),
        ]
        try OutputFiles.write(Data((JSONValue.object(description).rendered() + "\n").utf8), to: path)
    }

    /// BIDS 1.11 has no suffix for region or latent timeseries of func data; the files follow
    /// BEP012's names (`_timeseries.tsv` with space-, atlas-, desc-) and are listed here, as are
    /// the non-BIDS model and group folders, so validators accept the dataset.
    static func writeIgnoreFile(outputDir: String) throws {
        try OutputFiles.write(Data("""
            # fmridyn: region, condition and latent timeseries (BEP012-style names; no BIDS 1.11 suffix exists for them)
            *_timeseries.tsv
            *_timeseries.json
            # the group model and its read-outs (docs/bids-app.md); each folder twice: in git's pattern syntax
            # (the BIDS validator's) and as a pattern on full paths (bidsschematools')
            models/
            group/
            */models/*
            */group/*

            """.utf8), to: outputDir + "/.bidsignore")
    }
}
