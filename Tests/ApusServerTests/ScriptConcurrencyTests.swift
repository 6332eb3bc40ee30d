import Foundation
import Testing

/// Scripts are atomic across event loops and shards even when they touch keys they never
/// declared in KEYS (job-queue scripts build key names from ARGV): concurrent transfers by
/// script and by MULTI/EXEC never let an observer see money in flight.
@Suite("Scripts under concurrency")
struct ScriptConcurrencyTests {
    static let accounts = (0..<12).map { "acct:\($0)" }
    static let initial = 500

    /// Moves ARGV[3] from account ARGV[1] to ARGV[2], names not declared as keys.
    static let transfer = """
        local amount = tonumber(ARGV[3])
        local from = tonumber(redis.call('GET', ARGV[1]))
        redis.call('SET', ARGV[1], from - amount)
        redis.call('INCRBY', ARGV[2], amount)
        return from - amount
        """

    /// Sums every account named in ARGV (undeclared keys, read inside the script).
    static let sum = """
        local total = 0
        for i = 1, #ARGV do total = total + tonumber(redis.call('GET', ARGV[i])) end
        return total
        """

    @Test func scriptsAndTransactionsKeepTheTotal() throws {
        try withServer(["--io-threads", "2"]) { port in
            let setup = try RESPConnection(port: port)
            for key in Self.accounts { _ = setup.call("SET", key, "\(Self.initial)") }
            guard case .bulk(let sha?) = setup.call("SCRIPT", "LOAD", Self.transfer) else {
                Issue.record("SCRIPT LOAD failed")
                return
            }
            let total = Self.initial * Self.accounts.count
            let violations = Atomic(0)
            let group = DispatchGroup()
            for w in 0..<4 {
                let connection = try RESPConnection(port: port)
                group.enter()
                Thread.detachNewThread {
                    var rng = SystemRandomNumberGenerator()
                    for round in 0..<250 {
                        let a = Self.accounts.randomElement(using: &rng)!
                        var b = Self.accounts.randomElement(using: &rng)!
                        while b == a { b = Self.accounts.randomElement(using: &rng)! }
                        let amount = "\(1 + (round + w) % 7)"
                        if w % 2 == 0 {
                            // EVALSHA with no declared keys.
                            if case .error = connection.call("EVALSHA", sha, "0", a, b, amount) { violations.increment() }
                        } else {
                            _ = connection.call("MULTI")
                            _ = connection.call("DECRBY", a, amount)
                            _ = connection.call("INCRBY", b, amount)
                            if case .array(let r?) = connection.call("EXEC"), r.count == 2 { continue }
                            violations.increment()
                        }
                    }
                    group.leave()
                }
            }
            let observer = try RESPConnection(port: port)
            var observations = 0
            while group.wait(timeout: .now()) == .timedOut {
                if observer.call(["EVAL", Self.sum, "0"] + Self.accounts).int != total { violations.increment() }
                if case .array(let values?) = observer.call(["MGET"] + Self.accounts),
                   values.compactMap(\.int).reduce(0, +) != total {
                    violations.increment()
                }
                observations += 1
            }
            #expect(observations > 0)
            #expect(violations.value == 0)
            #expect(observer.call(["EVAL", Self.sum, "0"] + Self.accounts).int == total)
        }
    }
}
