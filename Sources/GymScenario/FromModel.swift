import Foundation
import GymRandom
import GymSim
import GymSynth
import Yams

extension ScenarioSchema {
    static var fromModelField: Field<Scenario> {
        Field(key: "population.from_model", type: "mapping",
              allowed: "`model`: a persona model file (from `synth fit`); `group_column`: one of its categorical columns, or null; `real`: a CSV of real data in the model's schema, or null",
              doc: "Shape the population with a persona model fitted to real data: each user's latent vector is drawn from the model and shifts the built-in priors (traits = logistic(logit(prior draw) + a . z), interests proportional to prior draw * exp(b . z), with fixed seeded projections a, b), so users alike in the real data are alike here. With `group_column`, a user's group is that column's level (its number of levels must equal the number of groups). With `real`, every run report compares the simulated population with that data (per-column KL divergence with a chart of each column, diversity; gate metrics `synthetic.*` of agent `population`). Paths relative to this file. Null: the built-in priors alone.",
              defaultText: { s in s.sim.population.fromModel.map { "model \($0.id)" } ?? "null (built-in priors)" },
              read: readFromModel, sample: { _ in "{model: examples/obd/model.json, group_column: user_feature_0}" })
    }

    static func readFromModel(_ node: Node, _ keyPath: String, _ root: inout Scenario, _ context: inout ReadContext) {
        let here = node.location ?? .start
        if node.isNull { root.sim.population.fromModel = nil; return }
        guard case let .mapping(mapping) = node else {
            context.error(here, keyPath, "expected a mapping {model: FILE, group_column: NAME}, got \(node.shortDescription)")
            return
        }
        var model: String?, modelLocation = here
        var group: String?, groupLocation = here
        var real: String?, realLocation = here
        var ok = true
        for (keyNode, value) in mapping {
            guard case let .value(key) = YAMLValues.string(keyNode) else { continue }
            let loc = value.location ?? keyNode.location ?? here
            switch key {
            case "model":
                switch YAMLValues.string(value) {
                case .value(let s) where !s.isEmpty: model = s; modelLocation = loc
                case .value: context.error(loc, "\(keyPath).model", "must not be empty"); ok = false
                case .problem(let p): context.error(loc, "\(keyPath).model", p); ok = false
                }
            case "group_column":
                if value.isNull { group = nil; continue }
                switch YAMLValues.string(value) {
                case .value(let s) where !s.isEmpty: group = s; groupLocation = loc
                case .value: context.error(loc, "\(keyPath).group_column", "must not be empty"); ok = false
                case .problem(let p): context.error(loc, "\(keyPath).group_column", p); ok = false
                }
            case "real":
                if value.isNull { real = nil; continue }
                switch YAMLValues.string(value) {
                case .value(let s) where !s.isEmpty: real = s; realLocation = loc
                case .value: context.error(loc, "\(keyPath).real", "must not be empty"); ok = false
                case .problem(let p): context.error(loc, "\(keyPath).real", p); ok = false
                }
            default:
                let hint = Suggestions.closest(to: key, among: ["model", "group_column", "real"]).map { " (did you mean '\($0)'?)" } ?? ""
                context.error(keyNode.location ?? here, "\(keyPath).\(key)", "unknown key\(hint)")
                ok = false
            }
        }
        guard ok else { return }
        guard let model else {
            context.error(here, keyPath, "from_model needs 'model' (a persona model file from synth fit)")
            return
        }
        let base = URL(fileURLWithPath: context.sink.file).deletingLastPathComponent()
        let path = model.hasPrefix("/") ? model : base.appendingPathComponent(model).path
        let loaded: PersonaModel
        do { loaded = try PersonaModel.load(path: path) } catch {
            context.error(modelLocation, "\(keyPath).model", "\(error)")
            return
        }
        if let g = group, !loaded.categorical.contains(where: { $0.name == g }) {
            let names = loaded.categorical.map(\.name)
            let hint = Suggestions.closest(to: g, among: names).map { " (did you mean '\($0)'?)" } ?? ""
            context.error(groupLocation, "\(keyPath).group_column",
                          "the model has no categorical column '\(g)'\(hint); it has \(names.isEmpty ? "none" : names.joined(separator: ", "))")
            return
        }
        let digest = SeedTree.fnv1a64((try? String(contentsOfFile: path, encoding: .utf8)) ?? path)
        let levels = group.flatMap { g in loaded.categorical.first { $0.name == g }?.levels.count }
        var ref = PersonaSourceRef(id: "\(model) (fnv1a \(String(digest, radix: 16)))", path: path, groupColumn: group, groupLevels: levels)
        if let real {
            let realPath = real.hasPrefix("/") ? real : base.appendingPathComponent(real).path
            guard FileManager.default.isReadableFile(atPath: realPath) else {
                context.error(realLocation, "\(keyPath).real", "cannot read \(realPath) (\(FileManager.default.fileExists(atPath: realPath) ? "permission denied" : "no such file"))")
                return
            }
            ref.realPath = realPath
        }
        root.sim.population.fromModel = ref
    }
}
