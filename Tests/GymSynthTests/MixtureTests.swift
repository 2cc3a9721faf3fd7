import XCTest
@testable import GymData
import GymEval
import GymRandom
@testable import GymSynth

final class MixtureTests: XCTestCase {
    /// A table from a known mixture: 2 numeric columns in [0, 10], one categorical column with
    /// levels a, b, c. Component 0 (weight 0.7): means (2, 3), sd 0.5, P = (0.8, 0.1, 0.1);
    /// component 1 (0.3): means (7, 8), sd 0.8, P = (0.1, 0.2, 0.7).
    func knownTable(rows: Int, seed: UInt64) throws -> DataTable {
        let s = RandomStream(seed: seed)
        var text = "x,y,colour\n"
        for _ in 0..<rows {
            let k = s.uniform() < 0.7 ? 0 : 1
            let (mx, my, sd) = k == 0 ? (2.0, 3.0, 0.5) : (7.0, 8.0, 0.8)
            let p = k == 0 ? [0.8, 0.1, 0.1] : [0.1, 0.2, 0.7]
            let u = s.uniform()
            let l = u < p[0] ? "a" : (u < p[0] + p[1] ? "b" : "c")
            text += "\(min(10, max(0, s.gaussian(mean: mx, sd: sd)))),\(min(10, max(0, s.gaussian(mean: my, sd: sd)))),\(l)\n"
        }
        return try DataTable.build(try CSVText.parse(Data(text.utf8), file: "known.csv"), file: "known.csv")
    }

    /// With a generous epsilon the DP fit recovers the mixture; the component order is arbitrary.
    func testFitRecoversAKnownMixture() throws {
        let table = try knownTable(rows: 20_000, seed: 3)
        var cfg = SynthFitConfig()
        cfg.epsilon = 50; cfg.components = 2; cfg.iterations = 20
        cfg.bounds = ["x": (0, 10), "y": (0, 10)]
        let m = try DPMixtureFit.fit(table, config: cfg, seed: 9, source: "known.csv").model
        XCTAssertNil(m.problem())
        let big = m.components.max { $0.weight < $1.weight }!, small = m.components.min { $0.weight < $1.weight }!
        func unscale(_ u: Double) -> Double { (u + 1) / 2 * 10 }
        XCTAssertEqual(big.weight, 0.7, accuracy: 0.02)
        XCTAssertEqual(unscale(big.mean[0]), 2, accuracy: 0.1); XCTAssertEqual(unscale(big.mean[1]), 3, accuracy: 0.1)
        XCTAssertEqual(unscale(small.mean[0]), 7, accuracy: 0.1); XCTAssertEqual(unscale(small.mean[1]), 8, accuracy: 0.1)
        XCTAssertEqual(big.variance[0].squareRoot() * 5, 0.5, accuracy: 0.05)      // sd in original units
        XCTAssertEqual(small.variance[1].squareRoot() * 5, 0.8, accuracy: 0.08)
        XCTAssertEqual(m.categorical[0].levels, ["a", "b", "c"])
        for (got, want) in zip(big.probabilities[0], [0.8, 0.1, 0.1]) { XCTAssertEqual(got, want, accuracy: 0.02) }
        for (got, want) in zip(small.probabilities[0], [0.1, 0.2, 0.7]) { XCTAssertEqual(got, want, accuracy: 0.03) }
    }

