import ApusConfig
import ApusRESP
import ApusStore
import CSystemShims
import NIOConcurrencyHelpers
import Synchronization

/// What commands may ask of the networking layer (implemented by ApusServer).
public protocol ServerControl: AnyObject, Sendable {
    /// SHUTDOWN: stop the server (after an optional save); returns an error message to reply
    /// with if it refuses.
    func shutdown(save: Bool?, now: Bool, force: Bool) -> String?
}

/// Settings read on every command, cached from the config registry (which is locked and
/// string-keyed) and refreshed by its change hooks.
public struct HotSettings: Sendable {
    public var requirePass: Bytes?
    public var slowlogThresholdMicros = 10_000
    public var slowlogMaxLength = 128
    public var enableDebugCommand = false
    public var enableProtectedConfigs = false
    /// DEBUG SET-ACTIVE-EXPIRE 0 turns the active expire cycle off (Redis's tests use it).
    public var activeExpireEnabled = true
    /// DEBUG SET-DISABLE-DENY-SCRIPTS 1 lets scripts call no-script commands (Redis's tests).
    public var scriptsMayCallDeniedCommands = false

    public init() {}
}

/// The server-wide state commands work on.
public final class ServerContext: @unchecked Sendable {
    public let keyspace: Keyspace
    public let config: ConfigRegistry
    public let commands: CommandRegistry
    public let clients = ClientRegistry()
    /// Clients blocked on keys (BLPOP, BZPOPMIN, ...).
    public let blocking = BlockingRegistry()
    /// Pub/Sub channels, patterns and shard channels with their subscribers.
    public let pubsub = PubSubRegistry()
    /// Keyspace notifications (`notify-keyspace-events`), published through `pubsub`.
    public let notifier = KeyspaceNotifier()
    /// WATCHed keys and the clients watching them.
    public let watches = WatchRegistry()
    /// Client-side caching: who cached which keys (CLIENT TRACKING).
    public let tracking: TrackingRegistry
    /// Hears about keys the store expires on its own (WATCH; notifications hook in here).
    let keyEvents: StoreKeyEvents
    public let slowlog = SlowLog()
    public let expireCycle = ActiveExpireCycle()
    /// maxmemory and per-database quota enforcement (eviction).
    public let eviction: Evictor
    /// Samples behind INFO's instantaneous_* figures (filled by the cron).
    public let opsPerSecond = InstantaneousMetric()
    public let inputKbps = InstantaneousMetric()
    public let outputKbps = InstantaneousMetric()
    /// Highest heap size seen (INFO used_memory_peak), updated by the cron and by INFO.
    public let peakMemory = Atomic<Int>(0)
    /// Heap bytes right after start-up (INFO used_memory_startup).
    public var startupMemory = 0
    /// When the statistics were last reset (CONFIG RESETSTAT).
    public var statsResetMillis = currentTimeMillis()
    /// `lazyfreed_objects` counts from here (CONFIG RESETSTAT).
    public var lazyfreedAtReset = 0
    /// `lazyfree-lazy-user-del` (DEL behaves like UNLINK) and `lazyfree-lazy-user-flush`
    /// (FLUSHALL/FLUSHDB without SYNC or ASYNC free in the background).
    public let lazyUserDel = Atomic<Bool>(false)
    public let lazyUserFlush = Atomic<Bool>(false)
    public private(set) var workers: [Worker] = []
    /// Client buffer memory per event loop (query and output buffers, CLIENT LIST tot-mem).
    public let clientMemory: ClientMemoryTotals
    /// Bytes held by client buffers, server-wide, read without locks. Not dataset memory:
    /// `maxmemory` eviction leaves it out (client buffers are bounded by
    /// `client-output-buffer-limit`, `client-query-buffer-limit` and `maxmemory-clients`).
    public var clientBuffersMemory: Int { clientMemory.total }
    public weak var control: (any ServerControl)?
    /// The Lua interpreter, script cache and running script (`ScriptingState`), made with the
    /// context so EVAL finds it without a lock.
    private(set) var scripting: ScriptingState!
    /// The functions' interpreter and libraries (`FunctionsState`).
    private(set) var functions: FunctionsState!
    public let startTimeMillis = currentTimeMillis()
    public let runID: String
    public var tcpPort = 6379

    /// Read on every command: atomics (relaxed loads are plain moves on x86).
    public let slowlogThresholdMicros = Atomic<Int>(10_000)
    /// `latency-tracking`: record per-command latency histograms (INFO latencystats).
    public let latencyTracking = Atomic<Bool>(true)

    private let settingsLock = NIOLock()
    private var _settings = HotSettings()
    private var _collectionLimits = CollectionLimits()

    /// The packed-encoding thresholds (a copy of plain integers, read under a short lock).
    public var collectionLimits: CollectionLimits {
        settingsLock.withLock { _collectionLimits }
    }

    /// The cached hot settings (a copy; cheap, read under a short lock).
    public var settings: HotSettings {
        get { settingsLock.withLock { _settings } }
        set { settingsLock.withLockVoid { _settings = newValue } }
    }

