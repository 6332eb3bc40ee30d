import ApusRESP
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Client-side caching (CLIENT TRACKING): which clients read which keys, and the invalidation
/// messages they get when those keys change (Redis's tracking.c).
///
/// One table for the whole server, keyed by key name only (like Redis's TrackingTable, which
/// ignores the database), behind one lock taken after shard locks: writers invalidate with
/// their key's shard lock held, so a reader that caches a value after reading it under that
/// lock hears about every later change. Messages go through the target's Pub/Sub inbox
/// (`Subscriber`), so they reach its connection after the reply of whatever command it runs.
public final class TrackingRegistry: @unchecked Sendable {
    /// One tracking client's settings (Redis's CLIENT_TRACKING_* flags).
    struct Tracked {
        unowned(unsafe) let session: ClientSession
        var options: TrackingOptions
        var redirect: Int
        var brokenRedirect = false
        var prefixes: [Bytes] = []
    }

    /// A BCAST prefix: its clients, and the keys changed since the last broadcast with the
    /// client that changed each (for NOLOOP).
    struct Prefix {
        var clients: [Int] = []
        var pending: [Bytes: Int] = [:]
        var pendingOrder: [Bytes] = []
    }

    private let lock = NIOLock()
    private var clients: [Int: Tracked] = [:]
    private var table: [Bytes: Set<Int>] = [:]
    private var items = 0
    private var prefixes: [Bytes: Prefix] = [:]
    private var pendingBroadcasts = 0
    /// Tracking clients: writers skip everything while it is 0.
    @usableFromInline let trackingClients = Atomic<Int>(0)
    public let broadcastPending = Atomic<Bool>(false)

    @inlinable
    public var isActive: Bool { trackingClients.load(ordering: .relaxed) > 0 }

    // MARK: INFO

    public var clientCount: Int { trackingClients.load(ordering: .relaxed) }
    public var totalKeys: Int { lock.withLock { table.count } }
    public var totalItems: Int { lock.withLock { items } }
    public var totalPrefixes: Int { lock.withLock { prefixes.count } }

    /// Who CLIENT TRACKING ... REDIRECT names.
    private let registry: ClientRegistry

    init(clients: ClientRegistry) { registry = clients }

    /// A prefix as Redis's %s prints it (up to a NUL byte).
    private func cString(_ bytes: Bytes) -> String {
        String(decoding: bytes.array.prefix { $0 != 0 }, as: UTF8.self)
    }

    // MARK: Settings (the client's own loop)

    func settings(of client: ClientSession) -> Tracked? {
        lock.withLock { clients[client.id] }
    }

    /// A BCAST prefix of `client` or of `others` that overlaps another (Redis's
    /// checkPrefixCollisionsOrReply), as its error reply.
    func prefixCollision(_ client: ClientSession, _ others: [Bytes]) -> String? {
        let existing = lock.withLock { clients[client.id]?.prefixes ?? [] }
        func overlap(_ a: Bytes, _ b: Bytes) -> Bool {
            let (short, long) = a.count <= b.count ? (a.array, b.array) : (b.array, a.array)
            return long.starts(with: short)
        }
        for (i, prefix) in others.enumerated() {
            if let collision = existing.first(where: { overlap($0, prefix) }) {
                return "ERR Prefix '\(cString(prefix))' overlaps with an existing prefix '\(cString(collision))'. Prefixes for a single client must not overlap."
            }
            for other in others[(i + 1)...] where overlap(prefix, other) {
                return "ERR Prefix '\(cString(prefix))' overlaps with another provided prefix '\(cString(other))'. Prefixes for a single client must not overlap."
            }
        }
        return nil
    }

