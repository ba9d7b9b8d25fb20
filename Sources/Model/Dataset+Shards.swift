extension WindowDataset {
    /// The shard of every run when the runs' group labels are `groups` (input order; subjects,
    /// or sessions for federated sites): labels in sorted order are dealt round-robin to
    /// `count` shards, so a group's runs stay together and a rank reads only its groups; with
    /// one label, runs are dealt by position.
    ///
    /// A function of the labels alone, so a rank can tell which runs are its own before it
    /// reads any of them.
    public static func shards(groups: [String], count: Int) -> [Int] {
        precondition(count >= 1, "at least one shard")
        let distinct = Array(Set(groups)).sorted()
        guard distinct.count >= 2 else { return groups.indices.map { $0 % count } }
        let position = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        return groups.map { (position[$0] ?? 0) % count }
    }

    /// The shard of each of this dataset's runs (`shards(groups:count:)`).
    public func shards(_ count: Int) -> [Int] { WindowDataset.shards(groups: runs.map(\.subject), count: count) }

    /// Which rank of `ranks` computes shard `shard`: shards are dealt round-robin to ranks.
    public static func rank(ofShard shard: Int, ranks: Int) -> Int { shard % ranks }
}
