import Foundation
import GymEval
import GymScenario
import GymSynth
import GymRandom
import GymSim

/// The population a run simulated, as the gate and the report see it (agent `population`):
/// the privacy its persona model spent and the smallest group any per-group figure is about.
///
/// - `privacy.epsilon`, `privacy.delta`: what the DP persona model behind `population.from_model`
///   spent on the real data (its fit's accountant); 0 for the built-in priors, which read no data.
/// - `privacy.k_min`: the fewest users of any group in the evaluation, the k of the per-group
///   figures the report releases (parity, group rates).
/// - `synthetic.*`: with `population.from_model.real`, the evaluation world's simulated users
///   (each one's draw from the persona model, in the model's columns) against that real data:
///   per-column KL divergence (`synthetic.kl.<column>`, their mean and maximum; Quality's 20-bin
///   histograms and level counts, smoothed), and diversity (mean pairwise distance of the
///   simulated users, and its ratio to the real rows'). Without `real:`, their notes say why.
enum PopulationMetrics {
    struct Fidelity {
        var columns: [Quality.ColumnScore]
        var realRows: Int
        var simulatedRows: Int
    }

    static func measure(_ scenario: Scenario, runs: [AgentRun], seed: UInt64 = 0) -> (source: String, metrics: [MetricValue], fidelity: Fidelity?) {
        var m: [MetricValue] = []
        var source = "the built-in priors (no real data was read, so no privacy was spent)"
        func point(_ name: String, _ x: Double, n: Int = 0, note: String? = nil) -> MetricValue {
            MetricValue(name: name, value: x, ciLow: .nan, ciHigh: .nan, count: n, note: note)
        }
        if let ref = scenario.sim.population.fromModel {
            if let model = try? PersonaModel.load(path: ref.path) {
                source = "the DP persona model \(ref.id): ε = \(model.privacy.epsilon), δ = \(model.privacy.delta) spent on \(model.privacy.users) real users"
                m.append(point("privacy.epsilon", model.privacy.epsilon, n: model.privacy.users))
                m.append(point("privacy.delta", model.privacy.delta, n: model.privacy.users))
            } else {
                m.append(point("privacy.epsilon", .nan, note: "the persona model \(ref.path) cannot be read"))
                m.append(point("privacy.delta", .nan, note: "the persona model \(ref.path) cannot be read"))
            }
        } else {
            m.append(point("privacy.epsilon", 0, note: "built-in priors: no real data read"))
            m.append(point("privacy.delta", 0, note: "built-in priors: no real data read"))
        }
        if let users = runs.first?.evaluation.users, !users.isEmpty {
            var counts = [Int](repeating: 0, count: (users.map(\.group).max() ?? 0) + 1)
            for u in users where u.firstSession != nil && u.group >= 0 { counts[u.group] += 1 }
            let present = counts.filter { $0 > 0 }
            m.append(point("privacy.k_min", Double(present.min() ?? 0), n: present.reduce(0, +)))
        } else {
            m.append(point("privacy.k_min", .nan, note: "no evaluation users"))
        }
        var fidelity: Fidelity?
        var why = scenario.sim.population.fromModel == nil
            ? "not applicable: the population comes from the built-in priors, not from real data"
            : "not measured: the scenario names no real data to compare with (population.from_model.real)"
        if let ref = scenario.sim.population.fromModel, let realPath = ref.realPath {
            do {
                let model = try PersonaModel.load(path: ref.path)
                let real = try EncodedRows.load(path: realPath, model: model)
                let generator = (try? GeneratorKind.named(scenario.generator)) ?? .mt19937
                let population = Population.generate(scenario.sim.population, seed: SeedTree(root: seed).child("sim.eval").child("population"),
                                                     generator: generator)
                let simulated = EncodedRows.fromLatent(population.latent, count: population.size, model: model)
                let columns = Quality.columnScores(real: real, synthetic: simulated, model: model)
                fidelity = Fidelity(columns: columns, realRows: real.count, simulatedRows: simulated.count)
                let kls = columns.map(\.kl)
                m.append(point("synthetic.kl_mean", kls.isEmpty ? .nan : kls.reduce(0, +) / Double(kls.count), n: simulated.count))
                m.append(point("synthetic.kl_max", kls.max() ?? .nan, n: simulated.count))
                let root = SeedTree(root: seed).child("population.diversity")
                let ds = Quality.diversity(simulated, cluster: Quality.assign(simulated, model: model), pairs: QualityReport.diversityPairs,
                                           stream: root.child("simulated").stream(generator))
                let dr = Quality.diversity(real, cluster: Quality.assign(real, model: model), pairs: QualityReport.diversityPairs,
                                           stream: root.child("real").stream(generator))
                m.append(point("synthetic.diversity", ds.meanPairwise, n: simulated.count))
                m.append(point("synthetic.diversity_ratio", dr.meanPairwise > 0 ? ds.meanPairwise / dr.meanPairwise : .nan, n: simulated.count))
                for c in columns { m.append(point("synthetic.kl.\(c.name)", c.kl, n: simulated.count)) }
                return (source, m, fidelity)
            } catch {
                why = "not measured: \(error)"
            }
        }
        for name in ["synthetic.kl_mean", "synthetic.kl_max", "synthetic.diversity", "synthetic.diversity_ratio"] {
            m.append(point(name, .nan, note: why))
        }
        return (source, m, fidelity)
    }
}
