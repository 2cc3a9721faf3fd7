import Foundation
import GymData
import GymEval
import GymGate
import GymScenario
import GymStore

/// A finished run as the gate sees it: metric sets per agent (and `population`), the rules it
/// recorded, its agents' models, and how to rebuild its evaluation world.
struct RunMetrics {
    var runID: String
    var seed: UInt64
    var sets: [AgentMetricSet]
    var recordedRules: [GateRule]
    /// Agent name -> checkpoint id (from the store, else the run's checkpoints).
    var agentModels: [String: String] = [:]
    var scenarioFile: String
    var scenarioText: String?

    /// A run directory (with run.json), else a run registered in `store` (id, prefix or directory).
    static func load(_ ref: String, store: Store?) throws -> RunMetrics {
        let json = URL(fileURLWithPath: ref).appendingPathComponent("run.json").path
        if FileManager.default.fileExists(atPath: json) {
            var m = try fromRunJSON(json)
            if let store, try store.hasRun(m.runID) {
                let d = try store.run(m.runID)
                m.scenarioText = d.scenarioText
                for a in d.agents { if let id = a.checkpointID { m.agentModels[a.name] = id } }
            }
            return m
        }
        guard let store else {
            throw DataError(file: json, message: "cannot read (is \(ref) a run directory written by `optima-gym run`, or a run id in a store?)")
        }
        let d = try store.run(ref)
        var m: RunMetrics
        let dirJSON = URL(fileURLWithPath: d.summary.reportDir).appendingPathComponent("run.json").path
        if FileManager.default.fileExists(atPath: dirJSON) {
            m = try fromRunJSON(dirJSON)
        } else {
            var byAgent: [String: [MetricValue]] = [:]
            var order: [String] = []
            for x in d.metrics {
                if byAgent[x.agent] == nil { order.append(x.agent) }
                byAgent[x.agent, default: []].append(MetricValue(name: x.name, value: x.value ?? .nan, ciLow: x.ciLow ?? .nan,
                                                                 ciHigh: x.ciHigh ?? .nan, count: x.n, note: x.note))
            }
            m = RunMetrics(runID: d.summary.runID, seed: UInt64(d.summary.seed) ?? 0,
                           sets: order.map { AgentMetricSet(agent: $0, metrics: byAgent[$0]!) }, recordedRules: [],
                           scenarioFile: d.scenarioFile)
        }
        m.runID = d.summary.runID
        m.scenarioText = d.scenarioText
        for a in d.agents { if let id = a.checkpointID { m.agentModels[a.name] = id } }
        return m
    }

