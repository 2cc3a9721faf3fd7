import GymRandom

/// UUIDs (version-4 layout, RFC 4122 variant) derived from a seed and a label, so that the same
/// seed gives the same ids in every run: h1 = splitmix64(seed ^ fnv1a64(label)),
/// h2 = splitmix64(h1 ^ 0x5bd1e9955bd1e995), with the version and variant bits set.
public enum DeterministicUUID {
    static let hexDigits = Array("0123456789abcdef".utf8)

    /// The 128 bits, version and variant bits set.
    public static func bits(seed: UInt64, label: String) -> (hi: UInt64, lo: UInt64) {
        let h1 = SeedTree.splitmix64(seed ^ SeedTree.fnv1a64(label))
        var h2 = SeedTree.splitmix64(h1 ^ 0x5bd1_e995_5bd1_e995)
        let hi = (h1 & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000
        h2 = (h2 & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000
        return (hi, h2)
    }

    /// The 36 characters `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`, appended to `out`.
    public static func append(seed: UInt64, label: String, to out: inout [UInt8]) {
        let (hi, lo) = bits(seed: seed, label: label)
        func hex(_ v: UInt64, _ count: Int) {
            for k in stride(from: count - 1, through: 0, by: -1) { out.append(hexDigits[Int((v >> UInt64(4 * k)) & 0xf)]) }
        }
        hex(hi >> 32, 8); out.append(45)
        hex((hi >> 16) & 0xffff, 4); out.append(45)
        hex(hi & 0xffff, 4); out.append(45)
        hex(lo >> 48, 4); out.append(45)
        hex(lo & 0xffff_ffff_ffff, 12)
    }

    public static func string(seed: UInt64, label: String) -> String {
        var b: [UInt8] = []
        b.reserveCapacity(36)
        append(seed: seed, label: label, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// Writes the UUID into a byte buffer.
    public static func write(seed: UInt64, label: String, to buffer: ByteBuffer) {
        var b: [UInt8] = []
        b.reserveCapacity(36)
        append(seed: seed, label: label, to: &b)
        buffer.reserve(36)
        for x in b { buffer.byte(x) }
    }
}
