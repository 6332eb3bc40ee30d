import ApusRESP
import ApusStore

/// SORT and SORT_RO (Redis 7.2's sort.c): lists, sets and sorted sets, numeric or ALPHA, BY
/// weights and GET values from other keys (`*` replaced by the element, `->field` into a
/// hash), LIMIT, and STORE into a list.
///
/// BY/GET patterns name keys nobody can know in advance, so a SORT that looks keys up (or
/// stores) holds every shard of the database; a plain SORT holds only the source's shard.
public enum SortCommand {
    public static func register(into registry: CommandRegistry) {
        registry.register("sort", sort)
        registry.register("sort_ro", sortReadOnly)
    }

    static func sort(_ c: inout CommandContext) { run(&c, readOnly: false) }
    static func sortReadOnly(_ c: inout CommandContext) { run(&c, readOnly: true) }

    /// The parsed options, in Redis's vocabulary.
    struct Options {
        var descending = false
        var alpha = false
        var limitStart = 0
        var limitCount = -1
        var store: Int? = nil
        var by: SortPattern? = nil
        /// A BY without `*` was given (even if a later BY has one, as in Redis).
        var dontSort = false
        var gets: [SortPattern] = []
    }

    /// Parses the options like sortCommandGeneric: every error is found before the key is read.
    static func parse(_ c: inout CommandContext, readOnly: Bool) -> Options? {
        var o = Options()
        let args = c.args
        var j = 2
        while j < args.count {
            let left = args.count - j - 1
            if args.isToken(j, "asc") {
                o.descending = false
            } else if args.isToken(j, "desc") {
                o.descending = true
            } else if args.isToken(j, "alpha") {
                o.alpha = true
            } else if args.isToken(j, "limit") && left >= 2 {
                guard let start = parseInteger(args[j + 1]), let count = parseInteger(args[j + 2]) else {
                    c.notInteger()
                    return nil
                }
                o.limitStart = start
                o.limitCount = count
                j += 2
            } else if !readOnly && args.isToken(j, "store") && left >= 1 {
                o.store = j + 1
                j += 1
            } else if args.isToken(j, "by") && left >= 1 {
                if !SortPattern.sorts(by: args[j + 1]) { o.dontSort = true }
                o.by = SortPattern(args[j + 1])
                j += 1
            } else if args.isToken(j, "get") && left >= 1 {
                o.gets.append(SortPattern(args[j + 1]))
                j += 1
            } else {
                c.syntaxError()
                return nil
            }
            j += 1
        }
        return o
    }

    static func run(_ c: inout CommandContext, readOnly: Bool) {
        guard var o = parse(&c, readOnly: readOnly) else { return }
        let db = c.db
        let key = c.args[1]
        let hash = keyHash(key)
        let looksUp = o.gets.contains { $0.looksUpKeys } || (!o.dontSort && o.by?.looksUpKeys == true)
        let mask: UInt64 = o.store != nil || looksUp ? db.allShards : 1 << UInt64(db.shardIndex(hash: hash))
        db.lockShards(mask)
        defer { db.unlockShards(mask) }

        let source = c.lookupRead(db.shard(hash: hash), key, hash: hash)
        if let source, source.type != .list && source.type != .set && source.type != .zset {
            return c.wrongType()
        }
        // A set has no order of its own: with BY nosort and STORE Redis sorts it ALPHA anyway,
        // so what it stores (and replicates) does not depend on the table's order.
        if o.dontSort && source?.type == .set && o.store != nil {
            o.dontSort = false
            o.alpha = true
            o.by = nil
        }

        var length = 0
        if let source {
            switch source.type {
            case .list: length = source.collection(ListObject.self)!.count
            case .set: length = source.collection(SetObject.self)!.count
            default:
                // Redis converts a listpack sorted set to a skiplist for good (zsetConvert).
                let zset = source.collection(ZSetObject.self)!
                zset.convertToFull()
                length = zset.count
            }
        }

        // LIMIT clamped to the length as Redis does (negative start is 0, negative count is all).
        var start = min(max(o.limitStart, 0), length)
        let limitCount = min(max(o.limitCount, -1), length)
        var end = limitCount < 0 ? length - 1 : start + limitCount - 1
        if start >= length {
            start = length - 1
            end = length - 2
        }
        if end >= length { end = length - 1 }

        var vector = SortVector(capacity: 0)
        if let source {
            load(source, into: &vector, options: o, start: &start, end: &end)
        }

        var conversionError = false
        var keyBuffer: [UInt8] = []
        if !o.dontSort {
            let elements = vector.elementBytes
            elements.withUnsafeBytes { all in
                for i in 0 ..< vector.count {
                    let element = UnsafeRawBufferPointer(rebasing: all[vector.elementRange(i)])
                    withValue(o.by, for: element, db: db, key: &keyBuffer, &c) { c, value in
                        guard let value else { return }
                        if o.alpha {
                            if o.by != nil { vector.setByValue(i, value) }
                        } else if !vector.setScore(i, parsing: value) {
                            conversionError = true
                        }
                    }
                }
            }
            let binary = o.store != nil
            let comparison: SortComparison = !o.alpha ? .numeric : (o.by != nil ? .alphaBy(binary: binary) : .alpha(binary: binary))
            let partial = o.by != nil && (start != 0 || end != vector.count - 1)
            vector.sort(comparison, descending: o.descending, partial: partial ? (start, end) : nil)
        }

        let rows = end - start + 1
        let outputLength = o.gets.isEmpty ? rows : o.gets.count * rows
        if conversionError {
            return c.reply.error("ERR One or more scores can't be converted into double")
        }
        guard let storeIndex = o.store else {
            c.reply.arrayHeader(outputLength)
            guard rows > 0 else { return }
            for i in start ... end {
                vector.withElement(i) { element in
                    if o.gets.isEmpty { c.reply.bulk(element) }
                    for pattern in o.gets {
                        withValue(pattern, for: element, db: db, key: &keyBuffer, &c) { c, value in
                            if let value { c.reply.bulk(value) } else { c.reply.null() }
                        }
                    }
                }
            }
            return
        }

        // STORE: a quicklist with Redis's defaults, made a listpack at the end if small enough.
        let list = ListObject(quicklistFill: -2, compressDepth: 0)
        if rows > 0 {
            for i in start ... end {
                vector.withElement(i) { element in
                    if o.gets.isEmpty { list.push(element, to: .tail) }
                    for pattern in o.gets {
                        withValue(pattern, for: element, db: db, key: &keyBuffer, &c) { _, value in
                            // A missing GET target is stored as an empty string.
                            list.push(value ?? UnsafeRawBufferPointer(start: nil, count: 0), to: .tail)
                        }
                    }
                }
            }
        }
        let destination = c.args[storeIndex]
        let destinationHash = keyHash(destination)
        let shard = db.shard(hash: destinationHash)
        if outputLength > 0 {
            list.convertIfSmall(limits: c.server.collectionLimits)
            if let existing = c.lookupWrite(shard, destination, hash: destinationHash) {
                let entry = Entry.allocate(key: destination, object: list, type: .list, encoding: 0, expireAt: nil)
                shard.replace(existing, with: entry, hash: destinationHash)
            } else {
                shard.insertCollection(destination, list, type: .list, hash: destinationHash)
                c.notify(.new, "new", destination)
            }
            c.keyModified(destination, changes: outputLength)
            c.notify(.list, "sortstore", destination)
        } else if shard.delete(destination, hash: destinationHash) {
            c.keyModified(destination)
            c.notify(.generic, "del", destination)
        }
        c.reply.integer(outputLength)
    }

