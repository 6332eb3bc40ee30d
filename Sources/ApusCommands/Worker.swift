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
    /// Changes since the last save (INFO persistence rdb_changes_since_last_save).
    public var dirty = 0
    /// Lookups that found / did not find their key (INFO keyspace_hits/misses).
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
    private let errorLock = NIOLock()
    private var errorCodes: [String: Int] = [:]

    public init(index: Int, commandCount: Int) {
        self.index = index
        self.commandCount = commandCount
        counters = .allocate(capacity: commandCount)
        counters.initialize(repeating: CommandCounters(), count: commandCount)
    }

    deinit { counters.deallocate() }

    /// Counts an error reply by its code (the first word: ERR, WRONGTYPE, NOAUTH...).
    public func recordError(code: String) {
        totalErrorReplies += 1
        errorLock.withLockVoid { errorCodes[code, default: 0] += 1 }
    }

    public var errorCounts: [String: Int] { errorLock.withLock { errorCodes } }

    public func resetStats() {
        counters.update(repeating: CommandCounters(), count: commandCount)
        commandsProcessed = 0
        netInputBytes = 0
        netOutputBytes = 0
        totalErrorReplies = 0
        keyspaceHits = 0
        keyspaceMisses = 0
        errorLock.withLockVoid { errorCodes = [:] }
    }
}
