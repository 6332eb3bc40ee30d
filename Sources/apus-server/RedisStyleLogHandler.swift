import Foundation
import Logging

/// Log lines in Redis's format (`pid:M 22 Nov 2026 01:02:03.456 * message`) to `logfile`, or
/// stdout when it is empty — tools and tests grep for Redis's messages.
struct RedisStyleLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    private let output: FileHandleOutput

    init(label: String, path: String, level: Logger.Level) {
        self.logLevel = level
        self.output = path.isEmpty ? .standardOutput : FileHandleOutput(path: path)
    }

    /// Redis's loglevel names: debug, verbose, notice, warning (and 7.2's nothing).
    static func level(_ name: String) -> Logger.Level {
        switch name {
        case "debug": .debug
        case "verbose": .info
        case "notice": .notice
        case "warning": .warning
        case "nothing": .critical
        default: .notice
        }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let marks: [Logger.Level: String] = [.trace: ".", .debug: ".", .info: "-", .notice: "*", .warning: "#", .error: "#", .critical: "#"]
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "dd MMM yyyy HH:mm:ss.SSS"
        var text = "\(event.message)"
        let extra = metadata.merging(event.metadata ?? [:]) { $1 }
        if !extra.isEmpty {
            text += " " + extra.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        output.write("\(getpid()):M \(formatter.string(from: Date())) \(marks[event.level] ?? "*") \(text)\n")
    }
}

/// A line-oriented log sink.
final class FileHandleOutput: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()

    static let standardOutput = FileHandleOutput(handle: .standardOutput)

    init(handle: FileHandle) { self.handle = handle }

    init(path: String) {
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let opened = FileHandle(forWritingAtPath: path)
        opened?.seekToEndOfFile()
        handle = opened ?? .standardError
    }

    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data(line.utf8))
    }

    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
