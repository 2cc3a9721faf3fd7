import GymAgents
import GymEval
import GymGate
import GymSim
import XCTest
@testable import GymScenario

/// The key tables themselves: every key reaches its own property, every property has a key,
/// every key is documented.
final class SchemaTableTests: XCTestCase {
    /// Setting one key to a valid non-default value changes that key's value and no other key's.
    func checkRoundTrip<Root>(_ schema: Schema<Root>, defaults: Root, name: String, file: StaticString = #filePath, line: UInt = #line) {
        for field in schema.fields {
            guard let sample = field.sample?(defaults) else {
                XCTFail("\(name).\(field.key) has no sample value", file: file, line: line)
                continue
            }
            var root = defaults
            let diags = field.apply(yaml: sample, to: &root)
            XCTAssertEqual(diags, [], "\(name).\(field.key): sample '\(sample)' rejected", file: file, line: line)
            if field.key != "name" {
                XCTAssertNotEqual(field.defaultText(root), field.defaultText(defaults),
                                  "\(name).\(field.key) = \(sample) did not change the value", file: file, line: line)
            }
            for other in schema.fields where other.key != field.key {
                XCTAssertEqual(other.defaultText(root), other.defaultText(defaults),
                               "setting \(name).\(field.key) changed \(other.key)", file: file, line: line)
            }
        }
    }

    func testEveryKeyReachesItsOwnProperty() {
        checkRoundTrip(ScenarioSchema.scenario, defaults: Scenario(name: "x"), name: "scenario")
        checkRoundTrip(ScenarioSchema.groupSchema, defaults: GroupConfig(name: "g", share: 0.5), name: "group")
        checkRoundTrip(ScenarioSchema.toneSchema, defaults: ToneConfig(name: "t", traitLoadings: [0, 0, 0, 0, 0]), name: "tone")
        checkRoundTrip(ScenarioSchema.epsilonGreedySchema, defaults: EpsilonGreedyConfig(), name: "epsilon_greedy")
        checkRoundTrip(ScenarioSchema.ppoSchema, defaults: PPOAgentConfig(), name: "ppo")
        checkRoundTrip(ScenarioSchema.gateRuleSchema, defaults: GateRule(metric: "mean_reward", agent: "random", min: 0), name: "gate")
    }

    func testEveryKeyWorksThroughTheLoader() throws {
        // Each key, written at its place in a file: never "unknown key", and a valid value is accepted
        // unless a cross-key rule objects (e.g. one reward weight changed alone).
        let schema = ScenarioSchema.scenario
        let defaults = Scenario(name: "x")
        for field in schema.fields {
            guard let sample = field.sample?(defaults) else { continue }
            let parts = field.key.split(separator: ".")
            let yaml = parts.count == 1 ? "\(field.key): \(sample)\n" : "\(parts[0]):\n  \(parts[1]): \(sample)\n"
            do {
                _ = try ScenarioLoader.parse(text: yaml, file: "x.yaml")
            } catch let error as ScenarioError {
                let ruleKeys = Set(schema.rules.flatMap(\.keys))
                XCTAssertTrue(ruleKeys.contains(field.key), "\(field.key): \(error)")
                XCTAssertFalse(error.description.contains("unknown key"), "\(error)")
            }
        }
    }

