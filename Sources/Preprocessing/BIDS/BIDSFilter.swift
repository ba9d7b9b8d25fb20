import Foundation

/// Which BOLD runs to use, in fMRIPrep's `--bids-filter-file` format: a JSON object whose
/// `bold` query maps BIDS entities (long names, as pybids spells them: `session`, `task`,
/// `run`, `acquisition`, `direction`, `reconstruction`, `echo`, `space`) to a value, a list of
/// values (any of them), or null (the entity must be absent). Other queries (`t1w`, ...) are
/// for anatomical files and are ignored.
public struct BIDSFilter: Sendable, Equatable {
    /// Entity key (short form, as in file names) -> accepted values; an empty set means "absent".
    public let bold: [String: Set<String>]

    static let entityKeys = ["subject": "sub", "session": "ses", "task": "task", "acquisition": "acq", "ceagent": "ce",
                             "reconstruction": "rec", "direction": "dir", "run": "run", "echo": "echo", "part": "part", "space": "space"]

    /// Parses `path`; errors name the file, the field and the fix.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BIDSError("\(path): cannot read the BIDS filter file; check the path given to `bidsFilterFile`")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BIDSError("\(path): not a JSON object; a BIDS filter file looks like {\"bold\": {\"task\": \"motor\", \"session\": [\"01\", \"02\"]}}")
        }
        guard let query = object["bold"] else { bold = [:]; return }
        guard let entities = query as? [String: Any] else { throw BIDSError("\(path): \"bold\" must be an object of entities") }
        var result: [String: Set<String>] = [:]
        for (name, value) in entities {
            if ["datatype", "suffix", "extension"].contains(name) { continue }  // fMRIPrep's own query keys for the BOLD files
            guard let key = Self.entityKeys[name] else {
                throw BIDSError("\(path): bold.\(name) is not an entity this filter knows; use one of \(Self.entityKeys.keys.sorted().joined(separator: ", "))")
            }
            func label(_ item: Any) throws -> String {
                if let text = item as? String { return text }
                if let number = item as? NSNumber, number.doubleValue == number.doubleValue.rounded() { return String(number.intValue) }
                throw BIDSError("\(path): bold.\(name) must be a string, an integer, a list of them, or null")
            }
            switch value {
            case is NSNull: result[key] = []
            case let list as [Any]: result[key] = Set(try list.map(label))
            default: result[key] = [try label(value)]
            }
        }
        bold = result
    }

    public init(bold: [String: Set<String>]) { self.bold = bold }

    /// Whether the run's BOLD file name passes. Run and echo labels compare as numbers when both
    /// are numbers (`1` matches `run-01`).
    public func accepts(_ run: BIDSRun) -> Bool {
        accepts(run.name, space: run.preprocessedBold.flatMap { BIDSName(($0 as NSString).lastPathComponent)?["space"] })
    }

    /// Whether a file with these entities passes; `space` stands in for the name's own.
    public func accepts(_ name: BIDSName, space: String? = nil) -> Bool {
        bold.allSatisfy { key, values in
            let value = key == "space" ? space ?? name["space"] : name[key]
            guard let value else { return values.isEmpty }
            if values.isEmpty { return false }
            return values.contains(value) || (Int(value).map { number in values.contains { Int($0) == number } } ?? false)
        }
    }
}

extension BIDSLayout {
    /// Refuses a folder that is not a BIDS dataset: `dataset_description.json` must exist and
    /// be a JSON object with `Name` and `BIDSVersion` (what the BIDS validator checks first).
    public static func requireDataset(_ root: String) throws {
        let path = root + "/dataset_description.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BIDSError("\(root) is not a BIDS dataset: \(path) is missing; point at the dataset's root, or pass `skipBIDSValidation`")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BIDSError("\(path) is not a JSON object; fix the file, or pass `skipBIDSValidation`")
        }
        for field in ["Name", "BIDSVersion"] where object[field] == nil {
            throw BIDSError("\(path) has no \(field) (a required field); add it, or pass `skipBIDSValidation`")
        }
    }
}
