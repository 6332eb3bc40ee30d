import ApusCommands
import ApusStore
import Testing

/// CLIENT TRACKING (client-side caching): invalidation messages as redis-server 7.2 sends them.
@Suite struct TrackingTests {
    /// Messages waiting in a client's inbox (a harness client has no connection to deliver to).
    private func pending(_ client: ClientSession) -> String {
        String(decoding: client.subscriber.takePending().readableBytesView, as: UTF8.self)
    }

    private func invalidate(_ keys: String...) -> String {
        ">2\r\n$10\r\ninvalidate\r\n*\(keys.count)\r\n" + keys.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
    }

    @Test func readKeysAreInvalidatedOnceWhenChanged() {
        let h = Harness()
        let other = h.makeClient()
        h.send("HELLO", "3")
        #expect(h.send("CLIENT", "TRACKING", "on") == "+OK\r\n")
        h.send("SET", "a", "1")
        _ = pending(h.client)  // its own write of a key it never read: nothing to invalidate
        h.send("GET", "a")
        h.send("MGET", "b", "c")
        h.send(as: other, "SET", "a", "2")
        #expect(pending(h.client) == invalidate("a"))
        // Forgotten until read again.
        h.send(as: other, "SET", "a", "3")
        #expect(pending(h.client) == "")
        h.send(as: other, "DEL", "c")  // not there: no change
        #expect(pending(h.client) == "")
        h.send(as: other, "SET", "c", "1")
        #expect(pending(h.client) == invalidate("c"))
        #expect(h.send("INFO", "clients").contains("tracking_clients:1\r\n"))
        #expect(h.send("INFO", "stats").contains("tracking_total_keys:1\r\n"))
    }

    @Test func ownWritesNotifyUnlessNoloop() {
        let h = Harness()
        h.send("HELLO", "3")
        h.send("CLIENT", "TRACKING", "on")
        h.send("GET", "k")
        h.send("SET", "k", "v")
        #expect(pending(h.client) == invalidate("k"))
        h.send("CLIENT", "TRACKING", "on", "NOLOOP")
        h.send("GET", "k")
        h.send("SET", "k", "w")
        #expect(pending(h.client) == "")
    }

    @Test func redirectToAResp2SubscriberSendsPubSubMessages() {
        let h = Harness()
        let receiver = h.makeClient()
        h.send(as: receiver, "SUBSCRIBE", "__redis__:invalidate")
        _ = pending(receiver.session)
        _ = h.send(as: receiver, "CLIENT", "ID")
        let id = receiver.session.id
        #expect(h.send("CLIENT", "TRACKING", "on", "REDIRECT", "\(id)") == "+OK\r\n")
        #expect(h.send("CLIENT", "GETREDIR") == ":\(id)\r\n")
        h.send("GET", "x")
        h.send("SET", "x", "1")
        #expect(pending(receiver.session) == "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nx\r\n")
        #expect(pending(h.client) == "")
        #expect(h.send("CLIENT", "INFO").contains(" redir=\(id) "))
    }

    @Test func broadcastSendsOneMessagePerPrefixAfterTheCommand() {
        let h = Harness()
        let other = h.makeClient()
        h.send("HELLO", "3")
        #expect(h.send("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:") == "+OK\r\n")
        h.send(as: other, "MULTI")
        h.send(as: other, "INCR", "a:2")
        h.send(as: other, "INCR", "a:1")
        h.send(as: other, "INCR", "b:1")
        h.send(as: other, "INCR", "c:1")
        h.send(as: other, "EXEC")
        let messages = pending(h.client)
        #expect(messages.contains(invalidate("a:1", "a:2")))
        #expect(messages.contains(invalidate("b:1")))
        #expect(!messages.contains("c:1"))
        #expect(h.send("CLIENT", "INFO").contains("flags=tB "))
        #expect(h.send("INFO", "stats").contains("tracking_total_prefixes:2\r\n"))
    }

    @Test func optinRemembersOnlyAfterCachingYes() {
        let h = Harness()
        let other = h.makeClient()
        h.send("HELLO", "3")
        h.send("CLIENT", "TRACKING", "on", "OPTIN")
        h.send("GET", "a")
        h.send(as: other, "SET", "a", "1")
        #expect(pending(h.client) == "")
        #expect(h.send("CLIENT", "CACHING", "yes") == "+OK\r\n")
        h.send("GET", "a")
        h.send("GET", "b")  // CACHING yes covered only the next command
        h.send(as: other, "MSET", "a", "2", "b", "2")
        #expect(pending(h.client) == invalidate("a"))
    }

