/// Redis's CRC-64 (crc64.c): the Jones polynomial 0xad93d23594c935a9, reflected input and
/// output, initial value 0, no final xor. DUMP / FUNCTION DUMP payloads and RDB files end
/// with it (little-endian). crc64("123456789") == 0xe9c6d914c4b8d9ca.
public enum CRC64 {
    /// Byte-at-a-time table for the reflected polynomial.
    static let table: [UInt64] = {
        let reflected: UInt64 = 0x95ac_9329_ac4b_c9b5
        return (0..<256).map { n in
            var crc = UInt64(n)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ reflected : crc >> 1 }
            return crc
        }
    }()

    /// Continues `crc` over `bytes` (start with 0).
    public static func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var crc = crc
        table.withUnsafeBufferPointer { t in
            for byte in bytes { crc = t[Int((crc ^ UInt64(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 { update(0, bytes) }

    public static func checksum(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { update(0, $0) }
    }
}
