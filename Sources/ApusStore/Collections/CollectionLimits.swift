/// The size thresholds past which a small (packed) collection converts to its full encoding,
/// with Redis's config names and defaults. As in Redis 7.2, hashes and sets convert one way
/// (a collection that shrinks keeps its full encoding), while a list converts back to a
/// listpack once it fits one small node again, and STORE results start small when they fit.
public struct CollectionLimits: Sendable, Equatable {
    /// `hash-max-listpack-entries` / `hash-max-listpack-value`
    public var hashMaxListpackEntries = 512
    public var hashMaxListpackValue = 64
    /// `set-max-intset-entries`, `set-max-listpack-entries` / `set-max-listpack-value`
    public var setMaxIntsetEntries = 512
    public var setMaxListpackEntries = 128
    public var setMaxListpackValue = 64
    /// `zset-max-listpack-entries` / `zset-max-listpack-value`
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64
    /// `list-max-listpack-size`: > 0 caps the entries per quicklist node; -1...-5 cap its bytes
    /// at 4, 8, 16, 32 or 64 KiB.
    public var listMaxListpackSize = -2
    /// `list-compress-depth`: quicklist nodes at each end kept uncompressed (0 = none compressed).
    public var listCompressDepth = 0

    public init() {}
}
