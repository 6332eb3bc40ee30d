import ApusConfig
import ApusRESP
import ApusStore

/// Server commands: CONFIG DBSIZE FLUSHALL FLUSHDB SWAPDB TIME LOLWUT SHUTDOWN SLOWLOG.
/// (INFO lives in InfoCommand.swift, DEBUG in DebugCommands.swift.)
public enum ServerCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("dbsize", dbsize)
        registry.register("flushall", flushall)
        registry.register("flushdb", flushdb)
        registry.register("swapdb", swapdb)
        registry.register("time", time)
        registry.register("lolwut", lolwut)
        registry.register("shutdown", shutdown)
        registry.register("slowlog|get", slowlogGet)
        registry.register("slowlog|len", slowlogLen)
        registry.register("slowlog|reset", slowlogReset)
        registry.register("slowlog|help", slowlogHelp)
        registry.register("config|get", configGet)
        registry.register("config|set", configSet)
        registry.register("config|resetstat", configResetStat)
        registry.register("config|rewrite", configRewrite)
        registry.register("config|help", configHelp)
    }

    static func dbsize(_ c: inout CommandContext) { c.reply.integer(c.db.keyCount) }

    /// FLUSHALL/FLUSHDB [ASYNC|SYNC]: both modes free synchronously for now (no lazy-free
    /// thread yet); the observable result is the same.
    /// FLUSHALL/FLUSHDB [ASYNC|SYNC]: whether to free in the background (no option:
    /// `lazyfree-lazy-user-flush`); nil after replying a syntax error.
    static func parseFlushMode(_ c: inout CommandContext) -> Bool? {
        guard c.args.count <= 2 else {
            c.syntaxError()
            return nil
        }
        if c.args.count == 1 { return c.server.lazyUserFlush.load(ordering: .relaxed) }
        if c.args.isToken(1, "async") { return true }
        if c.args.isToken(1, "sync") { return false }
        c.syntaxError()
        return nil
    }

    static func flushall(_ c: inout CommandContext) {
        guard let lazily = parseFlushMode(&c) else { return }
        var removed = 0
        c.server.tracking.invalidateAll()
        for db in c.server.keyspace.databases {
            removed += db.keyCount
            c.server.watches.touchBeforeFlush(db)
            db.removeAll(lazily: lazily)
        }
        c.addDirty(removed + 1)
        c.reply.ok()
    }

    static func flushdb(_ c: inout CommandContext) {
        guard let lazily = parseFlushMode(&c) else { return }
        let removed = c.db.keyCount
        c.server.watches.touchBeforeFlush(c.db)
        c.server.tracking.invalidateAll()
        c.db.removeAll(lazily: lazily)
        c.addDirty(removed)
        c.reply.ok()
    }

    static func swapdb(_ c: inout CommandContext) {
        guard let first = parseInteger(c.args[1]), first >= Int(Int32.min), first <= Int(Int32.max) else {
            return c.reply.error("ERR invalid first DB index")
        }
        guard let second = parseInteger(c.args[2]), second >= Int(Int32.min), second <= Int(Int32.max) else {
            return c.reply.error("ERR invalid second DB index")
        }
        let databases = c.server.keyspace.databases
        guard first >= 0, first < databases.count, second >= 0, second < databases.count else {
            return c.reply.error("ERR DB index is out of range")
        }
        if first != second {
            // Lock every shard of both databases, lower database first (the global lock order).
            let a = databases[min(first, second)]
            let b = databases[max(first, second)]
            c.server.keyspace.lockShards(a, a.allShards, b, b.allShards)
            c.server.watches.touchBeforeSwap(a, b, now: c.now)
            for (x, y) in zip(a.shards, b.shards) { x.swapContents(with: y) }
            swap(&a.averageTTL, &b.averageTTL)
            b.unlockShards(b.allShards)
            a.unlockShards(a.allShards)
            // Clients blocked on a key of either database may now find it (Redis 7.2 swapdb).
            c.server.blocking.signalAllWaiting(in: [first, second])
            c.addDirty(1)
        }
        c.reply.ok()
    }

    static func time(_ c: inout CommandContext) {
        let micros = currentTimeMicros()
        c.reply.arrayHeader(2)
        c.reply.bulkDecimal(Int(micros / 1_000_000))
        c.reply.bulkDecimal(Int(micros % 1_000_000))
    }

    /// LOLWUT [VERSION v] [...]: the drawings live in LolwutCommand.swift.
    static func lolwut(_ c: inout CommandContext) { Lolwut.command(&c) }

    static func shutdown(_ c: inout CommandContext) {
        var save: Bool?
        var now = false
        var force = false
        var abort = false
        for i in 1..<c.args.count {
            if c.args.isToken(i, "nosave") { save = false }
            else if c.args.isToken(i, "save") { save = true }
            else if c.args.isToken(i, "now") { now = true }
            else if c.args.isToken(i, "force") { force = true }
            else if c.args.isToken(i, "abort") { abort = true }
            else { return c.syntaxError() }
        }
        if abort {
            guard c.args.count == 2 else { return c.syntaxError() }
            return c.reply.error("ERR No shutdown in progress.")
        }
        // Without SAVE/NOSAVE Redis saves when save points are configured; Apus has no RDB writer
        // yet, so that implicit save is skipped (logged by the server), an explicit SAVE fails.
        guard let control = c.server.control else { return c.reply.error("ERR Errors trying to SHUTDOWN. Check logs.") }
        // During a busy script only SHUTDOWN NOSAVE goes through, and it stops the script
        // even if it wrote (nothing of it is saved: the process ends).
        if c.server.scriptIsBusy {
            guard save == false else { return c.reply.error(ScriptingCommands.busyMessage) }
            ScriptingState.existing(c.server)?.forceKill()
        }
        if let message = control.shutdown(save: save, now: now, force: force) {
            c.reply.error(message)
        } else {
            // Redis closes the connection without a reply once shutdown succeeds.
            c.client.closeAfterReply = true
        }
    }

    // MARK: SLOWLOG

    static func slowlogGet(_ c: inout CommandContext) {
        var count = 10
        if c.args.count == 3 {
            guard let n = parseInteger(c.args[2]), n >= -1 else {
                return c.reply.error("ERR count should be greater than or equal to -1")
            }
            count = n == -1 ? Int.max : n
        } else if c.args.count > 3 {
            return c.subcommandSyntaxError()
        }
        let records = c.server.slowlog.get(count: count)
        c.reply.arrayHeader(records.count)
        for record in records {
            c.reply.arrayHeader(6)
            c.reply.integer(record.id)
            c.reply.integer(record.timestamp)
            c.reply.integer(record.microseconds)
            c.reply.arrayHeader(record.arguments.count)
            for arg in record.arguments { c.reply.bulk(arg) }
            c.reply.bulk(record.clientAddress)
            c.reply.bulk(record.clientName)
        }
    }

    static func slowlogLen(_ c: inout CommandContext) { c.reply.integer(c.server.slowlog.count) }

    static func slowlogReset(_ c: inout CommandContext) {
        c.server.slowlog.reset()
        c.reply.ok()
    }

    static func slowlogHelp(_ c: inout CommandContext) {
        c.replyHelp("SLOWLOG", [
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ])
    }

    // MARK: CONFIG

    static func configGet(_ c: inout CommandContext) {
        var patterns: [String] = []
        for i in 2..<c.args.count { patterns.append(c.string(i)) }
        let pairs = c.server.config.get(patterns: patterns)
        c.reply.mapHeader(pairs.count)
        for (name, value) in pairs {
            c.reply.bulk(name)
            c.reply.bulk(value)
        }
    }

    static func configSet(_ c: inout CommandContext) {
        guard c.args.count % 2 == 0 else { return c.syntaxError() }
        var pairs: [(name: String, value: String)] = []
        var i = 2
        while i < c.args.count {
            pairs.append((c.string(i), c.string(i + 1)))
            i += 2
        }
        do {
            try c.server.config.set(pairs)
            c.server.refreshSettings()
            c.reply.ok()
        } catch {
            c.reply.error(error.message)
        }
    }

    static func configResetStat(_ c: inout CommandContext) {
        for worker in c.server.workers { worker.resetStats() }
        c.server.slowlog.reset()
        c.server.opsPerSecond.reset()
        c.server.inputKbps.reset()
        c.server.outputKbps.reset()
        c.server.peakMemory.store(0, ordering: .relaxed)
        c.server.updatePeakMemory()
        for db in c.server.keyspace.databases { for shard in db.shards { shard.lock.withLockVoid { shard.expiredKeys = 0; shard.evictedKeys = 0 } } }
        c.server.statsResetMillis = currentTimeMillis()
        c.server.lazyfreedAtReset = LazyFree.shared.freed.load(ordering: .relaxed)
        c.server.clientMemory.resetStats()
        c.server.eviction.resetStats()
        c.reply.ok()
    }

    static func configRewrite(_ c: inout CommandContext) {
        do {
            try c.server.config.rewrite()
            c.reply.ok()
        } catch {
            c.reply.error(error.message)
        }
    }

    static func configHelp(_ c: inout CommandContext) {
        c.replyHelp("CONFIG", [
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ])
    }
}
