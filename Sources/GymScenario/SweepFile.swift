import Foundation
import GymGate
import GymEval
import GymRandom
import Yams

/// A scenario sweep (`scenarios/sweeps/*.yaml`): a base scenario, parameters to vary by key path
/// (grid lists or random draws), seeds, and the metrics to rank by.
///
/// ```yaml
/// name: exposure_x_distress          # default: the file's stem
/// base: ../baseline.yaml             # relative to this file
/// set:                               # fixed overrides for every cell (optional)
///   training.episodes: 5000
/// parameters:                        # key path -> a list (grid) or a random draw
///   pairing.daily_exposure_budget: [2, 3, 4]
///   emotion.distress_bias: [-0.6, -0.45, -0.3]
///   population.activity_mean: {uniform: [0.5, 1.5]}     # also log_uniform, int_uniform
/// samples: 1                         # random draws (each combined with every grid point)
/// seeds: [1, 2, 3]                   # or {count: 3}: derived from `seed`
/// seed: 7                            # seeds the random draws and derived seeds
/// rank_by: [mean_reward]             # metrics ranked in the report (higher or lower is better per metric)
/// rank_agent: epsilon_greedy         # whose metrics are ranked (default: the first agent that is not an upper bound)
/// ```
///
/// Cells: every grid point (the first parameter varies slowest) x every sample x every seed, in
/// that order; cell k of n. Each cell is the base scenario with its overrides, run with its seed.
public struct SweepFile: Sendable {
    public enum Draw: Sendable, Equatable {
        case uniform(Double, Double), logUniform(Double, Double), intUniform(Int, Int)
    }
    public enum Values: Sendable, Equatable {
        /// YAML scalars as written (numbers keep their spelling).
        case grid([String])
        case random(Draw)
    }
    public struct Parameter: Sendable {
        public var key: String
        public var values: Values
        public var line: Int
        public var column: Int
    }

    public var path: String
    public var name: String
    public var basePath: String
    /// Fixed overrides (key path, YAML scalar), in file order.
    public var fixed: [(String, String)] = []
    public var parameters: [Parameter] = []
    public var samples = 1
    public var seeds: [UInt64] = [1]
    public var seed: UInt64 = 1
    public var rankBy: [String] = ["mean_reward"]
    public var rankAgent: String?
    /// The sweep's own gate rules (`gate:`), which replace the base scenario's; nil: the base's.
    public var gate: [GateRule]?
    var gateReferences: [(name: String, keyPath: String, location: SourceLocation)] = []
    /// The raw bytes of this file and of the base scenario (for the fingerprint).
    public var fileBytes: [UInt8] = []
    public var baseBytes: [UInt8] = []

    /// One cell: its index, parameter values (key -> YAML scalar, in parameter order) and seed.
    public struct Cell: Sendable, Equatable {
        public var index: Int
        public var setting: Int
        public var values: [String]
        public var seed: UInt64
    }

    public var gridPoints: Int {
        parameters.reduce(1) { n, p in if case let .grid(v) = p.values { return n * v.count } else { return n } }
    }
    public var hasRandom: Bool { parameters.contains { if case .random = $0.values { return true } else { return false } } }
    /// Parameter settings: grid points x samples.
    public var settings: Int { gridPoints * (hasRandom ? samples : 1) }
    public var cellCount: Int { settings * seeds.count }

    /// The parameter values of setting `s` (grid point s / samples, sample s % samples).
    public func setting(_ s: Int) -> [String] {
        let nSamples = hasRandom ? samples : 1
        var grid = s / nSamples
        let sample = s % nSamples
        // Mixed radix, the last grid parameter fastest.
        var out = [String](repeating: "", count: parameters.count)
        for (i, p) in parameters.enumerated().reversed() {
            if case let .grid(v) = p.values {
                out[i] = v[grid % v.count]
                grid /= v.count
            }
        }
        for (i, p) in parameters.enumerated() {
            guard case let .random(d) = p.values else { continue }
            // Draw `sample` of parameter i: its own stream, so adding a parameter does not move the others.
            let st = SeedTree(root: seed).child("sweep.sample", sample).child(p.key).stream()
            switch d {
            // Six significant digits: the value written in the report is the value used.
            case let .uniform(a, b): out[i] = String(format: "%.6g", a + (b - a) * st.uniform())
            case let .logUniform(a, b): out[i] = String(format: "%.6g", exp(log(a) + (log(b) - log(a)) * st.uniform()))
            case let .intUniform(a, b): out[i] = String(a + st.uniformInt(b - a + 1))
            }
        }
        return out
    }

