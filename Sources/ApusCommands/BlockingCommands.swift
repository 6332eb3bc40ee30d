import ApusRESP
import ApusStore

/// The blocking pops (t_list.c blockingPopGenericCommand / blmoveGenericCommand, t_zset.c
/// blockingGenericZpopCommand): each first tries to serve at once with its non-blocking
/// twin's Op, and otherwise blocks the client on its keys (`CommandContext.block`) while it
/// still holds their shard locks. When a key becomes ready the command is executed again
/// from the start (`BlockingRegistry`), so a served call replies exactly like a fresh one.
public enum BlockingCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("blpop", blpop)
        registry.register("brpop", brpop)
        registry.register("blmpop", blmpop)
        registry.register("blmove", blmove)
        registry.register("brpoplpush", brpoplpush)
        registry.register("bzpopmin", bzpopmin)
        registry.register("bzpopmax", bzpopmax)
        registry.register("bzmpop", bzmpop)
    }

    // MARK: Lists

    /// BLPOP key [key ...] timeout
    static func blpop(_ c: inout CommandContext) { blockingPop(&c, from: .head) }

    /// BRPOP key [key ...] timeout
    static func brpop(_ c: inout CommandContext) { blockingPop(&c, from: .tail) }

    static func blockingPop(_ c: inout CommandContext, from end: ListEnd) {
        let last = c.args.count - 1
        guard let deadline = c.blockingTimeoutArgument(last) else { return }
        popOrBlock(&c, keys: 1 ..< last, from: end, count: 1, reply: .keyAndElement, deadline: deadline)
    }

    /// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: the arguments are
    /// checked before the timeout, as in Redis.
    static func blmpop(_ c: inout CommandContext) {
        guard let (keys, end, count) = ListCommands.parseMultiPop(&c, numkeysIndex: 2),
              let deadline = c.blockingTimeoutArgument(1) else { return }
        popOrBlock(&c, keys: keys, from: end, count: count, reply: .keyAndElements, deadline: deadline)
    }

    static func popOrBlock(_ c: inout CommandContext, keys: Range<Int>, from end: ListEnd, count: Int,
                           reply: ListCommands.PopReply, deadline: Int64) {
        let db = c.db
        let mask = db.shardMask(for: keys.lazy.map { [args = c.args] in args[$0] })
        db.lockShards(mask)
        defer { db.unlockShards(mask) }
        guard ListCommands.popFirstNonEmpty(&c, keys: keys, from: end, count: count, reply: reply) == false else {
            return
        }
        guard c.mayBlock else { return c.reply.nullArray() }
        c.block(on: keys.map { c.args[$0] }, type: .list, deadlineMillis: deadline, timeoutReply: .nullArray)
    }

    /// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
    static func blmove(_ c: inout CommandContext) {
        guard let from = ListCommands.listEnd(&c, 3), let to = ListCommands.listEnd(&c, 4),
              let deadline = c.blockingTimeoutArgument(5) else { return }
        moveOrBlock(&c, from: from, to: to, deadline: deadline)
    }

    /// BRPOPLPUSH source destination timeout: BLMOVE source destination RIGHT LEFT timeout.
    static func brpoplpush(_ c: inout CommandContext) {
        guard let deadline = c.blockingTimeoutArgument(3) else { return }
        moveOrBlock(&c, from: .tail, to: .head, deadline: deadline)
    }

    static func moveOrBlock(_ c: inout CommandContext, from: ListEnd, to: ListEnd, deadline: Int64) {
        let db = c.db
        let mask = db.shardMask(for: [c.args[1], c.args[2]])
        db.lockShards(mask)
        defer { db.unlockShards(mask) }
        guard ListCommands.moveLocked(&c, from: from, to: to) == false else { return }
        guard c.mayBlock else { return c.reply.null() }
        c.block(on: [c.args[1]], type: .list, deadlineMillis: deadline, timeoutReply: .nullBulk)
    }

    // MARK: Sorted sets

    /// BZPOPMIN key [key ...] timeout
    static func bzpopmin(_ c: inout CommandContext) { blockingZPop(&c, max: false) }

    /// BZPOPMAX key [key ...] timeout
    static func bzpopmax(_ c: inout CommandContext) { blockingZPop(&c, max: true) }

    static func blockingZPop(_ c: inout CommandContext, max: Bool) {
        let last = c.args.count - 1
        guard let deadline = c.blockingTimeoutArgument(last) else { return }
        zpopOrBlock(&c, keys: 1 ..< last, max: max, count: 1, shape: .keyFlat, deadline: deadline)
    }

    /// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]: arguments checked before
    /// the timeout, as in Redis.
    static func bzmpop(_ c: inout CommandContext) {
        guard let (keyCount, max, count) = SortedSetCommands.parseMpopArguments(&c, numkeysIndex: 2),
              let deadline = c.blockingTimeoutArgument(1) else { return }
        zpopOrBlock(&c, keys: 3 ..< 3 + keyCount, max: max, count: count, shape: .keyNested, deadline: deadline)
    }

    /// blockingGenericZpopCommand: pops from the first key holding a non-empty sorted set
    /// (WRONGTYPE for another type met first), else blocks on all of them.
    static func zpopOrBlock(_ c: inout CommandContext, keys: Range<Int>, max: Bool, count: Int,
                            shape: SortedSetCommands.PopReplyShape, deadline: Int64) {
        let db = c.db
        let mask = db.shardMask(for: keys.lazy.map { [args = c.args] in args[$0] })
        db.lockShards(mask)
        defer { db.unlockShards(mask) }
        for i in keys {
            let key = c.args[i]
            let hash = keyHash(key)
            let shard = db.shard(hash: hash)
            switch SortedSetCommands.zset(of: c.lookupWrite(shard, key, hash: hash)) {
            case .wrongType:
                return c.wrongType()
            case .missing:
                continue
            case .found(let zset):
                if zset.count == 0 { continue }
                _ = SortedSetCommands.popAndReply(&c, zset: zset, key: key, shard: shard, hash: hash, max: max,
                                              count: count, shape: shape)
                return
            }
        }
        guard c.mayBlock else { return c.reply.nullArray() }
        c.block(on: keys.map { c.args[$0] }, type: .zset, deadlineMillis: deadline, timeoutReply: .nullArray)
    }
}
