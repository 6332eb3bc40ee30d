import ApusRESP
import NIOConcurrencyHelpers
import NIOCore

/// The server's Pub/Sub state (Redis's server.pubsub_channels, pubsub_patterns and
/// pubsubshard_channels): channel → subscribers, pattern → subscribers, shard channel →
/// subscribers, behind one lock held only for a lookup and the appends of one publish.
///
/// Delivery crosses event loops without a task per message: a publisher appends the encoded
/// message to each receiver's inbox (`Subscriber`), and a receiver whose inbox was empty is
/// posted to its event loop's `PubSubMailbox`; the first post wakes that loop once, and the
/// loop then hands every pending inbox to its connection. A publisher's messages reach each
/// inbox in publish order, so each subscriber sees one publisher's messages in that order.
/// A subscriber on the publisher's own loop goes through the same inbox, but its loop needs
/// no wake-up: the drain runs when the current read burst is done.
public final class PubSubRegistry: @unchecked Sendable {
    private let lock = NIOLock()
    private var channels: [Bytes: [Subscriber]] = [:]
    private var shardChannels: [Bytes: [Subscriber]] = [:]
    private var patterns: [Bytes: [Subscriber]] = [:]
    /// One mailbox per event loop (by worker index), created when a loop's first client connects.
    private var mailboxes: [Int: PubSubMailbox] = [:]

    public init() {}

    /// The mailbox of the event loop `index` runs on (one per loop for the server's life).
    public func mailbox(index: Int, loop: any EventLoop) -> PubSubMailbox {
        lock.withLock {
            if let box = mailboxes[index] { return box }
            let box = PubSubMailbox(loop: loop)
            mailboxes[index] = box
            return box
        }
    }

    public enum Kind: Sendable {
        case channel, pattern, shard
    }

    // MARK: Subscriptions (called on the subscriber's own loop)

    /// Adds the subscription; false when the client already had it (Redis replies anyway).
    /// `resp` is the protocol the client's messages are encoded in from now on.
    @discardableResult
    public func subscribe(_ s: Subscriber, _ name: UnsafeRawBufferPointer, kind: Kind, resp: RESPVersion) -> Bool {
        let key = Bytes(name)
        return lock.withLock {
            s.resp = resp
            guard s.insert(key, kind) else { return false }
            switch kind {
            case .channel: channels[key, default: []].append(s)
            case .pattern: patterns[key, default: []].append(s)
            case .shard: shardChannels[key, default: []].append(s)
            }
            return true
        }
    }

    /// HELLO switched the client's protocol: its messages are encoded in the new one.
    public func protocolChanged(_ s: Subscriber, to resp: RESPVersion) {
        guard s.totalCount > 0 else { return }
        lock.withLockVoid { s.resp = resp }
    }

    /// Removes the subscription; false when the client did not have it.
    @discardableResult
    public func unsubscribe(_ s: Subscriber, _ key: Bytes, kind: Kind) -> Bool {
        lock.withLock { removeLocked(s, key, kind: kind) }
    }

    private func removeLocked(_ s: Subscriber, _ key: Bytes, kind: Kind) -> Bool {
        guard s.remove(key, kind) else { return false }
        func drop(_ table: inout [Bytes: [Subscriber]]) {
            guard var list = table[key] else { return }
            if let i = list.firstIndex(where: { $0 === s }) { list.remove(at: i) }
            // Like Redis, a channel nobody listens to is forgotten (PUBSUB CHANNELS).
            table[key] = list.isEmpty ? nil : list
        }
        switch kind {
        case .channel: drop(&channels)
        case .pattern: drop(&patterns)
        case .shard: drop(&shardChannels)
        }
        return true
    }

    /// The client's subscriptions of one kind, in the order UNSUBSCRIBE without arguments
    /// removes them.
    public func subscriptions(_ s: Subscriber, kind: Kind) -> [Bytes] {
        lock.withLock { s.names(kind) }
    }

    /// Drops every subscription of the client (disconnect, RESET) and what it had not received.
    public func unsubscribeAll(_ s: Subscriber) {
        lock.withLock {
            for kind in [Kind.channel, .pattern, .shard] {
                for key in s.names(kind) { _ = removeLocked(s, key, kind: kind) }
            }
        }
        s.dropPending()
    }

    // MARK: Publishing