    public func cell(_ k: Int) -> Cell {
        let s = k / seeds.count
        return Cell(index: k, setting: s, values: setting(s), seed: seeds[k % seeds.count])
    }

    /// FNV-1a over the project version, this file and the base scenario: cells and shards of
    /// another sweep, another edit of it or another version do not mix.
    public func fingerprint(version: String) -> String {
        // Both files passed the UTF-8 check of ScenarioLoader, so their text is their bytes.
        let h = SeedTree.fnv1a64(version + "\u{1}" + String(decoding: fileBytes, as: UTF8.self) + "\u{2}" + String(decoding: baseBytes, as: UTF8.self))
        return String(format: "%016llx", h)
    }

    /// The base scenario with `fixed` and the cell's overrides applied, validated. `label` names
    /// the cell in errors.
    public func scenario(values: [String]) throws -> Scenario {
        var root = try Yams.compose(yaml: String(decoding: baseBytes, as: UTF8.self), .default, .default, .utf8) ?? Node.mapping([:])
        for (k, v) in fixed { SweepFile.set(&root, path: k.split(separator: ".").map(String.init), scalar: v) }
        for (p, v) in zip(parameters, values) { SweepFile.set(&root, path: p.key.split(separator: ".").map(String.init), scalar: v) }
        let text = try Yams.serialize(node: root)
        var sc = try ScenarioLoader.parse(text: text, file: basePath)
        if let gate { sc.gate = gate }
        return sc
    }

    static func set(_ node: inout Node, path: [String], scalar: String) {
        guard let first = path.first else { return }
        var mapping: Node.Mapping
        if case let .mapping(m) = node { mapping = m } else { mapping = Node.Mapping([]) }
        if path.count == 1 {
            let parsed = (try? Yams.compose(yaml: scalar)) ?? nil
            mapping[Node(first)] = parsed ?? Node(scalar)
        } else {
            var child = mapping[Node(first)] ?? Node.mapping([:])
            set(&child, path: Array(path.dropFirst()), scalar: scalar)
            mapping[Node(first)] = child
        }
        node = .mapping(mapping)
    }
}


/// Reads sweep files. Errors are `ScenarioError`s with the sweep file's line and column.
public enum SweepLoader {
    /// Whether the YAML at `path` looks like a sweep (a mapping with `base` and `parameters`).
    public static func isSweep(path: String) -> Bool {
        guard let data = try? ScenarioLoader.readFile(path), let root = try? Yams.compose(yaml: String(decoding: data, as: UTF8.self)),
              case let .mapping(m) = root else { return false }
        return m["base"] != nil && m["parameters"] != nil
    }

