import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A field of this client's line in CLIENT LIST (`tot-mem`, `qbuf`...), by client name.
private func clientField(_ control: RawClient, name: String, _ field: String) -> Int? {
    let list = control.reply("CLIENT", "LIST")
    for line in list.split(separator: "\n") where line.contains(" name=\(name) ") {
        for part in line.split(separator: " ") where part.hasPrefix(field + "=") {
            return Int(part.dropFirst(field.count + 1))
        }
    }
    return nil
}

/// Polls `condition` for up to `seconds` (the server works on other threads).
private func eventually(seconds: Int = 5, _ condition: () -> Bool) -> Bool {
    for _ in 0..<(seconds * 100) {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Client buffers are accounted apart from the dataset and bounded by their own limits:
/// client-output-buffer-limit, client-query-buffer-limit and maxmemory-clients.
@Suite("Client buffer memory over real sockets")
struct ClientMemoryTests {
    @Test func clientPilingUpRepliesIsDisconnectedAtTheHardLimit() throws {
        try withServer(["--client-output-buffer-limit", "normal 2mb 0 0"]) { port in
            signal(SIGPIPE, SIG_IGN)  // writes after the server closed the piler fail with EPIPE
            let control = try RawClient(port: port)
            #expect(control.reply("SET", "big", String(repeating: "x", count: 500_000)).hasPrefix("+OK"))
            let piler = try RawClient(port: port)
            #expect(piler.reply("CLIENT", "SETNAME", "piler") == "+OK\r\n")
            // A tiny receive window, and never a read: the replies pile up in the server.
            var small: Int32 = 4096
            setsockopt(piler.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            var gone = false
            // 500 KB per GET, each under the limit: only their sum, unsent, goes over it.
            for _ in 0..<200 {
                piler.write(piler.command("GET", "big"))
                if clientField(control, name: "piler", "tot-mem") == nil { gone = true; break }
            }
            #expect(gone || eventually { clientField(control, name: "piler", "tot-mem") == nil })
            #expect(eventually { control.infoField("stats", "client_output_buffer_limit_disconnections") == "1" })
            // The server went on serving everyone else.
            #expect(control.reply("PING") == "+PONG\r\n")
        }
    }

    @Test func clientOverTheSoftLimitIsClosedOnceItLastsSoftSecondsEvenWithoutTraffic() throws {
        try withServer(["--client-output-buffer-limit", "normal 0 1mb 1"]) { port in
            signal(SIGPIPE, SIG_IGN)
            let control = try RawClient(port: port)
            #expect(control.reply("SET", "big", String(repeating: "x", count: 500_000)).hasPrefix("+OK"))
            let slow = try RawClient(port: port)
            #expect(slow.reply("CLIENT", "SETNAME", "slow") == "+OK\r\n")
            var small: Int32 = 4096
            setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            // Replies pile up unread until omem passes the soft limit; then no more traffic.
            var over = false
            for _ in 0..<60 where !over {
                slow.write(slow.command("GET", "big"))
                usleep(20_000)
                over = (clientField(control, name: "slow", "omem") ?? Int.max) > 1 << 20
            }
            #expect(over)
            // Closed by the server once over the soft limit for more than a second (reading the
            // socket to its end would wait for the kernel's buffered replies through a tiny window).
            #expect(eventually(seconds: 10) { clientField(control, name: "slow", "omem") == nil })
            #expect(control.infoField("stats", "client_output_buffer_limit_disconnections") == "1")
        }
    }

    @Test func oneBigReplyOverTheHardLimitIsNeverSent() throws {
        try withServer(["--client-output-buffer-limit", "normal 100000 0 0"]) { port in
            let control = try RawClient(port: port)
            for _ in 0..<150 { _ = control.reply("RPUSH", "list", String(repeating: "x", count: 1000)) }
            let client = try RawClient(port: port)
            client.write(client.command("LRANGE", "list", "0", "-1"))
            let (closed, data) = client.closedByPeer(within: 5)
            #expect(closed)
            #expect(data.isEmpty)
        }
    }

    @Test func totMemGrowsWithABigQueryBuffer() throws {
        try withServer { port in
            let control = try RawClient(port: port)
            let client = try RawClient(port: port)
            #expect(client.reply("CLIENT", "SETNAME", "big-query") == "+OK\r\n")
            let before = try #require(clientField(control, name: "big-query", "tot-mem"))
            // An argument of 1 MB, sent without its last byte: it waits in the query buffer.
            client.write("*2\r\n$3\r\nGET\r\n$1048576\r\n" + String(repeating: "v", count: 1_048_575))
            #expect(eventually { (clientField(control, name: "big-query", "qbuf") ?? 0) > 1_048_000 })
            let after = try #require(clientField(control, name: "big-query", "tot-mem"))
            #expect(after >= before + 1_048_576)
            // Completing the command empties the query buffer again.
            client.write("v\r\n")
            #expect(client.read(atLeast: 5) == "$-1\r\n")
            #expect(eventually { clientField(control, name: "big-query", "qbuf") == 0 })
        }
    }

    @Test func maxmemoryClientsEvictsTheBiggestClientAndSparesNoEvict() throws {
        try withServer { port in
            let control = try RawClient(port: port)
            #expect(control.reply("CLIENT", "NO-EVICT", "on") == "+OK\r\n")
            func filled(_ name: String, bytes: Int, noEvict: Bool) throws -> RawClient {
                let client = try RawClient(port: port)
                #expect(client.reply("CLIENT", "SETNAME", name) == "+OK\r\n")
                if noEvict { #expect(client.reply("CLIENT", "NO-EVICT", "on") == "+OK\r\n") }
                client.write("*2\r\n$3\r\nGET\r\n$\(bytes + 1)\r\n" + String(repeating: "v", count: bytes))
                #expect(eventually { (clientField(control, name: name, "qbuf") ?? 0) >= bytes })
                return client
            }
            let protected = try filled("protected", bytes: 1_000_000, noEvict: true)
            let big = try filled("big", bytes: 2_500_000, noEvict: false)
            let small = try filled("small", bytes: 200_000, noEvict: false)
            // Everyone fits in 8 MB; 3 MB forces out the biggest evictable client only.
            #expect(control.reply("CONFIG", "SET", "maxmemory-clients", "8mb") == "+OK\r\n")
            #expect(control.infoField("stats", "evicted_clients") == "0")
            #expect(control.reply("CONFIG", "SET", "maxmemory-clients", "3mb") == "+OK\r\n")
            #expect(clientField(control, name: "big", "tot-mem") == nil)
            #expect(clientField(control, name: "small", "tot-mem") != nil)
            #expect(clientField(control, name: "protected", "tot-mem") != nil)
            #expect(control.infoField("stats", "evicted_clients") == "1")
            #expect(big.closedByPeer(within: 5).closed)
            _ = (protected, small)
        }
    }

    @Test func queryBufferOverItsLimitClosesTheClient() throws {
        try withServer(["--client-query-buffer-limit", "1mb"]) { port in
            signal(SIGPIPE, SIG_IGN)
            let control = try RawClient(port: port)
            let client = try RawClient(port: port)
            client.write("*2\r\n$3\r\nGET\r\n$2000000\r\n" + String(repeating: "v", count: 1_100_000))
            #expect(client.closedByPeer(within: 5).closed)
            #expect(control.infoField("stats", "client_query_buffer_limit_disconnections") == "1")
        }
    }
}
