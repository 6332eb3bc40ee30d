/// LZF decompression (liblzf's format, which RDB files and DUMP payloads use for strings
/// over 20 bytes when rdbcompression is on).
public enum LZF {
    /// Expands `input` into exactly `length` bytes; nil when the data is corrupt or does not
    /// expand to `length`.
    public static func decompress(_ input: UnsafeRawBufferPointer, length: Int) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(length)
        var i = 0
        let n = input.count
        while i < n {
            let ctrl = Int(input[i])
            i += 1
            if ctrl < 32 {
                // A literal run of ctrl + 1 bytes.
                let run = ctrl + 1
                guard i + run <= n, out.count + run <= length else { return nil }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + run)]))
                i += run
            } else {
                // A back reference: length from the top 3 bits (7 = one more byte), offset 13 bits.
                var len = ctrl >> 5
                if len == 7 {
                    guard i < n else { return nil }
                    len += Int(input[i])
                    i += 1
                }
                guard i < n else { return nil }
                let back = ((ctrl & 0x1F) << 8) + Int(input[i]) + 1
                i += 1
                len += 2
                guard back <= out.count, out.count + len <= length else { return nil }
                var from = out.count - back
                for _ in 0..<len {
                    out.append(out[from])
                    from += 1
                }
            }
        }
        return out.count == length ? out : nil
    }
}
