import ApusConfig
import ApusRESP
import ApusStore
import NIOCore

extension ClientSession {
    /// Redis's CLIENT_PUBSUB on a RESP2 connection: only the subscribe family, PING, QUIT and
    /// RESET may run. Read on every command, so it tests plain fields of the session: the
    /// `pubsub` buffer class is set exactly while the client is in Pub/Sub mode (Redis's
    /// getClientType), and no reference to `subscriber` is loaded.
    @inlinable @inline(__always)
    public var inRESP2SubscribedMode: Bool { bufferClass == .pubsub && resp == .resp2 }
}

/// SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH SSUBSCRIBE SUNSUBSCRIBE SPUBLISH and
/// PUBSUB (Redis's pubsub.c). The registry and delivery live in `PubSubRegistry`.
public enum PubSubCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("subscribe", subscribe)
        registry.register("unsubscribe", unsubscribe)
        registry.register("psubscribe", psubscribe)
        registry.register("punsubscribe", punsubscribe)
        registry.register("ssubscribe", ssubscribe)
        registry.register("sunsubscribe", sunsubscribe)
        registry.register("publish", publish)
        registry.register("spublish", spublish)
        registry.register("pubsub|help", help)
        registry.register("pubsub|channels", channels)
        registry.register("pubsub|numsub", numsub)
        registry.register("pubsub|numpat", numpat)
        registry.register("pubsub|shardchannels", shardchannels)
        registry.register("pubsub|shardnumsub", shardnumsub)
    }

    // MARK: Subscribing

    static func subscribe(_ c: inout CommandContext) {
        // Redis's CLIENT_DENY_BLOCKING: scripts (SUBSCRIBE is noscript anyway); a transaction
        // may subscribe, for backward compatibility.
        if ExclusiveSection.isActive && c.client.transaction == nil {
            return c.reply.error("ERR SUBSCRIBE isn't allowed for a DENY BLOCKING client")
        }
        subscribeAll(&c, kind: .channel)
    }

    static func psubscribe(_ c: inout CommandContext) {
        if ExclusiveSection.isActive && c.client.transaction == nil {
            return c.reply.error("ERR PSUBSCRIBE isn't allowed for a DENY BLOCKING client")
        }
        subscribeAll(&c, kind: .pattern)
    }

    static func ssubscribe(_ c: inout CommandContext) {
        // Unlike SUBSCRIBE, not even inside a transaction.
        if ExclusiveSection.isActive || c.client.transaction != nil {
            return c.reply.error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
        }
        subscribeAll(&c, kind: .shard)
    }

    static func unsubscribe(_ c: inout CommandContext) { unsubscribeAll(&c, kind: .channel) }
    static func punsubscribe(_ c: inout CommandContext) { unsubscribeAll(&c, kind: .pattern) }
    static func sunsubscribe(_ c: inout CommandContext) { unsubscribeAll(&c, kind: .shard) }

    private static func subscribeAll(_ c: inout CommandContext, kind: PubSubRegistry.Kind) {
        let client = c.client
        let s = client.subscriber
        let registry = c.server.pubsub
        let args = c.args
        confirming(&c) { w in
            for i in 1..<args.count {
                registry.subscribe(s, args[i], kind: kind, resp: client.resp)
                w.pushHeader(3)
                w.bulk(subscribeWord(kind))
                w.bulk(args[i])
                w.integer(kind == .shard ? s.shardCount : s.subscriptionCount)
            }
        }
        s.isSubscribedMode = true
        client.bufferClass = .pubsub
    }

    private static func unsubscribeAll(_ c: inout CommandContext, kind: PubSubRegistry.Kind) {
        let client = c.client
        let s = client.subscriber
        let registry = c.server.pubsub
        let args = c.args
        confirming(&c) { w in
            func confirm(_ name: Bytes?) {
                w.pushHeader(3)
                w.bulk(unsubscribeWord(kind))
                if let name { w.bulk(name) } else { w.null() }
                w.integer(kind == .shard ? s.shardCount : s.subscriptionCount)
            }
            if args.count == 1 {
                var removed = 0
                for name in registry.subscriptions(s, kind: kind) where registry.unsubscribe(s, name, kind: kind) {
                    removed += 1
                    confirm(name)
                }
                // Subscribed to nothing: Redis still replies, with a null channel.
                if removed == 0 { confirm(nil) }
            } else {
                for i in 1..<args.count {
                    let name = Bytes(args[i])
                    registry.unsubscribe(s, name, kind: kind)
                    confirm(name)
                }
            }
        }
        if s.totalCount == 0 { leaveSubscribedMode(client) }
    }

    /// Writes (un)subscribe confirmations: into the command's reply, or — under CLIENT REPLY
    /// OFF/SKIP, which Redis's pushed confirmations ignore — into the client's inbox, which is
    /// delivered right after the burst's replies.
    private static func confirming(_ c: inout CommandContext, _ body: (inout ReplyWriter) -> Void) {
        let mode = c.client.replyMode
        guard mode == .off || mode == .skipThis else { return body(&c.reply) }
        var side = ReplyWriter(buffer: ByteBuffer(), version: c.client.resp)
        body(&side)
        c.client.subscriber.enqueueOwn(side.buffer)
    }

    /// Redis's list of commands a RESP2 client in Pub/Sub mode may run.
    @usableFromInline
    static func allowedWhileSubscribed(_ command: Command) -> Bool {
        switch command.spec.fullName {
        case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
             "ping", "quit", "reset": return true
        default: return false
        }
    }

    /// The client leaves Pub/Sub mode: back to a normal client's output limits.
    static func leaveSubscribedMode(_ client: ClientSession) {
        client.subscriber.isSubscribedMode = false
        if client.bufferClass == .pubsub { client.bufferClass = .normal }
    }

    /// Drops every subscription (RESET; a closing connection calls the registry directly).
    public static func reset(_ client: ClientSession, server: ServerContext) {
        server.pubsub.unsubscribeAll(client.subscriber)
        leaveSubscribedMode(client)
    }

    static func subscribeWord(_ kind: PubSubRegistry.Kind) -> StaticString {
        switch kind {
        case .channel: return "subscribe"
        case .pattern: return "psubscribe"
        case .shard: return "ssubscribe"
        }
    }

    static func unsubscribeWord(_ kind: PubSubRegistry.Kind) -> StaticString {
        switch kind {
        case .channel: return "unsubscribe"
        case .pattern: return "punsubscribe"
        case .shard: return "sunsubscribe"
        }
    }

    // MARK: Publishing

    static func publish(_ c: inout CommandContext) {
        let receivers = c.server.pubsub.publish(channel: c.args[1], message: c.args[2], shard: false,
                                                    from: c.client.subscriber)
        c.reply.integer(receivers)
    }

    static func spublish(_ c: inout CommandContext) {
        let receivers = c.server.pubsub.publish(channel: c.args[1], message: c.args[2], shard: true,
                                                    from: c.client.subscriber)
        c.reply.integer(receivers)
    }

    // MARK: PUBSUB

    static func help(_ c: inout CommandContext) {
        c.replyHelp("PUBSUB", [
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ])
    }

    static func channels(_ c: inout CommandContext) { channelList(&c, shard: false) }
    static func shardchannels(_ c: inout CommandContext) { channelList(&c, shard: true) }

    private static func channelList(_ c: inout CommandContext, shard: Bool) {
        // PUBSUB CHANNELS [pattern]: more arguments are Redis's subcommand syntax error.
        guard c.args.count <= 3 else { return c.subcommandSyntaxError() }
        let names = c.server.pubsub.channelNames(matching: c.args.count == 3 ? c.args[2] : nil, shard: shard)
        c.reply.arrayHeader(names.count)
        for name in names { c.reply.bulk(name) }
    }

    static func numsub(_ c: inout CommandContext) { numberOfSubscribers(&c, shard: false) }
    static func shardnumsub(_ c: inout CommandContext) { numberOfSubscribers(&c, shard: true) }

    private static func numberOfSubscribers(_ c: inout CommandContext, shard: Bool) {
        c.reply.arrayHeader((c.args.count - 2) * 2)
        for i in 2..<c.args.count {
            c.reply.bulk(c.args[i])
            c.reply.integer(c.server.pubsub.subscriberCount(c.args[i], shard: shard))
        }
    }

    static func numpat(_ c: inout CommandContext) {
        c.reply.integer(c.server.pubsub.patternCount)
    }
}
