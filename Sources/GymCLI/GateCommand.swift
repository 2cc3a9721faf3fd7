import ArgumentParser
import Foundation
import GymEval
import GymGate
import GymScenario

struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Re-check a finished run against gate rules without re-running it.",
        discussion: "Reads RUN_DIR/run.json. Rules come from --rules FILE (a scenario or a YAML list of rules), else from the rules recorded in the run. Exits 0 when every rule passes, 1 when one fails, 65 when the run directory or the rules file is unreadable."
    )

    @Argument(help: "A run directory written by `optima-gym run`.")
    var runDir: String

    @Option(help: "YAML file with gate rules (a `gate:` list, or a bare list of rules).")
    var rules: String?

    func run() throws {
        let path = URL(fileURLWithPath: runDir).appendingPathComponent("run.json").path
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("error: \(path): cannot read (is \(runDir) a run directory written by `optima-gym run`?)")
            throw Exit.dataError
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let agents = root["agents"] as? [[String: Any]] else {
            printError("error: \(path): not a valid run.json (expected an object with an 'agents' list)")
            throw Exit.dataError
        }
        func number(_ x: Any?) -> Double { (x as? NSNumber)?.doubleValue ?? .nan }
        var sets: [AgentMetricSet] = []
        for a in agents {
            guard let name = a["name"] as? String, let ms = a["metrics"] as? [[String: Any]] else {
                printError("error: \(path): an agent entry lacks 'name' or 'metrics'")
                throw Exit.dataError
            }
            let metrics = ms.compactMap { m -> MetricValue? in
                guard let n = m["name"] as? String else { return nil }
                return MetricValue(name: n, value: number(m["value"]), ciLow: number(m["ci_low"]), ciHigh: number(m["ci_high"]),
                                   count: (m["n"] as? Int) ?? 0, note: m["note"] as? String)
            }
            sets.append(AgentMetricSet(agent: name, metrics: metrics))
        }
        let ruleList: [GateRule]
        if let rules {
            do { ruleList = try ScenarioLoader.loadGateRules(path: rules, knownAgents: nil) } catch let e as ScenarioError {
                printError(e.description)
                throw Exit.dataError
            }
        } else {
            let recorded = ((root["gate"] as? [String: Any])?["rules"] as? [[String: Any]]) ?? []
            ruleList = recorded.compactMap { r in
                guard let metric = r["metric"] as? String, let agent = r["agent"] as? String else { return nil }
                let lo = r["min"] as? NSNumber, hi = r["max"] as? NSNumber
                return GateRule(metric: metric, agent: agent, min: lo?.doubleValue, max: hi?.doubleValue,
                                on: GateBound(rawValue: (r["on"] as? String) ?? "value") ?? .value, source: r["source"] as? String)
            }
        }
        let verdict = Gate.evaluate(ruleList, on: sets)
        printVerdict(verdict)
        if !verdict.passed { throw Exit.gateFailed }
    }
}
