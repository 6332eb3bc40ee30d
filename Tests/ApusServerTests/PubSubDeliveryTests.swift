import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Pub/Sub delivery over real sockets, with clients spread over several event loops
/// (connections are assigned to loops in turn).
@Suite("Pub/Sub delivery across event loops")
struct PubSubDeliveryTests {
    /// Reads until `expected` arrived (or the peer stopped sending).
    private func receive(_ client: RawClient, _ expected: String) -> String {
        client.read(atLeast: expected.utf8.count)
    }

    /// Reads until what arrived ends with `suffix` (or the peer stopped sending).
    private func readUntil(_ client: RawClient, suffix: String) -> String {
        var text = ""
        while !text.hasSuffix(suffix) {
            let more = client.read(atLeast: 1)
            if more.isEmpty { break }
            text += more
        }
        return text
    }

    private func message(_ channel: String, _ payload: String) -> String {
        "*3\r\n$7\r\nmessage\r\n$\(channel.utf8.count)\r\n\(channel)\r\n$\(payload.utf8.count)\r\n\(payload)\r\n"
    }

    @Test func everySubscriberGetsEachPublishersMessagesInOrder() throws {
        try withServer(["--io-threads", "4"]) { port in
            let subscribers = try (0..<6).map { _ in try RawClient(port: port) }
            for s in subscribers {
                #expect(s.roundTrip("SUBSCRIBE", "ch", expecting: "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n")
                    == "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n")
            }
            let publishers = try (0..<4).map { _ in try RawClient(port: port) }
            let perPublisher = 200
            // Each publisher pipelines its messages; PUBLISH counts every receiver.
            for (p, publisher) in publishers.enumerated() {
                var batch = ""
                for i in 0..<perPublisher { batch += publisher.command("PUBLISH", "ch", "p\(p)-\(i)") }
                publisher.write(batch)
            }
            for publisher in publishers {
                let replies = publisher.read(atLeast: ":6\r\n".utf8.count * perPublisher)
                #expect(replies == String(repeating: ":6\r\n", count: perPublisher))
            }
            var expectedBytes = 0
            for p in 0..<publishers.count {
                for i in 0..<perPublisher { expectedBytes += message("ch", "p\(p)-\(i)").utf8.count }
            }
            for s in subscribers {
                let text = s.read(atLeast: expectedBytes)
                #expect(text.utf8.count == expectedBytes)
                // Split into payloads; per publisher they must come in publish order.
                var next = [Int](repeating: 0, count: publishers.count)
                var inOrder = true
                for line in text.split(separator: "\r\n") where line.hasPrefix("p") {
                    let parts = line.dropFirst().split(separator: "-")
                    guard parts.count == 2, let p = Int(parts[0]), let i = Int(parts[1]) else { continue }
                    if next[p] != i { inOrder = false }
                    next[p] = i + 1
                }
                #expect(inOrder)
                #expect(next == [Int](repeating: perPublisher, count: publishers.count))
            }
        }
    }

    @Test func patternSubscribersOnOtherLoopsReceiveToo() throws {
        try withServer(["--io-threads", "3"]) { port in
            let a = try RawClient(port: port)
            let b = try RawClient(port: port)
            let publisher = try RawClient(port: port)
            let subscribed = "*3\r\n$10\r\npsubscribe\r\n$3\r\nn.*\r\n:1\r\n"
            #expect(a.roundTrip("PSUBSCRIBE", "n.*", expecting: subscribed) == subscribed)
            let pushed = ">3\r\n$10\r\npsubscribe\r\n$3\r\nn.*\r\n:1\r\n"
            b.write(b.command("HELLO", "3") + b.command("PSUBSCRIBE", "n.*"))
            #expect(readUntil(b, suffix: pushed).hasSuffix(pushed))
            #expect(publisher.roundTrip("PUBLISH", "n.x", "hi", expecting: ":2\r\n") == ":2\r\n")
            let resp2 = "*4\r\n$8\r\npmessage\r\n$3\r\nn.*\r\n$3\r\nn.x\r\n$2\r\nhi\r\n"
            #expect(receive(a, resp2) == resp2)
            let resp3 = ">4\r\n$8\r\npmessage\r\n$3\r\nn.*\r\n$3\r\nn.x\r\n$2\r\nhi\r\n"
            #expect(receive(b, resp3) == resp3)
        }
    }

    @Test func aClosedSubscriberIsUnsubscribed() throws {
        try withServer(["--io-threads", "2"]) { port in
            var subscriber: RawClient? = try RawClient(port: port)
            let subscribed = "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
            #expect(subscriber?.roundTrip("SUBSCRIBE", "c", expecting: subscribed) == subscribed)
            let other = try RawClient(port: port)
            #expect(other.reply("PUBSUB", "NUMSUB", "c") == "*2\r\n$1\r\nc\r\n:1\r\n")
            subscriber = nil
            for _ in 0..<200 where other.reply("PUBSUB", "NUMSUB", "c") != "*2\r\n$1\r\nc\r\n:0\r\n" { usleep(5_000) }
            #expect(other.reply("PUBSUB", "NUMSUB", "c") == "*2\r\n$1\r\nc\r\n:0\r\n")
            #expect(other.reply("PUBLISH", "c", "x") == ":0\r\n")
        }
    }

    @Test func aSubscriberThatDoesNotReadIsClosedAtThePubSubOutputLimit() throws {
        try withServer(["--io-threads", "2", "--client-output-buffer-limit", "pubsub 262144 0 0"]) { port in
            let subscriber = try RawClient(port: port)
            var small: Int32 = 4096
            setsockopt(subscriber.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            let subscribed = "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
            #expect(subscriber.roundTrip("SUBSCRIBE", "c", expecting: subscribed) == subscribed)
            let publisher = try RawClient(port: port)
            let payload = String(repeating: "x", count: 16 * 1024)
            // The subscriber never reads: its unsent messages pass the 256 KiB hard limit.
            for _ in 0..<400 {
                let reply = publisher.reply("PUBLISH", "c", payload)
                if reply == ":0\r\n" { break }
            }
            for _ in 0..<200 where publisher.reply("PUBSUB", "NUMSUB", "c") != "*2\r\n$1\r\nc\r\n:0\r\n" { usleep(5_000) }
            #expect(publisher.reply("PUBSUB", "NUMSUB", "c") == "*2\r\n$1\r\nc\r\n:0\r\n")
            #expect(publisher.infoField("stats", "client_output_buffer_limit_disconnections") == "1")
        }
    }
}
