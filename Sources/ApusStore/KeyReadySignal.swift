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
