import Foundation
import GymEval
import GymGate

extension Render {
    /// A model card for one agent of a run, in the sections of Mitchell et al. 2019 ("Model Cards
    /// for Model Reporting"): model details, intended use, factors, metrics, evaluation and
    /// training data, quantitative analyses (overall and by group, with intervals), ethical
    /// considerations, caveats and recommendations, and the gate's verdicts on it.
    public static func modelCard(_ r: RunReport, agent a: AgentReport, checkpointID: String?, modelType: String?) -> String {
        let level = percent(r.confidence)
        var md = "# Model card: \(a.name)\n\n"
        md += "Scenario `\(r.scenarioFile)` (\(r.scenario)), run \(r.runID), seed \(r.seed). Sections after Mitchell et al. 2019, *Model Cards for Model Reporting*.\n\n"

        md += "## Model details\n\n"
        md += "- Type: \(modelType ?? a.name)\(a.isUpperBound ? " (an upper-bound reference: it reads the simulator's hidden truth)" : "").\n"
        if let id = checkpointID { md += "- Checkpoint: `\(a.name).json`, id \(id) (content-addressed: the same weights and settings give the same id).\n" }
        md += "- Trained by optima-gym \(r.projectVersion) (\(r.generator), GSL \(r.gslVersion)) on \(a.trainingEpisodes) simulated decisions.\n"
        for (k, v) in r.settings where k.hasPrefix(a.name) || k == "agents" { md += "- \(k): \(v)\n" }

        md += "\n## Intended use\n\n"
        if a.isUpperBound {
            md += "- Primary: a yardstick in simulation, showing how much reward a policy could reach with knowledge no deployed system has.\n"
            md += "- Out of scope: any use on real users. It cannot be deployed, because it reads the hidden truth of the simulated world.\n"
        } else if a.name == "random" {
            md += "- Primary: a baseline in simulation; a learning policy should beat it.\n"
            md += "- Out of scope: acting on real users.\n"
        } else {
            md += "- Primary: choosing, for a user at a session, a pairing suggestion, a hive (group event) or a supportive intervention, or nothing. Here it is a candidate for release in a social pairing engine, trained and judged in simulation before it meets people.\n"
            md += "- Out of scope:\n"
            md += "  - acting on real users before it passes the release gate and an off-policy check on logged real data;\n"
            md += "  - clinical judgement about a user's distress (its interventions are supportive messages, not care);\n"
            md += "  - populations unlike the simulated one (see Factors).\n"
        }

        md += "\n## Factors\n\n"
        let groups = r.groupRates.filter { $0.agent == a.name }
        md += "- Demographic groups of the simulated population: \(groups.map { "`\($0.group)`" }.joined(separator: ", ")). The card reports outcomes by group; `bias_parity` is the smallest group's success rate over the largest's.\n"
        md += "- The population comes from: \(r.populationSource.isEmpty ? "the scenario's synthetic population" : r.populationSource).\n"

        md += "\n## Metrics\n\n| metric | value | \(level) interval | target | meets it |\n|---|---|---|---|---|\n"
        for m in a.metrics where m.value.isFinite {
            let info = MetricCatalog.info(m.name)
            let meets = m.meetsTarget.map { $0 ? "yes" : "no" } ?? ""
            md += "| `\(m.name)` | \(f(m.value)) | [\(f(m.ciLow)), \(f(m.ciHigh))] | \(info?.target.map { g($0) } ?? "") | \(meets) |\n"
        }
        let missing = a.metrics.filter { !$0.value.isFinite }.map { "`\($0.name)`" }
        if !missing.isEmpty { md += "\nNot measured in this run: \(missing.joined(separator: ", ")) (the run report says why).\n" }

        md += "\n## Evaluation data\n\n"
        md += "- \(a.evaluationEpisodes) decisions on a held-out simulated world: fresh seeds (`sim.eval`), with learning frozen.\n"
        md += "- Intervals come from a bootstrap over decisions or users, seeded from `eval.bootstrap`.\n"
        md += "\n## Training data\n\n"
        md += "- \(a.trainingEpisodes) decisions on the simulated training world (`sim.train`), under root seed \(r.seed). No real user's data.\n"
        let eps = r.population.first { $0.name == "privacy.epsilon" }, delta = r.population.first { $0.name == "privacy.delta" }
        if let eps, eps.value.isFinite, eps.value > 0 {
            md += "- The personas came from a differentially private model: epsilon \(g(eps.value)), delta \(delta.map { g($0.value) } ?? "n/a").\n"
        } else {
            md += "- The personas are drawn from the scenario's distributions. No real data and no privacy budget was spent.\n"
        }

        md += "\n## Quantitative analyses\n\n| group | decisions | success rate | \(level) interval |\n|---|---|---|---|\n"
        for x in groups { md += "| \(x.group) | \(x.decisions) | \(f(x.rate)) | [\(f(x.low)), \(f(x.high))] |\n" }
        if let p = a.metric("bias_parity") { md += "\n`bias_parity` \(f(p.value)) [\(f(p.ciLow)), \(f(p.ciHigh))]; the blueprint's alert is below 0.9.\n" }

        md += "\n## Ethical considerations\n\n"
        for (name, what) in [("intervention_fpr", "share of sessions without distress that still got an intervention (a false positive)"),
                             ("opt_out_rate", "share of users who opted out"), ("trust_score", "mean 1-5 trust survey answer")] {
            if let m = a.metric(name), m.value.isFinite { md += "- `\(name)` \(f(m.value)) [\(f(m.ciLow)), \(f(m.ciHigh))]: \(what).\n" }
        }
        md += "- Its users are simulated. The world's response model encodes assumptions about people (see docs/architecture.md); real responses will differ.\n"

        md += "\n## Caveats and recommendations\n\n"
        for n in a.notes { md += "- \(n)\n" }
        md += "- Check it off-policy on logged real data (`optima-gym ope`) and against the release gate before any exposure.\n"

        md += "\n## Gate verdicts\n\n"
        let mine = r.verdict.results.filter { $0.rule.agent == a.name }
        if mine.isEmpty {
            md += "No gate rule names this agent.\n"
        } else {
            md += "| rule | result | measured | reason |\n|---|---|---|---|\n"
            for x in mine {
                md += "| \(x.rule.summary) | \(x.passed ? "pass" : (x.alert ? "ALERT" : "fail")) | \(x.measured.map { f($0) } ?? "n/a") | \(x.reason) |\n"
            }
        }
        return md
    }
}