    /// Delivers `message` to the subscribers of `channel` (and, unless `shard`, of every
    /// matching pattern); returns how many received it (a client subscribed by channel and by
    /// pattern counts twice, as in Redis).
    ///
    /// `publisher` is the publishing client: the loops to wake are woken once, when its loop
    /// finishes the current round of I/O, for everything it published meanwhile (a subscriber
    /// on that same loop is then written to without any wake-up).
    public func publish(channel: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, shard: Bool,
                        from publisher: Subscriber? = nil) -> Int {
        let key = Bytes(channel)
        return withUnsafeTemporaryAllocation(of: Unmanaged<PubSubMailbox>.self, capacity: 64) { wake in
            var toWake = 0
            let receivers = lock.withLock { () -> Int in
                var receivers = 0
                func post(_ s: Subscriber, _ write: (inout ReplyWriter) -> Void) {
                    guard let box = s.enqueue(write), box.post(s) else { return }
                    if toWake < wake.count {
                        wake[toWake] = Unmanaged.passUnretained(box)
                        toWake &+= 1
                    } else {
                        box.wake()
                    }
                }
                if let list = shard ? shardChannels[key] : channels[key] {
                    for s in list {
                        post(s) { w in
                            w.pushHeader(3)
                            if shard { w.bulk("smessage") } else { w.bulk("message") }
                            w.bulk(channel)
                            w.bulk(message)
                        }
                    }
                    receivers &+= list.count
                }
                if !shard && !patterns.isEmpty {
                    for (pattern, list) in patterns {
                        let matches = pattern.withUnsafeBytes { globMatch(pattern: $0, string: channel, ignoreCase: false) }
                        guard matches else { continue }
                        for s in list {
                            post(s) { w in
                                w.pushHeader(4)
                                w.bulk("pmessage")
                                w.bulk(pattern)
                                w.bulk(channel)
                                w.bulk(message)
                            }
                        }
                        receivers &+= list.count
                    }
                }
                return receivers
            }
            if toWake > 0 {
                let home = publisher?.homeMailbox
                for i in 0..<toWake {
                    let box = wake[i].takeUnretainedValue()
                    if let home, home.loop.inEventLoop { home.deferWake(box) } else { box.wake() }
                }
            }
            return receivers
        }
    }

    // MARK: Introspection (PUBSUB, INFO)

    /// Active channels (or shard channels) matching `pattern` (all when nil).
    public func channelNames(matching pattern: UnsafeRawBufferPointer?, shard: Bool) -> [Bytes] {
        lock.withLock {
            let table = shard ? shardChannels : channels
            guard let pattern else { return Array(table.keys) }
            return table.keys.filter { name in
                name.withUnsafeBytes { globMatch(pattern: pattern, string: $0, ignoreCase: false) }
            }
        }
    }

    /// Subscribers of `channel`, not counting pattern subscriptions (PUBSUB NUMSUB).
    public func subscriberCount(_ channel: UnsafeRawBufferPointer, shard: Bool) -> Int {
        let key = Bytes(channel)
        return lock.withLock { (shard ? shardChannels[key] : channels[key])?.count ?? 0 }
    }

    /// INFO stats pubsub_channels, pubsub_patterns, pubsubshard_channels; PUBSUB NUMPAT.
    public var channelCount: Int { lock.withLock { channels.count } }
    public var patternCount: Int { lock.withLock { patterns.count } }
    public var shardChannelCount: Int { lock.withLock { shardChannels.count } }
}

/// One client's Pub/Sub side (ClientSession.subscriber): its subscriptions, and the inbox
/// other loops' publishers append its messages to.
public final class Subscriber: @unchecked Sendable {
    // The subscriptions, changed under the registry's lock (by the client's own loop).
    private var channels: [Bytes] = []
    private var patterns: [Bytes] = []
    private var shardChannels: [Bytes] = []
    private var channelSet: Set<Bytes> = []
    private var patternSet: Set<Bytes> = []
    private var shardSet: Set<Bytes> = []
    /// CLIENT LIST sub=, psub=, ssub= (plain counts other loops may read).
    public private(set) var channelCount = 0
    public private(set) var patternCount = 0
    public private(set) var shardCount = 0
    /// The protocol messages are encoded in: the client's, as of its last (un)subscribe.
    /// Written under the registry lock, read by publishers under it.
    var resp: RESPVersion = .resp2

    /// Redis's CLIENT_PUBSUB: set by (P|S)SUBSCRIBE, cleared once no subscription is left.
    /// It makes RESP2 clients accept only the subscribe family, PING, QUIT and RESET.
    public var isSubscribedMode = false

    /// Redis's clientSubscriptionsCount (channels + patterns): the count in (un)subscribe replies.
    public var subscriptionCount: Int { channelCount &+ patternCount }
    public var totalCount: Int { channelCount &+ patternCount &+ shardCount }

    private let lock = NIOLock()
    /// Encoded messages not yet handed to the connection.
    private var inbox = ByteBuffer()
    /// Posted to the mailbox and not drained yet.
    private var posted = false
    /// The loop's mailbox and the connection's delivery (nil for clients without a
    /// connection: their messages stay in the inbox, see `takePending`).
    private var mailbox: PubSubMailbox?
    /// The same mailbox, read without the lock on the client's own loop (set before its
    /// first command).
    public private(set) var homeMailbox: PubSubMailbox?
    private var deliver: ((inout ByteBuffer) -> Void)?
    /// The drained inbox's buffer, reused (own loop only).
    private var outgoing = ByteBuffer()

    public init() {}

    /// Connects the subscriber to its connection: `deliver` runs on `mailbox`'s loop.
    public func attach(mailbox: PubSubMailbox, deliver: @escaping (inout ByteBuffer) -> Void) {
        lock.withLock {
            self.mailbox = mailbox
            self.deliver = deliver
        }
        homeMailbox = mailbox
    }

