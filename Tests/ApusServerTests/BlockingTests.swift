import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Blocking commands over real sockets: the connection pauses while blocked, resumes when
/// served or timed out, across event loops (`--io-threads 2` puts clients on two loops).
@Suite("Blocking commands over real sockets")
struct BlockingTests {
    private func nanosSince(_ start: timespec) -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return (now.tv_sec - start.tv_sec) * 1_000_000_000 + (now.tv_nsec - start.tv_nsec)
    }

    @Test func aTimeoutRepliesNullAfterTheDeadline() throws {
        try withServer(["--io-threads", "2"]) { port in
            let client = try RawClient(port: port)
            var start = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            #expect(client.roundTrip("BLPOP", "k", "0.2", expecting: "*-1\r\n") == "*-1\r\n")
            #expect(nanosSince(start) >= 190_000_000)
            #expect(client.roundTrip("BLMOVE", "a", "b", "LEFT", "LEFT", "0.05", expecting: "$-1\r\n") == "$-1\r\n")
            #expect(client.infoField("clients", "blocked_clients") == "0")
            // Each timed-out call is counted once, like Redis's updateStatsOnUnblock.
            #expect(client.infoField("commandstats", "cmdstat_blpop")?.hasPrefix("calls=1,") == true)
            #expect(client.infoField("commandstats", "cmdstat_blmove")?.hasPrefix("calls=1,") == true)
        }
    }

    @Test func commandsPipelinedBehindABlockedOneWaitForIt() throws {
        try withServer(["--io-threads", "2"]) { port in
            let waiter = try RawClient(port: port)
            let pusher = try RawClient(port: port)
            waiter.write(waiter.command("PING") + waiter.command("BLPOP", "k", "0") + waiter.command("ECHO", "after"))
            #expect(waiter.read(atLeast: 7) == "+PONG\r\n")
            // Give the server time to block the client before the push.
            for _ in 0..<100 where pusher.infoField("clients", "blocked_clients") != "1" { usleep(10_000) }
            #expect(pusher.infoField("clients", "blocked_clients") == "1")
            #expect(pusher.reply("RPUSH", "k", "v") == ":1\r\n")
            let expected = "*2\r\n$1\r\nk\r\n$1\r\nv\r\n$5\r\nafter\r\n"
            #expect(waiter.read(atLeast: expected.utf8.count) == expected)
        }
    }

    @Test func manyWaitersOnTwoLoopsAreEachServedOnce() throws {
        try withServer(["--io-threads", "2"]) { port in
            let waiters = try (0..<8).map { _ in try RawClient(port: port) }
            let pusher = try RawClient(port: port)
            // Each waiter blocks before the next one asks, so the arrival order is known.
            for (i, w) in waiters.enumerated() {
                w.write(w.command("BLPOP", "q", "5"))
                for _ in 0..<200 where pusher.infoField("clients", "blocked_clients") != "\(i + 1)" { usleep(5_000) }
            }
            #expect(pusher.infoField("clients", "blocked_clients") == "8")
            #expect(pusher.reply("RPUSH", "q", "0", "1", "2", "3", "4", "5", "6", "7") == ":8\r\n")
            var got: [String] = []
            for w in waiters {
                let reply = w.read(atLeast: "*2\r\n$1\r\nq\r\n$1\r\n0\r\n".utf8.count)
                got.append(String(decoding: Array(reply.utf8.dropLast(2).suffix(1)), as: UTF8.self))
            }
            // FIFO: the i-th waiter to block gets the i-th element.
            #expect(got == (0..<8).map(String.init))
            #expect(pusher.reply("EXISTS", "q") == ":0\r\n")
        }
    }

    @Test func aDisconnectedWaiterIsForgotten() throws {
        try withServer([]) { port in
            var waiter: RawClient? = try RawClient(port: port)
            waiter?.write(waiter!.command("BLPOP", "k", "0"))
            let other = try RawClient(port: port)
            for _ in 0..<100 where other.infoField("clients", "blocked_clients") != "1" { usleep(10_000) }
            waiter = nil
            for _ in 0..<100 where other.infoField("clients", "blocked_clients") != "0" { usleep(10_000) }
            #expect(other.infoField("clients", "blocked_clients") == "0")
            #expect(other.reply("RPUSH", "k", "v") == ":1\r\n")
            #expect(other.reply("LLEN", "k") == ":1\r\n")
        }
    }

    @Test func clientListFlagsABlockedClient() throws {
        try withServer([]) { port in
            let waiter = try RawClient(port: port)
            let id = waiter.reply("CLIENT", "ID").filter(\.isNumber)
            waiter.write(waiter.command("BLPOP", "k", "0"))
            let other = try RawClient(port: port)
            for _ in 0..<100 where other.infoField("clients", "blocked_clients") != "1" { usleep(10_000) }
            #expect(other.reply("CLIENT", "LIST").contains("id=\(id) addr=") )
            #expect(other.reply("CLIENT", "LIST").contains("flags=b "))
            #expect(other.reply("CLIENT", "UNBLOCK", String(id)) == ":1\r\n")
            #expect(waiter.read(atLeast: 5) == "*-1\r\n")
        }
    }
}