    /// Fills the vector from the source. With nothing to sort, a list or sorted set loads only
    /// the LIMIT range, walking from the tail for DESC, and the range is rebased to 0.
    static func load(_ source: Entry, into vector: inout SortVector, options o: Options,
                     start: inout Int, end: inout Int) {
        switch source.type {
        case .list:
            let list = source.collection(ListObject.self)!
            if o.dontSort {
                guard end >= start else { return }
                let first = o.descending ? list.count - start - 1 : start
                list.forEach(from: first, count: end - start + 1, reverse: o.descending) { vector.append($0) }
                end -= start
                start = 0
            } else {
                list.forEachElement { vector.append($0) }
            }
        case .set:
            // Nosort keeps the encoding's order, and DESC does not apply (as in Redis).
            source.collection(SetObject.self)!.forEachMember { vector.append($0) }
        default:
            let zset = source.collection(ZSetObject.self)!
            if o.dontSort {
                var remaining = end - start + 1
                if remaining > 0 {
                    let first = o.descending ? zset.count - start - 1 : start
                    zset.forEach(fromRank: first, reverse: o.descending) { member, _ in
                        vector.append(member)
                        remaining -= 1
                        return remaining > 0
                    }
                }
                end -= start
                start = 0
            } else {
                zset.forEach { member, _ in vector.append(member) }
            }
        }
    }

    /// lookupKeyByPattern: calls `body` with the value `pattern` names for `element` (the
    /// element itself for `#` or when there is no BY), nil when the key is missing, of the
    /// wrong type, or the hash has no such field. Lookups count keyspace hits and misses.
    static func withValue(_ pattern: SortPattern?, for element: UnsafeRawBufferPointer, db: Database,
                          key: inout [UInt8], _ c: inout CommandContext,
                          _ body: (inout CommandContext, UnsafeRawBufferPointer?) -> Void) {
        guard let pattern, !pattern.isElement else { return body(&c, element) }
        guard pattern.looksUpKeys else { return body(&c, nil) }
        pattern.keyName(for: element, into: &key)
        key.withUnsafeBytes { name in
            let hash = keyHash(name)
            guard let entry = c.lookupRead(db.shard(hash: hash), name, hash: hash) else { return body(&c, nil) }
            if let field = pattern.field {
                guard entry.type == .hash else { return body(&c, nil) }
                let found: Void? = field.withUnsafeBytes { field in
                    entry.collection(HashObject.self)!.withValue(forField: field) { body(&c, $0) }
                }
                if found == nil { body(&c, nil) }
            } else {
                guard entry.type == .string else { return body(&c, nil) }
                body(&c, entry.value)
            }
        }
    }
}
