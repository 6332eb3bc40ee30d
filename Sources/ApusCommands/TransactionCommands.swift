import ApusRESP
import ApusStore
import NIOCore

/// The commands a client queued since MULTI (Redis's multiState).
public final class Transaction {
    struct Queued {
        let command: Unmanaged<Command>
        let arguments: OwnedCommandArguments
    }
    var commands: [Queued] = []
    /// A command was refused while queuing (Redis's CLIENT_DIRTY_EXEC): EXEC fails with EXECABORT.
    public var aborted = false
    /// The union of the queued commands' flags (EXEC is refused for memory when one may grow it).
    var flags: CommandFlags = []

    var count: Int { commands.count }

    func queue(_ command: Unmanaged<Command>, _ args: CommandArguments, flags: CommandFlags) {
        // An aborted transaction keeps nothing (Redis: no sense wasting memory).
        if aborted { return }
        commands.append(Queued(command: command, arguments: OwnedCommandArguments(copying: args)))
        self.flags.formUnion(flags)
        for i in 0..<args.count { memory &+= args[i].count &+ 8 }
    }

    /// What the queue holds as Redis counts it (CLIENT LIST multi-mem): argument bytes plus
    /// one pointer per argument.
    private(set) var memory = 0
}

/// MULTI EXEC DISCARD WATCH UNWATCH.
///
/// EXEC runs the queued commands inside an `ExclusiveSection`: every shard a queued command
/// locks stays locked until the last one has run, so no other client, on any thread, sees a
/// part of the transaction. WATCHed keys' shards are locked first, before their flag is read.
enum TransactionCommands {
    static func register(into registry: CommandRegistry) {
        registry.register("multi", multi)
        registry.register("exec", exec)
        registry.register("discard", discard)
        registry.register("watch", watch)
        registry.register("unwatch", unwatch)
    }

    static func multi(_ c: inout CommandContext) {
        if c.client.transaction != nil { return c.reply.error("ERR MULTI calls can not be nested") }
        c.client.transaction = Transaction()
        c.reply.ok()
    }

    static func discard(_ c: inout CommandContext) {
        guard c.client.transaction != nil else { return c.reply.error("ERR DISCARD without MULTI") }
        discardTransaction(c.client, server: c.server)
        c.reply.ok()
    }

    /// Ends the transaction and drops the client's watches (Redis's discardTransaction).
    static func discardTransaction(_ client: ClientSession, server: ServerContext) {
        client.transaction = nil
        unwatchAll(client, server: server)
    }

    static func unwatchAll(_ client: ClientSession, server: ServerContext) {
        server.watches.unwatchAll(client.watchState)
    }

    static func watch(_ c: inout CommandContext) {
        if c.client.transaction != nil { return c.reply.error("ERR WATCH inside MULTI is not allowed") }
        let state = c.client.watchState
        // No point in watching more once a watched key has changed.
        if state.dirty.load(ordering: .relaxed) { return c.reply.ok() }
        let db = c.db
        let now = c.now
        for i in 1..<c.args.count {
            let key = c.args[i]
            // Registered under the key's shard lock, so a change either precedes the WATCH
            // (and is not a change to it) or follows and flags it.
            db.withShard(for: key) { shard, hash in
                let expired = shard.table.find(key, hash: hash).map { shard.isExpired($0, now: now) } ?? false
                c.server.watches.watch(state, database: db.index, key: key, expired: expired)
            }
        }
        c.reply.ok()
    }

    static func unwatch(_ c: inout CommandContext) {
        unwatchAll(c.client, server: c.server)
        c.reply.ok()
    }

    static func exec(_ c: inout CommandContext) {
        let client = c.client
        guard let transaction = client.transaction else { return c.reply.error("ERR EXEC without MULTI") }
        if transaction.aborted {
            discardTransaction(client, server: c.server)
            return c.reply.error("EXECABORT Transaction discarded because of previous errors.")
        }
        // The client stays in MULTI while its queue runs (CLIENT LIST shows flags=x multi=N,
        // as Redis does); queued commands go straight to `Dispatcher.call`, never queued again.
        defer { client.transaction = nil }
        ExclusiveSection.run {
            if watchedKeyChanged(&c) {
                c.reply.nullArray()
                return
            }
            // Unwatch before running: the transaction's own writes are no change to itself.
            unwatchAll(client, server: c.server)
            let execArgs = c.args
            let execRef = client.lastCommandRef
            c.reply.arrayHeader(transaction.commands.count)
            for queued in transaction.commands {
                c.args = queued.arguments.arguments
                queued.command._withUnsafeGuaranteedRef { command in
                    Dispatcher.call(command, ref: queued.command, client: client, server: c.server,
                                    worker: c.worker, context: &c)
                }
            }
            c.args = execArgs
            client.lastCommandRef = execRef
        }
        unwatchAll(client, server: c.server)
    }

    /// Locks the shard of every watched key (kept until EXEC ends) and reports whether one of
    /// them changed since WATCH, or has expired since (Redis's isWatchedKeyExpired).
    static func watchedKeyChanged(_ c: inout CommandContext) -> Bool {
        let state = c.client.watchState
        guard !state.keys.isEmpty else { return false }
        let now = c.now
        var expired = false
        for (database, key, watch) in state.keys {
            c.server.keyspace.withDatabase(at: database) { db in
                key.withUnsafeBytes { k in
                    db.withShard(for: k) { shard, hash in
                        if !watch.expiredAtWatch, let entry = shard.table.find(k, hash: hash), shard.isExpired(entry, now: now) {
                            expired = true
                        }
                    }
                }
            }
        }
        return expired || state.dirty.load(ordering: .relaxed)
    }
}