    /// `camelCase` property name -> the key spelling (`chronotypeSDHours` -> `chronotype_sd_hours`).
    func snake(_ name: String) -> String {
        let exceptions = ["eventsPerWeekPer1000": "events_per_week_per_1000"]
        if let key = exceptions[name] { return key }
        let chars = Array(name)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase, i > 0 {
                let previous = chars[i - 1]
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) { out += "_" }
            }
            out += c.lowercased()
        }
        return out
    }

    func labels(_ value: Any) -> [String] { Mirror(reflecting: value).children.compactMap(\.label) }

    func testEveryConfigPropertyHasAKey() {
        let keys = Set(ScenarioSchema.scenario.fields.map(\.key))
        let sim = SimConfig()
        for section in Mirror(reflecting: sim).children {
            guard let sectionName = section.label else { continue }
            for property in labels(section.value) {
                let key = "\(sectionName).\(snake(property))"
                XCTAssertTrue(keys.contains(key), "SimConfig.\(sectionName).\(property) has no YAML key (expected '\(key)')")
            }
        }
        for property in labels(TrainingConfig()) { XCTAssertTrue(keys.contains("training.\(snake(property))"), property) }
        for property in labels(LoggingConfig()) { XCTAssertTrue(keys.contains("logging.\(snake(property))"), property) }
        for property in labels(EvaluationConfig()) where property != "eval" {
            XCTAssertTrue(keys.contains("evaluation.\(snake(property))"), property)
        }
        for property in labels(EvalConfig()) { XCTAssertTrue(keys.contains("evaluation.\(snake(property))"), property) }
        for property in labels(SafetyConfig()) { XCTAssertTrue(keys.contains("safety.\(snake(property))"), property) }
        for property in labels(Scenario(name: "x")) where !["sim", "training", "evaluation", "logging", "safety"].contains(property) {
            XCTAssertTrue(keys.contains(property), "Scenario.\(property) has no YAML key")
        }
        let sub: [(String, [String], Set<String>)] = [
            ("group", labels(GroupConfig(name: "g", share: 1)), Set(ScenarioSchema.groupSchema.fields.map(\.key)).union(["name"])),
            ("tone", labels(ToneConfig(name: "t", traitLoadings: [])), Set(ScenarioSchema.toneSchema.fields.map(\.key))),
            ("breaker", labels(BreakerConfig()), Set(ScenarioSchema.breakerSchema.fields.map(\.key))),
            ("epsilon_greedy", labels(EpsilonGreedyConfig()), Set(ScenarioSchema.epsilonGreedySchema.fields.map(\.key))),
            // paced_bandit: the bandit's keys, and its own.
            ("paced_bandit", labels(EpsilonGreedyConfig()) + labels(PacedBanditConfig()).filter { $0 != "bandit" },
             Set(ScenarioSchema.pacedBanditSchema.fields.map(\.key))),
            ("lookahead", labels(LookAheadConfig()), Set(ScenarioSchema.lookAheadSchema.fields.map(\.key))),
            // PPO: the agent's own settings, and PPOConfig's except those derived from the scenario
            // (buffer and minibatch counts, total steps; the discount and penalties come from the
            // scenario's `discount:` section) or unused on the journey world (gamma per step).
            ("ppo", labels(PPOAgentConfig()).filter { !["ppo", "discountPerDay", "churnPenalty", "optOutPenalty"].contains($0) },
             Set(ScenarioSchema.ppoSchema.fields.map(\.key))),
            ("ppo", labels(PPOConfig()).filter { !["totalSteps", "numEnvs", "numSteps", "numMinibatches", "gamma"].contains($0) }
                .map { ["explorationStart": "epsilonStart", "explorationEnd": "epsilonEnd", "explorationDecaySteps": "decayEpisodes",
                        "hidden": "hiddenSize"][$0] ?? $0 },
             Set(ScenarioSchema.ppoSchema.fields.map(\.key))),
            ("gate", labels(GateRule(metric: "m", agent: "a")), Set(ScenarioSchema.gateRuleSchema.fields.map(\.key)).union(["source"])),
        ]
        for (name, properties, subKeys) in sub {
            for property in properties { XCTAssertTrue(subKeys.contains(snake(property)), "\(name).\(property) has no YAML key") }
        }
        // And no key without a property: the counts agree.
        let simKeys = keys.filter { key in Mirror(reflecting: sim).children.contains { key.hasPrefix(($0.label ?? "?") + ".") } }
        let simProperties = Mirror(reflecting: sim).children.reduce(0) { $0 + labels($1.value).count }
        XCTAssertEqual(simKeys.count, simProperties)
    }

    func testKeysAreSnakeCaseAndUnique() {
        let all = ScenarioSchema.scenario.fields.map(\.key) + ScenarioSchema.groupSchema.fields.map(\.key)
            + ScenarioSchema.toneSchema.fields.map(\.key) + ScenarioSchema.epsilonGreedySchema.fields.map(\.key)
            + ScenarioSchema.ppoSchema.fields.map(\.key)
            + ScenarioSchema.gateRuleSchema.fields.map(\.key)
        for key in all {
            XCTAssertTrue(key.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "." }, key)
        }
        let top = ScenarioSchema.scenario.fields.map(\.key)
        XCTAssertEqual(Set(top).count, top.count)
        let sections = Set(top.compactMap { $0.contains(".") ? String($0.split(separator: ".")[0]) : nil })
        XCTAssertEqual(sections, Set(ScenarioSchema.sectionDocs.map(\.key)), "every section documented, no empty section")
    }

    func testEveryKeyIsDocumented() {
        let md = ScenarioSchema.markdownReference()
        for field in ScenarioSchema.scenario.fields { XCTAssertTrue(md.contains("| `\(field.key)` |"), field.key) }
        for field in ScenarioSchema.groupSchema.fields + [] { XCTAssertTrue(md.contains("| `\(field.key)` |"), field.key) }
        for key in ScenarioSchema.epsilonGreedySchema.fields.map(\.key) + ScenarioSchema.pacedBanditSchema.fields.map(\.key) {
            XCTAssertTrue(md.contains("| `\(key)` |"), key)
        }
        for field in ScenarioSchema.lookAheadSchema.fields { XCTAssertTrue(md.contains("| `\(field.key)` |"), field.key) }
        for field in ScenarioSchema.ppoSchema.fields { XCTAssertTrue(md.contains("| `\(field.key)` |"), field.key) }
        for field in ScenarioSchema.gateRuleSchema.fields { XCTAssertTrue(md.contains("| `\(field.key)` |"), field.key) }
        for field in ScenarioSchema.toneSchema.fields { XCTAssertTrue(md.contains("| `\(field.key)` |"), field.key) }
        for rule in ScenarioSchema.scenario.rules { XCTAssertTrue(md.contains(rule.doc), rule.doc) }
        for metric in MetricCatalog.names { XCTAssertTrue(md.contains(metric), metric) }
        for kind in ScenarioSchema.agentKinds { XCTAssertTrue(md.contains("`\(kind.name)`"), kind.name) }
        // Defaults in the docs come from the Swift defaults.
        XCTAssertTrue(md.contains("| `population.size` | integer | 1000 | [2, 5000000] |"))
        XCTAssertTrue(md.contains("| `emotion.distress_threshold` | number | 0.5 | (0, 1) |"))
        XCTAssertTrue(md.contains("| `evaluation.bootstrap_samples` | integer | 500 | [50, 100000] |"))
        // Markdown tables stay tables: every row has the same number of unescaped pipes.
        for line in md.split(separator: "\n") where line.hasPrefix("| `") && line.contains("` | ") {
            let pipes = line.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count
            XCTAssertTrue(pipes == 6 || pipes == 5 || pipes == 4 || pipes == 3, String(line))
        }
    }
}