    public static func load(path: String) throws -> SweepFile {
        let data = try ScenarioLoader.readFile(path)
        let (root, sinkIn) = try ScenarioLoader.compose(data, file: path)
        var sink = sinkIn
        var sweep = SweepFile(path: path, name: ScenarioLoader.defaultName(for: path), basePath: "")
        sweep.fileBytes = data
        guard case let .mapping(m) = root else {
            sink.error(at: root.location ?? .start, "", "the top level of a sweep must be a mapping (base, parameters, seeds, ...)")
            throw ScenarioError(diagnostics: sink.sorted)
        }
        let known = ["name", "description", "base", "set", "parameters", "samples", "seeds", "seed", "rank_by", "rank_agent", "gate"]
        for (k, _) in m {
            guard case let .value(key) = YAMLValues.string(k) else { continue }
            if !known.contains(key) {
                let hint = Suggestions.closest(to: key, among: known).map { " (did you mean '\($0)'?)" } ?? ""
                sink.error(at: k.location ?? .start, key, "unknown key\(hint)")
            }
        }
        func loc(_ n: Node?) -> SourceLocation { n?.location ?? .start }
        if let n = m["name"] {
            if case let .value(s) = YAMLValues.string(n), !s.isEmpty, s.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSetASCII.alnum($0) || "_-.".unicodeScalars.contains($0)) }) {
                sweep.name = s
            } else { sink.error(at: loc(n), "name", "must be letters, digits, '_', '-' or '.', got \(n.shortDescription)") }
        }
        if let s = m["seed"] {
            if case let .value(v) = YAMLValues.uint64(s) { sweep.seed = v } else { sink.error(at: loc(s), "seed", "must be a non-negative integer, got \(s.shortDescription)") }
        }
        // base
        if let b = m["base"], case let .value(rel) = YAMLValues.string(b), !rel.isEmpty {
            let resolved = rel.hasPrefix("/") ? rel : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(rel).standardized.path
            sweep.basePath = resolved
            do {
                sweep.baseBytes = try ScenarioLoader.readFile(resolved)
                if isSweep(path: resolved) {
                    sink.error(at: loc(b), "base", "\(rel) is a sweep file, not a scenario: a sweep varies one scenario (point `base:` at the scenario that sweep varies)")
                }
            } catch let e as ScenarioError {
                sink.error(at: loc(b), "base", "\(rel): \(e.diagnostics.first?.message ?? "unreadable")")
            }
        } else {
            sink.error(at: loc(m["base"] ?? root), "base", "a sweep needs `base:`, the scenario file it varies (relative to this file)")
        }
        // set
        var setLocations: [String: SourceLocation] = [:]
        if let s = m["set"] {
            if case let .mapping(sm) = s {
                for (k, v) in sm {
                    guard case let .value(key) = YAMLValues.string(k), case .scalar = v else {
                        sink.error(at: loc(k), "set", "expected `key.path: value` with a scalar value"); continue
                    }
                    sweep.fixed.append((key, scalarText(v)))
                    setLocations[key] = loc(v)
                }
            } else { sink.error(at: loc(s), "set", "expected a mapping of key path to value") }
        }
        // parameters
        if let ps = m["parameters"], case let .mapping(pm) = ps, pm.count > 0 {
            for (k, v) in pm {
                guard case let .value(key) = YAMLValues.string(k), !key.isEmpty else { sink.error(at: loc(k), "parameters", "key paths must be strings"); continue }
                let here = loc(v)
                switch v {
                case let .sequence(seq):
                    let vals = seq.map { n -> String? in if case .scalar = n { return scalarText(n) } else { return nil } }
                    if seq.isEmpty || vals.contains(where: { $0 == nil }) {
                        sink.error(at: here, "parameters.\(key)", "a grid needs a non-empty list of scalar values")
                    } else if Set(vals.map { $0! }).count != vals.count {
                        sink.error(at: here, "parameters.\(key)", "the grid lists a value twice")
                    } else {
                        sweep.parameters.append(.init(key: key, values: .grid(vals.map { $0! }), line: here.line, column: here.column))
                    }
                case let .mapping(dm) where dm.count == 1:
                    let (dk, dv) = dm.first!
                    guard case let .value(kind) = YAMLValues.string(dk), ["uniform", "log_uniform", "int_uniform"].contains(kind) else {
                        sink.error(at: loc(dk), "parameters.\(key)", "a random draw is {uniform: [low, high]}, {log_uniform: [low, high]} or {int_uniform: [low, high]}"); continue
                    }
                    guard case let .sequence(b) = dv, b.count == 2, case let .value(lo) = YAMLValues.number(b[0]), case let .value(hi) = YAMLValues.number(b[1]),
                          lo.isFinite, hi.isFinite, lo < hi else {
                        sink.error(at: loc(dv), "parameters.\(key).\(kind)", "expected [low, high] with finite low < high"); continue
                    }
                    let draw: SweepFile.Draw
                    switch kind {
                    case "uniform": draw = .uniform(lo, hi)
                    case "log_uniform":
                        guard lo > 0 else { sink.error(at: loc(dv), "parameters.\(key).log_uniform", "low must be > 0"); continue }
                        draw = .logUniform(lo, hi)
                    default:
                        guard lo == lo.rounded(), hi == hi.rounded(), abs(lo) < 1e12, abs(hi) < 1e12 else {
                            sink.error(at: loc(dv), "parameters.\(key).int_uniform", "low and high must be integers"); continue
                        }
                        draw = .intUniform(Int(lo), Int(hi))
                    }
                    sweep.parameters.append(.init(key: key, values: .random(draw), line: here.line, column: here.column))
                default:
                    sink.error(at: here, "parameters.\(key)", "expected a list of values (grid) or {uniform|log_uniform|int_uniform: [low, high]}, got \(v.shortDescription)")
                }
            }
        } else {
            sink.error(at: loc(m["parameters"] ?? root), "parameters", "a sweep needs `parameters:`, a mapping of key path to a list of values or a random draw")
        }
        if let s = m["samples"] {
            if case let .value(v) = YAMLValues.integer(s), (1...100_000).contains(v) { sweep.samples = v } else {
                sink.error(at: loc(s), "samples", "must be an integer in [1, 100000], got \(s.shortDescription)")
            }
        }
        if let s = m["seeds"] {
            switch s {
            case let .sequence(seq) where !seq.isEmpty:
                var out: [UInt64] = []
                for n in seq { if case let .value(v) = YAMLValues.uint64(n) { out.append(v) } else { sink.error(at: loc(n), "seeds", "seeds must be non-negative integers, got \(n.shortDescription)") } }
                if Set(out).count != out.count { sink.error(at: loc(s), "seeds", "a seed is listed twice") }
                sweep.seeds = out
            case let .mapping(sm):
                if let c = sm["count"], case let .value(n) = YAMLValues.integer(c), (1...100_000).contains(n) {
                    sweep.seeds = (0..<n).map { SeedTree(root: sweep.seed).child("sweep.seed", $0).value }
                } else { sink.error(at: loc(s), "seeds", "expected {count: N} with N in [1, 100000]") }
            default:
                sink.error(at: loc(s), "seeds", "expected a list of seeds or {count: N}")
            }
        }
        // gate: the sweep's own release gate, replacing the base scenario's in every cell.
        if let g = m["gate"] {
            var context = ReadContext(sink: sink)
            sweep.gate = ScenarioSchema.readGateRules(g, "gate", &context) ?? []
            sweep.gateReferences = context.gateAgentReferences
            sink = context.sink
        }
        if let r = m["rank_by"] {
            if case let .sequence(seq) = r, !seq.isEmpty {
                sweep.rankBy = []
                for n in seq {
                    guard case let .value(name) = YAMLValues.string(n), !name.isEmpty else { sink.error(at: loc(n), "rank_by", "metric names are strings"); continue }
                    let known = MetricCatalog.names
                    if !known.contains(name) {
                        let hint = Suggestions.closest(to: name, among: known).map { " (did you mean '\($0)'?)" } ?? ""
                        sink.error(at: loc(n), "rank_by", "unknown metric '\(name)'\(hint)")
                    }
                    sweep.rankBy.append(name)
                }
            } else { sink.error(at: loc(r), "rank_by", "expected a list of metric names") }
        }
        if let a = m["rank_agent"] {
            if case let .value(s) = YAMLValues.string(a), !s.isEmpty { sweep.rankAgent = s } else { sink.error(at: loc(a), "rank_agent", "must be an agent name") }
        }
        if let s = m["samples"], sink.count == 0, !sweep.hasRandom {
            sink.error(at: loc(s), "samples", "no parameter is a random draw, so samples has no effect; remove it or give a parameter {uniform: [low, high]}")
        }
        if sink.count == 0 && sweep.cellCount > 1_000_000 {
            sink.error(at: loc(m["parameters"]), "parameters", "the sweep has \(sweep.cellCount) cells; at most 1,000,000")
        }
        guard sink.count == 0 else { throw ScenarioError(diagnostics: sink.sorted) }
        // Every override must give a valid scenario: each grid value (the other parameters at their
        // first value) and each random draw's bounds.
        var problems: [ScenarioDiagnostic] = []
        func check(_ values: [String], blame p: SweepFile.Parameter?, _ what: String) {
            do {
                let sc = try sweep.scenario(values: values)
                if p == nil {
                    for r in sweep.gateReferences where !sc.agents.contains(where: { $0.name == r.name }) {
                        problems.append(ScenarioDiagnostic(file: path, line: r.location.line, column: r.location.column, keyPath: r.keyPath,
                                                           message: "the base scenario has no agent '\(r.name)' (it has: \(sc.agents.map(\.name).joined(separator: ", ")))", sourceLine: sink.sourceLine(r.location.line)))
                    }
                }
                if p == nil, let a = sweep.rankAgent, !sc.agents.contains(where: { $0.name == a }) {
                    let l = loc(m["rank_agent"])
                    problems.append(ScenarioDiagnostic(file: path, line: l.line, column: l.column, keyPath: "rank_agent",
                                                       message: "the base scenario has no agent '\(a)' (it has: \(sc.agents.map(\.name).joined(separator: ", ")))", sourceLine: sink.sourceLine(l.line)))
                }
            } catch let e as ScenarioError {
                let first = e.diagnostics.first
                let baseLocation = loc(m["base"])
                var here = SourceLocation(line: p?.line ?? baseLocation.line, column: p?.column ?? baseLocation.column)
                var keyPath = p.map { "parameters.\($0.key)" } ?? "base"
                var message = "\(what) makes an invalid scenario"
                if p == nil, let k = first?.keyPath, let l = setLocations[k] {
                    here = l; keyPath = "set.\(k)"; message = "this override makes an invalid scenario"
                } else if p == nil, let k = first?.keyPath, let q = sweep.parameters.first(where: { $0.key == k }) {
                    here = SourceLocation(line: q.line, column: q.column); keyPath = "parameters.\(k)"
                    message = "\(k) = \(values[sweep.parameters.firstIndex { $0.key == k }!]) makes an invalid scenario"
                }
                let key = first.map { $0.keyPath.isEmpty ? "" : "\($0.keyPath): " } ?? ""
                problems.append(ScenarioDiagnostic(file: path, line: here.line, column: here.column, keyPath: keyPath,
                                                   message: "\(message): \(key)\(first?.message ?? "\(e)")", sourceLine: sink.sourceLine(here.line)))
            } catch {
                problems.append(ScenarioDiagnostic(file: path, line: 1, column: 1, keyPath: "base", message: "\(error)", sourceLine: nil))
            }
        }
        let firstValues: [String] = sweep.parameters.map { p in
            switch p.values {
            case let .grid(v): return v[0]
            case let .random(d):
                switch d { case let .uniform(a, _), let .logUniform(a, _): return a.description; case let .intUniform(a, _): return String(a) }
            }
        }
        check(firstValues, blame: nil, "the base with `set` and each parameter's first value")
        // When that fails, every variation would fail the same way: report it once.
        let baseFailed = !problems.isEmpty
        for (i, p) in sweep.parameters.enumerated() where !baseFailed {
            var alts: [String] = []
            switch p.values {
            case let .grid(v): alts = Array(v.dropFirst())
            case let .random(d):
                switch d { case let .uniform(_, b), let .logUniform(_, b): alts = [b.description]; case let .intUniform(_, b): alts = [String(b)] }
            }
            for a in alts {
                var vals = firstValues
                vals[i] = a
                check(vals, blame: p, "\(p.key) = \(a)")
            }
        }
        guard problems.isEmpty else { throw ScenarioError(diagnostics: problems) }
        return sweep
    }

    static func scalarText(_ n: Node) -> String {
        if case let .scalar(s) = n { return s.string }
        return ""
    }
}

