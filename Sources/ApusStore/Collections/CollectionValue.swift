/// The value of a non-string key: one object per collection, whose encoding (packed or full)
/// can change as it grows without callers caring (Redis's "one object, swappable encodings").
///
/// The entry holds one retained reference (`Entry.allocate(key:object:…)`); the object is
/// mutated in place under the owning shard's lock, so it needs no synchronisation of its own.
public protocol CollectionValue: AnyObject {
    /// The encoding `OBJECT ENCODING` names (`listpack`, `hashtable`, `intset`, ...).
    var encoding: ObjectEncoding { get }
    /// Number of elements (fields, members, list items). A collection with 0 elements is
    /// never left in the keyspace: the command that empties it deletes the key.
    var count: Int { get }
    /// An independent deep copy with the same contents and encoding (COPY). It shares no
    /// buffer with the original (memory accounting counts each object's blocks).
    func duplicate() -> any CollectionValue
    /// Heap bytes the object holds: its own block and every buffer, node and element block it
    /// owns, as malloc sizes them (`heapBlockBytes`). O(1): kept by counters at the allocation
    /// sites, so memory accounting can read it before and after every write.
    var allocatedBytes: Int { get }
}

extension Entry {
    /// The collection object of a non-string entry, if it is of class `T`.
    @inlinable
    public func collection<T: CollectionValue>(_ type: T.Type) -> T? {
        object as? T
    }
}