    /// The accounting: every release uses the same noise multiplier and together they spend the
    /// configured epsilon; the sensitivity follows the formula; the model kept is the candidate
    /// with the smallest BIC, and one component is clearly too few for two clusters.
    func testPrivacyAccountingAndSelection() throws {
        let table = try knownTable(rows: 20_000, seed: 4)
        var cfg = SynthFitConfig()
        cfg.epsilon = 1; cfg.delta = 1e-5; cfg.maxComponents = 3; cfg.iterations = 6
        cfg.bounds = ["x": (0, 10), "y": (0, 10)]
        let r = try DPMixtureFit.fit(table, config: cfg, seed: 2, source: "known.csv")
        let p = r.model.privacy
        XCTAssertEqual(p.releases, 3 * 6 + 3)
        XCTAssertEqual(r.events, [.composed(.gaussian(sigma: p.noiseMultiplier), times: 21)])
        var acc = RDPAccountant()
        for e in r.events { acc.compose(e) }
        XCTAssertEqual(acc.epsilon(delta: 1e-5).epsilon, 1, accuracy: 1e-5)
        XCTAssertEqual(p.statisticsSensitivity, (1 + 2 * 2 + 1.0).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(r.model.selection.map(\.components), [1, 2, 3])
        let best = r.model.selection.min { $0.bic < $1.bic }!
        XCTAssertEqual(r.model.components.count, best.components, "BIC: \(r.model.selection)")
        XCTAssertGreaterThan(r.model.selection[0].bic, r.model.selection[1].bic + 1000, "k = 1 cannot fit two clusters")
        XCTAssertTrue(p.notes.contains { $0.contains("category levels") })
        XCTAssertFalse(p.notes.contains { $0.contains("bounds") }, "bounds were configured")
    }

    /// Rows over the per-user cap are dropped, first rows kept; data-derived bounds are flagged.
    func testPerUserCapAndDataBounds() throws {
        let text = "user,v\n" + (0..<300).map { "u\($0 % 100),\(Double($0))" }.joined(separator: "\n") + "\n"
        let table = try DataTable.build(try CSVText.parse(Data(text.utf8), file: "t.csv"), file: "t.csv", roles: ["user": .user])
        var cfg = SynthFitConfig()
        cfg.components = 1; cfg.maxRowsPerUser = 2
        let m = try DPMixtureFit.fit(table, config: cfg, seed: 1, source: "t.csv").model
        XCTAssertEqual(m.privacy.users, 100)
        XCTAssertEqual(m.privacy.rowsUsed, 200)
        XCTAssertEqual(m.privacy.rowsDropped, 100)
        XCTAssertEqual(m.numeric[0].low, 0); XCTAssertEqual(m.numeric[0].high, 199, "rows 0..199 are the first two per user")
        XCTAssertEqual(m.numeric[0].boundsSource, "data")
        XCTAssertTrue(m.privacy.notes.contains { $0.contains("not private") })
        XCTAssertEqual(m.privacy.statisticsSensitivity, 2 * 3.0.squareRoot(), accuracy: 1e-12)
    }

    /// A hand-made model: generated values have the components' moments, categories their
    /// frequencies, persona vectors unit length; edge-case mode raises the rare category.
    func testSamplerMomentsAndEdgeCases() throws {
        let model = PersonaModel(
            format: PersonaModel.format, version: 1, source: "hand", numeric: [.init(name: "x", low: 0, high: 100, boundsSource: "configured")],
            categorical: [.init(name: "c", levels: ["common", "rare"], quasiIdentifier: false)],
            components: [.init(weight: 0.9, mean: [-0.5], variance: [0.01], probabilities: [[0.98, 0.02]]),
                         .init(weight: 0.1, mean: [0.5], variance: [0.04], probabilities: [[0.5, 0.5]])],
            selection: [], privacy: .init(epsilon: 1, delta: 1e-5, noiseMultiplier: 1, releases: 1, maxRowsPerUser: 1, statisticsSensitivity: 1,
                                          logLikelihoodClip: 50, users: 1, rowsUsed: 1, rowsDropped: 0, notes: []), seed: 1)
        XCTAssertNil(model.problem())
        func draw(edge: Bool) -> (x: [Double], rare: Double, norms: [Double]) {
            let sampler = PersonaSampler(model: model, seed: SeedTree(root: 5), edgeCases: edge)
            let rows = 4000
            let v = UnsafeMutablePointer<Double>.allocate(capacity: rows), c = UnsafeMutablePointer<Int>.allocate(capacity: rows)
            let padded = (rows + 63) / 64 * 64   // the sampler works in blocks of 64 rows
            let vec = UnsafeMutablePointer<Double>.allocate(capacity: padded * 512), z = UnsafeMutablePointer<Double>.allocate(capacity: padded * 3)
            defer { v.deallocate(); c.deallocate(); vec.deallocate(); z.deallocate() }
            var xs: [Double] = [], rare = 0.0, norms: [Double] = []
            for chunk in 0..<5 {
                sampler.chunk(chunk, rows: rows, root: SeedTree(root: 5), values: v, codes: c, vectors: vec, latent: z)
                for r in 0..<rows {
                    xs.append(v[r]); rare += Double(c[r])
                    var s = 0.0; for j in 0..<512 { s += vec[r * 512 + j] * vec[r * 512 + j] }; norms.append(s.squareRoot())
                }
            }
            return (xs, rare / Double(xs.count), norms)
        }
        let normal = draw(edge: false)
        // Mixture mean in original units: 0.9 * 25 + 0.1 * 75 = 30; P(rare) = 0.9 * 0.02 + 0.1 * 0.5 = 0.068.
        let mean = normal.x.reduce(0, +) / Double(normal.x.count)
        XCTAssertEqual(mean, 30, accuracy: 0.5)   // sd of the mean about 0.11
        XCTAssertEqual(normal.rare, 0.068, accuracy: 0.01)
        let low = normal.x.filter { $0 < 50 }
        let lowMean = low.reduce(0, +) / Double(low.count)
        let lowSD = (low.reduce(0) { $0 + ($1 - lowMean) * ($1 - lowMean) } / Double(low.count - 1)).squareRoot()
        XCTAssertEqual(lowSD, 5, accuracy: 0.2)   // 0.1 scaled sd = 5 original units
        XCTAssertTrue(normal.norms.allSatisfy { abs($0 - 1) < 1e-12 })
        let edge = draw(edge: true)
        XCTAssertGreaterThan(edge.rare, 0.2, "edge cases: components uniform and frequencies flattened")
        XCTAssertTrue(edge.x.allSatisfy { $0 >= 0 && $0 <= 100 }, "clipped to the bounds")
    }

    func testModelFileErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.json").path
        func error(_ text: String) -> String {
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            do { _ = try PersonaModel.load(path: path); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(error("{\"format\": \"optima-gym-persona-model\", \"vers").contains("not JSON (corrupt or truncated?)"))
        XCTAssertTrue(error("{\"format\": \"other\"}").contains("format is 'other'"))
        XCTAssertTrue(error("{\"format\": \"optima-gym-persona-model\", \"version\": 7}").contains("model version 7 is not supported"))
        XCTAssertTrue(error("{\"format\": \"optima-gym-persona-model\", \"version\": 1}").contains("missing key"))
        XCTAssertTrue(error("").contains("not JSON"))
    }
}
