/// A small fast generator (SplitMix64) for the random picks of SPOP, SRANDMEMBER, HRANDFIELD
/// and ZRANDMEMBER, seeded from the system generator once per command, so a big count costs
/// no system call per pick.
public struct FastRandomGenerator: RandomNumberGenerator {
    @usableFromInline var state: UInt64

    @inlinable
    public init(seed: UInt64) { state = seed }

    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }
}
