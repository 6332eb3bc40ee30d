import ApusConfig
import ApusRESP
import Synchronization

/// Keyspace notifications (Redis's notify.c): with `notify-keyspace-events` enabling an
/// event's class, each event is published as `__keyspace@<db>__:<key>` → event (K) and
/// `__keyevent@<db>__:<event>` → key (E) through the Pub/Sub registry, to subscribers on
/// any event loop.
public final class KeyspaceNotifier: Sendable {
    /// The enabled classes (`KeyspaceEventFlags`); 0 when off, so an emission point costs
    /// one relaxed load.
    public let flags = Atomic<Int>(0)

    public init() {}

    /// Re-reads `notify-keyspace-events` (start-up and CONFIG SET).
    public func refresh(_ config: ConfigRegistry) {
        flags.store(config.keyspaceEvents().rawValue, ordering: .relaxed)
    }

    /// Redis's notifyKeyspaceEvent: publishes `event` for `key` in `database` when its class
    /// `type` is enabled.
    @inlinable
    public func notify(_ type: KeyspaceEventFlags, _ event: StaticString, _ key: UnsafeRawBufferPointer,
                       database: Int, pubsub: PubSubRegistry, publisher: Subscriber? = nil) {
        let enabled = flags.load(ordering: .relaxed)
        if enabled & type.rawValue == 0 { return }
        publish(enabled, event, key, database: database, pubsub: pubsub, publisher: publisher)
    }

    @usableFromInline
    func publish(_ enabled: Int, _ event: StaticString, _ key: UnsafeRawBufferPointer, database: Int,
                 pubsub: PubSubRegistry, publisher: Subscriber?) {
        let eventBytes = UnsafeRawBufferPointer(start: event.utf8Start, count: event.utf8CodeUnitCount)
        let db = Array(String(database).utf8)
        if enabled & KeyspaceEventFlags.keyspace.rawValue != 0 {
            let channel = Array("__keyspace@".utf8) + db + Array("__:".utf8) + Array(key)
            channel.withUnsafeBytes { _ = pubsub.publish(channel: $0, message: eventBytes, shard: false, from: publisher) }
        }
        if enabled & KeyspaceEventFlags.keyevent.rawValue != 0 {
            let channel = Array("__keyevent@".utf8) + db + Array("__:".utf8) + Array(eventBytes)
            channel.withUnsafeBytes { _ = pubsub.publish(channel: $0, message: key, shard: false, from: publisher) }
        }
    }
}

extension CommandContext {
    /// Publishes keyspace event `event` of class `type` for `key` in the client's database
    /// (Redis's notifyKeyspaceEvent, at the same points). When the class is off this is one
    /// relaxed load: nothing else is read (and no reference retained) before the check.
    /// `mutating` only so that callers, which hold the context `inout`, pass it without a
    /// copy (a copy retains every reference it holds).
    @inlinable
    public mutating func notify(_ type: KeyspaceEventFlags, _ event: StaticString, _ key: UnsafeRawBufferPointer) {
        if server.notifier.flags.load(ordering: .relaxed) & type.rawValue == 0 { return }
        publishEvent(type, event, key, database: client.db)
    }

    /// The same for a key of another database (MOVE, COPY ... DB).
    @inlinable
    public mutating func notify(_ type: KeyspaceEventFlags, _ event: StaticString, _ key: UnsafeRawBufferPointer, database: Int) {
        if server.notifier.flags.load(ordering: .relaxed) & type.rawValue == 0 { return }
        publishEvent(type, event, key, database: database)
    }

    /// Redis's "keymiss" event (class m) of a read lookup that found nothing. Out of line, so
    /// `lookupRead` stays small enough to be inlined into every reader.
    @inline(never)
    public mutating func notifyKeyMiss(_ key: UnsafeRawBufferPointer) {
        notify(.keyMiss, "keymiss", key)
    }

    @usableFromInline @inline(never)
    mutating func publishEvent(_ type: KeyspaceEventFlags, _ event: StaticString, _ key: UnsafeRawBufferPointer, database: Int) {
        server.notifier.notify(type, event, key, database: database, pubsub: server.pubsub, publisher: client.subscriber)
    }
}