    @Test func optoutForgetsOnlyAfterCachingNo() {
        let h = Harness()
        let other = h.makeClient()
        h.send("HELLO", "3")
        h.send("CLIENT", "TRACKING", "on", "OPTOUT")
        #expect(h.send("CLIENT", "CACHING", "no") == "+OK\r\n")
        h.send("GET", "a")
        h.send("GET", "b")
        h.send(as: other, "MSET", "a", "2", "b", "2")
        #expect(pending(h.client) == invalidate("b"))
    }

    @Test func flushSendsANullInvalidation() {
        let h = Harness()
        let other = h.makeClient()
        h.send("HELLO", "3")
        h.send("CLIENT", "TRACKING", "on")
        h.send("GET", "a")
        h.send(as: other, "FLUSHALL")
        #expect(pending(h.client) == ">2\r\n$10\r\ninvalidate\r\n_\r\n")
        #expect(h.send("INFO", "stats").contains("tracking_total_keys:0\r\n"))
    }

    @Test func expiryInvalidates() {
        let h = Harness()
        h.send("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        h.send("SET", "k", "v", "PX", "1")
        let deadline = currentTimeMillis() + 5
        while currentTimeMillis() < deadline {}
        let other = h.makeClient()
        h.send(as: other, "HELLO", "3")
        h.send(as: other, "CLIENT", "TRACKING", "on")
        h.send(as: other, "SET", "k2", "v", "PX", "1")
        h.send(as: other, "GET", "k2")
        let later = currentTimeMillis() + 5
        while currentTimeMillis() < later {}
        h.send("GET", "k2")  // lazy expiry by another client
        #expect(pending(other.session).contains(invalidate("k2")))
    }

    @Test func optionErrorsAsRedis() {
        let h = Harness()
        #expect(h.send("CLIENT", "TRACKING", "on", "PREFIX", "a") == "-ERR PREFIX option requires BCAST mode to be enabled\r\n")
        #expect(h.send("CLIENT", "TRACKING", "on", "BCAST", "OPTIN") == "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n")
        #expect(h.send("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT") == "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n")
        #expect(h.send("CLIENT", "TRACKING", "on", "REDIRECT", "99999") == "-ERR The client ID you want redirect to does not exist\r\n")
        #expect(h.send("CLIENT", "TRACKING", "maybe") == "-ERR syntax error\r\n")
        #expect(h.send("CLIENT", "TRACKING", "on", "BOGUS") == "-ERR syntax error\r\n")
        #expect(h.send("CLIENT", "CACHING", "yes") == "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n")
        h.send("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "foo")
        #expect(h.send("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "fo") == "-ERR Prefix 'fo' overlaps with an existing prefix 'foo'. Prefixes for a single client must not overlap.\r\n")
        #expect(h.send("CLIENT", "TRACKING", "on") == "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n")
        #expect(h.send("CLIENT", "CACHING", "yes") == "-ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.\r\n")
        h.send("CLIENT", "TRACKING", "off")
        h.send("CLIENT", "TRACKING", "on", "OPTIN")
        #expect(h.send("CLIENT", "TRACKING", "on", "OPTOUT") == "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n")
        #expect(h.send("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab") == "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n")
    }

    @Test func trackingInfoAndGetredir() {
        let h = Harness()
        #expect(h.send("CLIENT", "GETREDIR") == ":-1\r\n")
        #expect(h.send("CLIENT", "TRACKINGINFO") == "*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n")
        h.send("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a", "NOLOOP")
        #expect(h.send("CLIENT", "TRACKINGINFO") == "*6\r\n$5\r\nflags\r\n*3\r\n$2\r\non\r\n$5\r\nbcast\r\n$6\r\nnoloop\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")
        #expect(h.send("CLIENT", "GETREDIR") == ":0\r\n")
        h.send("CLIENT", "TRACKING", "off")
        #expect(h.send("CLIENT", "GETREDIR") == ":-1\r\n")
        #expect(h.send("INFO", "clients").contains("tracking_clients:0\r\n"))
    }

    @Test func resetTurnsTrackingOff() {
        let h = Harness()
        h.send("CLIENT", "TRACKING", "on")
        h.send("RESET")
        #expect(h.send("CLIENT", "GETREDIR") == ":-1\r\n")
    }
}
