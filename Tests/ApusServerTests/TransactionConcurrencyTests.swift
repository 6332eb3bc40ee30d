import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A RESP value as a test reads it.
indirect enum RESPValue: Equatable {
    case simple(String), error(String), integer(Int), bulk(String?), array([RESPValue]?)

    var int: Int? {
        switch self {
        case .integer(let v): return v
        case .bulk(let s?): return Int(s)
        default: return nil
        }
    }
}

/// A blocking client that reads whole replies (nested arrays included).
final class RESPConnection: @unchecked Sendable {
    let client: RawClient
    private var buffer: [UInt8] = []
    private var position = 0

    init(port: Int) throws { client = try RawClient(port: port) }

    func call(_ args: String...) -> RESPValue { call(args) }

    func call(_ args: [String]) -> RESPValue {
        var text = "*\(args.count)\r\n"
        for arg in args { text += "$\(arg.utf8.count)\r\n\(arg)\r\n" }
        client.write(text)
        return readValue()
    }

    private func fill() -> Bool {
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { Glibc.read(client.fd, $0.baseAddress!, $0.count) }
        if n <= 0 { return false }
        buffer += chunk[0..<n]
        return true
    }

    private func line() -> String {
        while true {
            if let end = buffer[position...].indices.dropLast().first(where: { buffer[$0] == 13 && buffer[$0 + 1] == 10 }) {
                let text = String(decoding: buffer[position..<end], as: UTF8.self)
                position = end + 2
                return text
            }
            if !fill() { return "" }
        }
    }

    func readValue() -> RESPValue {
        let header = line()
        guard let kind = header.first else { return .error("connection closed") }
        let rest = String(header.dropFirst())
        switch kind {
        case "+": return .simple(rest)
        case "-": return .error(rest)
        case ":": return .integer(Int(rest) ?? 0)
        case "$":
            let length = Int(rest) ?? -1
            if length < 0 { return .bulk(nil) }
            while buffer.count - position < length + 2 { if !fill() { return .error("connection closed") } }
            let text = String(decoding: buffer[position..<position + length], as: UTF8.self)
            position += length + 2
            return .bulk(text)
        case "*":
            let count = Int(rest) ?? -1
            if count < 0 { return .array(nil) }
            return .array((0..<count).map { _ in readValue() })
        default:
            return .error("unexpected \(header)")
        }
    }
}

/// MULTI/EXEC atomicity across event loops and shards: concurrent transfers between keys in
/// different shards never let anyone observe money in flight.
@Suite("Transactions under concurrency")
struct TransactionConcurrencyTests {
    static let accounts = (0..<12).map { "account:\($0)" }
    static let initial = 1000

    @Test func execTransfersKeepTheTotalAtEveryObservation() throws {
        try withServer(["--io-threads", "2"]) { port in
            let setup = try RESPConnection(port: port)
            for key in Self.accounts { _ = setup.call("SET", key, "\(Self.initial)") }
            let total = Self.initial * Self.accounts.count
            let workers = 4, rounds = 300
            let violations = Atomic(0)
            let group = DispatchGroup()
            // Writers on both loops: MULTI DECRBY a / INCRBY b EXEC.
            for w in 0..<workers {
                let connection = try RESPConnection(port: port)
                group.enter()
                Thread.detachNewThread {
                    var rng = SystemRandomNumberGenerator()
                    for _ in 0..<rounds {
                        let a = Self.accounts.randomElement(using: &rng)!
                        var b = Self.accounts.randomElement(using: &rng)!
                        while b == a { b = Self.accounts.randomElement(using: &rng)! }
                        let amount = "\(Int.random(in: 1...10, using: &rng) + w)"
                        _ = connection.call("MULTI")
                        _ = connection.call("DECRBY", a, amount)
                        _ = connection.call("INCRBY", b, amount)
                        if case .array(let replies?) = connection.call("EXEC"), replies.count == 2 { continue }
                        violations.increment()
                    }
                    group.leave()
                }
            }
            // Observers: a multi-key read (MGET) and a transaction of single reads.
            let observer = try RESPConnection(port: port)
            var observations = 0
            while group.wait(timeout: .now()) == .timedOut {
                if case .array(let values?) = observer.call(["MGET"] + Self.accounts) {
                    if values.compactMap(\.int).reduce(0, +) != total { violations.increment() }
                }
                _ = observer.call("MULTI")
                for key in Self.accounts { _ = observer.call("GET", key) }
                if case .array(let values?) = observer.call("EXEC") {
                    if values.compactMap(\.int).reduce(0, +) != total { violations.increment() }
                }
                observations += 1
            }
            #expect(observations > 0)
            #expect(violations.value == 0)
            if case .array(let values?) = observer.call(["MGET"] + Self.accounts) {
                #expect(values.compactMap(\.int).reduce(0, +) == total)
            }
        }
    }

    @Test func watchBasedTransfersNeverLoseAnUpdate() throws {
        try withServer(["--io-threads", "2"]) { port in
            let setup = try RESPConnection(port: port)
            _ = setup.call("SET", "counter", "0")
            let workers = 4, increments = 150
            let group = DispatchGroup()
            let retries = Atomic(0)
            for _ in 0..<workers {
                let connection = try RESPConnection(port: port)
                group.enter()
                Thread.detachNewThread {
                    // Optimistic increment: WATCH, read, MULTI SET value+1 EXEC, retry on nil.
                    for _ in 0..<increments {
                        while true {
                            _ = connection.call("WATCH", "counter")
                            let value = connection.call("GET", "counter").int ?? 0
                            _ = connection.call("MULTI")
                            _ = connection.call("SET", "counter", "\(value + 1)")
                            if case .array(let r?) = connection.call("EXEC"), r.count == 1 { break }
                            retries.increment()
                        }
                    }
                    group.leave()
                }
            }
            group.wait()
            // Every increment landed exactly once: WATCH caught every concurrent change.
            #expect(setup.call("GET", "counter") == .bulk("\(workers * increments)"))
        }
    }
}

/// A tiny lock-protected counter for test threads.
final class Atomic: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int
    init(_ value: Int) { count = value }
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
