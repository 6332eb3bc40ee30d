import ApusCommands
import ApusRESP
import Testing

/// Keyspace notifications through the real dispatcher: the messages a pattern subscriber
/// receives, in Redis's order.
@Suite struct KeyspaceNotificationTests {
    /// Subscribes a second client to every channel and returns a reader of what it got, as
    /// (channel, message) pairs.
    private func listen(_ h: Harness) -> () -> [String] {
        let listener = h.makeClient()
        h.send(as: listener, "PSUBSCRIBE", "__key*__:*")
        _ = listener.session.subscriber.takePending()
        return {
            let text = String(decoding: listener.session.subscriber.takePending().readableBytesView, as: UTF8.self)
            // *4 pmessage <pattern> <channel> <message>: keep channel and message.
            let lines = text.split(separator: "\r\n").filter { !$0.hasPrefix("*") && !$0.hasPrefix("$") }
            var pairs: [String] = []
            var i = 0
            while i + 3 < lines.count {
                pairs.append("\(lines[i + 2]) \(lines[i + 3])")
                i += 4
            }
            return pairs
        }
    }

    @Test func offByDefaultAndConfigGetNormalizesTheFlags() {
        let h = Harness()
        let received = listen(h)
        h.send("SET", "k", "v")
        #expect(received() == [])
        #expect(h.send("CONFIG", "SET", "notify-keyspace-events", "KEA") == "+OK\r\n")
        #expect(h.send("CONFIG", "GET", "notify-keyspace-events") == "*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n")
        h.send("CONFIG", "SET", "notify-keyspace-events", "Elsh$zxetd")
        #expect(h.send("CONFIG", "GET", "notify-keyspace-events").hasSuffix("$10\r\n$lshzxetdE\r\n"))
    }

    @Test func keyspaceAndKeyeventChannels() {
        let h = Harness()
        let received = listen(h)
        h.send("CONFIG", "SET", "notify-keyspace-events", "KEA")
        h.send("SET", "foo", "bar")
        #expect(received() == ["__keyspace@0__:foo set", "__keyevent@0__:set foo"])
    }

    @Test func listEventsInRedisOrder() {
        let h = Harness()
        let received = listen(h)
        h.send("CONFIG", "SET", "notify-keyspace-events", "Egl")
        h.send("RPUSH", "src", "a")
        h.send("LMOVE", "src", "dst", "LEFT", "RIGHT")
        #expect(received() == ["__keyevent@0__:rpush src", "__keyevent@0__:rpush dst",
                               "__keyevent@0__:lpop src", "__keyevent@0__:del src"])
    }

    @Test func newComesBeforeTheCommandsEventAndOnlyForNewKeys() {
        let h = Harness()
        let received = listen(h)
        h.send("CONFIG", "SET", "notify-keyspace-events", "En$")
        h.send("SET", "k", "1")
        h.send("INCR", "k")
        #expect(received() == ["__keyevent@0__:new k", "__keyevent@0__:set k", "__keyevent@0__:incrby k"])
    }

    @Test func expiredKeysPublishExpiredOnLazyExpiry() {
        let h = Harness()
        let received = listen(h)
        h.send("CONFIG", "SET", "notify-keyspace-events", "Ex")
        h.send("SET", "k", "v", "PX", "1")
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .milliseconds(20) {}
        #expect(h.send("GET", "k") == "$-1\r\n")
        #expect(received() == ["__keyevent@0__:expired k"])
    }

    @Test func keymissOnlyWithM() {
        let h = Harness()
        let received = listen(h)
        h.send("CONFIG", "SET", "notify-keyspace-events", "EA")
        h.send("GET", "nothing")
        #expect(received() == [])
        h.send("CONFIG", "SET", "notify-keyspace-events", "Em")
        h.send("GET", "nothing")
        #expect(received() == ["__keyevent@0__:keymiss nothing"])
    }
}
