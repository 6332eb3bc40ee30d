import ApusRESP
import CSystemShims
import Synchronization

/// The type of a key's value, numbered like Redis's `OBJ_*` constants (RDB and `TYPE` use them).
public enum ValueType: UInt8, Sendable {
    case string = 0
    case list = 1
    case set = 2
    case zset = 3
    case hash = 4
    case stream = 6

    /// The name `TYPE` replies with.
    public var name: StaticString {
        switch self {
        case .string: "string"
        case .list: "list"
        case .set: "set"
        case .zset: "zset"
        case .hash: "hash"
        case .stream: "stream"
        }
    }
}

/// How a string value is encoded, as `OBJECT ENCODING` reports it.
public enum StringEncoding: UInt8, Sendable {
    case int = 0
    case embstr = 1
    case raw = 2
    /// "int" too, but a private object rather than one of Redis's shared integers 0..9999:
    /// what COPY makes (dupStringObject), so OBJECT REFCOUNT answers 1 for it.
    case unsharedInt = 3
}

/// One key-value pair of the keyspace: a single heap block, no class references.
///
/// Layout (unaligned fields; one malloc per key keeps small keys at one glibc chunk):
///
///     0  UInt32  key length, bit 31 = has expire
///     4  UInt32  value length in bytes (strings) or 16 (collections: object pointer + counted size)
///     8  UInt8   type (high nibble) | encoding (low nibble)
///     9  UInt8×3 access clock: LRU seconds, or LFU minutes(16) + counter(8)
///    12  Int64   expire time in ms since the epoch   (only when bit 31 is set)
///     …  key bytes, then value bytes
///
/// A 10-byte key with a 16-byte value takes 38 bytes (a 48-byte glibc chunk).
public struct Entry {
    public let pointer: UnsafeMutableRawPointer

    @inlinable
    public init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }

    @usableFromInline static let headerSize = 12
    @usableFromInline static let expireBit: UInt32 = 1 << 31

    // MARK: Allocation

    /// Allocates an entry holding `key` and `valueLength` uninitialised value bytes.
    /// `spareCapacity` reserves room to grow the value in place (APPEND, SETRANGE, SETBIT).
    @inlinable
    public static func allocate(key: UnsafeRawBufferPointer, valueLength: Int, type: ValueType,
                                encoding: UInt8, expireAt: Int64?, spareCapacity: Int = 0) -> Entry {
        let expireSize = expireAt == nil ? 0 : 8
        let size = headerSize &+ expireSize &+ key.count &+ valueLength &+ spareCapacity
        let p = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(size, 16), alignment: 8)
        var keyWord = UInt32(truncatingIfNeeded: key.count)
        if expireAt != nil { keyWord |= expireBit }
        p.storeBytes(of: keyWord, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: UInt32(truncatingIfNeeded: valueLength), toByteOffset: 4, as: UInt32.self)
        p.storeBytes(of: (type.rawValue << 4) | (encoding & 0x0F), toByteOffset: 8, as: UInt8.self)
        // New keys start "just accessed", as Redis's createObject stamps the LRU clock.
        let clock = sharedLRUClock.load(ordering: .relaxed)
        p.storeBytes(of: UInt8(truncatingIfNeeded: clock), toByteOffset: 9, as: UInt8.self)
        p.storeBytes(of: UInt16(truncatingIfNeeded: clock >> 8), toByteOffset: 10, as: UInt16.self)
        if let expireAt { p.storeBytes(of: expireAt, toByteOffset: headerSize, as: Int64.self) }
        if key.count > 0 {
            (p + headerSize + expireSize).copyMemory(from: key.baseAddress!, byteCount: key.count)
        }
        return Entry(p)
    }

    /// Frees the block. Collections release their object first (`releaseObject`).
    @inlinable
    public func deallocate() { pointer.deallocate() }

    // MARK: Header fields

    @inlinable
    var keyWord: UInt32 { pointer.loadUnaligned(fromByteOffset: 0, as: UInt32.self) }

    @inlinable
    public var keyLength: Int { Int(keyWord & ~Entry.expireBit) }

    @inlinable
    public var hasExpire: Bool { keyWord & Entry.expireBit != 0 }

    @inlinable
    public var valueLength: Int { Int(pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) }

    @inlinable
    public var type: ValueType { ValueType(rawValue: pointer.load(fromByteOffset: 8, as: UInt8.self) >> 4) ?? .string }

    @inlinable
    public var encoding: UInt8 {
        get { pointer.load(fromByteOffset: 8, as: UInt8.self) & 0x0F }
        nonmutating set {
            let typeBits = pointer.load(fromByteOffset: 8, as: UInt8.self) & 0xF0
            pointer.storeBytes(of: typeBits | (newValue & 0x0F), toByteOffset: 8, as: UInt8.self)
        }
    }

    /// 24-bit access clock (LRU seconds or LFU time+counter), maintained by the eviction code.
    @inlinable
    public var accessClock: UInt32 {
        get {
            UInt32(pointer.load(fromByteOffset: 9, as: UInt8.self))
                | UInt32(pointer.loadUnaligned(fromByteOffset: 10, as: UInt16.self)) << 8
        }
        nonmutating set {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: newValue), toByteOffset: 9, as: UInt8.self)
            pointer.storeBytes(of: UInt16(truncatingIfNeeded: newValue >> 8), toByteOffset: 10, as: UInt16.self)
        }
    }

    /// Expire time in ms since the epoch, or nil for a persistent key.
    @inlinable
    public var expireAt: Int64? {
        guard hasExpire else { return nil }
        return pointer.loadUnaligned(fromByteOffset: Entry.headerSize, as: Int64.self)
    }

    /// Overwrites the expire time of an entry that already has one.
    @inlinable
    public func setExpireInPlace(_ ms: Int64) {
        precondition(hasExpire)
        pointer.storeBytes(of: ms, toByteOffset: Entry.headerSize, as: Int64.self)
    }

    @inlinable
    var keyOffset: Int { Entry.headerSize &+ (hasExpire ? 8 : 0) }

    /// The key's bytes (valid while the entry lives and the shard lock is held).
    @inlinable
    public var key: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pointer + keyOffset, count: keyLength)
    }

    /// A string value's bytes.
    @inlinable
    public var value: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pointer + keyOffset + keyLength, count: valueLength)
    }

    /// A string value's bytes, writable in place (same length).
    @inlinable
    public var mutableValue: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: pointer + keyOffset + keyLength, count: valueLength)
    }

    /// Changes the recorded value length of a block that has room for it (in-place growth).
    @inlinable
    func setValueLength(_ length: Int) {
        pointer.storeBytes(of: UInt32(truncatingIfNeeded: length), toByteOffset: 4, as: UInt32.self)
    }

    /// Bytes the value may grow to without reallocating the block.
    @inlinable
    public var valueCapacity: Int { Int(apus_usable_size(pointer)) &- keyOffset &- keyLength }

    /// Bytes this entry's heap block takes (memory accounting): its malloc chunk, header and
    /// rounding included. The allocator is asked (`heapBlockBytes(ofBlock:)`, about 20
    /// instructions) rather than the size computed from the fields: a block may hold spare
    /// capacity (APPEND, SETRANGE, SETBIT grow strings greedily and in place), values are
    /// overwritten in place with other lengths and encodings, and glibc sometimes hands out a
    /// chunk 16 bytes bigger than asked. So the figure never changes while the block lives,
    /// whatever is done to it in place.
    @inlinable
    public var allocatedSize: Int { heapBlockBytes(ofBlock: pointer) }
}

