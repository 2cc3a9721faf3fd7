import ArgumentParser
import Foundation
import GymEval
import GymGate
import GymRunner

struct OPESelectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "select",
        abstract: "Rank candidate policies by their journey-level off-policy estimates on one logged world, and assess the ranking against the simulator's truth.",
        discussion: """
        The behaviour (an agent of the scenario, mixed with --behaviour-mix uniform) logs one world over the whole horizon (or --decisions); every decision is read as a step of its user's journey. Each candidate (and the behaviour itself, always a candidate) gets tis, sntis, pdis, snpdis, dr and fqe (linear FQE on the observation vectors) with 95% bootstrap intervals over journeys, and is ranked by --select-by's point estimate and by its lower bound; the selected candidate is the one with the highest lower bound. With --truth-runs N > 0 every candidate also acts on-policy on the same N fresh worlds, and each estimator's ranking is assessed: nMSE, Spearman's rank correlation, regret@k and SharpeRatio@k (Kiyohara et al. 2023) for each --k. --require rules (e.g. 'dr.ci_low>=logged') apply to the selected candidate; a failing rule exits 1. Writes report.md, selection.csv, assessment.csv, selection.svg and gate.csv to --out.
        """
    )

    @Argument(help: "The scenario file.")
    var scenario: String

    @Option(help: "The logging policy: an agent of the scenario (not the oracle).")
    var behaviour: String = "epsilon_greedy"

    @Option(name: .customLong("behaviour-mix"), help: "Weight of the uniform distribution mixed into the behaviour, in [0, 1].")
    var behaviourMix: Double = 0.3

    @Option(help: "Comma-separated candidates: NAME (an agent of the scenario) or checkpoint:FILE (a PPO checkpoint), each optionally @MIX, the weight of the uniform distribution mixed in (e.g. epsilon_greedy@0.1,paced_bandit@0.3).")
    var candidates: String

    @Option(name: .customLong("truth-runs"), help: "Fresh worlds on which every candidate acts on-policy for its true value (0: rank only, no assessment).")
    var truthRuns: Int = 20

    @Option(help: "Decisions in the logged world and in each truth world (default: the whole horizon with evaluation.whole_horizon, else evaluation.episodes).")
    var decisions: Int?

    @Option(help: "Bootstrap resamples per estimate.")
    var resamples: Int = 1000

    @Option(name: .customLong("select-by"), help: "The estimator that ranks and selects: tis, sntis, pdis, snpdis, dr or fqe.")
    var selectBy: String = "dr"

    @Option(help: "Comma-separated k of regret@k and SharpeRatio@k.")
    var k: String = "1,2,3"

    @Option(name: .customLong("require"), help: "A gate rule on the selected candidate, e.g. 'dr.ci_low>=logged' (logged: the behaviour's discounted value per journey in the log); repeatable.")
    var require: [String] = []

    @Option(name: .customLong("ess-floor"), help: "Whole-journey ESS below which the selected candidate fails the gate (with --require).")
    var essFloor: Double = 100

    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption

    @Option(help: "Output directory (must not exist or be empty). Default: reports/<scenario>/ope-select-<run-id>.")
    var out: String?

    @OptionGroup var quiet: QuietOption

    func parsedKs() throws -> [Int] {
        try k.split(separator: ",").map { part in
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)), v >= 1 else { throw ValidationError("--k: '\(part)' is not a positive integer") }
            return v
        }
    }

    func parsedCandidates() -> [String] {
        candidates.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func validate() throws {
        guard (0...1).contains(behaviourMix) else { throw ValidationError("--behaviour-mix must be in [0, 1], got \(behaviourMix)") }
        let list = parsedCandidates()
        guard !list.isEmpty else { throw ValidationError("--candidates needs at least one candidate") }
        guard Set(list).count == list.count else { throw ValidationError("--candidates: a candidate is named twice") }
        for c in list {
            do { _ = try OPESelection.parse(c) } catch let e as OPECandidateError { throw ValidationError("--candidates: \(e.message)") }
        }
        guard (0...100_000).contains(truthRuns) else { throw ValidationError("--truth-runs must be in [0, 100000], got \(truthRuns)") }
        if let d = decisions { guard (10...100_000_000).contains(d) else { throw ValidationError("--decisions must be in [10, 100000000], got \(d)") } }
        guard (10...1_000_000).contains(resamples) else { throw ValidationError("--resamples must be in [10, 1000000], got \(resamples)") }
        guard SequentialOPE.Estimator(rawValue: selectBy) != nil else {
            throw ValidationError("--select-by must be one of \(SequentialOPE.Estimator.allCases.map(\.rawValue).joined(separator: ", ")), got '\(selectBy)'")
        }
        let ks = try parsedKs()
        guard !ks.isEmpty, ks.allSatisfy({ $0 <= list.count + 1 }) else {
            throw ValidationError("--k: each k must be at most the number of candidates with the behaviour (\(list.count + 1)), got \(k)")
        }
        guard essFloor >= 0, essFloor.isFinite else { throw ValidationError("--ess-floor must be >= 0, got \(essFloor)") }
        _ = try parsedRequirements()
        if let out, out.isEmpty { throw ValidationError("--out must not be empty") }
    }

    func parsedRequirements() throws -> [OPERequirement] {
        try require.map { r in
            switch OPERequirement.parse(r, estimators: SequentialOPE.Estimator.allCases.map(\.rawValue)) {
            case .success(let q): return q
            case .failure(let e): throw ValidationError("--require \(e.description)")
            }
        }
    }

    func run() throws {
        var c = OPESelectionConfig()
        c.behaviour = behaviour; c.behaviourMix = behaviourMix; c.candidates = parsedCandidates(); c.truthRuns = truthRuns
        c.decisions = decisions; c.resamples = resamples; c.selectBy = SequentialOPE.Estimator(rawValue: selectBy)!
        c.ks = try parsedKs(); c.requirements = try parsedRequirements(); c.essFloor = essFloor; c.threads = threads.threads
        let r = try OPEJob.select(scenarioPath: scenario, config: c, seed: seed.seed, out: out, progress: Progress(enabled: !quiet.quiet))
        print(r.markdown)
        print("Written to \(r.destination.path)")
        if let g = r.result.gate, !g.verdict.passed { throw GateFailed() }
    }
}
