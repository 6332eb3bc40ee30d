import ApusConfig
import ApusServer
import Logging

#if canImport(Glibc)
import Glibc
#endif

// apus-server [/path/to/redis.conf] [--name value ...] — the same command line as redis-server.
let config = ConfigRegistry()
do {
    try config.applyArguments(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandleOutput.standardError(error.message)
    exit(1)
}

LoggingSystem.bootstrap { label in
    RedisStyleLogHandler(label: label, path: config.string("logfile"), level: RedisStyleLogHandler.level(config.string("loglevel")))
}
let logger = Logger(label: "apus")

let server = Server(config: config, logger: logger)
do {
    try server.start()
} catch {
    logger.critical("Failed listening on port \(config.int("port")) (tcp), aborting: \(error)")
    exit(1)
}

// SIGTERM / SIGINT: stop accepting, close clients, exit (Redis's graceful shutdown).
let signalSources = ShutdownSignals.install(server: server, logger: logger)

server.waitUntilStopped()
exit(0)
