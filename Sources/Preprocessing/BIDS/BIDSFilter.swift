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
        guard let file = try? JSONDecoder().decode(FilterFile.self, from: data) else {
            throw BIDSError("\(path): not a JSON object; a BIDS filter file looks like {\"bold\": {\"task\": \"motor\", \"session\": [\"01\", \"02\"]}}")
        }
        guard file.hasBold else { bold = [:]; return }
        guard let entities = file.bold else { throw BIDSError("\(path): \"bold\" must be an object of entities") }
        var result: [String: Set<String>] = [:]
        for (name, value) in entities {
            if ["datatype", "suffix", "extension"].contains(name) { continue }  // fMRIPrep's own query keys for the BOLD files
            guard let key = Self.entityKeys[name] else {
                throw BIDSError("\(path): bold.\(name) is not an entity this filter knows; use one of \(Self.entityKeys.keys.sorted().joined(separator: ", "))")
            }
            guard let labels = value.labels else {
                throw BIDSError("\(path): bold.\(name) must be a string, an integer, a list of them, or null")
            }
            result[key] = Set(labels)
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

/// A filter file as read: only its `bold` query matters (other queries are for anatomical files).
private struct FilterFile: Decodable {
    /// Whether the file has a `bold` key.
    let hasBold: Bool
    /// The `bold` query; nil when absent or not an object of entities.
    let bold: [String: EntityQuery]?

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        let key = JSONKey("bold")
        hasBold = container.contains(key)
        bold = hasBold ? try? container.decode([String: EntityQuery].self, forKey: key) : nil
    }
}

/// One entity's query: null (the entity must be absent), a label, or a list of labels; labels
/// are strings or integers (`1` matches `run-01`).
private struct EntityQuery: Decodable {
    /// The accepted labels (empty: absent); nil for a value of another kind.
    let labels: [String]?

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            labels = []
        } else if let list = try? container.decode([EntityLabel].self) {
            labels = list.map(\.text)
        } else {
            labels = (try? container.decode(EntityLabel.self)).map { [$0.text] }
        }
    }
}

private struct EntityLabel: Decodable {
    let text: String

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else if let integer = try? container.decode(Int.self) {
            text = String(integer)
        } else {
            let number = try container.decode(Double.self)
            guard number == number.rounded(), abs(number) < 1e15 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an integer")
            }
            text = String(Int(number))
        }
    }
}

/// Any key of a JSON object.
struct JSONKey: CodingKey {
    let stringValue: String
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

extension BIDSLayout {
    /// Refuses a folder that is not a BIDS dataset: `dataset_description.json` must exist and
    /// be a JSON object with `Name` and `BIDSVersion` (what the BIDS validator checks first).
    public static func requireDataset(_ root: String) throws {
        let path = root + "/dataset_description.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BIDSError("\(root) is not a BIDS dataset: \(path) is missing; point at the dataset's root, or pass `skipBIDSValidation`")
        }
        guard let keys = try? JSONDecoder().decode(ObjectKeys.self, from: data).keys else {
            throw BIDSError("\(path) is not a JSON object; fix the file, or pass `skipBIDSValidation`")
        }
        for field in ["Name", "BIDSVersion"] where !keys.contains(field) {
            throw BIDSError("\(path) has no \(field) (a required field); add it, or pass `skipBIDSValidation`")
        }
    }
}

/// The keys of a JSON object (decoding fails for any other JSON value).
private struct ObjectKeys: Decodable {
    let keys: Set<String>

    init(from decoder: Decoder) throws {
        keys = Set(try decoder.container(keyedBy: JSONKey.self).allKeys.map(\.stringValue))
    }
}
