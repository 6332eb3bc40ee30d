import ApusStore
import NIOConcurrencyHelpers

/// Per-command counters (INFO commandstats).
public struct CommandCounters: Sendable {
    public var calls = 0
    public var microseconds = 0
    public var rejectedCalls = 0
    public var failedCalls = 0
}

/// Statistics of one event-loop thread. Written only by its own thread (no shared cache lines
/// on the hot path); INFO sums all workers, accepting slightly stale numbers.
public final class Worker: @unchecked Sendable {
    public let index: Int
    public let commandCount: Int
    public let counters: UnsafeMutablePointer<CommandCounters>
    public var commandsProcessed = 0
    public var netInputBytes = 0
    public var netOutputBytes = 0
    public var totalErrorReplies = 0
    /// Set while this thread, held by a busy script, serves its other connections: every
    /// command but the allow-busy ones gets -BUSY then, even if the script ends meanwhile.
    public var servingWhileBusy = false
    /// Changes since the last save (INFO persistence rdb_changes_since_last_save).
    public var dirty = 0
    /// Lookups that found / did not find their key (INFO keyspace_hits/misses).
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
    /// Eviction state of this thread (`Evictor`): its candidate pools (one for maxmemory, one
    /// for the database quota it last enforced), the next database for the random policies, and
    /// the random source for sampling and LFU increments.
    public var evictionPool = EvictionPool()
    public var quotaPool = EvictionPool()
    public var quotaPoolDatabase = -1
    public var nextRandomDatabase = 0
    public var random = FastRandomGenerator()
    private let errorLock = NIOLock()
    private var errorCodes: [String: Int] = [:]

    public init(index: Int, commandCount: Int) {
        self.index = index
        self.commandCount = commandCount
        counters = .allocate(capacity: commandCount)
        counters.initialize(repeating: CommandCounters(), count: commandCount)
        latency = .allocate(capacity: max(commandCount, 1))
        latency.initialize(repeating: nil, count: max(commandCount, 1))
    }

    /// Latency counters per command, allocated on a command's first call (most commands are
    /// never called; a histogram is 24 KiB).
    public let latency: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>

    deinit {
        counters.deallocate()
        for i in 0..<commandCount { latency[i]?.deallocate() }
        latency.deallocate()
    }

    /// Records one call of command `id` that took `nanoseconds`.
    @inlinable
    public func recordLatency(_ id: Int, nanoseconds: Int64) {
        var counts = latency[id]
        if counts == nil {
            let fresh = UnsafeMutablePointer<UInt64>.allocate(capacity: LatencyHistogram.countsLength)
            fresh.initialize(repeating: 0, count: LatencyHistogram.countsLength)
            latency[id] = fresh
            counts = fresh
        }
        counts.unsafelyUnwrapped[LatencyHistogram.index(of: nanoseconds)] &+= 1
    }

    /// A copy of command `id`'s latency counters, or nil if it was never timed here.
    public func latencyCounts(_ id: Int) -> [UInt64]? {
        guard id < commandCount, let counts = latency[id] else { return nil }
        return Array(UnsafeBufferPointer(start: counts, count: LatencyHistogram.countsLength))
    }

    /// Counts an error reply by its code (the first word: ERR, WRONGTYPE, NOAUTH...).
    public func recordError(code: String) {
        totalErrorReplies += 1
        errorLock.withLockVoid { errorCodes[code, default: 0] += 1 }
    }

    public var errorCounts: [String: Int] { errorLock.withLock { errorCodes } }

    public func resetStats() {
        counters.update(repeating: CommandCounters(), count: commandCount)
        for i in 0..<commandCount {
            latency[i]?.deallocate()
            latency[i] = nil
        }
        commandsProcessed = 0
        netInputBytes = 0
        netOutputBytes = 0
        totalErrorReplies = 0
        keyspaceHits = 0
        keyspaceMisses = 0
        errorLock.withLockVoid { errorCodes = [:] }
    }
}
