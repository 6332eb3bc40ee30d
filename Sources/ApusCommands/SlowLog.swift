import ApusRESP
import NIOConcurrencyHelpers

/// SLOWLOG: commands slower than `slowlog-log-slower-than`, newest first, bounded by
/// `slowlog-max-len`.
public final class SlowLog: @unchecked Sendable {
    public struct Record: Sendable {
        public let id: Int
        public let timestamp: Int
        public let microseconds: Int
        public let arguments: [Bytes]
        public let clientAddress: String
        public let clientName: String
    }

    /// Redis keeps at most 32 arguments and 128 bytes of each.
    static let maxArguments = 32
    static let maxArgumentBytes = 128

    private let lock = NIOLock()
    private var records: [Record] = []
    private var nextID = 0

    public init() {}

    public func add(args: CommandArguments, microseconds: Int, timestamp: Int, client: ClientSession, maxLength: Int) {
        var saved: [Bytes] = []
        let n = min(args.count, SlowLog.maxArguments)
        for i in 0..<n {
            if i == SlowLog.maxArguments - 1 && args.count > SlowLog.maxArguments {
                saved.append(Bytes("... (\(args.count - SlowLog.maxArguments + 1) more arguments)"))
                break
            }
            let arg = args[i]
            if arg.count > SlowLog.maxArgumentBytes {
                var bytes = Array(UnsafeRawBufferPointer(rebasing: arg[0..<SlowLog.maxArgumentBytes]))
                bytes += Array("... (\(arg.count - SlowLog.maxArgumentBytes) more bytes)".utf8)
                saved.append(Bytes(bytes))
            } else {
                saved.append(Bytes(arg))
            }
        }
        let name = client.name?.description ?? ""
        lock.withLockVoid {
            records.insert(Record(id: nextID, timestamp: timestamp, microseconds: microseconds, arguments: saved,
                                  clientAddress: client.remoteAddress, clientName: name), at: 0)
            nextID += 1
            if records.count > maxLength { records.removeLast(records.count - max(maxLength, 0)) }
        }
    }

    public func get(count: Int) -> [Record] { lock.withLock { Array(records.prefix(count)) } }
    public var count: Int { lock.withLock { records.count } }
    public func reset() { lock.withLockVoid { records.removeAll() } }
    public func trim(to maxLength: Int) {
        lock.withLockVoid { if records.count > maxLength { records.removeLast(records.count - max(maxLength, 0)) } }
    }
}
