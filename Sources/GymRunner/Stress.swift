import Foundation
import GymAgents
import GymCore
import GymData
import GymEval
import GymRandom
import GymReports
import GymScenario
import Yams

/// The cross-entropy method (Rubinstein 1999) over the unit box [0, 1]^d: the first round draws
/// `population` points uniformly; each later round draws them from independent normals fitted to
/// the previous round's elite (the `eliteFraction` with the lowest values), clipped to the box.
/// One round of `population` points is plain random search.
public enum CrossEntropySearch {
    public struct Point: Sendable {
        public var u: [Double]
        public var value: Double
        public var round: Int
    }

    /// Minimises: `evaluate` gets a round's points and returns their values (NaN: worst).
    public static func minimise(dimensions d: Int, rounds: Int, population: Int, eliteFraction: Double, stream: RandomStream,
                                evaluate: ([[Double]]) throws -> [Double]) rethrows -> [Point] {
        var all: [Point] = []
        var mean = [Double](repeating: 0.5, count: d), sd = [Double](repeating: 0, count: d)
        for round in 0..<rounds {
            var batch: [[Double]] = []
            for _ in 0..<population {
                batch.append((0..<d).map { i in
                    round == 0 ? stream.uniform() : min(1, max(0, mean[i] + sd[i] * stream.standardNormal()))
                })
            }
            let values = try evaluate(batch)
            let points = zip(batch, values).map { Point(u: $0.0, value: $0.1, round: round) }
            all += points
            let eliteCount = max(2, Int((Double(population) * eliteFraction).rounded(.up)))
            let elite = points.sorted { key($0.value) < key($1.value) }.prefix(eliteCount)
            for i in 0..<d {
                let xs = elite.map { $0.u[i] }
                let m = xs.reduce(0, +) / Double(xs.count)
                let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(1, xs.count - 1))
                // Smoothed (0.7 new, 0.3 old) with a floor, so the search keeps looking around.
                mean[i] = round == 0 ? m : 0.7 * m + 0.3 * mean[i]
                sd[i] = max(0.03, round == 0 ? v.squareRoot() : 0.7 * v.squareRoot() + 0.3 * sd[i])
            }
        }
        return all
    }

    /// NaN sorts last.
    static func key(_ v: Double) -> Double { v.isNaN ? .infinity : v }
}

/// One parameter range of `stress --over`.
public struct StressRange: Sendable, Equatable {
    public var key: String
    public var low: Double, high: Double
    public var integer: Bool
    public init(key: String, low: Double, high: Double, integer: Bool) {
        self.key = key; self.low = low; self.high = high; self.integer = integer
    }
    /// The value at u in [0, 1], as a YAML scalar.
    public func value(_ u: Double) -> (Double, String) {
        let x = low + u * (high - low)
        if integer { let n = x.rounded(); return (n, String(Int(n))) }
        return (x, String(format: "%.6g", x))
    }
}

/// `optima-gym stress`: what to search.
public struct StressRequest: Sendable {
    public var scenarioPath: String
    public var metric: String
    /// true: the world where the metric is lowest is the worst (`--minimise`); false: highest.
    public var minimise = true
    public var ranges: [StressRange]
    public var agent: String?
    public var method = "cem"
    public var rounds = 5
    public var population = 12
    public var eliteFraction = 0.25
    public var confirmSeeds = 3
    /// Nil: the scenario's `seed:`, else a fresh one.
    public var seed: UInt64?
    public var threads = 1
    public var out: String?
    public var started = Date()
    public init(scenarioPath: String, metric: String, ranges: [StressRange], seed: UInt64?) {
        self.scenarioPath = scenarioPath; self.metric = metric; self.ranges = ranges; self.seed = seed
    }
}

/// The search's result.
public struct StressOutcome: Sendable {
    public var destination: URL
    public var agent: String
    public var base: MetricValue
    /// Every point evaluated, in order, with its settings and the metric.
    public var points: [(round: Int, values: [String], metric: MetricValue)]
    /// The worst point's index, and its metric on fresh seeds.
    public var worst: Int
    public var confirmation: [(seed: UInt64, metric: MetricValue)]
    /// The intervals' confidence level (the scenario's).
    public var confidence = 0.95
}

