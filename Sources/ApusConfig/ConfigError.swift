/// A configuration error, carrying the text Redis would produce.
///
/// From `set`/`rewrite` the message is the whole error reply without the leading '-'
/// (`"ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"`).
/// From `loadFile`/`applyArguments` it is the block Redis prints to stderr before
/// exiting with status 1 (`"*** FATAL CONFIG FILE ERROR (Redis 7.2.4) ***\n..."`); Redis
/// prints an empty line before it.
///
/// Change hooks (`ConfigRegistry.onChange`) and directive handlers throw a ConfigError
/// whose message is only the reason, e.g. `ConfigError("Unable to listen on this port. Check server logs.")`;
/// the registry wraps it into the full reply or fatal block.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Why a value was refused: the text after " - " in a CONFIG SET error, or the last
/// line of a fatal config file error. Empty when Redis gives no reason.
struct ConfigReason: Error {
    let text: String
    init(_ text: String) { self.text = text }
}