    func insert(_ key: Bytes, _ kind: PubSubRegistry.Kind) -> Bool {
        switch kind {
        case .channel:
            guard channelSet.insert(key).inserted else { return false }
            channels.append(key)
            channelCount = channels.count
        case .pattern:
            guard patternSet.insert(key).inserted else { return false }
            patterns.append(key)
            patternCount = patterns.count
        case .shard:
            guard shardSet.insert(key).inserted else { return false }
            shardChannels.append(key)
            shardCount = shardChannels.count
        }
        return true
    }

    func remove(_ key: Bytes, _ kind: PubSubRegistry.Kind) -> Bool {
        switch kind {
        case .channel:
            guard channelSet.remove(key) != nil else { return false }
            channels.removeAll { $0 == key }
            channelCount = channels.count
        case .pattern:
            guard patternSet.remove(key) != nil else { return false }
            patterns.removeAll { $0 == key }
            patternCount = patterns.count
        case .shard:
            guard shardSet.remove(key) != nil else { return false }
            shardChannels.removeAll { $0 == key }
            shardCount = shardChannels.count
        }
        return true
    }

    func names(_ kind: PubSubRegistry.Kind) -> [Bytes] {
        switch kind {
        case .channel: return channels
        case .pattern: return patterns
        case .shard: return shardChannels
        }
    }

    /// Appends one message; returns the mailbox to post to when the inbox was not posted yet.
    @inline(__always)
    func enqueue(_ write: (inout ReplyWriter) -> Void) -> PubSubMailbox? {
        lock.withLock {
            var writer = ReplyWriter(buffer: inbox, version: resp)
            inbox = ByteBuffer()  // keeps the storage uniquely referenced while writing
            write(&writer)
            inbox = writer.buffer
            if posted { return nil }
            guard let mailbox else { return nil }
            posted = true
            return mailbox
        }
    }

    /// Writes replies of the client's own commands that must bypass CLIENT REPLY OFF
    /// (Redis's pushed subscribe confirmations) behind whatever is pending.
    public func enqueueOwn(_ bytes: ByteBuffer) {
        var bytes = bytes
        let box = lock.withLock { () -> PubSubMailbox? in
            inbox.writeBuffer(&bytes)
            if posted { return nil }
            guard let mailbox else { return nil }
            posted = true
            return mailbox
        }
        if let box, box.post(self) { box.wake() }
    }

    /// Hands what the inbox holds to the connection (on the client's loop).
    func drain() {
        let deliver = lock.withLock { () -> ((inout ByteBuffer) -> Void)? in
            swap(&inbox, &outgoing)
            posted = false
            return self.deliver
        }
        if outgoing.readableBytes > 0, let deliver { deliver(&outgoing) }
        outgoing.clear()
    }

    /// The messages not delivered yet (clients without a connection, tests).
    public func takePending() -> ByteBuffer {
        lock.withLock {
            let pending = inbox
            inbox = ByteBuffer()
            return pending
        }
    }

    func dropPending() {
        lock.withLock {
            inbox.clear()
            deliver = nil
        }
    }
}

/// One event loop's list of subscribers with messages waiting: posted from any thread,
/// drained on the loop by one task per batch.
public final class PubSubMailbox: @unchecked Sendable {
    let loop: any EventLoop
    private let lock = NIOLock()
    private var ready: [Subscriber] = []
    private var scheduled = false
    /// The drained list, reused (loop only).
    private var batch: [Subscriber] = []

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Adds `s`; true when the caller must `wake()` the loop (the first post since the last drain).
    func post(_ s: Subscriber) -> Bool {
        lock.withLock {
            ready.append(s)
            if scheduled { return false }
            scheduled = true
            return true
        }
    }

    func wake() {
        loop.execute { self.drain() }
    }

    /// Mailboxes that publishers on this loop posted to since its last round of I/O, woken
    /// together at the end of the round (loop only).
    private var deferred: [PubSubMailbox] = []
    private var deferredScheduled = false

    /// Wakes `box` once this loop's current round of I/O is done (called on this loop): one
    /// cross-thread wake-up per destination loop for a whole round of publishes, and none for
    /// this loop's own subscribers.
    func deferWake(_ box: PubSubMailbox) {
        deferred.append(box)
        if deferredScheduled { return }
        deferredScheduled = true
        loop.execute { self.wakeDeferred() }
    }

    private var deferredSpare: [PubSubMailbox] = []

    private func wakeDeferred() {
        deferredScheduled = false
        var boxes = deferredSpare
        deferredSpare = []
        swap(&boxes, &deferred)
        for box in boxes {
            if box === self { drain() } else { box.wake() }
        }
        boxes.removeAll(keepingCapacity: true)
        deferredSpare = boxes
    }

    private func drain() {
        var list = batch
        batch = []
        lock.withLock {
            swap(&list, &ready)
            scheduled = false
        }
        for s in list { s.drain() }
        list.removeAll(keepingCapacity: true)
        batch = list
    }
}
