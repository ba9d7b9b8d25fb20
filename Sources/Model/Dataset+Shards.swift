extension WindowDataset {
    /// The shard of every run when the runs' subjects are `subjects` (input order): subjects in
    /// sorted order are dealt round-robin to `count` shards, so a subject's runs stay together
    /// and a rank reads only its subjects; with one subject, runs are dealt by position.
    ///
    /// A function of the labels alone, so a rank can tell which runs are its own before it
    /// reads any of them.
    public static func shards(subjects: [String], count: Int) -> [Int] {
        precondition(count >= 1, "at least one shard")
        let distinct = Array(Set(subjects)).sorted()
        guard distinct.count >= 2 else { return subjects.indices.map { $0 % count } }
        let position = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        return subjects.map { (position[$0] ?? 0) % count }
    }

    /// The shard of each of this dataset's runs (`shards(subjects:count:)`).
    public func shards(_ count: Int) -> [Int] { WindowDataset.shards(subjects: runs.map(\.subject), count: count) }

    /// Which rank of `ranks` computes shard `shard`: shards are dealt round-robin to ranks.
    public static func rank(ofShard shard: Int, ranks: Int) -> Int { shard % ranks }
}
