import Foundation
import Testing

/// A script running past busy-reply-threshold holds its event loop's thread, and commands on
/// other loops may wait for the shard locks it holds. Every client must still get an answer
/// (-BUSY, or the allow-busy commands run), as Redis's processEventsWhileBlocked gives them:
/// clients on the script's own loop, on a loop waiting for its locks, and new connections.
@Suite("Clients are served while a script is busy")
struct BusyScriptTests {
    static let busy = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"

    /// Connections accepted one after another go to the loops in turn, so six of them cover
    /// both loops three times.
    private func clients(_ port: Int, count: Int) throws -> [RawClient] {
        try (0..<count).map { _ in
            let client = try RawClient(port: port)
            _ = client.roundTrip("PING", expecting: "+PONG\r\n")
            return client
        }
    }

    @Test func everyLoopAnswersBusyAndScriptKillStopsTheScript() throws {
        try withServer(["--io-threads", "2", "--busy-reply-threshold", "100"]) { port in
            let c = try clients(port, count: 6)
            #expect(c[5].roundTrip("SET", "k", "v", expecting: "+OK\r\n") == "+OK\r\n")
            // The script reads k (its shard stays locked until it ends), then spins.
            c[0].write(c[0].command("EVAL", "redis.call('get','k') while true do end", "0"))
            usleep(20_000)
            // Arrives before the threshold: it waits for k's lock, or is read once the script
            // is busy and refused, depending on its loop.
            c[1].write(c[1].command("GET", "k"))
            usleep(300_000)
            for i in 2...5 {
                #expect(c[i].roundTrip("PING", expecting: Self.busy) == Self.busy)
            }
            let late = try RawClient(port: port)
            #expect(late.roundTrip("PING", expecting: Self.busy) == Self.busy)
            // MULTI is allowed; a refused command dooms the transaction, as in Redis.
            #expect(c[2].roundTrip("MULTI", expecting: "+OK\r\n") == "+OK\r\n")
            #expect(c[2].roundTrip("INCR", "counter", expecting: Self.busy) == Self.busy)
            // SHUTDOWN needs NOSAVE during a busy script.
            #expect(c[3].roundTrip("SHUTDOWN", expecting: Self.busy) == Self.busy)
            #expect(c[4].roundTrip("SCRIPT", "KILL", expecting: "+OK\r\n") == "+OK\r\n")
            let killed = "-ERR Script killed by user with SCRIPT KILL..."
            #expect(c[0].read(atLeast: killed.utf8.count).hasPrefix(killed))
            let abort = "-EXECABORT Transaction discarded because of previous errors.\r\n"
            #expect(c[2].roundTrip("EXEC", expecting: abort) == abort)
            let waited = c[1].read(atLeast: 7)
            #expect(waited == "$1\r\nv\r\n" || waited.hasPrefix("-BUSY"))
            #expect(c[5].roundTrip("GET", "k", expecting: "$1\r\nv\r\n") == "$1\r\nv\r\n")
            #expect(c[5].roundTrip("SCRIPT", "KILL", expecting: "-NOTBUSY No scripts in execution right now.\r\n")
                    == "-NOTBUSY No scripts in execution right now.\r\n")
        }
    }

    @Test func aScriptThatWroteIsUnkillableButShutdownNosaveEndsIt() throws {
        try withServer(["--io-threads", "2", "--busy-reply-threshold", "100"]) { port in
            let c = try clients(port, count: 4)
            c[0].write(c[0].command("EVAL", "redis.call('set','w','1') while true do end", "0"))
            usleep(300_000)
            let unkillable = "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n"
            for i in 1...3 {
                #expect(c[i].roundTrip("SCRIPT", "KILL", expecting: unkillable) == unkillable)
            }
            // Redis closes the connection without a reply once shutdown succeeds.
            #expect(c[1].roundTrip("SHUTDOWN", "NOSAVE", expecting: "x") == "")
        }
    }
}
