import CSystemShims
#if canImport(Glibc)
import Glibc
#endif

/// A shard's lock: a pthread mutex of glibc's adaptive kind, which spins briefly before it
/// sleeps. Shard critical sections are a few hundred nanoseconds, so a waiter nearly always
/// gets the lock while spinning; a plain mutex would put it to sleep (a futex round trip and
/// a context switch, microseconds) whenever two event loops meet on a hot key.
public final class ShardLock: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        #if canImport(Glibc)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        #endif
        let status = pthread_mutex_init(mutex, &attributes)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Set while an exclusive section holds this lock (read and written only by the section's
    /// thread; sections run one at a time, and the section mutex orders them).
    @usableFromInline var heldBySection = false

    /// Inside an exclusive section the lock is taken once and kept until the section ends.
    @inlinable
    public func lock() {
        if _slowPath(apus_in_section() != 0) { return ExclusiveSection.acquire(self) }
        // Contended: wait so that an event-loop thread keeps serving while a busy script
        // holds the lock (`apus_mutex_lock_waiting`).
        if _slowPath(pthread_mutex_trylock(mutex) != 0) { apus_mutex_lock_waiting(mutex) }
    }

    /// Inside an exclusive section this does nothing: the section releases its locks at its end.
    @inlinable
    public func unlock() {
        if _slowPath(apus_in_section() != 0) { return }
        pthread_mutex_unlock(mutex)
    }

    /// Takes the lock if it is free (inside a section: a lock the section holds counts as taken).
    @inlinable
    public func tryLock() -> Bool {
        if _slowPath(apus_in_section() != 0) { return ExclusiveSection.tryAcquire(self) }
        return pthread_mutex_trylock(mutex) == 0
    }

    @inlinable
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    @inlinable
    public func withLockVoid(_ body: () throws -> Void) rethrows {
        lock()
        defer { unlock() }
        try body()
    }
}
