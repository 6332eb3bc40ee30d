import ApusRESP
import ApusStore
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The geo family (Redis's geo.c). A geo key is a sorted set whose scores are 52-bit
/// geohashes (`GeoHash`): GEOADD is ZADD with encoded scores (it runs ZADD's own code), the
/// queries read the set through `ZSetObject`'s range Ops (`geoSearch`), and the STORE
/// variants build their result with the sorted-set family's `ZSetAccumulator` and `store`.
///
/// Option words are compared like Redis's strcasecmp, so an argument counts only up to its
/// first NUL byte.
public enum GeoCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("geoadd", geoadd)
        registry.register("geodist", geodist)
        registry.register("geohash", geohash)
        registry.register("geopos", geopos)
        registry.register("georadius", georadius)
        registry.register("georadius_ro", georadiusReadOnly)
        registry.register("georadiusbymember", georadiusbymember)
        registry.register("georadiusbymember_ro", georadiusbymemberReadOnly)
        registry.register("geosearch", geosearch)
        registry.register("geosearchstore", geosearchstore)
    }

    // MARK: Argument helpers

    /// `strcasecmp(argument, token) == 0`: the argument's bytes up to its first NUL equal the
    /// lowercase `token`, ignoring ASCII case.
    static func isOption(_ raw: UnsafeRawBufferPointer, _ token: StaticString) -> Bool {
        let n = token.utf8CodeUnitCount
        guard raw.count >= n, raw.count == n || raw[n] == 0 else { return false }
        let t = token.utf8Start
        for i in 0..<n {
            var byte = raw[i]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
            if byte != t[i] { return false }
        }
        return true
    }

    /// extractLongLatOrReply: a longitude and a latitude at arguments `i`, `i + 1`, within the
    /// indexable limits.
    static func longitudeLatitude(_ c: inout CommandContext, at i: Int) -> (Double, Double)? {
        guard let longitude = parseDouble(c.args[i]), let latitude = parseDouble(c.args[i + 1]) else {
            c.notFloat()
            return nil
        }
        if longitude < GeoHash.longitudeMin || longitude > GeoHash.longitudeMax
            || latitude < GeoHash.latitudeMin || latitude > GeoHash.latitudeMax {
            c.reply.error("ERR invalid longitude,latitude pair " + formatPair(longitude, latitude))
            return nil
        }
        return (longitude, latitude)
    }

    /// `%f,%f`, as the invalid-pair error prints the two values.
    static func formatPair(_ a: Double, _ b: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        let n = withVaList([a, b]) { vsnprintf(&buffer, buffer.count, "%f,%f", $0) }
        return String(decoding: buffer[0..<max(0, min(Int(n), buffer.count - 1))].map { UInt8(bitPattern: $0) },
                      as: UTF8.self)
    }

    /// extractUnitOrReply: meters per unit.
    static func unitArgument(_ c: inout CommandContext, _ i: Int) -> Double? {
        let unit = c.args[i]
        if isOption(unit, "m") { return 1 }
        if isOption(unit, "km") { return 1000 }
        if isOption(unit, "ft") { return 0.3048 }
        if isOption(unit, "mi") { return 1609.34 }
        c.reply.error("ERR unsupported unit provided. please use M, KM, FT, MI")
        return nil
    }

    /// extractDistanceOrReply: `<radius> <unit>` at argument `i`.
    static func radiusArgument(_ c: inout CommandContext, at i: Int) -> (radius: Double, conversion: Double)? {
        guard let radius = parseDouble(c.args[i]) else {
            c.reply.error("ERR need numeric radius")
            return nil
        }
        if radius < 0 {
            c.reply.error("ERR radius cannot be negative")
            return nil
        }
        guard let conversion = unitArgument(&c, i + 1) else { return nil }
        return (radius, conversion)
    }

    /// extractBoxOrReply: `<width> <height> <unit>` at argument `i`.
    static func boxArgument(_ c: inout CommandContext, at i: Int) -> (width: Double, height: Double, conversion: Double)? {
        guard let width = parseDouble(c.args[i]) else {
            c.reply.error("ERR need numeric width")
            return nil
        }
        guard let height = parseDouble(c.args[i + 1]) else {
            c.reply.error("ERR need numeric height")
            return nil
        }
        if height < 0 || width < 0 {
            c.reply.error("ERR height or width cannot be negative")
            return nil
        }
        guard let conversion = unitArgument(&c, i + 2) else { return nil }
        return (width, height, conversion)
    }

    // MARK: Reply helpers

    /// addReplyDoubleDistance: four decimals, as a bulk string in both protocols.
    static func replyDistance(_ reply: inout ReplyWriter, _ distance: Double) {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { buffer in
            let n = GeoHash.formatDistance(distance, into: buffer)
            reply.bulk(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    /// addReplyHumanLongDouble: a bulk string in RESP2, a double in RESP3, `%.17Lf` trimmed.
    static func replyCoordinate(_ reply: inout ReplyWriter, _ value: Double) {
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { buffer in
            let n = GeoHash.formatCoordinate(value, into: buffer)
            let text = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            if reply.version == .resp3 {
                reply.buffer.writeInteger(UInt8(ascii: ","))
                reply.buffer.writeBytes(text)
                reply.buffer.writeStaticString("\r\n")
            } else {
                reply.bulk(text)
            }
        }
    }

    // MARK: GEOADD

    /// GEOADD key [NX|XX] [CH] lon lat member ...: options up to the first other word, then
    /// triples; every pair is validated before anything changes, then the encoded scores go
    /// through ZADD (which checks the key's type only then, as in Redis).
    static func geoadd(_ c: inout CommandContext) {
        var nx = false, xx = false, changed = false
        var longitudeIndex = 2
        while longitudeIndex < c.args.count {
            let option = c.args[longitudeIndex]
            if isOption(option, "nx") {
                nx = true
            } else if isOption(option, "xx") {
                xx = true
            } else if isOption(option, "ch") {
                changed = true
            } else {
                break
            }
            longitudeIndex += 1
        }
        let remaining = c.args.count - longitudeIndex
        // With no triple left, the ZADD Redis builds has no score-member pair: a syntax error too.
        if remaining % 3 != 0 || (xx && nx) || remaining == 0 { return c.syntaxError() }
        let elements = remaining / 3
        var options: ZAddOptions = []
        if nx { options.insert(.nx) }
        if xx { options.insert(.xx) }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: elements) { scores in
            for i in 0..<elements {
                guard let (longitude, latitude) = longitudeLatitude(&c, at: longitudeIndex + 3 * i) else { return }
                // Redis passes the bits to ZADD as integer text; reading it back rounds to the
                // nearest double exactly as this conversion does (bit 53 can be set).
                scores[i] = Double(GeoHash.score(longitude: longitude, latitude: latitude))
            }
            SortedSetCommands.addScores(&c, options: options, changed: changed, scores: UnsafeBufferPointer(scores),
                                        firstMember: longitudeIndex + 2, memberStride: 3)
        }
    }

    // MARK: GEOPOS GEOHASH GEODIST

    /// GEOPOS key member ...: [longitude, latitude] per member, a null array when missing.
    static func geopos(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let zset: ZSetObject?
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing: zset = nil
            case .found(let z): zset = z
            }
            c.reply.arrayHeader(c.args.count - 2)
            for i in 2..<c.args.count {
                guard let score = zset?.score(of: c.args[i]) else {
                    c.reply.nullArray()
                    continue
                }
                let (longitude, latitude) = GeoHash.coordinates(ofScore: score)
                c.reply.arrayHeader(2)
                replyCoordinate(&c.reply, longitude)
                replyCoordinate(&c.reply, latitude)
            }
        }
    }

    /// GEOHASH key member ...: the 11-character standard geohash per member, null when missing.
    static func geohash(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let zset: ZSetObject?
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing: zset = nil
            case .found(let z): zset = z
            }
            c.reply.arrayHeader(c.args.count - 2)
            for i in 2..<c.args.count {
                guard let score = zset?.score(of: c.args[i]) else {
                    c.reply.null()
                    continue
                }
                withUnsafeTemporaryAllocation(byteCount: 11, alignment: 1) { buffer in
                    GeoHash.standardGeohash(ofScore: score, into: buffer)
                    c.reply.bulk(UnsafeRawBufferPointer(buffer))
                }
            }
        }
    }

    /// GEODIST key member1 member2 [unit]: the unit (and the argument count) is checked before
    /// the key; null when the key or either member is missing.
    static func geodist(_ c: inout CommandContext) {
        var toMeters = 1.0
        if c.args.count == 5 {
            guard let unit = unitArgument(&c, 4) else { return }
            toMeters = unit
        } else if c.args.count > 5 {
            return c.syntaxError()
        }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType:
                c.wrongType()
            case .missing:
                c.reply.null()
            case .found(let zset):
                guard let score1 = zset.score(of: c.args[2]), let score2 = zset.score(of: c.args[3]) else {
                    return c.reply.null()
                }
                let (longitude1, latitude1) = GeoHash.coordinates(ofScore: score1)
                let (longitude2, latitude2) = GeoHash.coordinates(ofScore: score2)
                replyDistance(&c.reply, GeoHash.distance(longitude1, latitude1, longitude2, latitude2) / toMeters)
            }
        }
    }

    // MARK: GEORADIUS GEORADIUSBYMEMBER GEOSEARCH GEOSEARCHSTORE

    /// georadiusGeneric's flags: which command variant is running.
    struct SearchFlags: OptionSet {
        let rawValue: UInt8
        /// Centre from `lon lat` arguments (GEORADIUS).
        static let coordinates = SearchFlags(rawValue: 1 << 0)
        /// Centre from a member argument (GEORADIUSBYMEMBER).
        static let member = SearchFlags(rawValue: 1 << 1)
        /// STORE / STOREDIST refused (the _RO variants).
        static let noStore = SearchFlags(rawValue: 1 << 2)
        /// GEOSEARCH's FROM*/BY* arguments.
        static let search = SearchFlags(rawValue: 1 << 3)
        /// GEOSEARCHSTORE: destination first, STOREDIST without an argument.
        static let searchStore = SearchFlags(rawValue: 1 << 4)
    }

    static func georadius(_ c: inout CommandContext) { search(&c, source: 1, flags: .coordinates) }
    static func georadiusReadOnly(_ c: inout CommandContext) { search(&c, source: 1, flags: [.coordinates, .noStore]) }
    static func georadiusbymember(_ c: inout CommandContext) { search(&c, source: 1, flags: .member) }
    static func georadiusbymemberReadOnly(_ c: inout CommandContext) { search(&c, source: 1, flags: [.member, .noStore]) }
    static func geosearch(_ c: inout CommandContext) { search(&c, source: 1, flags: .search) }
    static func geosearchstore(_ c: inout CommandContext) { search(&c, source: 2, flags: [.search, .searchStore]) }

    /// What a search did to the keyspace (reported after the locks are released).
    enum SearchOutcome {
        case none
        /// The destination (argument index) was written or deleted with this many changes.
        case stored(destination: Int, changes: Int)
    }

    /// Locks the source and every possible destination, then runs the search. The STORE key
    /// of GEORADIUS is known only after parsing (which needs the source), so every argument
    /// that follows a STORE/STOREDIST word is locked.
    static func search(_ c: inout CommandContext, source: Int, flags: SearchFlags) {
        let db = c.db
        var mask: UInt64 = 1 << UInt64(db.shardIndex(hash: keyHash(c.args[source])))
        if flags.contains(.searchStore) {
            mask |= 1 << UInt64(db.shardIndex(hash: keyHash(c.args[1])))
        } else if !flags.contains(.noStore) && !flags.contains(.search) {
            var i = source + 1
            while i + 1 < c.args.count {
                if isOption(c.args[i], "store") || isOption(c.args[i], "storedist") {
                    mask |= 1 << UInt64(db.shardIndex(hash: keyHash(c.args[i + 1])))
                }
                i += 1
            }
        }
        db.withShards(mask) {
            let outcome = searchLocked(&c, db: db, source: source, flags: flags)
            if case .stored(let destination, let changes) = outcome, changes > 0 {
                c.keyModified(c.args[destination], changes: changes)
            }
        }
    }

    /// georadiusGeneric, with the keys' shards locked. Checks in Redis's order: the source's
    /// type, the centre and size of the fixed-position commands, the options left to right,
    /// then the option conflicts, then a missing source.
    static func searchLocked(_ c: inout CommandContext, db: Database, source: Int, flags: SearchFlags) -> SearchOutcome {
        let sourceKey = c.args[source]
        let sourceHash = keyHash(sourceKey)
        let zset: ZSetObject?
        switch SortedSetCommands.zset(of: c.lookupRead(db.shard(hash: sourceHash), sourceKey, hash: sourceHash)) {
        case .wrongType:
            c.wrongType()
            return .none
        case .missing:
            zset = nil
        case .found(let z):
            zset = z
        }

        var shape = GeoShape(kind: .radius(0), longitude: 0, latitude: 0, conversion: 1)
        var destination: Int? = nil
        var storeDistance = false
        let baseArguments: Int
        if flags.contains(.coordinates) {
            baseArguments = 6
            guard let (longitude, latitude) = longitudeLatitude(&c, at: 2),
                  let (radius, conversion) = radiusArgument(&c, at: 4) else { return .none }
            shape = GeoShape(kind: .radius(radius), longitude: longitude, latitude: latitude, conversion: conversion)
        } else if flags.contains(.member) {
            baseArguments = 5
            // A missing key skips the centre and radius: the reply depends only on STORE.
            if let zset {
                guard let score = zset.score(of: c.args[2]) else {
                    c.reply.error("ERR could not decode requested zset member")
                    return .none
                }
                let (longitude, latitude) = GeoHash.coordinates(ofScore: score)
                guard let (radius, conversion) = radiusArgument(&c, at: 3) else { return .none }
                shape = GeoShape(kind: .radius(radius), longitude: longitude, latitude: latitude, conversion: conversion)
            }
        } else {
            baseArguments = flags.contains(.searchStore) ? 3 : 2
            if flags.contains(.searchStore) { destination = 1 }
        }

        var withDistance = false, withHash = false, withCoordinates = false
        var fromMember = false, fromLocation = false, byRadius = false, byBox = false
        var ascending: Bool? = nil
        var any = false
        var count = 0
        let isSearch = flags.contains(.search)
        let storeAllowed = !flags.contains(.noStore) && !isSearch
        var i = baseArguments
        while i < c.args.count {
            let option = c.args[i]
            let left = c.args.count - i - 1  // arguments after this one
            if isOption(option, "withdist") {
                withDistance = true
            } else if isOption(option, "withhash") {
                withHash = true
            } else if isOption(option, "withcoord") {
                withCoordinates = true
            } else if isOption(option, "any") {
                any = true
            } else if isOption(option, "asc") {
                ascending = true
            } else if isOption(option, "desc") {
                ascending = false
            } else if isOption(option, "count") && left >= 1 {
                guard let n = c.integerArgument(i + 1) else { return .none }
                if n <= 0 {
                    c.reply.error("ERR COUNT must be > 0")
                    return .none
                }
                count = n
                i += 1
            } else if (isOption(option, "store") || isOption(option, "storedist")) && left >= 1 && storeAllowed {
                destination = i + 1
                storeDistance = isOption(option, "storedist")
                i += 1
            } else if isOption(option, "storedist") && flags.contains(.searchStore) {
                storeDistance = true
            } else if isOption(option, "frommember") && left >= 1 && isSearch && !fromLocation {
                if let zset {
                    guard let score = zset.score(of: c.args[i + 1]) else {
                        c.reply.error("ERR could not decode requested zset member")
                        return .none
                    }
                    (shape.longitude, shape.latitude) = GeoHash.coordinates(ofScore: score)
                }
                fromMember = true
                i += 1
            } else if isOption(option, "fromlonlat") && left >= 2 && isSearch && !fromMember {
                guard let (longitude, latitude) = longitudeLatitude(&c, at: i + 1) else { return .none }
                shape.longitude = longitude
                shape.latitude = latitude
                fromLocation = true
                i += 2
            } else if isOption(option, "byradius") && left >= 2 && isSearch && !byBox {
                guard let (radius, conversion) = radiusArgument(&c, at: i + 1) else { return .none }
                shape.kind = .radius(radius)
                shape.conversion = conversion
                byRadius = true
                i += 2
            } else if isOption(option, "bybox") && left >= 3 && isSearch && !byRadius {
                guard let (width, height, conversion) = boxArgument(&c, at: i + 1) else { return .none }
                shape.kind = .box(width: width, height: height)
                shape.conversion = conversion
                byBox = true
                i += 3
            } else {
                c.syntaxError()
                return .none
            }
            i += 1
        }

        if destination != nil && (withDistance || withHash || withCoordinates) {
            c.reply.error(flags.contains(.searchStore)
                ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
                : "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
            return .none
        }
        if isSearch && !(fromMember || fromLocation) {
            c.reply.error(bytes: Array("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ".utf8)
                + c.args[0].cStringPrefix(Int.max))
            return .none
        }
        if isSearch && !(byRadius || byBox) {
            c.reply.error(bytes: Array("ERR exactly one of BYRADIUS and BYBOX can be specified for ".utf8)
                + c.args[0].cStringPrefix(Int.max))
            return .none
        }
        if any && count == 0 {
            c.reply.error("ERR the ANY argument requires COUNT argument")
            return .none
        }

        guard let zset else {
            guard let destination else {
                c.reply.arrayHeader(0)
                return .none
            }
            let changed = store(nil, destination: destination, db: db, &c)
            c.reply.integer(0)
            return .stored(destination: destination, changes: changed ? 1 : 0)
        }

        // COUNT without an order means the closest ones (but ANY keeps the scan order).
        if count != 0 && ascending == nil && !any { ascending = true }

        var result = zset.geoSearch(shape, limit: any ? count : 0)
        if result.count == 0 && destination == nil {
            c.reply.arrayHeader(0)
            return .none
        }
        let returned = count == 0 || result.count < count ? result.count : count
        if let ascending { result.sort(descending: !ascending, returned: returned) }

        guard let destination else {
            let optionCount = (withDistance ? 1 : 0) + (withHash ? 1 : 0) + (withCoordinates ? 1 : 0)
            c.reply.arrayHeader(returned)
            for point in result.points[0..<returned] {
                if optionCount > 0 { c.reply.arrayHeader(optionCount + 1) }
                result.withMember(point) { c.reply.bulk($0) }
                if withDistance { replyDistance(&c.reply, point.distance / shape.conversion) }
                if withHash { c.reply.integer(GeoHash.integer(ofScore: point.score)) }
                if withCoordinates {
                    c.reply.arrayHeader(2)
                    replyCoordinate(&c.reply, point.longitude)
                    replyCoordinate(&c.reply, point.latitude)
                }
            }
            return .none
        }

        // STORE: a sorted set of the returned members, scored by geohash or by distance (in
        // the unit), converted to a listpack when small enough as Redis does.
        var accumulator = ZSetAccumulator()
        for point in result.points[0..<returned] {
            let score = storeDistance ? point.distance / shape.conversion : point.score
            // A member cannot be matched twice (the scanned cells never overlap).
            result.withMember(point) { member in accumulator.merge(member, score: score) { _, new in new } }
        }
        let object = accumulator.makeObject(limits: c.server.collectionLimits)
        let changed = store(object, destination: destination, db: db, &c)
        c.reply.integer(returned)
        return .stored(destination: destination, changes: returned > 0 ? returned : (changed ? 1 : 0))
    }

    /// Writes the result (nil: deletes the destination); returns whether the keyspace changed.
    static func store(_ object: ZSetObject?, destination: Int, db: Database, _ c: inout CommandContext) -> Bool {
        let key = c.args[destination]
        let hash = keyHash(key)
        return SortedSetCommands.store(object, as: key, shard: db.shard(hash: hash), hash: hash, &c)
    }
}
