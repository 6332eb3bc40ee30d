import ApusConfig
import ApusRESP
import ApusStore
import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// DEBUG: the subcommands Redis's own test suite relies on. Gated by `enable-debug-command`
/// in the dispatcher (the command is flagged `protected`).
public enum DebugCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("debug", debug)
    }

    static func debug(_ c: inout CommandContext) {
        let n = c.args.count
        if n == 2 && c.args.isToken(1, "help") { return help(&c) }
        if c.args.isToken(1, "sleep") && n == 3 { return sleep(&c) }
        if c.args.isToken(1, "set-active-expire") && n == 3 {
            var settings = c.server.settings
            settings.activeExpireEnabled = atoi(c.string(2)) != 0
            c.server.settings = settings
            return c.reply.ok()
        }
        if c.args.isToken(1, "set-disable-deny-scripts") && n == 3 {
            var settings = c.server.settings
            settings.scriptsMayCallDeniedCommands = atoi(c.string(2)) != 0
            c.server.settings = settings
            return c.reply.ok()
        }
        if c.args.isToken(1, "object") && n == 3 { return object(&c) }
        if c.args.isToken(1, "populate") && n >= 3 && n <= 5 { return populate(&c) }
        if c.args.isToken(1, "digest") && n == 2 { return digest(&c) }
        if c.args.isToken(1, "digest-value") && n >= 2 { return digestValue(&c) }
        if c.args.isToken(1, "protocol") && n == 3 { return protocolReply(&c) }
        if c.args.isToken(1, "quicklist-packed-threshold") && n == 3 {
            // Elements at least this big get their own (plain) quicklist node; Redis's tests
            // lower it to exercise plain nodes without huge values.
            guard let bytes = parseMemory(c.string(2)), ListPackedThreshold.set(bytes) else {
                return c.reply.error("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
            }
            return c.reply.ok()
        }
        if c.args.isToken(1, "log") && n == 3 {
            print("DEBUG LOG: \(c.string(2))")
            return c.reply.ok()
        }
        c.subcommandSyntaxError()
    }

    static func help(_ c: inout CommandContext) {
        c.replyHelp("DEBUG", [
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Show low level info about the `key` and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then",
            "    it is used instead of the 'key' prefix. These are not propagated to",
            "    replicas. Cluster slots are not respected so keys not belonging to the",
            "    current node can be created in cluster mode.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Sets the threshold for elements to be inserted as plain vs packed nodes",
            "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ])
    }

    /// Blocks this event loop like Redis blocks its only thread (tests use it to create latency).
    static func sleep(_ c: inout CommandContext) {
        let seconds = strtod(c.string(2), nil)
        let micros = Int64(seconds * 1_000_000)
        if micros > 0 {
            var ts = timespec(tv_sec: Int(micros / 1_000_000), tv_nsec: Int((micros % 1_000_000) * 1000))
            nanosleep(&ts, nil)
        }
        c.reply.ok()
    }

    static func object(_ c: inout CommandContext) {
        let key = c.args[2]
        let now = c.now
        var line: String?
        c.db.withShard(for: key) { shard, hash in
            // Like Redis, DEBUG OBJECT sees logically expired keys (no lazy expiry).
            guard let entry = shard.table.find(key, hash: hash) else { return }
            let lru = Int(entry.accessClock)
            let idle = lruIdleSeconds(accessClock: entry.accessClock, nowMillis: now)
            let address = String(UInt(bitPattern: entry.pointer), radix: 16)
            line = "Value at:0x\(address) refcount:1 encoding:\(entry.encodingName) serializedlength:\(serializedLength(entry)) lru:\(lru) lru_seconds_idle:\(idle)"
            if entry.type == .list, let list = entry.collection(ListObject.self), list.encoding == .quicklist {
                // debug.c's quicklist extras: nodes, average fill, fill setting, compression.
                let hundredths = Int((Double(list.count) / Double(max(list.nodeCount, 1)) * 100).rounded())
                let cents = hundredths % 100
                let average = "\(hundredths / 100).\(cents < 10 ? "0" : "")\(cents)"
                line! += " ql_nodes:\(list.nodeCount) ql_avg_node:\(average) ql_listpack_max:\(list.quicklistFill)"
                    + " ql_compressed:\(list.quicklistCompressDepth != 0 ? 1 : 0) ql_uncompressed_size:\(list.quicklistBytes)"
            }
        }
        if let line { c.reply.simpleString(line) } else { c.reply.error("ERR no such key") }
    }

    /// Bytes the value would take in an RDB file (uncompressed string encoding).
    static func serializedLength(_ entry: Entry) -> Int {
        guard entry.type == .string else { return 0 }
        if entry.valueLength <= 11, let v = parseInteger(entry.value) {
            if v >= -(1 << 7) && v < (1 << 7) { return 2 }
            if v >= -(1 << 15) && v < (1 << 15) { return 3 }
            if v >= -(1 << 31) && v < (1 << 31) { return 5 }
        }
        let n = entry.valueLength
        let prefix = n < 64 ? 1 : (n < 16384 ? 2 : (n <= Int(UInt32.max) ? 5 : 9))
        return prefix + n
    }

    static func populate(_ c: inout CommandContext) {
        guard let count = parseInteger(c.args[2]), count >= 0 else {
            return c.reply.error("ERR value is out of range, must be positive")
        }
        var valueSize = 0
        if c.args.count == 5 {
            guard let size = parseInteger(c.args[4]), size >= 0 else {
                return c.reply.error("ERR value is out of range, must be positive")
            }
            valueSize = size
        }
        let prefix: [UInt8] = c.args.count >= 4 ? Array(c.args[3]) : Array("key".utf8)
        let db = c.db
        let now = c.now
        var added = 0
        for j in 0..<count {
            let key = prefix + Array(":\(j)".utf8)
            var value = Array("value:\(j)".utf8)
            if valueSize > 0 {
                var sized = [UInt8](repeating: 0, count: valueSize)
                for i in 0..<min(valueSize, value.count) { sized[i] = value[i] }
                value = sized
            }
            key.withUnsafeBytes { k in
                value.withUnsafeBytes { v in
                    db.withShard(for: k) { shard, hash in
                        guard shard.lookup(k, hash: hash, now: now) == nil else { return }
                        shard.putString(k, hash: hash, value: v, encoding: stringEncoding(for: v), expireAt: nil, keepTTL: false, existing: nil)
                        added += 1
                    }
                }
            }
        }
        c.addDirty(added)
        c.reply.ok()
    }

    // MARK: Digests
    // Helpers for `DigestibleCollection` conformances: `xor` adds an order-independent part
    // (Redis's xorDigest), `mix` an ordered one (mixDigest).

    static func xor(_ digest: inout [UInt8], _ data: UnsafeRawBufferPointer) {
        let hash = SHA1.hash(data)
        for i in 0..<20 { digest[i] ^= hash[i] }
    }

    static func mix(_ digest: inout [UInt8], _ data: UnsafeRawBufferPointer) {
        xor(&digest, data)
        digest = SHA1.hash(digest)
    }

    /// Redis's per-key digest: type, value, and an "!!expire!!" marker when the key has a TTL.
    static func objectDigest(_ digest: inout [UInt8], _ entry: Entry) {
        var type = UInt32(entry.type.rawValue).bigEndian
        withUnsafeBytes(of: &type) { mix(&digest, $0) }
        switch entry.type {
        case .string:
            mix(&digest, entry.value)
        default:
            (entry.object as? any DigestibleCollection)?.mixDigest(into: &digest)
        }
        if entry.hasExpire { "!!expire!!".utf8CString.dropLast().withUnsafeBytes { xor(&digest, $0) } }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var s = ""
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return s
    }

    static func digest(_ c: inout CommandContext) {
        var final = [UInt8](repeating: 0, count: 20)
        for db in c.server.keyspace.databases {
            db.lockShards(db.allShards)
            defer { db.unlockShards(db.allShards) }
            guard db.shards.contains(where: { $0.table.count > 0 }) else { continue }
            var index = UInt32(db.index).bigEndian
            withUnsafeBytes(of: &index) { mix(&final, $0) }
            for shard in db.shards {
                shard.table.forEach { entry in
                    var digest = [UInt8](repeating: 0, count: 20)
                    mix(&digest, entry.key)
                    objectDigest(&digest, entry)
                    // Redis xors the SHA-1 *of* each key's digest into the total.
                    digest.withUnsafeBytes { xor(&final, $0) }
                }
            }
        }
        c.reply.simpleString(hex(final))
    }

    static func digestValue(_ c: inout CommandContext) {
        c.reply.arrayHeader(c.args.count - 2)
        for j in 2..<c.args.count {
            var digest = [UInt8](repeating: 0, count: 20)
            let key = c.args[j]
            c.db.withShard(for: key) { shard, hash in
                if let entry = shard.table.find(key, hash: hash) { objectDigest(&digest, entry) }
            }
            c.reply.simpleString(hex(digest))
        }
    }

    static func protocolReply(_ c: inout CommandContext) {
        let name = c.args[2]
        if name.equalsIgnoringCase("string") {
            c.reply.bulk("Hello World")
        } else if name.equalsIgnoringCase("integer") {
            c.reply.integer(12345)
        } else if name.equalsIgnoringCase("double") {
            c.reply.double(3.141)
        } else if name.equalsIgnoringCase("bignum") {
            c.reply.bigNumber("1234567999999999999999999999999999999")
        } else if name.equalsIgnoringCase("null") {
            c.reply.null()
        } else if name.equalsIgnoringCase("array") {
            c.reply.arrayHeader(3)
            for j in 0..<3 { c.reply.integer(j) }
        } else if name.equalsIgnoringCase("set") {
            c.reply.setHeader(3)
            for j in 0..<3 { c.reply.integer(j) }
        } else if name.equalsIgnoringCase("map") {
            c.reply.mapHeader(3)
            for j in 0..<3 {
                c.reply.integer(j)
                c.reply.boolean(j == 1)
            }
        } else if name.equalsIgnoringCase("attrib") {
            if c.client.resp == .resp3 {
                c.reply.attributeHeader(1)
                c.reply.bulk("key-popularity")
                c.reply.arrayHeader(2)
                c.reply.bulk("key:123")
                c.reply.integer(90)
            }
            c.reply.bulk("Some real reply following the attribute")
        } else if name.equalsIgnoringCase("push") {
            guard c.client.resp == .resp3 else { return c.reply.error("ERR RESP2 is not supported by this command") }
            c.reply.pushHeader(2)
            c.reply.bulk("server-cpu-usage")
            c.reply.integer(42)
            c.reply.bulk("Some real reply following the push reply")
        } else if name.equalsIgnoringCase("true") {
            c.reply.boolean(true)
        } else if name.equalsIgnoringCase("false") {
            c.reply.boolean(false)
        } else if name.equalsIgnoringCase("verbatim") {
            c.reply.verbatim("This is a verbatim\nstring")
        } else {
            c.reply.error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
        }
    }
}

/// A collection's part of DEBUG DIGEST / DIGEST-VALUE, computed as Redis's debug.c does for
/// its type (ordered `mix` for lists and sorted-set members, `xor` of per-element digests for
/// unordered types). Each family conforms its object type beside its commands.
protocol DigestibleCollection {
    func mixDigest(into digest: inout [UInt8])
}