public enum StressJob {
    /// Runs the search: the base scenario first, then the rounds; every point with the same seed
    /// (common random numbers), on `threads` threads, the results independent of the thread count.
    public static func run(_ request: StressRequest, progress: Progress) throws -> StressOutcome {
        let base = try ScenarioLoader.load(path: request.scenarioPath)
        guard let text = try? String(contentsOfFile: request.scenarioPath, encoding: .utf8) else {
            throw StressError(message: "\(request.scenarioPath): cannot read the scenario")
        }
        var r = request
        r.seed = request.seed ?? base.seed ?? UInt64.random(in: 0...UInt64.max)
        let seed = r.seed!
        guard let spec = r.agent.map({ a in base.agents.first { $0.name == a } }) ?? base.agents.first(where: { !$0.readsHiddenTruth }) else {
            throw StressError(message: "\(r.scenarioPath): " + (r.agent.map { "the scenario has no agent '\($0)' (it has \(base.agents.map(\.name).joined(separator: ", ")))" }
                                                               ?? "the scenario has no agent that is not an upper bound"))
        }
        // Both ends of every range must make a valid scenario (else the search would fail midway).
        for g in r.ranges {
            for end in [0.0, 1.0] {
                do { _ = try SweepFile.scenario(text: text, file: r.scenarioPath, overrides: [(g.key, g.value(end).1)]) } catch let e as ScenarioError {
                    throw StressError(message: "--over \(g.key)=\(g.value(0).1):\(g.value(1).1): the scenario is invalid at \(g.value(end).1): "
                                      + (e.diagnostics.first.map { $0.message } ?? "\(e)"), usage: true)
                }
            }
        }
        let dir = try RunJob.claim(r.out, defaultPath: "reports/\(base.name)/stress-\(makeRunID(started: r.started, seed: seed))")
        let total = 1 + r.rounds * r.population + r.confirmSeeds
        progress.begin(total: total)
        progress.note("optima-gym \(projectVersion): stress \(base.name), agent \(spec.name), \(r.minimise ? "minimising" : "maximising") \(r.metric), \(total) runs, \(r.threads) threads")
        var done = 0
        let lock = NSLock()
        func evaluate(_ overrides: [[(String, String)]], seed: (Int) -> UInt64) throws -> [MetricValue] {
            var results = [Result<MetricValue, Error>?](repeating: nil, count: overrides.count)
            DispatchQueue.concurrentPerform(iterations: max(1, min(r.threads, overrides.count))) { w in
                var i = w
                while i < overrides.count {
                    let res = Result { try measure(text: text, file: r.scenarioPath, overrides: overrides[i], agent: spec.name, metric: r.metric, seed: seed(i)) }
                    lock.lock(); results[i] = res; done += 1; progress.update("stress", done: done, total: total); lock.unlock()
                    i += max(1, min(r.threads, overrides.count))
                }
            }
            return try results.map { try $0!.get() }
        }
        let sign = r.minimise ? 1.0 : -1.0
        let baseMetric = try evaluate([[]], seed: { _ in seed })[0]
        var points: [(round: Int, values: [String], metric: MetricValue)] = []
        let rounds = r.method == "random" ? 1 : r.rounds
        let population = r.method == "random" ? r.rounds * r.population : r.population
        _ = try CrossEntropySearch.minimise(dimensions: r.ranges.count, rounds: rounds, population: population, eliteFraction: r.eliteFraction,
                                            stream: SeedTree(root: seed).child("stress.search").stream()) { batch in
            let settings = batch.map { u in zip(r.ranges, u).map { ($0.0.key, $0.0.value($0.1).1) } }
            let m = try evaluate(settings, seed: { _ in seed })
            let round = points.isEmpty ? 0 : points.last!.round + 1
            for (s, v) in zip(settings, m) { points.append((round, s.map(\.1), v)) }
            return m.map { sign * $0.value }
        }
        let worst = points.indices.min { CrossEntropySearch.key(sign * points[$0].metric.value) < CrossEntropySearch.key(sign * points[$1].metric.value) }!
        let worstOverrides = zip(r.ranges, points[worst].values).map { ($0.0.key, $0.1) }
        let seeds = (0..<r.confirmSeeds).map { SeedTree(root: seed).child("stress.confirm").child(String($0)).value }
        let confirmed = try evaluate([[(String, String)]](repeating: worstOverrides, count: r.confirmSeeds), seed: { seeds[$0] })
        progress.finish()
        var outcome = StressOutcome(destination: dir.destination, agent: spec.name, base: baseMetric, points: points, worst: worst,
                                    confirmation: Array(zip(seeds, confirmed)))
        outcome.confidence = base.evaluation.eval.confidence
        try dir.write("stress.csv", StressReport.csv(outcome, ranges: r.ranges))
        try dir.write("stress.svg", StressReport.chart(outcome, request: r, scenario: base.name))
        try dir.write("worst.yaml", "# \(base.name) with the worst settings `optima-gym stress` found for \(spec.name) (\(r.metric)); base: \(r.scenarioPath)\n"
                      + (try worstScenarioText(text: text, overrides: worstOverrides)))
        try dir.write("report.md", StressReport.markdown(outcome, request: r, scenario: base.name))
        try dir.commit()
        return outcome
    }

    /// One point: the scenario with `overrides`, only `agent` (and the upper bounds a metric
    /// needs), run with `seed`; its metric.
    static func measure(text: String, file: String, overrides: [(String, String)], agent: String, metric: String, seed: UInt64) throws -> MetricValue {
        var sc = try SweepFile.scenario(text: text, file: file, overrides: overrides)
        sc.agents = sc.agents.filter { $0.name == agent || (metric == "sample_efficiency" && $0.readsHiddenTruth) }
        let (runs, _) = try Runner.run(sc, seed: seed, threads: 1, captureContexts: false, progress: nil)
        let run = runs.first { $0.name == agent }!
        return (run.metrics + Runner.safetyMetrics(run)).first { $0.name == metric }
            ?? MetricValue(name: metric, value: .nan, ciLow: .nan, ciHigh: .nan, count: 0, note: "not measured")
    }

    static func worstScenarioText(text: String, overrides: [(String, String)]) throws -> String {
        var root = try Yams.compose(yaml: text) ?? Node.mapping([:])
        for (k, v) in overrides { SweepFile.setValue(&root, path: k, scalar: v) }
        let out = try Yams.serialize(node: root)
        return out.hasSuffix("\n") ? out : out + "\n"
    }
}

extension AgentSpec {
    /// The references that read hidden truth (oracle, lookahead): never the agent stressed by default.
    var readsHiddenTruth: Bool {
        switch self { case .oracle, .lookahead: return true; default: return false }
    }
}

/// A bad `stress` request (`usage`: a bad flag value, exit 64; else bad input, 65).
public struct StressError: BadInputError {
    public var message: String
    public var usage = false
    public var description: String { "error: " + message }
}
