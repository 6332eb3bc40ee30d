import CSystemShims
#if canImport(Glibc)
import Glibc
#endif

/// Atomic execution for MULTI/EXEC and scripts: no other client observes a partial effect.
///
/// A section uses strict two-phase locking: every shard lock a command takes inside it
/// (through the ordinary `ShardLock.lock`) is kept until the section ends, so commands run in
/// a section exactly as they run alone, and a script may reach keys it never declared. Locks
/// are then taken in whatever order the section touches keys, which could deadlock against
/// another locker waiting in ascending order; two rules make that impossible:
/// - sections run one at a time (one process-wide mutex), and
/// - nobody else waits for a shard lock while holding another one: multi-shard lockers
///   (`Database.lockShards`, `ShardLock.lockAll`) take the first lock blocking and the rest
///   with `tryLock`, and on failure release everything and start over from the lock they
///   missed.
/// So the section is the only party that can wait while holding, and no wait cycle can form.
/// Code inside a section must not wait for anything else another thread may hold while
/// waiting for a shard (the blocking registry's serve lock): blocked clients are served after
/// the section.
public enum ExclusiveSection {
    @usableFromInline nonisolated(unsafe) static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        // Adaptive (spins before sleeping): sections are microseconds long, and a futex sleep
        // and wake-up per contended EVAL cost more than the script itself.
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(m, &attributes)
        pthread_mutexattr_destroy(&attributes)
        return m
    }()

    /// The shard locks the running section holds (touched only by the section's thread).
    @usableFromInline nonisolated(unsafe) static var held: [ShardLock] = []

    /// Work that must wait until the section has released its locks (it would wait for a
    /// lock whose holder may wait for one of the section's shards: ending another client's
    /// blocked wait, ...). Run in order right after the section, on its thread.
    nonisolated(unsafe) static var afterwards: [() -> Void] = []

    /// Defers `work` to the end of the running section (runs it now outside one).
    public static func afterSection(_ work: @escaping () -> Void) {
        if isActive { afterwards.append(work) } else { work() }
    }

    /// Whether the current thread is inside a section.
    @inlinable
    public static var isActive: Bool { apus_in_section() != 0 }

    /// Runs `body` as one atomic step. A section started inside a section (a script called
    /// from EXEC) is part of the outer one.
    public static func run<R>(_ body: () throws -> R) rethrows -> R {
        if isActive { return try body() }
        if pthread_mutex_trylock(mutex) != 0 { apus_mutex_lock_waiting(mutex) }
        apus_set_section(1)
        defer {
            apus_set_section(0)
            for lock in held {
                lock.heldBySection = false
                pthread_mutex_unlock(lock.mutex)
            }
            held.removeAll(keepingCapacity: true)
            let deferred = afterwards
            afterwards.removeAll()
            pthread_mutex_unlock(mutex)
            for work in deferred { work() }
        }
        return try body()
    }

    /// `ShardLock.lock` inside a section: the first acquisition waits (only a section may wait
    /// while holding locks), later ones are free.
    @usableFromInline
    static func acquire(_ lock: ShardLock) {
        if lock.heldBySection { return }
        pthread_mutex_lock(lock.mutex)
        lock.heldBySection = true
        held.append(lock)
    }

    @usableFromInline
    static func tryAcquire(_ lock: ShardLock) -> Bool {
        if lock.heldBySection { return true }
        guard pthread_mutex_trylock(lock.mutex) == 0 else { return false }
        lock.heldBySection = true
        held.append(lock)
        return true
    }

    /// Runs this thread's wait hook: an event-loop thread held by a busy script serves its
    /// other connections (see `apus_set_wait_hook`).
    public static func serveWhileHeld() { apus_run_wait_hook() }

    /// Shard locks the running section holds (tests).
    public static var heldCount: Int { held.count }
}

extension ShardLock {
    /// Tries for a short while (the holder is usually a command a few hundred ns from done)
    /// before giving up, so multi-shard lockers rarely have to back off.
    @inlinable
    public func tryLockBriefly() -> Bool {
        for _ in 0..<64 {
            if tryLock() { return true }
        }
        return false
    }

    /// Locks every lock of `locks` (given in the global order) without ever waiting for one
    /// while holding another (see `ExclusiveSection`). Inside a section it simply takes them.
    public static func lockAll(_ locks: [ShardLock]) {
        guard locks.count > 1, apus_in_section() == 0 else {
            for lock in locks { lock.lock() }
            return
        }
        var first = 0
        while true {
            locks[first].lock()
            var missed = -1
            for i in locks.indices where i != first {
                if !locks[i].tryLockBriefly() {
                    missed = i
                    break
                }
            }
            if missed < 0 { return }
            locks[first].unlock()
            for i in 0..<missed where i != first { locks[i].unlock() }
            first = missed
        }
    }
}
