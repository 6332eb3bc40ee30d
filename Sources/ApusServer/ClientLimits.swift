import ApusCommands
import ApusConfig
import ApusStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Admission control for new connections, as Redis does it when it accepts a client:
/// `maxclients` (acceptCommonHandler) and protected mode (clientAcceptHandler), plus the
/// per-socket TCP keepalive (createClient → anetKeepAlive). Every limit is read live from
/// the config registry, so CONFIG SET applies to the next connection.
final class ClientLimits: @unchecked Sendable {
    /// Redis 7.2's reply to a connection beyond `maxclients`.
    static let maxClientsError = "-ERR max number of clients reached\r\n"

    /// Redis 7.2's reply to a non-loopback connection in protected mode (7.0 words point 4
    /// as "Setup a an ..."; 7.2 fixed it).
    static let protectedModeError =
        "-DENIED Redis is running in protected mode because protected "
        + "mode is enabled and no password is set for the default user. "
        + "In this mode connections are only accepted from the loopback interface. "
        + "If you want to connect from external computers to Redis you "
        + "may adopt one of the following solutions: "
        + "1) Just disable protected mode sending the command "
        + "'CONFIG SET protected-mode no' from the loopback interface "
        + "by connecting to Redis from the same host the server is "
        + "running, however MAKE SURE Redis is not publicly accessible "
        + "from internet if you do so. Use CONFIG REWRITE to make this "
        + "change permanent. "
        + "2) Alternatively you can just disable the protected mode by "
        + "editing the Redis configuration file, and setting the protected "
        + "mode option to 'no', and then restarting the server. "
        + "3) If you started the server manually just for testing, restart "
        + "it with the '--protected-mode no' option. "
        + "4) Set up an authentication password for the default user. "
        + "NOTE: You only need to do one of the above things in order for "
        + "the server to start accepting connections from the outside.\r\n"

    let server: ServerContext
    let logger: Logger
    private let maxClientsKey: ConfigKey
    private let protectedModeKey: ConfigKey
    private let keepAliveKey: ConfigKey
    /// Connections admitted and not yet closed (Redis's `listLength(server.clients)`), kept
    /// here so the check and the increment are one atomic step across event loops.
    private let admitted = Atomic<Int>(0)
    /// Serialises increments of the registry's plain `rejectedConnections` counter.
    private let statsLock = NIOLock()

    /// `client-output-buffer-limit` per class (hard, soft, soft seconds), cached from the
    /// registry by its change hook so each read burst reads plain atomics.
    private let normalOutputLimit = OutputBufferLimit()
    private let replicaOutputLimit = OutputBufferLimit()
    private let pubsubOutputLimit = OutputBufferLimit()
    /// `maxmemory-clients` in bytes (0 = no client eviction), from maxmemory-clients and
    /// maxmemory like Redis's getClientEvictionLimit.
    private let evictionLimit = Atomic<Int>(0)

    init(server: ServerContext, logger: Logger = Logger(label: "apus")) {
        self.server = server
        self.logger = logger
        maxClientsKey = server.config.key("maxclients")
        protectedModeKey = server.config.key("protected-mode")
        keepAliveKey = server.config.key("tcp-keepalive")
        refreshOutputLimits()
        refreshEvictionLimit()
        server.config.onChange("client-output-buffer-limit") { [weak self] (_: String) throws(ConfigError) in
            self?.refreshOutputLimits()
        }
        for name in ["maxmemory-clients", "maxmemory"] {
            server.config.onChange(name) { [weak self] (_: String) throws(ConfigError) in
                self?.refreshEvictionLimit()
            }
        }
    }

    /// Connections currently admitted.
    var admittedCount: Int { admitted.load(ordering: .relaxed) }

