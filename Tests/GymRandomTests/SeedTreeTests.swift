import XCTest
@testable import GymRandom

final class SeedTreeTests: XCTestCase {
    func testFNV1aPublishedValues() {
        // Reference values of 64-bit FNV-1a (offset basis, and the hash of "a").
        XCTAssertEqual(SeedTree.fnv1a64(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(SeedTree.fnv1a64("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(SeedTree.fnv1a64("foobar"), 0x8594_4171_f739_67e8)
    }

    func testSplitmix64ReferenceOutput() {
        // First output of the SplitMix64 generator seeded with 0 (Vigna's reference implementation).
        XCTAssertEqual(SeedTree.splitmix64(0), 0xe220_a839_7b1d_cdaf)
    }

    func testChildrenAreStableAndDistinct() {
        let root = SeedTree(root: 42)
        XCTAssertEqual(root.child("sim.episode", 3).value, SeedTree(root: 42).child("sim.episode", 3).value)
        XCTAssertEqual(root.child("sim.episode", 3).path, "sim.episode/3")
        var seen = Set<UInt64>()
        for i in 0..<1000 { seen.insert(root.child("sim.episode", i).value) }
        XCTAssertEqual(seen.count, 1000)
        XCTAssertNotEqual(root.child("a").value, root.child("b").value)
        XCTAssertNotEqual(SeedTree(root: 1).child("x").value, SeedTree(root: 2).child("x").value)
        // Not seed + i: neighbouring indices give unrelated seeds.
        let a = root.child("s", 1).value, b = root.child("s", 2).value
        XCTAssertGreaterThan((a ^ b).nonzeroBitCount, 10)
    }

    func testStreamsReproduce() {
        let a = SeedTree(root: 7).child("x").stream(), b = SeedTree(root: 7).child("x").stream()
        for _ in 0..<100 { XCTAssertEqual(a.next(), b.next()) }
    }

    func testMT19937ReferenceOutput() {
        // MT19937 seeded with 5489 (Matsumoto and Nishimura's reference): first output 3499211612.
        let s = RandomStream(seed: 5489, generator: .mt19937)
        XCTAssertEqual(s.next(), 3_499_211_612)
    }

    func testGeneratorsByName() throws {
        XCTAssertEqual(try GeneratorKind.named("taus2").name, "taus2")
        XCTAssertTrue(GeneratorKind.available.contains("mt19937"))
        XCTAssertThrowsError(try GeneratorKind.named("mt19938")) { e in
            XCTAssertTrue("\(e)".contains("unknown GSL generator 'mt19938'"))
        }
        let s = RandomStream(seed: 1, generator: try GeneratorKind.named("ranlxd2"))
        XCTAssertEqual(s.generator.name, "ranlxd2")
        XCTAssertFalse(GSL.version.isEmpty)
    }
}
