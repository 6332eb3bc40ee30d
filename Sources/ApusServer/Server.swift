import ApusCommands
import ApusConfig
import ApusRESP
import ApusStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The running server: event loops, listening sockets, the cron, and shutdown.
public final class Server: ServerControl, @unchecked Sendable {
    public let context: ServerContext
    public let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    /// The event loops, in the order of `context.workers`, and each one's busy-script service.
    private let loops: [any EventLoop]
    private let busyServices: [BusyService]
    /// The loop the next connection goes to (the accept thread's round robin).
    private var nextLoop = 0
    private var listeners: Listeners?
    private var cron: Cron?
    let limits: ClientLimits
    private let stopLock = NIOLock()
    private var stopped = false
    private let closedPromise: EventLoopPromise<Void>
    /// Ports actually bound (the first is the main port; tests bind port 0).
    public private(set) var boundPorts: [Int] = []

    /// Creates the server from a loaded configuration (nothing is bound yet).
    public init(config: ConfigRegistry, logger: Logger) {
        let threads = Server.threadCount(config)
        self.logger = logger
        // One loop more than configured: it takes new connections only while a busy script
        // holds every other loop, so SCRIPT KILL can always get through (`handOff`).
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads + 1)
        let context = ServerContext(config: config, specs: CommandTable.specs, threads: threads, reserveLoops: 1)
        self.context = context
        self.closedPromise = group.next().makePromise()
        self.limits = ClientLimits(server: context, logger: logger)
        CommandFamilies.registerAll(into: context.commands)
        context.makeWorkers(count: threads + 1)
        self.loops = group.makeIterator().map { $0 }
        self.busyServices = context.workers.map { BusyService(server: context, worker: $0) }
        context.refreshSettings()
        context.recordStartupMemory()
        context.control = self
        Server.enterDirectory(config: config, logger: logger)
        Server.adjustOpenFiles(config: config, logger: logger)
        config.onChange("requirepass") { [weak self] _ in self?.scheduleRefresh() }
        for name in ["slowlog-log-slower-than", "slowlog-max-len", "enable-debug-command", "enable-protected-configs"] {
            config.onChange(name) { [weak self] _ in self?.scheduleRefresh() }
        }
    }

    /// Redis chdirs to `dir` when it loads the option and on CONFIG SET dir. The registry
    /// validated the path already; a chdir failure in the hook (the directory vanished since)
    /// rejects the change with the errno text, as Redis's setConfigDirOption does.
    private static func enterDirectory(config: ConfigRegistry, logger: Logger) {
        let dir = config.string("dir")
        if !dir.isEmpty, currentDirectory() != dir, chdir(dir) != 0 {
            logger.warning("Can't chdir to '\(dir)': \(String(cString: strerror(errno)))")
        }
        config.onChange("dir") { (value: String) throws(ConfigError) in
            guard chdir(value) == 0 else { throw ConfigError(String(cString: strerror(errno))) }
        }
    }

    /// Redis raises the open-files limit for `maxclients` at start-up (reducing `maxclients`
    /// with its warnings when the OS refuses) and refuses a CONFIG SET the OS cannot support.
    private static func adjustOpenFiles(config: ConfigRegistry, logger: Logger) {
        let requested = config.int("maxclients")
        let outcome = OpenFilesLimit.adjust(maxclients: requested)
        let wanted = requested + OpenFilesLimit.reservedDescriptors
        if outcome.maxclients < requested {
            if outcome.newLimit <= OpenFilesLimit.reservedDescriptors {
                logger.critical("Your current 'ulimit -n' of \(outcome.previousLimit) is not enough for the server to start. Please increase your open file limit to at least \(wanted). Exiting.")
                exit(1)
            }
            logger.warning("You requested maxclients of \(requested) requiring at least \(wanted) max file descriptors.")
            logger.warning("Server can't set maximum open files to \(wanted) because of OS error: \(String(cString: strerror(outcome.error))).")
            logger.warning("Current maximum open files is \(outcome.newLimit). maxclients has been reduced to \(outcome.maxclients) to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.")
            try? config.set([("maxclients", String(outcome.maxclients))])
        } else if outcome.newLimit > outcome.previousLimit {
            logger.notice("Increased maximum number of open files to \(wanted) (it was originally set to \(outcome.previousLimit)).")
        }
        config.onChange("maxclients") { (text: String) throws(ConfigError) in
            guard let value = Int(text) else { return }
            let outcome = OpenFilesLimit.adjust(maxclients: value)
            guard outcome.maxclients >= value else {
                throw ConfigError("The operating system is not able to handle the specified number of clients, try with \(outcome.maxclients)")
            }
        }
    }

    static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Config hooks run while the registry holds its lock; refresh after it is released.
    private func scheduleRefresh() {
        group.next().execute { [context] in context.refreshSettings() }
    }

    /// Event loops: `io-threads` when set above 1 (Redis's name), else one per core.
    static func threadCount(_ config: ConfigRegistry) -> Int {
        let configured = config.int("io-threads")
        return configured > 1 ? configured : System.coreCount
    }

    /// Binds every address of `bind` on `port` and starts the cron.
    public func start() throws {
        let port = context.config.int("port")
        let backlog = Int32(clamping: context.config.int("tcp-backlog"))
        var addresses = context.config.string("bind").split(separator: " ").map(String.init)
        if addresses.isEmpty { addresses = ["*", "-::*"] }
        for (loop, service) in zip(loops, busyServices) {
            try loop.submit { BusyService.install(service) }.wait()
        }
        let listeners = Listeners(backlog: backlog, logger: logger) { [weak self] fd in
            guard let self else {
                close(fd)
                return
            }
            self.handOff(fd)
        }
        try listeners.start(port: port, addresses: addresses)
        self.listeners = listeners
        let boundPort = listeners.port
        boundPorts = [boundPort]
        context.tcpPort = boundPort
        // Port 0 at start-up picks a free port (tests); the configuration shows the real one,
        // so CONFIG GET port and a rolled-back CONFIG SET port agree with the listener.
        if port == 0 { try? context.config.set([("port", String(boundPort))]) }
        // CONFIG SET port / bind rebind at once and fail, keeping the old sockets, when the
        // new ones cannot be bound (Redis's changeListener).
        context.config.onChange("port") { [weak self] (text: String) throws(ConfigError) in
            guard let self, let port = Int(text) else { return }
            do {
                try listeners.change(port: port)
            } catch {
                throw ConfigError("Unable to listen on this port. Check server logs.")
            }
            self.context.tcpPort = port
        }
        context.config.onChange("bind") { (text: String) throws(ConfigError) in
            var addresses = text.split(separator: " ").map(String.init)
            if addresses.isEmpty { addresses = ["*", "-::*"] }
            do {
                try listeners.change(addresses: addresses)
            } catch {
                throw ConfigError("Failed to bind to specified addresses.")
            }
        }
        let cron = Cron(context: context, eventLoop: group.next(), logger: logger)
        cron.start()
        self.cron = cron
        // Redis prints its logo (with "PID: n", which its test harness waits for) when
        // always-show-logo is set or stdout is a terminal, else a one-line summary.
        if context.config.string("always-show-logo") == "yes" || isatty(STDOUT_FILENO) != 0 {
            logger.notice("Apus \(ServerInfo.apusVersion) (Redis \(ServerInfo.redisVersion) compatible) 64 bit, standalone mode, Port: \(boundPort), PID: \(getpid())")
        } else {
            logger.notice("Running mode=standalone, port=\(boundPort).")
        }
        logger.notice("Ready to accept connections tcp", metadata: ["port": "\(boundPort)"])
    }

    /// Gives an accepted connection to an event loop (round robin, passing over loops a busy
    /// script holds: a connection there would wait until the script ends; the reserve loop
    /// when all are). Runs on the accept thread.
    private func handOff(_ fd: Int32) {
        let regular = loops.count - 1
        var index = regular  // the reserve loop, when every regular one is held
        for step in 0..<regular where !busyServices[(nextLoop + step) % regular].isHeld {
            index = (nextLoop + step) % regular
            break
        }
        nextLoop = index == regular ? nextLoop : index + 1
        let loop = loops[index]
        let service = busyServices[index]
        let server = context
        let limits = self.limits
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.maxMessagesPerRead, value: 4)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    limits.applyKeepAlive(to: channel)
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionHandler(server: server, worker: service.worker, limits: limits,
                                          allocator: channel.allocator, fd: fd, busyService: service))
                }
            }
            .withConnectedSocket(fd)
            .whenFailure { [logger] error in logger.warning("Could not serve an accepted connection: \(error)") }
    }

    /// Blocks until the server has shut down.
    public func waitUntilStopped() {
        try? closedPromise.futureResult.wait()
        for loop in loops { _ = try? loop.submit { BusyService.uninstall() }.wait() }
        try? group.syncShutdownGracefully()
    }

    /// Stops accepting, closes clients and listeners. Safe to call more than once, from any thread.
    public func stop() {
        let first = stopLock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        logger.warning("User requested shutdown...")
        cron?.stop()
        context.abortRunningScript()
        listeners?.closeAll()
        for client in context.clients.all { client.requestClose() }
        group.next().execute { [closedPromise, logger] in
            logger.warning("Redis is now ready to exit, bye bye...")
            closedPromise.succeed(())
        }
    }

    // MARK: ServerControl

    public func shutdown(save: Bool?, now: Bool, force: Bool) -> String? {
        if save == true && !force {
            // No persistence layer yet: refusing is honest, pretending to save is not.
            logger.warning("Error trying to save the DB: persistence is not available in this build")
            return "ERR Errors trying to SHUTDOWN. Check logs."
        }
        if save == nil && !context.config.string("save").isEmpty {
            logger.warning("Not saving the DB on shutdown: persistence is not available in this build")
        }
        stop()
        return nil
    }
}