    /// `reserveLoops`: event loops beyond `threads` that take connections only while every
    /// other loop is held by a busy script (they get workers, but do not size the keyspace).
    public init(config: ConfigRegistry, specs: [CommandSpec], threads: Int, reserveLoops: Int = 0) {
        self.config = config
        clientMemory = ClientMemoryTotals(loops: threads + reserveLoops)
        let databases = max(1, config.int("databases"))
        keyspace = Keyspace(databaseCount: databases, shardsPerDatabase: Keyspace.shardCount(forThreads: threads))
        eviction = Evictor(databases: databases)
        commands = CommandRegistry(specs: specs)
        keyspace.installReadySignal(blocking)
        tracking = TrackingRegistry(clients: clients)
        keyEvents = StoreKeyEvents(watches: watches, tracking: tracking)
        keyspace.installKeyEventSink(keyEvents)
        keyEvents.notifications = (notifier, pubsub)
        var id = ""
        let hex: [Character] = Array("0123456789abcdef")
        for _ in 0..<40 { id.append(hex[Int.random(in: 0..<16)]) }
        runID = id
        workers = (0..<max(1, threads + reserveLoops)).map { Worker(index: $0, commandCount: 0) }
        scripting = ScriptingState(server: self)
        functions = FunctionsState(server: self)
    }

    /// Creates the per-thread statistics once every family has registered (the command count is final).
    public func makeWorkers(count: Int) {
        workers = (0..<max(1, count)).map { Worker(index: $0, commandCount: commands.all.count) }
    }

    /// Notes the heap the server holds before any data (INFO used_memory_startup).
    public func recordStartupMemory() {
        startupMemory = Int(apus_used_memory())
    }

    /// Re-reads the hot settings from the registry (after load and on every change).
    public func refreshSettings() {
        var s = HotSettings()
        s.activeExpireEnabled = settings.activeExpireEnabled
        s.scriptsMayCallDeniedCommands = settings.scriptsMayCallDeniedCommands
        let pass = config.string("requirepass")
        s.requirePass = pass.isEmpty ? nil : Bytes(pass)
        s.slowlogThresholdMicros = config.int("slowlog-log-slower-than")
        s.slowlogMaxLength = config.int("slowlog-max-len")
        let debug = config.string("enable-debug-command")
        s.enableDebugCommand = debug == "yes" || debug == "local"
        let protected = config.string("enable-protected-configs")
        s.enableProtectedConfigs = protected == "yes" || protected == "local"
        settings = s
        var limits = CollectionLimits()
        limits.hashMaxListpackEntries = config.int("hash-max-listpack-entries")
        limits.hashMaxListpackValue = config.int("hash-max-listpack-value")
        limits.setMaxIntsetEntries = config.int("set-max-intset-entries")
        limits.setMaxListpackEntries = config.int("set-max-listpack-entries")
        limits.setMaxListpackValue = config.int("set-max-listpack-value")
        limits.zsetMaxListpackEntries = config.int("zset-max-listpack-entries")
        limits.zsetMaxListpackValue = config.int("zset-max-listpack-value")
        limits.listMaxListpackSize = config.int("list-max-listpack-size")
        limits.listCompressDepth = config.int("list-compress-depth")
        settingsLock.withLockVoid { _collectionLimits = limits }
        lazyUserDel.store(config.string("lazyfree-lazy-user-del") == "yes", ordering: .relaxed)
        lazyUserFlush.store(config.string("lazyfree-lazy-user-flush") == "yes", ordering: .relaxed)
        LazyFree.shared.lazyExpire.store(config.string("lazyfree-lazy-expire") == "yes", ordering: .relaxed)
        LazyFree.shared.lazyServerDel.store(config.string("lazyfree-lazy-server-del") == "yes", ordering: .relaxed)
        slowlogThresholdMicros.store(s.slowlogThresholdMicros, ordering: .relaxed)
        latencyTracking.store(config.string("latency-tracking") == "yes", ordering: .relaxed)
        slowlog.trim(to: s.slowlogMaxLength)
        notifier.refresh(config)
        eviction.refresh(config, keyspace: keyspace)
    }
}

/// A rate estimated like Redis's `trackInstantaneousMetric`: the mean of the last 16 samples
/// taken by the cron.
public final class InstantaneousMetric: @unchecked Sendable {
    private let lock = NIOLock()
    private var samples = [Double](repeating: 0, count: 16)
    private var index = 0
    private var lastValue = 0
    private var lastTime: UInt64 = 0

    public init() {}

    /// Records the running total `value` at monotonic time `nanos`.
    public func sample(_ value: Int, at nanos: UInt64) {
        lock.withLockVoid {
            if lastTime != 0, nanos > lastTime {
                let elapsed = Double(nanos - lastTime) / 1e9
                samples[index] = Double(value - lastValue) / elapsed
                index = (index + 1) % samples.count
            }
            lastValue = value
            lastTime = nanos
        }
    }

    /// The current per-second rate.
    public var rate: Double { lock.withLock { samples.reduce(0, +) / Double(samples.count) } }

    public func reset() { lock.withLockVoid { samples = [Double](repeating: 0, count: 16) } }
}
