import Foundation
import GymEval
import GymScenario
import GymSynth

/// The population a run simulated, as the gate and the report see it (agent `population`):
/// the privacy its persona model spent and the smallest group any per-group figure is about.
///
/// - `privacy.epsilon`, `privacy.delta`: what the DP persona model behind `population.from_model`
///   spent on the real data (its fit's accountant); 0 for the built-in priors, which read no data.
/// - `privacy.k_min`: the fewest users of any group in the evaluation, the k of the per-group
///   figures the report releases (parity, group rates).
/// - `synthetic.*`: the simulated population against real data; not measured by a run (its note
///   says why): `synth stats` measures a persona model's synthetic data against held-out real data.
enum PopulationMetrics {
    static func measure(_ scenario: Scenario, runs: [AgentRun]) -> (source: String, metrics: [MetricValue]) {
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
        let why = scenario.sim.population.fromModel == nil
            ? "not applicable: the population comes from the built-in priors, not from real data"
            : "not measured by a run: compare the persona model's synthetic data with held-out real data with `optima-gym synth stats`"
        for name in ["synthetic.kl_mean", "synthetic.kl_max", "synthetic.diversity", "synthetic.diversity_ratio"] {
            m.append(point(name, .nan, note: why))
        }
        return (source, m)
    }
}