    /// Takes a client slot unless `maxclients` are already connected.
    func admit() -> Bool {
        let limit = server.config.int(maxClientsKey)
        var current = admitted.load(ordering: .relaxed)
        while true {
            if current >= limit { return false }
            let (exchanged, original) = admitted.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Gives back the slot taken by `admit()` when the connection closes.
    func release() {
        admitted.subtract(1, ordering: .relaxed)
    }

    /// INFO's rejected_connections (maxclients and protected mode, as in Redis).
    func countRejection() {
        statsLock.withLockVoid { server.clients.rejectedConnections += 1 }
    }

    /// Whether a connection from `remote` must be refused by protected mode: Redis 7.x
    /// refuses every non-local peer while `protected-mode` is yes and the default user has
    /// no password, whatever `bind` says (the bind condition went away in 7.0).
    func protectedModeDenies(_ remote: SocketAddress?) -> Bool {
        guard server.config.bool(protectedModeKey), server.settings.requirePass == nil else { return false }
        return !Self.isLocal(remote)
    }

    /// Redis's `connIsLocal`: unix sockets, 127.0.0.0/8 and ::1 (also ::ffff:127.x.y.z, the
    /// form an IPv4 loopback peer takes on a dual-stack IPv6 listener, which Redis never
    /// sees because it binds IPv6 with IPV6_V6ONLY). An unknown peer is not local.
    static func isLocal(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        switch address {
        case .unixDomainSocket:
            return true
        case .v4(let v4):
            let host = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            return host >> 24 == 127
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            let mapped = bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff
            return mapped && bytes[12] == 127
        }
    }

    /// SO_KEEPALIVE plus Linux's idle/interval/count like Redis's `anetKeepAlive`, when
    /// `tcp-keepalive` is not 0. Failures are ignored, as Redis ignores them.
    func applyKeepAlive(to channel: any Channel) {
        let interval = server.config.int(keepAliveKey)
        guard interval > 0, let options = channel.syncOptions else { return }
        try? options.setOption(.socketOption(.so_keepalive), value: 1)
        #if os(Linux)
        let idle = Int(Int32(clamping: interval))
        try? options.setOption(Self.tcpOption(TCP_KEEPIDLE), value: idle)
        try? options.setOption(Self.tcpOption(TCP_KEEPINTVL), value: max(1, idle / 3))
        try? options.setOption(Self.tcpOption(TCP_KEEPCNT), value: 3)
        #endif
    }

    private static func tcpOption(_ name: Int32) -> ChannelOptions.Types.SocketOption {
        ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: name))
    }
}

// MARK: Client buffer limits

/// One class's `client-output-buffer-limit`, readable from any loop without locks.
final class OutputBufferLimit: @unchecked Sendable {
    let hard = Atomic<Int>(0)
    let soft = Atomic<Int>(0)
    let softSeconds = Atomic<Int>(0)
    /// The smaller of the limits that are set (Int.max when none is): below it nothing
    /// needs checking. Read once per read burst.
    let smallest = Atomic<Int>(Int.max)
}

/// A class's limits as one read burst uses them.
struct OutputLimitValues {
    var hard: Int
    var soft: Int
    var softSeconds: Int
}

extension ClientLimits {
    /// Re-reads `client-output-buffer-limit` (change hooks run outside the registry's lock).
    func refreshOutputLimits() {
        for bufferClass in ClientBufferClass.allCases {
            let value = server.config.clientOutputBufferLimit(bufferClass)
            let cached = outputLimitStorage(bufferClass)
            let hard = Int(clamping: value.hardLimitBytes)
            let soft = Int(clamping: value.softLimitBytes)
            cached.hard.store(hard, ordering: .relaxed)
            cached.soft.store(soft, ordering: .relaxed)
            cached.softSeconds.store(value.softLimitSeconds, ordering: .relaxed)
            let smallest = switch (hard, soft) {
            case (0, 0): Int.max
            case (0, _): soft
            case (_, 0): hard
            default: min(hard, soft)
            }
            cached.smallest.store(smallest, ordering: .relaxed)
        }
    }

    @inline(__always)
    private func outputLimitStorage(_ bufferClass: ClientBufferClass) -> OutputBufferLimit {
        switch bufferClass {
        case .normal: normalOutputLimit
        case .replica: replicaOutputLimit
        case .pubsub: pubsubOutputLimit
        }
    }

    /// The smallest output buffer limit set for the class (Int.max: none).
    @inline(__always)
    func smallestOutputLimit(_ bufferClass: ClientBufferClass) -> Int {
        outputLimitStorage(bufferClass).smallest.load(ordering: .relaxed)
    }

    func outputLimit(_ bufferClass: ClientBufferClass) -> OutputLimitValues {
        let cached = outputLimitStorage(bufferClass)
        return OutputLimitValues(hard: cached.hard.load(ordering: .relaxed),
                                 soft: cached.soft.load(ordering: .relaxed),
                                 softSeconds: cached.softSeconds.load(ordering: .relaxed))
    }

