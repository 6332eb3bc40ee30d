import ApusRESP
import ApusStore
import NIOConcurrencyHelpers
import Synchronization

/// One client's WATCH: its keys and whether one of them changed (Redis's CLIENT_DIRTY_CAS).
/// `keys` belongs to the client's loop; `dirty` is set by whichever thread changes a key.
public final class WatchState: @unchecked Sendable {
    public let dirty = Atomic<Bool>(false)
    var keys: [(database: Int, key: Bytes, watch: WatchRegistry.Watch)] = []
}

/// WATCH bookkeeping: which clients watch which keys, and flagging them when a key changes
/// (Redis's touchWatchedKey / touchAllWatchedKeysInDb).
///
/// Writers call `touch` with the key's shard lock held, and EXEC checks its flag with the
/// shards of its watched keys locked, so a change either lands before the check or waits
/// until the transaction is over. Lock order: shard locks → this registry's lock (it never
/// takes a shard lock itself).
public final class WatchRegistry: @unchecked Sendable {
    struct Key: Hashable {
        let database: Int
        let key: Bytes
    }

    /// One client watching one key.
    final class Watch {
        unowned let state: WatchState
        /// The key was already logically expired when WATCHed (Redis's watchedKey.expired):
        /// its deletion by expiry is then no change.
        var expiredAtWatch: Bool
        init(state: WatchState, expiredAtWatch: Bool) {
            self.state = state
            self.expiredAtWatch = expiredAtWatch
        }
    }

    private let lock = NIOLock()
    private var watchers: [Key: [Watch]] = [:]
    /// Keys someone watches: writers skip everything while it is 0.
    @usableFromInline let watchedKeys = Atomic<Int>(0)

    public init() {}

    @inlinable
    public var isActive: Bool { watchedKeys.load(ordering: .relaxed) > 0 }

    /// Number of watched keys (INFO watching_clients is per client; this is per key).
    public var watchedKeyCount: Int { watchedKeys.load(ordering: .relaxed) }

    // MARK: Watching (the client's own loop)

    /// Adds `key` of `database` to `state` unless it is already there.
    func watch(_ state: WatchState, database: Int, key: UnsafeRawBufferPointer, expired: Bool) {
        if state.keys.contains(where: { $0.database == database && $0.key.withUnsafeBytes { $0.bytesEqual(key) } }) {
            return
        }
        let owned = Bytes(key)
        let watch = Watch(state: state, expiredAtWatch: expired)
        lock.withLockVoid {
            let k = Key(database: database, key: owned)
            if watchers[k] == nil {
                watchers[k] = [watch]
                watchedKeys.add(1, ordering: .relaxed)
            } else {
                watchers[k]!.append(watch)
            }
        }
        state.keys.append((database, owned, watch))
    }

    /// Forgets every key of `state` and clears its flag (UNWATCH, EXEC, DISCARD, disconnect).
    public func unwatchAll(_ state: WatchState) {
        if !state.keys.isEmpty {
            lock.withLockVoid {
                for (database, key, watch) in state.keys {
                    let k = Key(database: database, key: key)
                    guard var list = watchers[k] else { continue }
                    list.removeAll { $0 === watch }
                    if list.isEmpty {
                        watchers[k] = nil
                        watchedKeys.subtract(1, ordering: .relaxed)
                    } else {
                        watchers[k] = list
                    }
                }
            }
            state.keys.removeAll()
        }
        state.dirty.store(false, ordering: .relaxed)
    }

    // MARK: Changes (the key's shard lock held)

    /// `key` of `database` was modified. `exists` tells whether the key is present (expired
    /// or not) after the change; it is asked only for keys watched while already expired.
    public func touch(database: Int, key: UnsafeRawBufferPointer, exists: () -> Bool) {
        lock.withLockVoid {
            guard let list = watchers[Key(database: database, key: Bytes(key))] else { return }
            var present: Bool?
            for watch in list {
                if watch.expiredAtWatch {
                    if present == nil { present = exists() }
                    // An expired key that is now gone: logically nothing changed.
                    if present == false {
                        watch.expiredAtWatch = false
                        continue
                    }
                }
                watch.state.dirty.store(true, ordering: .relaxed)
            }
        }
    }

