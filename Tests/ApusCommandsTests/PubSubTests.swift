import ApusCommands
import ApusConfig
import ApusRESP
import Testing

/// Pub/Sub commands through the real dispatcher (replies byte for byte as redis-server 7.2
/// sends them). Clients here have no connection: published messages stay in their inbox.
@Suite struct PubSubTests {
    private func pending(_ client: ClientSession) -> String {
        String(decoding: client.subscriber.takePending().readableBytesView, as: UTF8.self)
    }

    @Test func subscribeRepliesPerChannelWithTheRunningCount() {
        let h = Harness()
        #expect(h.send("SUBSCRIBE", "a", "b", "a") ==
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n")
        #expect(h.send("PSUBSCRIBE", "a*") == "*3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:3\r\n")
        // Shard channels are counted apart.
        #expect(h.send("SSUBSCRIBE", "s") == "*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n")
    }

    @Test func unsubscribeWithoutSubscriptionsRepliesWithANullChannel() {
        let h = Harness()
        #expect(h.send("UNSUBSCRIBE") == "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n")
        #expect(h.send("PUNSUBSCRIBE") == "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n")
        #expect(h.send("SUNSUBSCRIBE") == "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n")
        #expect(h.send("PUNSUBSCRIBE", "x", "y") ==
            "*3\r\n$12\r\npunsubscribe\r\n$1\r\nx\r\n:0\r\n*3\r\n$12\r\npunsubscribe\r\n$1\r\ny\r\n:0\r\n")
    }

    @Test func unsubscribeWithoutArgumentsLeavesEveryChannel() {
        let h = Harness()
        h.send("SUBSCRIBE", "a", "b")
        h.send("PSUBSCRIBE", "p*")
        #expect(h.send("UNSUBSCRIBE") ==
            "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n")
        let other = h.makeClient()
        #expect(h.send(as: other, "PUBSUB", "CHANNELS") == "*0\r\n")
        #expect(h.send(as: other, "PUBSUB", "NUMPAT") == ":1\r\n")
        #expect(h.send("PUNSUBSCRIBE") == "*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n")
        // Out of Pub/Sub mode: any command runs again.
        #expect(h.send("GET", "k") == "$-1\r\n")
    }

    @Test func resp2SubscribersMayOnlyRunTheSubscribeFamilyPingQuitAndReset() {
        let h = Harness()
        h.send("SUBSCRIBE", "a")
        #expect(h.send("GET", "k") ==
            "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")
        #expect(h.send("CLIENT", "ID") ==
            "-ERR Can't execute 'client|id': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")
        #expect(h.send("PING") == "*2\r\n$4\r\npong\r\n$0\r\n\r\n")
        #expect(h.send("PING", "hi") == "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n")
        #expect(h.send("RESET") == "+RESET\r\n")
        #expect(h.send("PING") == "+PONG\r\n")
        #expect(h.send("PUBSUB", "NUMSUB", "a") == "*2\r\n$1\r\na\r\n:0\r\n")
    }

    @Test func resp3SubscribersRunAnyCommandAndGetPushes() {
        let h = Harness()
        h.send("HELLO", "3")
        #expect(h.send("SUBSCRIBE", "a") == ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n")
        #expect(h.send("GET", "k") == "_\r\n")
        #expect(h.send("PING") == "+PONG\r\n")
        // A message to itself comes after PUBLISH's own reply.
        #expect(h.send("PUBLISH", "a", "hi") == ":1\r\n")
        #expect(pending(h.client) == ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n")
        #expect(h.send("UNSUBSCRIBE") == ">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n")
    }

    @Test func helloSwitchesTheProtocolOfLaterMessages() {
        let h = Harness()
        let sub = h.makeClient()
        h.send(as: sub, "HELLO", "3")
        h.send(as: sub, "SUBSCRIBE", "a")
        h.send("PUBLISH", "a", "1")
        #expect(pending(sub.session) == ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\n1\r\n")
        h.send(as: sub, "HELLO", "2")
        h.send("PUBLISH", "a", "2")
        #expect(pending(sub.session) == "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\n2\r\n")
    }

    @Test func publishReachesChannelAndPatternSubscribersAndCountsThem() {
        let h = Harness()
        let sub = h.makeClient()
        h.send(as: sub, "SUBSCRIBE", "news.art")
        h.send(as: sub, "PSUBSCRIBE", "news.*", "other.*")
        #expect(h.send("PUBLISH", "news.art", "hello") == ":2\r\n")
        #expect(pending(sub.session) ==
            "*3\r\n$7\r\nmessage\r\n$8\r\nnews.art\r\n$5\r\nhello\r\n"
            + "*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$8\r\nnews.art\r\n$5\r\nhello\r\n")
        #expect(h.send("PUBLISH", "nobody", "x") == ":0\r\n")
        // Shard channels ignore patterns.
        h.send(as: sub, "SSUBSCRIBE", "news.art")
        #expect(h.send("SPUBLISH", "news.art", "s") == ":1\r\n")
        #expect(pending(sub.session) == "*3\r\n$8\r\nsmessage\r\n$8\r\nnews.art\r\n$1\r\ns\r\n")
    }

    @Test func pubsubIntrospection() {
        let h = Harness()
        let a = h.makeClient()
        let b = h.makeClient()
        h.send(as: a, "SUBSCRIBE", "x", "y")
        h.send(as: b, "SUBSCRIBE", "x")
        h.send(as: b, "PSUBSCRIBE", "p*", "q*")
        h.send(as: a, "PSUBSCRIBE", "p*")
        h.send(as: a, "SSUBSCRIBE", "sh")
        #expect(h.send("PUBSUB", "NUMSUB", "x", "y", "z") == "*6\r\n$1\r\nx\r\n:2\r\n$1\r\ny\r\n:1\r\n$1\r\nz\r\n:0\r\n")
        #expect(h.send("PUBSUB", "NUMSUB") == "*0\r\n")
        #expect(h.send("PUBSUB", "NUMPAT") == ":2\r\n")
        #expect(h.send("PUBSUB", "CHANNELS", "y") == "*1\r\n$1\r\ny\r\n")
        #expect(Set(h.send("PUBSUB", "CHANNELS").split(separator: "\r\n")) == ["*2", "$1", "x", "y"])
        #expect(h.send("PUBSUB", "SHARDCHANNELS") == "*1\r\n$2\r\nsh\r\n")
        #expect(h.send("PUBSUB", "SHARDNUMSUB", "sh") == "*2\r\n$2\r\nsh\r\n:1\r\n")
        #expect(h.send("PUBSUB", "channels", "a", "b") ==
            "-ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP.\r\n")
        #expect(h.send("PUBSUB", "NUMPAT", "x") == "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n")
        #expect(h.send("PUBSUB", "HELP").hasPrefix("*14\r\n+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"))
        let info = h.send("INFO", "stats")
        #expect(info.contains("pubsub_channels:2\r\n"))
        #expect(info.contains("pubsub_patterns:2\r\n"))
        #expect(info.contains("pubsubshard_channels:1\r\n"))
        let list = h.send("CLIENT", "LIST")
        #expect(list.contains("flags=P db=0 sub=2 psub=1 ssub=1 "))
        #expect(list.contains("flags=P db=0 sub=1 psub=2 ssub=0 "))
    }

    @Test func transactionsMaySubscribeButNotShardSubscribe() {
        let h = Harness()
        h.send("MULTI")
        h.send("SUBSCRIBE", "a")
        h.send("SSUBSCRIBE", "b")
        #expect(h.send("EXEC") ==
            "*2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n")
    }

    @Test func confirmationsBypassClientReplyOff() {
        let h = Harness()
        h.send("HELLO", "3")
        #expect(h.send("CLIENT", "REPLY", "OFF") == "")
        #expect(h.send("SUBSCRIBE", "a") == "")
        #expect(pending(h.client) == ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n")
    }

    @Test func subscribersUseThePubSubOutputLimitClass() {
        let h = Harness()
        h.send("SUBSCRIBE", "a")
        #expect(h.client.bufferClass == .pubsub)
        h.send("UNSUBSCRIBE")
        #expect(h.client.bufferClass == .normal)
    }
}
