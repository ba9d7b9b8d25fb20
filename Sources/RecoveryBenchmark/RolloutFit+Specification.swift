import Model

extension RolloutFit.Options {
    /// Options from a benchmark method name: `rollout-wells`, then settings after '+':
    /// `components=4:6:8` (mixture sizes, one start each), `padding=first-state|zeros`,
    /// `damping=D` (largest Levenberg-Marquardt damping; 0 for the fourteenth round's 12 raises),
    /// `inputs=grid|held`, `runs=all-but-test|training`, `round=14` (the fourteenth round's settings,
    /// the others applied after it). Nil when the name is not a rollout fit.
    public init?(specification: String) throws {
        var parts = specification.split(separator: "+").map(String.init)
        guard parts.first == RolloutFit.methodName else { return nil }
        parts.removeFirst()
        self = parts.contains("round=14") ? .fourteenthRound : RolloutFit.Options()
        for part in parts where part != "round=14" {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw TrainingError("\(specification): setting '\(part)' needs KEY=VALUE") }
            let (key, value) = (pair[0], pair[1])
            func bad(_ expected: String) -> TrainingError {
                TrainingError("\(specification): \(key)=\(value) is not valid; expected \(expected)")
            }
            switch key {
            case "components":
                let sizes = value.split(separator: ":").compactMap { Int($0) }
                guard !sizes.isEmpty, sizes.count == value.split(separator: ":").count, sizes.allSatisfy({ $0 >= 1 }) else {
                    throw bad("mixture sizes such as 4:6:8")
                }
                components = sizes
            case "padding":
                guard let choice = RolloutFit.Padding(rawValue: value) else { throw bad("zeros or first-state") }
                padding = choice
            case "damping":
                guard let number = Double(value), number >= 0 else { throw bad("a damping >= 0") }
                largestDamping = number
            case "inputs":
                guard value == "grid" || value == "held" else { throw bad("grid or held") }
                gridInputs = value == "grid"
            case "runs":
                guard value == "all-but-test" || value == "training" else { throw bad("all-but-test or training") }
                fitsValidationRuns = value == "all-but-test"
            default:
                throw TrainingError("\(specification): unknown setting '\(key)'; known: components, padding, damping, inputs, runs, round")
            }
        }
    }
}
