import ApusRESP
import ApusStore

// Key access shared by the collection families (hash, list, set, sorted set).

extension CommandContext {
    /// Looks `key` up for writing like Redis's lookupKeyWrite: lazy expiry and the LRU touch,
    /// without counting keyspace hits or misses; a collection is registered for the shard's
    /// memory accounting. The shard's lock must be held.
    @inlinable
    public mutating func lookupWrite(_ shard: Shard, _ key: UnsafeRawBufferPointer, hash: UInt64) -> Entry? {
        guard let entry = shard.lookup(key, hash: hash, now: now) else { return nil }
        touch(entry)
        // The object may change size: the shard re-reads it when the lock is released.
        if entry.type != .string { shard.noteCollectionWrite(entry) }
        return entry
    }
}

/// What a collection command's lookup found: the value of the expected type, no key, or a key
/// of another type (the command answers WRONGTYPE). One shape for every collection family.
enum CollectionLookup<Value: CollectionValue> {
    case found(Value)
    case missing
    case wrongType

    init(_ entry: Entry?, type: ValueType) {
        guard let entry else {
            self = .missing
            return
        }
        guard entry.type == type, let value = entry.collection(Value.self) else {
            self = .wrongType
            return
        }
        self = .found(value)
    }
}
