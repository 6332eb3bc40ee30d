// Shard Ops shared by the collection types: creating a collection key and removing it when a
// command empties it (Redis never keeps an empty hash, list, set or sorted set).

extension Shard {
    /// Adds a key whose value is `value` (the key must not be present); returns its entry.
    @inlinable
    @discardableResult
    public func insertCollection(_ key: UnsafeRawBufferPointer, _ value: any CollectionValue, type: ValueType,
                                 hash: UInt64) -> Entry {
        let entry = Entry.allocate(key: key, object: value, type: type, encoding: 0, expireAt: nil)
        insert(entry, hash: hash)
        return entry
    }

    /// Deletes `entry`'s key if its collection has no elements left; returns whether it did.
    @inlinable
    @discardableResult
    public func deleteIfEmpty(_ entry: Entry, hash: UInt64) -> Bool {
        guard Shard.elementCount(entry) == 0 else { return false }
        return delete(entry.key, hash: hash)
    }

    /// Elements of a collection entry (1 for a string). Each type has one final class, so
    /// a downcast by type replaces a protocol cast on the write path of every pop.
    @inlinable
    static func elementCount(_ entry: Entry) -> Int {
        switch entry.type {
        case .string: return 1
        case .list: return unsafeDowncast(entry.object, to: ListObject.self).count
        case .set: return unsafeDowncast(entry.object, to: SetObject.self).count
        case .zset: return unsafeDowncast(entry.object, to: ZSetObject.self).count
        case .hash: return unsafeDowncast(entry.object, to: HashObject.self).count
        default: return (entry.object as? any CollectionValue)?.count ?? 1
        }
    }
}
