import Dispatch
import Synchronization

/// Redis's lazy freeing: a value with many elements (or a whole flushed table) is unlinked
/// from the keyspace at once and freed on a background queue, so UNLINK / FLUSHALL ASYNC /
/// the `lazyfree-lazy-*` paths do not stall the event loop for the time a big free takes.
///
/// Only whole values leave the keyspace this way: nothing else references them, so the
/// background free touches no shared state (malloc is thread-safe).
public final class LazyFree: @unchecked Sendable {
    public static let shared = LazyFree()

    /// LAZYFREE_THRESHOLD: values whose free effort (elements, quicklist nodes) is at most
    /// this are freed at once, as the bookkeeping would cost more than the free.
    public static let effortThreshold = 64

    private let queue = DispatchQueue(label: "apus.lazyfree")
    /// Objects waiting to be freed / freed so far (INFO lazyfree_pending_objects, lazyfreed_objects).
    public let pending = Atomic<Int>(0)
    public let freed = Atomic<Int>(0)

    /// The `lazyfree-lazy-*` settings the store itself acts on (set from the config):
    /// expiry, and deletions the server makes as side effects (overwrites, RENAME, STORE).
    public let lazyExpire = Atomic<Bool>(false)
    public let lazyServerDel = Atomic<Bool>(false)

    /// Whether `entry`'s value is worth freeing in the background (lazyfreeGetFreeEffort).
    @inlinable
    public static func isBig(_ entry: Entry) -> Bool {
        guard entry.type != .string, let value = entry.object as? any CollectionValue else { return false }
        return value.freeEffort > effortThreshold
    }

    /// Frees an entry (already out of its table) in the background.
    public func free(_ entry: Entry) {
        pending.add(1, ordering: .relaxed)
        let box = DetachedEntry(entry)
        queue.async { [self] in
            box.entry.releaseObject()
            box.entry.deallocate()
            pending.subtract(1, ordering: .relaxed)
            freed.add(1, ordering: .relaxed)
        }
    }

    /// Frees every entry of a detached table in the background (FLUSHALL/FLUSHDB ASYNC).
    public func free(_ table: consuming KeyTable) {
        let box = DetachedTable(table)
        let count = box.count
        guard count > 0 else { return }
        pending.add(count, ordering: .relaxed)
        queue.async { [self] in
            box.freeAll()
            pending.subtract(count, ordering: .relaxed)
            freed.add(count, ordering: .relaxed)
        }
    }

    /// Waits until everything queued so far is freed (tests, DEBUG, shutdown).
    public func drain() {
        queue.sync {}
    }
}

private struct DetachedEntry: @unchecked Sendable {
    let entry: Entry
    init(_ entry: Entry) { self.entry = entry }
}

private final class DetachedTable: @unchecked Sendable {
    var table: KeyTable
    init(_ table: consuming KeyTable) { self.table = table }
    var count: Int { table.count }
    func freeAll() {
        table.removeAll { entry in
            entry.releaseObject()
            entry.deallocate()
        }
    }
}

extension CollectionValue {
    /// How much work freeing this value is (Redis's lazyfreeGetFreeEffort): one allocation
    /// for a packed encoding, else about one per element.
    public var freeEffort: Int {
        switch encoding {
        case .listpack, .intset: return 1
        default: return count
        }
    }
}
