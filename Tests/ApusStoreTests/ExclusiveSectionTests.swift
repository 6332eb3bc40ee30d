import Foundation
import Testing

@testable import ApusStore

/// Exclusive sections (strict two-phase locking) and the no-wait-while-holding rule of
/// multi-shard lockers.
@Suite struct ExclusiveSectionTests {
    @Test func locksTakenInsideAreHeldUntilTheEnd() {
        let db = Database(index: 0, shardCount: 8)
        ExclusiveSection.run {
            #expect(ExclusiveSection.isActive)
            db.shards[3].lock.lock()
            db.shards[3].lock.unlock()
            // Still held: another thread cannot take it.
            let other = Thread.detachAndWait { db.shards[3].lock.tryLock() }
            #expect(other == false)
            // Taking it again inside is free, and so is a multi-shard lock over it.
            db.lockShards(0b1111)
            db.unlockShards(0b1111)
            #expect(ExclusiveSection.heldCount == 4)
        }
        #expect(!ExclusiveSection.isActive)
        #expect(ExclusiveSection.heldCount == 0)
        let after = Thread.detachAndWait { () -> Bool in
            guard db.shards[3].lock.tryLock() else { return false }
            db.shards[3].lock.unlock()
            return true
        }
        #expect(after)
    }

    @Test func nestedSectionsAreOne() {
        let db = Database(index: 0, shardCount: 8)
        ExclusiveSection.run {
            db.shards[1].lock.lock()
            ExclusiveSection.run { db.shards[2].lock.lock() }
            // The inner section did not release anything.
            #expect(ExclusiveSection.heldCount == 2)
        }
        #expect(ExclusiveSection.heldCount == 0)
    }

    @Test func deferredWorkRunsAfterTheLocksAreReleased() {
        let db = Database(index: 0, shardCount: 8)
        var order: [String] = []
        ExclusiveSection.run {
            db.shards[0].lock.lock()
            ExclusiveSection.afterSection {
                order.append("deferred")
                // The section's locks are free again by now.
                #expect(db.shards[0].lock.tryLock())
                db.shards[0].lock.unlock()
            }
            order.append("body")
        }
        #expect(order == ["body", "deferred"])
        // Outside a section it runs at once.
        ExclusiveSection.afterSection { order.append("now") }
        #expect(order.last == "now")
    }

    /// A section takes shards in descending order (as a script touching undeclared keys may)
    /// while other threads lock ascending multi-shard sets: nobody deadlocks.
    @Test func sectionsAndMultiShardLockersNeverDeadlock() {
        let db = Database(index: 0, shardCount: 16)
        let counters = Counters(count: 16)
        let done = DispatchGroup()
        for t in 0..<3 {
            done.enter()
            Thread.detachNewThread {
                for round in 0..<2000 {
                    if (round + t) % 5 == 0 {
                        ExclusiveSection.run {
                            for i in stride(from: 15, through: 0, by: -3) {
                                db.shards[i].lock.lock()
                                counters.values[i] += 1
                                db.shards[i].lock.unlock()
                            }
                        }
                    } else {
                        let mask: UInt64 = 0b0001_0001_0001_0001 << UInt64(round % 3)
                        db.lockShards(mask)
                        var m = mask
                        while m != 0 {
                            counters.values[m.trailingZeroBitCount] += 1
                            m &= m &- 1
                        }
                        db.unlockShards(mask)
                    }
                }
                done.leave()
            }
        }
        #expect(done.wait(timeout: .now() + 60) == .success)
        // Every increment happened under its shard's lock.
        let sectionRounds = (0..<3).map { t in (0..<2000).filter { ($0 + t) % 5 == 0 }.count }.reduce(0, +)
        let perSection = Array(stride(from: 15, through: 0, by: -3)).count
        let lockerRounds = 3 * 2000 - sectionRounds
        #expect(counters.values.reduce(0, +) == sectionRounds * perSection + lockerRounds * 4)
    }
}

extension Thread {
    /// Runs `body` on a new thread and waits for its result.
    static func detachAndWait<T>(_ body: @escaping @Sendable () -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            box.value = body()
            done.signal()
        }
        done.wait()
        return box.value!
    }
}

final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// Per-shard counters in raw memory: element i is written only under shard i's lock (a Swift
/// array's copy-on-write check would itself race between threads).
final class Counters: @unchecked Sendable {
    let values: UnsafeMutableBufferPointer<Int>
    init(count: Int) { values = .allocate(capacity: count); values.initialize(repeating: 0) }
    deinit { values.deallocate() }
}
