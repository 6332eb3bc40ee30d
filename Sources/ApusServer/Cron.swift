import ApusCommands
import ApusStore
import Logging
import NIOCore
import Synchronization

/// The periodic background work Redis does in `serverCron` (hz times a second): active expiry
/// and incremental rehashing of every shard.
final class Cron: @unchecked Sendable {
    private let context: ServerContext
    private let eventLoop: any EventLoop
    private let logger: Logger
    private var task: RepeatedTask?
    /// The cron's own eviction pools (each event loop's `Worker` has its own; the cron may run
    /// on any loop's thread, so it does not borrow theirs).
    private let evictionWorker = Worker(index: 0, commandCount: 0)
    /// The second of the last idle-client pass (each client is checked about once a second,
    /// as Redis's clientsCron spreads them over hz calls).
    private var lastTimeoutSecond: Int64 = 0

    init(context: ServerContext, eventLoop: any EventLoop, logger: Logger) {
        self.context = context
        self.eventLoop = eventLoop
        self.logger = logger
    }

    func start() {
        let hz = max(1, min(500, context.config.int("hz")))
        task = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(1), delay: .milliseconds(Int64(1000 / hz))) { [self] _ in
            tick(hz: hz)
        }
    }

    func stop() { task?.cancel() }

    private func tick(hz: Int) {
        let now = currentTimeMillis()
        sharedLRUClock.store(lruClock(nowMillis: now), ordering: .relaxed)
        context.eviction.refreshInitialClock(context.keyspace, nowMillis: now)
        evictIfOverLimits(nowMillis: now)
        if context.settings.activeExpireEnabled {
            context.expireCycle.run(keyspace: context.keyspace, now: now, budgetMicros: 25_000 * 10 / hz)
        }
        // Keys the cron expired or evicted under BCAST tracking prefixes (commands send
        // their own when they complete).
        if context.tracking.broadcastPending.load(ordering: .relaxed) { context.tracking.broadcastPendingKeys() }
        let nanos = monotonicNanos()
        var commands = 0, input = 0, output = 0
        for worker in context.workers {
            commands += worker.commandsProcessed
            input += worker.netInputBytes
            output += worker.netOutputBytes
        }
        context.opsPerSecond.sample(commands, at: nanos)
        context.inputKbps.sample(input, at: nanos)
        context.outputKbps.sample(output, at: nanos)
        context.updatePeakMemory()
        closeIdleClients(nowMillis: now)
        for db in context.keyspace.databases {
            for shard in db.shards {
                shard.lock.withLockVoid { shard.table.rehashStep(slots: 1024) }
            }
        }
    }

    /// Keeps evicting while memory is over `maxmemory` or a database over its quota even when no
    /// command arrives (after CONFIG SET lowered a limit, or when a command's time budget ran
    /// out), like Redis's eviction time event.
    private func evictIfOverLimits(nowMillis: Int64) {
        let eviction = context.eviction
        guard eviction.enabled.load(ordering: .relaxed) else { return }
        _ = eviction.performEvictions(context, worker: evictionWorker, nowMillis: nowMillis)
        for index in context.keyspace.databases.indices {
            _ = eviction.enforceQuota(context, database: index, worker: evictionWorker, nowMillis: nowMillis)
        }
    }

    /// Redis's clientsCronHandleTimeout: with `timeout` N > 0, closes clients whose last
    /// interaction is more than N whole seconds ago (Redis compares unix seconds). Replicas,
    /// masters, blocked and Pub/Sub clients are exempt there; Apus has only normal clients yet.
    private func closeIdleClients(nowMillis: Int64) {
        let maxIdle = Int64(context.config.int("timeout"))
        let second = nowMillis / 1000
        guard maxIdle > 0, second != lastTimeoutSecond else { return }
        lastTimeoutSecond = second
        for client in context.clients.all where second - client.lastInteractionMillis / 1000 > maxIdle {
            logger.info("Closing idle client")
            client.requestClose()
        }
    }
}
