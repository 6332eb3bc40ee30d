import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time in milliseconds since the epoch (what TTLs are stored against).
@inlinable
public func currentTimeMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) &* 1000 &+ Int64(ts.tv_nsec) / 1_000_000
}

/// Wall-clock time in microseconds since the epoch.
@inlinable
public func currentTimeMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) &* 1_000_000 &+ Int64(ts.tv_nsec) / 1_000
}

/// Monotonic time in nanoseconds (durations: slowlog, command stats, cron budgets).
@inlinable
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Redis's 24-bit LRU clock: seconds, wrapping every ~194 days.
@inlinable
public func lruClock(nowMillis: Int64) -> UInt32 {
    UInt32(truncatingIfNeeded: nowMillis / 1000) & 0xFF_FFFF
}

/// The LRU clock new entries start from, refreshed by the server cron (like Redis's
/// `server.lruclock`), so creating a key costs no clock read.
public let sharedLRUClock = Atomic<UInt32>(lruClock(nowMillis: currentTimeMillis()))
