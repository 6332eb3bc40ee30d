import ApusServer
import Dispatch
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT start a graceful shutdown; SIGPIPE is ignored (closed sockets report
/// errors instead). Handlers run on a Dispatch queue, outside any actor.
enum ShutdownSignals {
    static func install(server: Server, logger: Logger) -> [any DispatchSourceSignal] {
        signal(SIGPIPE, SIG_IGN)
        var sources: [any DispatchSourceSignal] = []
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { @Sendable in
                logger.warning("Received \(name) scheduling shutdown...")
                server.stop()
            }
            source.resume()
            sources.append(source)
        }
        return sources
    }
}
