import Foundation
import GymAgents
import GymEval
import GymGate
import GymSim
import Yams

// The keys whose values are structures (population groups, intervention tones, agents, gate rules).
// Each has a small dedicated reader, but the keys inside the structures are still `Schema` tables,
// so they are validated and documented like every other key.

extension ScenarioSchema {
    /// Names of groups and tones: printable, 1 to 64 characters.
    static func labelProblem(_ label: String, what: String) -> String? {
        let scalars = label.unicodeScalars
        if scalars.isEmpty || scalars.count > 64 { return "\(what) names must be 1 to 64 characters, got '\(label)'" }
        if scalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return "\(what) names must not contain control characters" }
        return nil
    }

    // MARK: population.groups

    static var groupSchema: Schema<GroupConfig> {
        let trait = "openness, conscientiousness, extraversion, agreeableness, neuroticism"
        return Schema(fields: [
            Field.number("share", \GroupConfig.share, .closed(0, 1), "Share of the population in this group.").required(),
            .numbers("trait_alpha", \.traitAlpha, count: 5, meaning: trait, element: .closed(0.01, 1000),
                     "Beta(alpha, beta) of each OCEAN trait: the alphas, in the order \(trait)."),
            .numbers("trait_beta", \.traitBeta, count: 5, meaning: trait, element: .closed(0.01, 1000),
                     "The betas, same order. The trait mean is alpha / (alpha + beta)."),
        ])
    }

    static var groupsField: Field<Scenario> {
        Field(key: "population.groups", type: "mapping: group name -> group", allowed: "1 to 64 groups; shares sum to 1",
              doc: "Demographic groups (used for `bias_parity`), in file order. See below.",
              defaultText: { s in s.sim.population.groups.map { "\($0.name) \(formatNumber($0.share))" }.joined(separator: ", ") },
              read: readGroups, sample: { _ in "{X: {share: 1}}" })
            .withDetails(groupsDetails)
    }

    static func readGroups(_ node: Node, _ keyPath: String, _ root: inout Scenario, _ context: inout ReadContext) {
        let here = node.location ?? .start
        guard case let .mapping(mapping) = node else {
            context.error(here, keyPath, "expected a mapping of group name to {share, trait_alpha, trait_beta}, got \(node.shortDescription)")
            return
        }
        guard (1...64).contains(mapping.count) else {
            context.error(here, keyPath, "expected 1 to 64 groups, got \(mapping.count)")
            return
        }
        let schema = groupSchema
        let before = context.sink.count
        var groups: [GroupConfig] = []
        for (keyNode, value) in mapping {
            let keyLocation = keyNode.location ?? here
            guard case let .scalar(scalar) = keyNode, !keyNode.isNull else {
                context.error(keyLocation, keyPath, "group names must be plain names, got \(keyNode.shortDescription)")
                continue
            }
            if let problem = labelProblem(scalar.string, what: "group") {
                context.error(keyLocation, keyPath, problem)
                continue
            }
            var group = GroupConfig(name: scalar.string, share: 0)
            schema.read(value, into: &group, prefix: "\(keyPath).\(scalar.string)", context: &context, fallback: keyLocation)
            groups.append(group)
        }
        if context.sink.count == before { root.sim.population.groups = groups }
    }

    static func groupsDetails() -> String {
        let defaults = PopulationConfig().groups
        var md = """
            ### `population.groups`

            A mapping from group name to the group's settings, for example:

            ```yaml
            population:
              groups:
                A: {share: 0.6}
                B: {share: 0.4, trait_alpha: [5, 5, 5, 5, 6], trait_beta: [5, 5, 5, 5, 4]}
            ```

            Giving `groups` replaces all the default groups. Keys of each group:


            """
        md += markdownTable(groupSchema, defaults: GroupConfig(name: "", share: 0), prefix: "")
        md += "\nDefault groups:\n\n| group | share | trait_alpha | trait_beta |\n|---|---|---|---|\n"
        for g in defaults {
            md += "| \(g.name) | \(formatNumber(g.share)) | \(formatNumbers(g.traitAlpha)) | \(formatNumbers(g.traitBeta)) |\n"
        }
        return md
    }

    // MARK: interventions.tones

    static var toneSchema: Schema<ToneConfig> {
        Schema(fields: [
            Field.text("name", \ToneConfig.name, allowed: "1-64 characters, unique", "The tone's name, as reports show it.",
                       sample: "gentle", validate: { labelProblem($0, what: "tone") }).required(),
            Field.numbers("trait_loadings", \.traitLoadings, count: 5,
                          meaning: "openness, conscientiousness, extraversion, agreeableness, neuroticism", element: .closed(-10, 10),
                          "Loadings on the five traits: the tone's fit with a user is 2 * loadings . (traits - 0.5).").required(),
        ])
    }

    static var tonesField: Field<Scenario> {
        Field(key: "interventions.tones", type: "list of tones", allowed: "1 to 64 tones, unique names",
              doc: "The intervention tones an agent can choose from. See below.",
              defaultText: { s in s.sim.interventions.tones.map(\.name).joined(separator: ", ") },
              read: readTones, sample: { _ in "[{name: only, trait_loadings: [1, 1, 1, 1, 1]}]" })
            .withDetails(tonesDetails)
    }

    static func readTones(_ node: Node, _ keyPath: String, _ root: inout Scenario, _ context: inout ReadContext) {
        let here = node.location ?? .start
        guard case let .sequence(sequence) = node else {
            context.error(here, keyPath, "expected a list of tones ({name, trait_loadings}), got \(node.shortDescription)")
            return
        }
        guard (1...64).contains(sequence.count) else {
            context.error(here, keyPath, "expected 1 to 64 tones, got \(sequence.count)")
            return
        }
        let schema = toneSchema
        let before = context.sink.count
        var tones: [ToneConfig] = []
        var firstLine: [String: Int] = [:]
        for (i, item) in sequence.enumerated() {
            let itemPath = "\(keyPath)[\(i)]"
            var tone = ToneConfig(name: "", traitLoadings: [])
            let errors = context.sink.count
            schema.read(item, into: &tone, prefix: itemPath, context: &context, fallback: item.location ?? here)
            guard context.sink.count == errors else { continue }
            let nameLocation = context.locations["\(itemPath).name"] ?? item.location ?? here
            if let line = firstLine[tone.name] {
                context.error(nameLocation, "\(itemPath).name", "tone '\(tone.name)' is already defined at line \(line)")
                continue
            }
            firstLine[tone.name] = nameLocation.line
            tones.append(tone)
        }
        if context.sink.count == before { root.sim.interventions.tones = tones }
    }

    static func tonesDetails() -> String {
        var md = """
            ### `interventions.tones`

            A list of tones, for example:

            ```yaml
            interventions:
              tones:
                - {name: supportive, trait_loadings: [0, 0, -0.5, 1, 1.5]}
                - {name: playful, trait_loadings: [1, -0.5, 1, 0, -0.5]}
            ```

            Giving `tones` replaces all the default tones. Keys of each tone:


            """
        md += markdownTable(toneSchema, defaults: ToneConfig(name: "", traitLoadings: []), prefix: "")
        md += "\nDefault tones:\n\n| tone | trait_loadings |\n|---|---|\n"
        for t in InterventionConfig().tones { md += "| \(t.name) | \(formatNumbers(t.traitLoadings)) |\n" }
        return md
    }

    // MARK: transfer

    static var transferField: Field<Scenario> {
        Field(key: "transfer", type: "mapping", allowed: "`source`: a scenario file; `fine_tune_episodes`: 1 to 10,000,000 (default 1000)",
              doc: "Measure `transfer`: agents train on the world of the `source` scenario (path relative to this file; only its simulator sections are used), fine-tune `fine_tune_episodes` decisions on this scenario's world, and are compared with agents trained on this world alone for the same total. Null: not measured.",
              defaultText: { s in s.transfer.map { "source \($0.source), \($0.fineTuneEpisodes) fine-tuning decisions" } ?? "null (not measured)" },
              read: readTransfer, sample: { _ in "{source: scenarios/baseline.yaml, fine_tune_episodes: 500}" })
    }

    static func readTransfer(_ node: Node, _ keyPath: String, _ root: inout Scenario, _ context: inout ReadContext) {
        let here = node.location ?? .start
        if node.isNull { root.transfer = nil; return }
        guard case let .mapping(mapping) = node else {
            context.error(here, keyPath, "expected a mapping {source: FILE, fine_tune_episodes: N}, got \(node.shortDescription)")
            return
        }
        var source: String?
        var sourceLocation = here
        var fineTune = 1000
        var ok = true
        for (keyNode, value) in mapping {
            guard case let .value(key) = YAMLValues.string(keyNode) else { continue }
            let loc = value.location ?? keyNode.location ?? here
            switch key {
            case "source":
                switch YAMLValues.string(value) {
                case .value(let s) where !s.isEmpty: source = s; sourceLocation = loc
                case .value: context.error(loc, "\(keyPath).source", "must not be empty"); ok = false
                case .problem(let p): context.error(loc, "\(keyPath).source", p); ok = false
                }
            case "fine_tune_episodes":
                switch YAMLValues.integer(value) {
                case .value(let n) where (1...10_000_000).contains(n): fineTune = n
                case .value(let n): context.error(loc, "\(keyPath).fine_tune_episodes", "must be in [1, 10000000], got \(n)"); ok = false
                case .problem(let p): context.error(loc, "\(keyPath).fine_tune_episodes", p); ok = false
                }
            default:
                let hint = Suggestions.closest(to: key, among: ["source", "fine_tune_episodes"]).map { " (did you mean '\($0)'?)" } ?? ""
                context.error(keyNode.location ?? here, "\(keyPath).\(key)", "unknown key\(hint)")
                ok = false
            }
        }
        guard ok else { return }
        guard let source else {
            context.error(here, keyPath, "a transfer needs 'source' (a scenario file whose world is the source)")
            return
        }
        // A transfer source's own transfer is not followed.
        guard context.depth == 0 else { return }
        let base = URL(fileURLWithPath: context.sink.file).deletingLastPathComponent()
        let path = source.hasPrefix("/") ? source : base.appendingPathComponent(source).path
        let sourceScenario: Scenario
        do {
            sourceScenario = try ScenarioLoader.parse(data: ScenarioLoader.readFile(path), file: path, depth: 1)
        } catch let e as ScenarioError {
            let first = e.diagnostics.first.map { "\($0.file):\($0.line): \($0.keyPath.isEmpty ? "" : $0.keyPath + ": ")\($0.message)" } ?? "?"
            context.error(sourceLocation, "\(keyPath).source", "the source scenario has \(e.diagnostics.count) error(s); first: \(first)")
            return
        } catch {
            context.error(sourceLocation, "\(keyPath).source", "cannot load the source scenario: \(error)")
            return
        }
        let a = root.sim, b = sourceScenario.sim
        var differences: [String] = []
        if a.pairing.candidatesShown != b.pairing.candidatesShown { differences.append("pairing.candidates_shown \(b.pairing.candidatesShown) vs \(a.pairing.candidatesShown)") }
        if a.hives.eventsShown != b.hives.eventsShown { differences.append("hives.events_shown \(b.hives.eventsShown) vs \(a.hives.eventsShown)") }
        if a.interventions.tones.map(\.name) != b.interventions.tones.map(\.name) { differences.append("interventions.tones") }
        if a.emotion.dimension != b.emotion.dimension { differences.append("emotion.dimension \(b.emotion.dimension) vs \(a.emotion.dimension)") }
        guard differences.isEmpty else {
            context.error(sourceLocation, "\(keyPath).source",
                          "the source world must have the same observation and action spaces as this one; differs in " + differences.joined(separator: ", "))
            return
        }
        root.transfer = TransferConfig(source: source, sourceSim: sourceScenario.sim, fineTuneEpisodes: fineTune)
    }

    // MARK: gate

    static var gateRuleSchema: Schema<GateRule> {
        Schema(fields: [
            Field.text("metric", \GateRule.metric, allowed: "a metric of the run (" + MetricCatalog.names.map { "`\($0)`" }.joined(separator: ", ")
                       + "), or of the population, privacy or off-policy sets (" + GateMetrics.extra.map { "`\($0)`" }.joined(separator: ", ")
                       + ", `synthetic.kl.<column>`)", "The metric checked.", sample: "pairing_accuracy",
                       validate: { GateMetrics.problem(with: $0) }).required(),
            Field.text("agent", \.agent, allowed: "one of the scenario's agents; `population` for population, privacy and synthetic-data metrics; `ope.<candidate>` for off-policy estimates; in a regression rule also a registered model (an alias or a checkpoint id)",
                       "The agent (or model) whose metric is checked.",
                       sample: "oracle", validate: { $0.isEmpty ? "must not be empty" : nil }).required(),
            .optionalNumber("min", \.min, .any, "The number must be >= this."),
            .optionalNumber("max", \.max, .any, "The number must be <= this."),
            .choice("on", \.on, "Which number is checked: `value` (the point estimate), `ci_low` or `ci_high` "
                        + "(the ends of its bootstrap confidence interval; in a regression rule, of the paired difference's)."),
            .optionalNumber("alert_below", \.alertBelow, .any, "An alert line: a number below it is an ALERT, the most severe failure (the blueprint alerts below 0.9 bias parity). With `min`, a number between the two is a miss."),
            .optionalNumber("alert_above", \.alertAbove, .any, "An alert line for lower-is-better metrics: a number above it is an ALERT."),
            Field.text("relative_to", \.relativeToText, allowed: "a registered model: an alias (champion) or a checkpoint id", "A regression rule: `agent` is compared with this model, both evaluated by the gate on the run's evaluation users (a paired, user-level bootstrap interval). Needs `max_degradation`; `metric` must be `mean_reward`, `user_return` or `retention_30d`.",
                       defaultText: { $0.relativeTo ?? "null (not a regression rule)" }, allowNull: true, sample: "champion"),
            .optionalNumber("max_degradation", \.maxDegradation, .closed(0, 1), "A regression rule fails when `agent` is worse than `relative_to` by more than this fraction of its value (0.05: the blueprint's 5%)."),
        ], rules: [
            CrossRule(keys: ["min", "max"], doc: "each rule needs `min`, `max`, an alert line or both `relative_to` and `max_degradation`; `min` must be at most `max`.") { r in
                if r.relativeTo != nil {
                    if r.maxDegradation == nil { return "a regression rule (relative_to) needs 'max_degradation'" }
                    if r.min != nil || r.max != nil { return "a regression rule (relative_to) takes max_degradation, not min or max" }
                    if !GateMetrics.paired.contains(r.metric) {
                        return "a regression rule compares paired metrics only (\(GateMetrics.paired.joined(separator: ", "))), got '\(r.metric)'"
                    }
                    return nil
                }
                if r.maxDegradation != nil { return "max_degradation needs relative_to (the model to compare with)" }
                if r.min == nil, r.max == nil, r.alertBelow == nil, r.alertAbove == nil { return "a gate rule needs 'min', 'max' or both" }
                if let lo = r.min, let hi = r.max, lo > hi { return "min (\(formatNumber(lo))) must be at most max (\(formatNumber(hi)))" }
                return nil
            },
        ])
    }

    static var gateField: Field<Scenario> {
        Field(key: "gate", type: "list of gate rules", allowed: "0 or more rules",
              doc: "Release-gate rules checked after evaluation. See [gate](#gate).",
              defaultText: { s in s.gate.isEmpty ? "no rules" : "\(s.gate.count) rules" },
              read: { node, keyPath, root, context in
                  guard let rules = readGateRules(node, keyPath, &context) else { return }
                  // A run has no registry to compare with: regression rules belong in a gate file.
                  for (i, r) in rules.enumerated() where r.relativeTo != nil {
                      context.error(context.locations["\(keyPath)[\(i)].relative_to"] ?? node.location ?? .start, "\(keyPath)[\(i)].relative_to",
                                    "a regression rule compares registered models: put it in a gate file for `optima-gym gate RUN --rules FILE` (a run's own gate has no registry)")
                  }
                  root.gate = rules
              },
              sample: { _ in "[{metric: mean_reward, agent: oracle, min: 0}]" })
            .withDetails(gateDetails)
    }

    /// Reads a list of gate rules (null is an empty list); nil when any rule is wrong.
    /// Agent names are collected in `context.gateAgentReferences` for a later check.
    static func readGateRules(_ node: Node, _ keyPath: String, _ context: inout ReadContext) -> [GateRule]? {
        if node.isNull { return [] }
        let here = node.location ?? .start
        guard case let .sequence(sequence) = node else {
            context.error(here, keyPath, "expected a list of gate rules ({metric, agent, min, max, on}), got \(node.shortDescription)")
            return nil
        }
        let schema = gateRuleSchema
        let before = context.sink.count
        var rules: [GateRule] = []
        for (i, item) in sequence.enumerated() {
            let itemPath = "\(keyPath)[\(i)]"
            let itemLocation = item.location ?? here
            var rule = GateRule(metric: "", agent: "")
            let errors = context.sink.count
            schema.read(item, into: &rule, prefix: itemPath, context: &context, fallback: itemLocation)
            // A regression rule's agent may be a registered model, checked by the gate against the store.
            if let location = context.locations["\(itemPath).agent"], !context.failed.contains("\(itemPath).agent"), rule.relativeTo == nil {
                context.gateAgentReferences.append((rule.agent, "\(itemPath).agent", location))
            }
            guard context.sink.count == errors else { continue }
            rule.source = "\(context.sink.file):\(itemLocation.line)"
            rules.append(rule)
        }
        return context.sink.count == before ? rules : nil
    }

    static func gateDetails() -> String {
        var md = """
            ## `gate`

            A list of release-gate rules. `optima-gym run` exits with 1 when a rule fails.

            ```yaml
            gate:
              - {metric: mean_reward, agent: epsilon_greedy, min: 0.0, on: ci_low}
              - {metric: intervention_fpr, agent: epsilon_greedy, max: 0.2}
            ```

            Keys of each rule:


            """
        md += markdownTable(gateRuleSchema, defaults: GateRule(metric: "", agent: ""), prefix: "")
        return md
    }
}
