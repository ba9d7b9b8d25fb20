import Core
import Preprocessing

/// A motor-localiser block design: task blocks of each condition in shuffled order, separated
/// by rest, filling the run.
public enum Paradigm {
    public static func blocks(conditions: [String], duration: Double, blockLength: Double = 12, restLength: Double = 15,
                              random: inout RandomSource) -> [Event] {
        var events: [Event] = []
        var t = restLength / 2
        var order: [String] = []
        while t + blockLength <= duration {
            if order.isEmpty { order = conditions.shuffled(using: &random) }
            events.append(Event(onset: t, duration: blockLength, condition: order.removeFirst()))
            t += blockLength + restLength
        }
        return events
    }

    /// The condition at time t (nil at rest).
    public static func condition(at t: Double, in events: [Event]) -> String? {
        active(at: t, in: events)?.name
    }

    /// The condition at time t and how long (s) its block has been on (nil at rest).
    public static func active(at t: Double, in events: [Event]) -> (name: String, elapsed: Double)? {
        events.first { $0.onset <= t && t < $0.onset + $0.duration }.map { ($0.condition, t - $0.onset) }
    }
}
