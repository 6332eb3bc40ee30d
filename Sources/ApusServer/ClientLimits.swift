import ApusCommands
import ApusConfig
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

    private let server: ServerContext
    private let maxClientsKey: ConfigKey
    private let protectedModeKey: ConfigKey
    private let keepAliveKey: ConfigKey
    /// Connections admitted and not yet closed (Redis's `listLength(server.clients)`), kept
    /// here so the check and the increment are one atomic step across event loops.
    private let admitted = Atomic<Int>(0)
    /// Serialises increments of the registry's plain `rejectedConnections` counter.
    private let statsLock = NIOLock()

    init(server: ServerContext) {
        self.server = server
        maxClientsKey = server.config.key("maxclients")
        protectedModeKey = server.config.key("protected-mode")
        keepAliveKey = server.config.key("tcp-keepalive")
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