    /// CLIENT TRACKING ON (Redis's enableTracking): options replace the previous ones; BCAST
    /// prefixes add to the client's (none given: the empty prefix, every key).
    func enable(_ client: ClientSession, options: TrackingOptions, redirect: Int, prefixes newPrefixes: [Bytes]) {
        lock.withLockVoid {
            var tracked = clients[client.id] ?? Tracked(session: client, options: [], redirect: 0)
            if clients[client.id] == nil { trackingClients.add(1, ordering: .relaxed) }
            tracked.options = options.intersection([.bcast, .optIn, .optOut, .noLoop])
            tracked.redirect = redirect
            tracked.brokenRedirect = false
            if options.contains(.bcast) {
                for prefix in newPrefixes.isEmpty ? [Bytes()] : newPrefixes where !tracked.prefixes.contains(prefix) {
                    tracked.prefixes.append(prefix)
                    prefixes[prefix, default: Prefix()].clients.append(client.id)
                }
            }
            clients[client.id] = tracked
        }
        client.trackingMode = options.contains(.bcast) ? .broadcast : .keys
        client.trackingCaching = false
        client.trackingRedirect = redirect
        client.trackingBrokenRedirect = false
    }

    /// CLIENT TRACKING OFF, RESET and disconnection (Redis's disableTracking). The client's
    /// entries in the key table are dropped lazily, as in Redis.
    public func disable(_ client: ClientSession) {
        guard client.trackingMode != .off else { return }
        lock.withLockVoid {
            guard let tracked = clients.removeValue(forKey: client.id) else { return }
            trackingClients.subtract(1, ordering: .relaxed)
            for prefix in tracked.prefixes {
                guard var state = prefixes[prefix] else { continue }
                state.clients.removeAll { $0 == client.id }
                if state.clients.isEmpty {
                    pendingBroadcasts &-= state.pendingOrder.isEmpty ? 0 : 1
                    prefixes[prefix] = nil
                } else {
                    prefixes[prefix] = state
                }
            }
        }
        client.trackingMode = .off
        client.trackingCaching = false
        client.trackingRedirect = -1
        client.trackingBrokenRedirect = false
    }

    // MARK: Reads

    /// Remembers that `client` read `keys` (after a read-only command; Redis's
    /// trackingRememberKeys), honouring OPTIN/OPTOUT and CLIENT CACHING.
    func remember(_ client: ClientSession, keys: [UnsafeRawBufferPointer], maxKeys: Int) {
        var evicted: [Bytes] = []
        lock.withLockVoid {
            guard let tracked = clients[client.id] else { return }
            let optIn = tracked.options.contains(.optIn), optOut = tracked.options.contains(.optOut)
            if (optIn && !client.trackingCaching) || (optOut && client.trackingCaching) { return }
            for key in keys {
                if table[Bytes(key), default: []].insert(client.id).inserted { items &+= 1 }
            }
            // tracking-table-max-keys: forget (and invalidate) keys beyond the limit.
            if maxKeys > 0 && table.count > maxKeys {
                for (key, _) in table.prefix(table.count - maxKeys) { evicted.append(key) }
            }
        }
        for key in evicted { key.withUnsafeBytes { invalidate($0, by: nil, broadcast: false) } }
    }

    // MARK: Writes (the key's shard lock held)

    /// `key` changed (Redis's trackingInvalidateKey): tells every client that cached it and
    /// forgets them; records it for the BCAST prefixes it matches. `modifier` is the writing
    /// client (NOLOOP), nil for the server itself (expiry, eviction).
    public func invalidate(_ key: UnsafeRawBufferPointer, by modifier: ClientSession?, broadcast: Bool = true) {
        lock.withLockVoid {
            if broadcast && !prefixes.isEmpty {
                for (prefix, var state) in prefixes where prefix.count <= key.count {
                    guard prefix.withUnsafeBytes({ p in p.elementsEqual(UnsafeRawBufferPointer(rebasing: key[0..<p.count])) }) else { continue }
                    let owned = Bytes(key)
                    if state.pending.updateValue(modifier?.id ?? 0, forKey: owned) == nil {
                        if state.pendingOrder.isEmpty { pendingBroadcasts &+= 1 }
                        state.pendingOrder.append(owned)
                    }
                    prefixes[prefix] = state
                    broadcastPending.store(true, ordering: .relaxed)
                }
            }
            let owned = Bytes(key)
            guard let ids = table.removeValue(forKey: owned) else { return }
            items &-= ids.count
            for id in ids {
                guard let tracked = clients[id], !tracked.options.contains(.bcast) else { continue }
                if tracked.options.contains(.noLoop) && id == modifier?.id { continue }
                sendLocked(to: id, tracked) { w in
                    w.arrayHeader(1)
                    w.bulk(key)
                }
            }
        }
    }