    /// Redis's getClientEvictionLimit: `maxmemory-clients` bytes, or N% of `maxmemory`
    /// (only while maxmemory is set), never below 128 KiB so a bad setting cannot lock
    /// everyone out; 0 when client eviction is off.
    func refreshEvictionLimit() {
        let configured = server.config.int("maxmemory-clients")
        let maxmemory = server.config.int("maxmemory")
        var limit = 0
        if configured < 0 && maxmemory > 0 {
            limit = Int(Double(maxmemory) * Double(-configured) / 100)
        } else if configured > 0 {
            limit = configured
        }
        if limit > 0 && limit < 128 * 1024 { limit = 128 * 1024 }
        evictionLimit.store(limit, ordering: .relaxed)
    }

    /// Redis's evictClients: while normal and pub/sub clients together use at least
    /// `maxmemory-clients`, disconnects the evictable client using the most memory. Returns
    /// whether `current` (the caller's own client) was among them; the others are closed
    /// through their own loops, and leave CLIENT LIST at once.
    @inline(__always)
    func evictClientsIfNeeded(current: ClientSession?) -> Bool {
        let limit = evictionLimit.load(ordering: .relaxed)
        guard limit != 0, server.clientMemory.evictable >= limit else { return false }
        return evictClients(limit: limit, current: current)
    }

    @inline(never)
    private func evictClients(limit: Int, current: ClientSession?) -> Bool {
        let totals = server.clientMemory
        // Redis's clientEvictionAllowed: not NO-EVICT, and a normal or pub/sub client.
        var candidates = server.clients.all.filter { !$0.noEvict && $0.bufferClass != .replica }
        candidates.sort { $0.chargedBytes > $1.chargedBytes }
        let now = currentTimeMillis()
        var evictedCurrent = false
        for client in candidates {
            guard totals.evictable >= limit else { return evictedCurrent }
            guard totals.claimForEviction(client) else { continue }
            logger.notice("Evicting client: \(ConnectionCommands.clientInfoString(client, now: now))")
            totals.evictedClients.add(1, ordering: .relaxed)
            server.clients.remove(client)
            if client === current {
                evictedCurrent = true
            } else {
                client.requestClose()
            }
        }
        if totals.evictable >= limit {
            logger.warning("Over client maxmemory after evicting all evictable clients")
        }
        return evictedCurrent
    }
}

// MARK: Open files

/// Redis's adjustOpenFilesLimit: `maxclients` needs that many descriptors plus 32 reserved
/// ones; raise RLIMIT_NOFILE (soft and hard) to that, or to the highest value the OS allows
/// below it in steps of 16, and return the `maxclients` that limit supports.
enum OpenFilesLimit {
    static let reservedDescriptors = 32

    struct Outcome {
        var maxclients: Int
        var previousLimit: Int
        var newLimit: Int
        var error: Int32
    }

    static func adjust(maxclients: Int) -> Outcome {
        let wanted = maxclients + reservedDescriptors
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            return Outcome(maxclients: 1024 - reservedDescriptors, previousLimit: 1024, newLimit: 1024, error: errno)
        }
        let old = Int(clamping: limit.rlim_cur)
        guard old < wanted else {
            return Outcome(maxclients: maxclients, previousLimit: old, newLimit: old, error: 0)
        }
        func trySet(_ value: Int) -> Bool {
            var l = rlimit(rlim_cur: rlim_t(value), rlim_max: rlim_t(value))
            return setrlimit(Int32(RLIMIT_NOFILE.rawValue), &l) == 0
        }
        var best = wanted
        var error: Int32 = 0
        if !trySet(best) {
            error = errno
            // Redis steps down by 16 until one succeeds; the first that can is the highest one
            // not above the hard limit, so jump there instead of making millions of calls.
            let hard = Int(clamping: limit.rlim_max)
            if hard < best { best -= ((best - hard + 15) / 16) * 16 }
            while best > old && !trySet(best) {
                error = errno
                if best < 16 { best = old; break }
                best -= 16
            }
        }
        if best < old { best = old }
        return Outcome(maxclients: best < wanted ? best - reservedDescriptors : maxclients,
                       previousLimit: old, newLimit: best, error: error)
    }
}
