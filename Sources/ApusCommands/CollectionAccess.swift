import ApusRESP
import ApusStore

// Key access shared by the collection families (hash, list, set, sorted set).

extension CommandContext {
    /// Looks `key` up for writing like Redis's lookupKeyWrite: lazy expiry and the LRU touch,
    /// without counting keyspace hits or misses. The shard's lock must be held.
    @inlinable
    public mutating func lookupWrite(_ shard: Shard, _ key: UnsafeRawBufferPointer, hash: UInt64) -> Entry? {
        guard let entry = shard.lookup(key, hash: hash, now: now) else { return nil }
        touch(entry)
        return entry
    }
}
