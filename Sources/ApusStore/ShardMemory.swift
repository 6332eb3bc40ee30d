import Synchronization

// Dataset byte accounting of a shard: entry blocks, collection objects and table slots, with
// the volatile (TTL) part kept apart for the volatile-* eviction policies and the headroom figures.
//
// Strings change size only through Shard Ops, which adjust the counters directly. A collection
// changes size inside its object, out of the shard's sight; instead of asking every command to
// report sizes, writes register the entry (`noteCollectionWrite`, done by the command layer's
// write lookup and by `insert`) and the object's size is re-read once when the lock is released.
// Each collection entry records the size it was last counted with, so a missed write makes the
// figure stale until the next write, never wrong forever.

extension Shard {
    /// Registers a collection entry that the current lock holder may grow or shrink.
    @inlinable
    public func noteCollectionWrite(_ entry: Entry) {
        for written in writtenCollections where written.pointer == entry.pointer { return }
        writtenCollections.append(entry)
    }

    /// Re-reads the sizes of the collections written under this lock hold (call with the lock held,
    /// before releasing it; the lock helpers of `Database` do).
    @inlinable
    public func syncCollectionBytes() {
        if writtenCollections.isEmpty { return }
        syncWrittenCollections()
    }

    @usableFromInline
    func syncWrittenCollections() {
        for entry in writtenCollections {
            let now = Shard.collectionBytes(entry)
            let delta = now &- entry.syncedObjectBytes
            guard delta != 0 else { continue }
            entry.syncedObjectBytes = now
            objectBytes &+= delta
            if entry.hasExpire { volatileBytes &+= delta }
        }
        writtenCollections.removeAll(keepingCapacity: true)
        publishBytes()
    }

    /// Counts an entry entering the table: its block, its object at the current size (which the
    /// entry records, and re-read after this lock hold: a new collection is usually filled right
    /// after insertion), its TTL. The mirror of `forgetBytes`.
    @inlinable
    func countBytes(_ entry: Entry) {
        var bytes = entry.allocatedSize
        entryBytes &+= bytes
        if entry.type != .string {
            let object = Shard.collectionBytes(entry)
            entry.syncedObjectBytes = object
            objectBytes &+= object
            bytes &+= object
            noteCollectionWrite(entry)
        }
        if entry.hasExpire {
            expiresCount &+= 1
            volatileBytes &+= bytes
        }
    }

    /// Uncounts an entry leaving the table (its object at the size it was counted with).
    @inlinable
    func forgetBytes(_ entry: Entry) {
        var bytes = entry.allocatedSize
        entryBytes &-= bytes
        if entry.type != .string {
            let object = entry.syncedObjectBytes
            objectBytes &-= object
            bytes &+= object
        }
        if entry.hasExpire {
            expiresCount &-= 1
            volatileBytes &-= bytes
        }
    }

    /// Stores the totals for lock-free readers, and tells the database when this shard turns
    /// empty or non-empty (of keys, of keys with a TTL).
    @inlinable
    public func publishBytes() {
        publishedBytes.store(entryBytes &+ objectBytes &+ table.heapBytes, ordering: .relaxed)
        publishedVolatileBytes.store(volatileBytes, ordering: .relaxed)
        let occupied = table.count > 0
        if occupied != countedOccupied {
            countedOccupied = occupied
            occupancy.shards.add(occupied ? 1 : -1, ordering: .relaxed)
        }
        let volatile = expiresCount > 0
        if volatile != countedVolatile {
            countedVolatile = volatile
            occupancy.volatileShards.add(volatile ? 1 : -1, ordering: .relaxed)
        }
    }

    /// Dataset bytes of this shard: entries, objects and the table's slot arrays.
    public var datasetBytes: Int { entryBytes &+ objectBytes &+ table.heapBytes }

    /// Heap bytes of a collection entry's object (0 for strings). Each type has one final
    /// class, so a downcast by type avoids a protocol cast.
    @inlinable
    public static func collectionBytes(_ entry: Entry) -> Int {
        switch entry.type {
        case .string: return 0
        case .list: return unsafeDowncast(entry.object, to: ListObject.self).allocatedBytes
        case .set: return unsafeDowncast(entry.object, to: SetObject.self).allocatedBytes
        case .zset: return unsafeDowncast(entry.object, to: ZSetObject.self).allocatedBytes
        case .hash: return unsafeDowncast(entry.object, to: HashObject.self).allocatedBytes
        default: return (entry.object as? any CollectionValue)?.allocatedBytes ?? 0
        }
    }
}

/// How many shards of a database hold keys, and keys with a TTL: eviction skips databases
/// with nothing to evict without visiting their shards.
public final class Occupancy: Sendable {
    public let shards = Atomic<Int>(0)
    public let volatileShards = Atomic<Int>(0)
    public init() {}
}

extension Database {
    /// Dataset bytes of every shard, from the published figures (no locks; a racing writer
    /// makes it a moment stale, never torn).
    public var datasetBytes: Int {
        var total = 0
        for i in 0..<shards.count { total &+= shardRefs[i]._withUnsafeGuaranteedRef { $0.publishedBytes.load(ordering: .relaxed) } }
        return total
    }

    /// The part of `datasetBytes` held by keys with a TTL.
    public var volatileBytes: Int {
        var total = 0
        for i in 0..<shards.count { total &+= shardRefs[i]._withUnsafeGuaranteedRef { $0.publishedVolatileBytes.load(ordering: .relaxed) } }
        return total
    }
}