    static func fromRunJSON(_ path: String) throws -> RunMetrics {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(file: path, message: "cannot read") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let agents = root["agents"] as? [[String: Any]] else {
            throw DataError(file: path, message: "not a valid run.json (expected an object with an 'agents' list)")
        }
        func number(_ x: Any?) -> Double { (x as? NSNumber)?.doubleValue ?? .nan }
        func metrics(_ ms: [[String: Any]]) -> [MetricValue] {
            ms.compactMap { m -> MetricValue? in
                guard let n = m["name"] as? String else { return nil }
                return MetricValue(name: n, value: number(m["value"]), ciLow: number(m["ci_low"]), ciHigh: number(m["ci_high"]),
                                   count: (m["n"] as? Int) ?? 0, note: m["note"] as? String)
            }
        }
        var sets: [AgentMetricSet] = []
        for (i, a) in agents.enumerated() {
            guard let name = a["name"] as? String, let ms = a["metrics"] as? [[String: Any]] else {
                throw DataError(file: path, column: "agents[\(i)]", message: "an agent entry lacks 'name' or 'metrics'")
            }
            sets.append(AgentMetricSet(agent: name, metrics: metrics(ms)))
        }
        if let p = (root["population"] as? [String: Any])?["metrics"] as? [[String: Any]] {
            sets.append(AgentMetricSet(agent: "population", metrics: metrics(p)))
        }
        let recorded = ((root["gate"] as? [String: Any])?["rules"] as? [[String: Any]]) ?? []
        let rules = recorded.compactMap { r -> GateRule? in
            guard let metric = r["metric"] as? String, let agent = r["agent"] as? String else { return nil }
            func opt(_ k: String) -> Double? { (r[k] as? NSNumber)?.doubleValue }
            return GateRule(metric: metric, agent: agent, min: opt("min"), max: opt("max"),
                            on: GateBound(rawValue: (r["on"] as? String) ?? "value") ?? .value, source: r["source"] as? String,
                            alertBelow: opt("alert_below"), alertAbove: opt("alert_above"), relativeTo: r["relative_to"] as? String,
                            maxDegradation: opt("max_degradation"))
        }
        var m = RunMetrics(runID: root["run_id"] as? String ?? "", seed: UInt64(root["seed"] as? String ?? "") ?? 0, sets: sets,
                           recordedRules: rules, scenarioFile: root["scenario_file"] as? String ?? "")
        // Checkpoints beside run.json, for a run the store does not know.
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        for a in agents {
            guard let name = a["name"] as? String,
                  let d = FileManager.default.contents(atPath: dir.appendingPathComponent("checkpoints/\(name).json").path),
                  let o = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any], let id = o["checkpoint_id"] as? String else { continue }
            m.agentModels[name] = id
        }
        return m
    }

    /// The scenario as it was run: its file when unchanged, else the text the store recorded
    /// (parsed in the file's place, so that its relative paths still resolve).
    func scenario() throws -> Scenario {
        let fm = FileManager.default
        if let text = scenarioText, !text.isEmpty {
            if let current = try? String(contentsOfFile: scenarioFile, encoding: .utf8), current == text {
                return try ScenarioBinding.load(path: scenarioFile)
            }
            // Parsed as if it were the file, so that its relative paths resolve where they did.
            return try ScenarioBinding.bind(try ScenarioLoader.parse(text: text, file: scenarioFile))
        }
        guard fm.fileExists(atPath: scenarioFile) else {
            throw DataError(file: scenarioFile, message: "the run's scenario file is gone and the store has no copy of it: the gate cannot rebuild its evaluation world")
        }
        return try ScenarioBinding.load(path: scenarioFile)
    }

    /// An `ope` report directory's estimates (estimates.csv) as a metric set: `ope.<estimator>`
    /// and `ope.ess`, agent `ope` or `ope.<name>`.
    static func opeSet(name: String?, dir: String) throws -> AgentMetricSet {
        let path = URL(fileURLWithPath: dir).appendingPathComponent("estimates.csv").path
        let csv: CSVText
        do { csv = try CSVText.read(path: path) } catch let e as DataError { throw e } catch {
            throw DataError(file: path, message: "cannot read an `optima-gym ope` report's estimates (\(error))")
        }
        var index: [String: Int] = [:]
        for c in ["estimator", "value", "ci_low", "ci_high", "ess"] {
            guard let i = csv.header.firstIndex(of: c) else {
                throw DataError(file: path, line: 1, column: c, message: "missing column '\(c)' (is \(dir) an `optima-gym ope` report?)")
            }
            index[c] = i
        }
        var metrics: [MetricValue] = []
        var ess = Double.nan
        for (k, row) in csv.rows.enumerated() {
            func num(_ c: String) throws -> Double {
                let i = index[c]!
                guard i < row.count, let x = Double(row[i]) else {
                    throw DataError(file: path, line: k < csv.lines.count ? csv.lines[k] : nil, column: c, message: "not a number: '\(i < row.count ? row[i] : "")'")
                }
                return x
            }
            let estimator = index["estimator"]! < row.count ? row[index["estimator"]!] : ""
            metrics.append(MetricValue(name: "ope.\(estimator)", value: try num("value"), ciLow: try num("ci_low"), ciHigh: try num("ci_high"), count: 0))
            ess = try num("ess")
        }
        metrics.append(MetricValue(name: "ope.ess", value: ess, ciLow: .nan, ciHigh: .nan, count: 0))
        return AgentMetricSet(agent: name.map { "ope.\($0)" } ?? "ope", metrics: metrics)
    }
}
