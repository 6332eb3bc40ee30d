/// Told when a key appears that blocked clients may be waiting for (BLPOP on a list, BZPOPMIN
/// on a sorted set, ...): Redis's signalKeyAsReady, called where Redis calls it — when a list,
/// sorted set or stream key is added to a database (pushes to an existing non-empty key need
/// no signal: nobody can be blocked on a key that has elements).
///
/// Called with the shard's lock held, so an implementation must be cheap and must not take a
/// shard lock (it records the key; waiters are served after the writing command completes).
public protocol KeyReadySignal: AnyObject, Sendable {
    func keyMayBeReady(database: Int, key: UnsafeRawBufferPointer)
}

extension Keyspace {
    /// Installs the server's blocking registry in every shard (once, at start-up).
    public func installReadySignal(_ signal: any KeyReadySignal) {
        for database in databases {
            for shard in database.shards {
                shard.lock.withLockVoid {
                    shard.databaseIndex = database.index
                    shard.readySignal = signal
                }
            }
        }
    }
}

/// Told about keys the store removes on its own (lazy and active expiry, eviction), for
/// WATCH, keyspace notifications and, later, replication. Called with the shard's lock held
/// and the key still present, so an implementation must be cheap and must not take a shard lock.
public protocol KeyEventSink: AnyObject, Sendable {
    func keyExpiring(database: Int, key: UnsafeRawBufferPointer)
    func keyEvicting(database: Int, key: UnsafeRawBufferPointer)
}

extension Keyspace {
    /// Installs the server's key-event sink in every shard (once, at start-up).
    public func installKeyEventSink(_ sink: any KeyEventSink) {
        for database in databases {
            for shard in database.shards {
                shard.lock.withLockVoid { shard.keyEvents = sink }
            }
        }
    }
}