/// The keyspace hash: seeded SipHash (Swift's `Hasher`), so hash flooding does not work.
@inlinable
public func keyHash(_ key: UnsafeRawBufferPointer) -> UInt64 {
    var hasher = Hasher()
    hasher.combine(bytes: key)
    return UInt64(bitPattern: Int64(hasher.finalize()))
}

// MARK: Collections and copies

extension Entry {
    /// Allocates an entry whose value is a collection object (retained by the entry).
    ///
    /// The value is 16 bytes: the object pointer, then the object's size as the shard last
    /// counted it (`syncedObjectBytes`, maintained by the shard's memory accounting).
    public static func allocate(key: UnsafeRawBufferPointer, object: AnyObject, type: ValueType,
                                encoding: UInt8, expireAt: Int64?) -> Entry {
        precondition(type != .string)
        let entry = allocate(key: key, valueLength: 16, type: type, encoding: encoding, expireAt: expireAt)
        let raw = Unmanaged.passRetained(object).toOpaque()
        entry.mutableValue.baseAddress!.storeBytes(of: raw, as: UnsafeMutableRawPointer.self)
        entry.syncedObjectBytes = 0
        return entry
    }

    /// The object size the shard counted for this collection entry (see ShardMemory.swift).
    @inlinable
    public var syncedObjectBytes: Int {
        get { Int(value.baseAddress!.loadUnaligned(fromByteOffset: 8, as: Int64.self)) }
        nonmutating set { mutableValue.baseAddress!.storeBytes(of: Int64(newValue), toByteOffset: 8, as: Int64.self) }
    }

    /// The collection object of a non-string entry.
    public var object: AnyObject {
        precondition(type != .string)
        let raw = value.baseAddress!.loadUnaligned(as: UnsafeMutableRawPointer.self)
        return Unmanaged<AnyObject>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Releases the collection object, if any (before `deallocate`).
    @inlinable
    public func releaseObject() {
        guard type != .string else { return }
        let raw = value.baseAddress!.loadUnaligned(as: UnsafeMutableRawPointer.self)
        Unmanaged<AnyObject>.fromOpaque(raw).release()
    }

    /// A new block with `key` (default: this one's) and `expireAt`, holding this entry's value.
    /// A collection object is *moved* (not retained): free the old block with `deallocate()` only.
    public func copy(key newKey: UnsafeRawBufferPointer? = nil, expireAt: Int64?) -> Entry {
        let k = newKey ?? key
        let new = Entry.allocate(key: k, valueLength: valueLength, type: type, encoding: encoding, expireAt: expireAt)
        if valueLength > 0 {
            new.mutableValue.baseAddress!.copyMemory(from: value.baseAddress!, byteCount: valueLength)
        }
        new.accessClock = accessClock
        return new
    }
}
