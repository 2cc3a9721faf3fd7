/// Deterministic seed derivation.
///
/// A run has one root seed. Every consumer of randomness gets its own child seed, derived from a
/// label path with a fixed hash: FNV-1a (64-bit) over the UTF-8 bytes of the path, mixed with the
/// root seed through splitmix64. It never uses `seed + i` and never Swift's per-process `Hasher`,
/// so the same root seed and label give the same child seed on every machine and in every process.
public struct SeedTree: Sendable, Hashable, CustomStringConvertible {
    /// The run's root seed.
    public let root: UInt64
    /// The label path, for example `sim.episode/3`.
    public let path: String

    public init(root: UInt64, path: String = "") {
        self.root = root
        self.path = path
    }

    /// A child for `label`.
    public func child(_ label: String) -> SeedTree {
        SeedTree(root: root, path: path.isEmpty ? label : path + "/" + label)
    }

    /// A child for `label` and an index, e.g. `child("sim.episode", 3)` -> `sim.episode/3`.
    public func child(_ label: String, _ index: Int) -> SeedTree {
        child(label + "/" + String(index))
    }

    /// The 64-bit seed of this node.
    public var value: UInt64 {
        SeedTree.splitmix64(root ^ SeedTree.fnv1a64(path))
    }

    /// A fresh `RandomStream` seeded from this node.
    public func stream(_ generator: GeneratorKind = .mt19937) -> RandomStream {
        RandomStream(seed: value, generator: generator)
    }

    public var description: String { "\(root):\(path)" }

    /// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
    public static func fnv1a64(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// splitmix64's finaliser (Steele, Lea and Flood 2014).
    public static func splitmix64(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