extension SweepFile {
    /// Sets the value at dotted key path `key` of a YAML document to `scalar` (parsed as YAML).
    public static func setValue(_ node: inout Node, path key: String, scalar: String) {
        set(&node, path: key.split(separator: ".").map(String.init), scalar: scalar)
    }

    /// The scenario `text` (of file `file`) with `overrides` (key path, YAML scalar) applied,
    /// validated: the same mechanism as a sweep cell's overrides.
    public static func scenario(text: String, file: String, overrides: [(String, String)]) throws -> Scenario {
        var root = try Yams.compose(yaml: text, .default, .default, .utf8) ?? Node.mapping([:])
        for (k, v) in overrides { set(&root, path: k.split(separator: ".").map(String.init), scalar: v) }
        return try ScenarioLoader.parse(text: try Yams.serialize(node: root), file: file)
    }
}

extension ScenarioSchema {
    /// The type (`integer`, `number`, ...) and allowed values of a scenario key, or nil when it is
    /// not a key of the scenario schema.
    public static func keyType(_ key: String) -> (type: String, allowed: String)? {
        scenario.fields.first { $0.key == key }.map { ($0.type, $0.allowed) }
    }

    /// A did-you-mean among the number and integer keys, or nil.
    public static func closestNumericKey(to key: String) -> String? { Suggestions.closest(to: key, among: numericKeys) }

    /// Every number or integer key (what `stress --over` can vary).
    public static var numericKeys: [String] {
        scenario.fields.filter { $0.type == "number" || $0.type == "integer" }.map(\.key)
    }
}