    /// The keys of `database` someone watches (FLUSHDB, SWAPDB).
    func watchedKeys(in database: Int) -> [Bytes] {
        lock.withLock { watchers.keys.filter { $0.database == database }.map(\.key) }
    }

    /// What a watched key is before and after FLUSHDB / SWAPDB replaces a database's contents.
    struct Replacement {
        var existedBefore: Bool
        var existsAfter = false
        var expiredAfter = false
    }

    /// FLUSHDB / FLUSHALL / SWAPDB replaced the contents of `database` (Redis's
    /// touchAllWatchedKeysInDb): `states` says, per watched key, whether it existed before and
    /// exists (expired or not) after. Computed by the caller with the shards locked, since
    /// this registry's lock comes after shard locks.
    func touchAll(database: Int, _ states: [Bytes: Replacement]) {
        lock.withLockVoid {
            for (key, state) in states where state.existedBefore || state.existsAfter {
                guard let list = watchers[Key(database: database, key: key)] else { continue }
                for watch in list {
                    if watch.expiredAtWatch {
                        if !state.existsAfter {
                            // An expired key that is now gone: no logical change.
                            watch.expiredAtWatch = false
                            continue
                        } else if state.expiredAfter {
                            continue
                        }
                    } else if !state.existedBefore && state.expiredAfter {
                        // A missing key replaced by an expired one: still logically missing.
                        watch.expiredAtWatch = true
                        continue
                    }
                    watch.state.dirty.store(true, ordering: .relaxed)
                }
            }
        }
    }

    /// FLUSHDB / FLUSHALL: touches the watched keys of `db` that exist, before it is emptied.
    func touchBeforeFlush(_ db: Database) {
        guard isActive else { return }
        var states: [Bytes: Replacement] = [:]
        for key in watchedKeys(in: db.index) {
            let existed = key.withUnsafeBytes { k in
                db.withShard(for: k) { shard, hash in shard.table.find(k, hash: hash) != nil }
            }
            states[key] = Replacement(existedBefore: existed)
        }
        touchAll(database: db.index, states)
    }

    /// SWAPDB: `a`'s contents become `b`'s and the other way round. Every shard of both is
    /// locked by the caller.
    func touchBeforeSwap(_ a: Database, _ b: Database, now: Int64) {
        guard isActive else { return }
        func find(_ db: Database, _ key: Bytes) -> Entry? {
            key.withUnsafeBytes { k in
                let hash = keyHash(k)
                return db.shard(hash: hash).table.find(k, hash: hash)
            }
        }
        for (emptied, filler) in [(a, b), (b, a)] {
            var states: [Bytes: Replacement] = [:]
            for key in watchedKeys(in: emptied.index) {
                let after = find(filler, key)
                states[key] = Replacement(existedBefore: find(emptied, key) != nil, existsAfter: after != nil,
                                          expiredAfter: after.map { ($0.expireAt ?? Int64.max) <= now } ?? false)
            }
            touchAll(database: emptied.index, states)
        }
    }
}

/// The server's `KeyEventSink`: keys the store expires or evicts touch WATCH and invalidate
/// cached copies (Redis's deleteExpiredKeyAndPropagate and performEvictions signal the key
/// as modified).
final class StoreKeyEvents: KeyEventSink, @unchecked Sendable {
    let watches: WatchRegistry
    let tracking: TrackingRegistry

    init(watches: WatchRegistry, tracking: TrackingRegistry) {
        self.watches = watches
        self.tracking = tracking
    }

    /// Keyspace notifications of expiry and eviction (set once at start-up).
    var notifications: (notifier: KeyspaceNotifier, pubsub: PubSubRegistry)?

    func keyExpiring(database: Int, key: UnsafeRawBufferPointer) {
        removed(database: database, key: key)
        if let (notifier, pubsub) = notifications { notifier.notify(.expired, "expired", key, database: database, pubsub: pubsub) }
    }

    func keyEvicting(database: Int, key: UnsafeRawBufferPointer) {
        removed(database: database, key: key)
        if let (notifier, pubsub) = notifications { notifier.notify(.evicted, "evicted", key, database: database, pubsub: pubsub) }
    }

    private func removed(database: Int, key: UnsafeRawBufferPointer) {
        if watches.isActive { watches.touch(database: database, key: key) { false } }
        if tracking.isActive { tracking.invalidate(key, by: nil) }
    }
}