    /// FLUSHDB / FLUSHALL (Redis's trackingInvalidateKeysOnFlush): every tracking client gets
    /// a null invalidation and the table is emptied.
    public func invalidateAll() {
        guard isActive else { return }
        lock.withLockVoid {
            for (id, tracked) in clients {
                sendLocked(to: id, tracked) { w in w.null() }
            }
            table.removeAll()
            items = 0
        }
    }

    /// Sends the keys BCAST prefixes collected since the last call, one message per prefix
    /// (Redis's trackingBroadcastInvalidationMessages, run before the event loop sleeps; Apus
    /// runs it after each top-level command that changed such a key).
    public func broadcastPendingKeys() {
        guard broadcastPending.exchange(false, ordering: .relaxed) else { return }
        lock.withLockVoid {
            guard pendingBroadcasts > 0 else { return }
            for (prefix, var state) in prefixes where !state.pendingOrder.isEmpty {
                for id in state.clients {
                    guard let tracked = clients[id] else { continue }
                    // Redis keeps them in a radix tree: sent in byte order.
                    let keys = (tracked.options.contains(.noLoop)
                        ? state.pendingOrder.filter { state.pending[$0] != id }
                        : state.pendingOrder).sorted()
                    if keys.isEmpty { continue }
                    sendLocked(to: id, tracked) { w in
                        w.arrayHeader(keys.count)
                        for key in keys { w.bulk(key) }
                    }
                }
                state.pending.removeAll()
                state.pendingOrder.removeAll()
                prefixes[prefix] = state
            }
            pendingBroadcasts = 0
        }
    }

    /// Sends one invalidation (Redis's sendTrackingMessage): to the client, or to the one it
    /// redirects to; RESP3 connections get a push, a RESP2 redirect target in Pub/Sub mode a
    /// `__redis__:invalidate` message, anyone else nothing. `body` writes the keys (or null).
    private func sendLocked(to id: Int, _ tracked: Tracked, _ body: (inout ReplyWriter) -> Void) {
        var target = tracked.session
        var redirected = false
        if tracked.redirect != 0 {
            guard let other = registry.client(id: tracked.redirect) else {
                clients[id]?.brokenRedirect = true
                target.trackingBrokenRedirect = true
                if target.resp == .resp3 {
                    let redirect = tracked.redirect
                    TrackingRegistry.push(to: target) { w in
                        w.buffer.writeStaticString(">2\r\n")
                        w.bulk("tracking-redir-broken")
                        w.integer(redirect)
                    }
                }
                return
            }
            target = other
            redirected = true
        }
        let resp3 = target.resp == .resp3
        guard resp3 || (redirected && target.subscriber.isSubscribedMode) else { return }
        TrackingRegistry.push(to: target) { w in
            let version = w.version
            w.version = resp3 ? .resp3 : .resp2
            if resp3 {
                w.buffer.writeStaticString(">2\r\n$10\r\ninvalidate\r\n")
            } else {
                w.buffer.writeStaticString("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n")
            }
            body(&w)
            w.version = version
        }
    }

    /// Appends a message to `client`'s inbox and wakes its loop.
    static func push(to client: ClientSession, _ write: (inout ReplyWriter) -> Void) {
        let subscriber = client.subscriber
        if let box = subscriber.enqueue(write), box.post(subscriber) { box.wake() }
    }
}

/// CLIENT TRACKING options.
public struct TrackingOptions: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bcast = TrackingOptions(rawValue: 1 << 0)
    public static let optIn = TrackingOptions(rawValue: 1 << 1)
    public static let optOut = TrackingOptions(rawValue: 1 << 2)
    public static let noLoop = TrackingOptions(rawValue: 1 << 3)
}

/// A client's tracking mode, mirrored on its session for the dispatcher's fast path.
public enum TrackingMode: UInt8, Sendable {
    case off
    /// Default, OPTIN or OPTOUT: the keys it reads are remembered.
    case keys
    /// BCAST: prefixes instead of keys.
    case broadcast
}
