import ArgumentParser
import Foundation
import GymAgents
import GymRunner

struct TrainOfflineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-offline",
        abstract: "Learn a policy from a behaviour policy's logged journeys alone (behaviour cloning or discrete CQL), then judge it in the simulator: its true user_return against the behaviour's on the same fresh worlds.",
        discussion: "The behaviour (an agent of the scenario, trained as `run` trains it, mixed with --behaviour-mix uniform) logs --datasets fresh worlds over the whole horizon; every decision becomes a transition to the user's next decision (discount gamma^(days between them) with the scenario's discount.per_day; a journey ended by churn or opt-out is terminal, one still open at the end is truncated). The learner sees only those transitions. Defaults are d3rlpy 2.8's: CQL lr 6.25e-5, batch 32, alpha 1, target every 8,000 steps; BC lr 1e-3, batch 100, beta 0.5; both 256-256 relu. Writes report.md (true values with intervals, the paired difference, CQL's own value estimate against the truth, the learning curve), truth.csv and curve.csv."
    )

    @Argument(help: "The scenario file.")
    var scenario: String
    @Option(help: "The logging policy: an agent of the scenario (not the oracle).")
    var behaviour: String = "epsilon_greedy"
    @Option(name: .customLong("behaviour-mix"), help: "Weight of the uniform distribution mixed into the behaviour, in [0, 1].")
    var behaviourMix: Double = 0
    @Option(help: "cql or bc.")
    var algo: String = "cql"
    @Option(help: "Gradient steps.")
    var steps: Int = 20_000
    @Option(help: "Worlds the behaviour logs (the dataset).")
    var datasets: Int = 1
    @Option(name: .customLong("truth-runs"), help: "Fresh worlds on which both policies act for their true values.")
    var truthRuns: Int = 20
    @Option(help: "Hidden layer widths (default 256,256).")
    var hidden: String = "256,256"
    @Option(help: "Batch size (default: CQL 32, BC 100).")
    var batch: Int?
    @Option(name: .customLong("learning-rate"), help: "Adam learning rate (default: CQL 6.25e-5, BC 1e-3).")
    var learningRate: Double?
    @Option(help: "CQL: weight of the conservative term (0: double DQN).")
    var alpha: Double = 1
    @Option(name: .customLong("target-update"), help: "CQL: steps between target-network copies.")
    var targetUpdate: Int = 8000
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Output directory (must not exist or be empty). Default: reports/<scenario>/offline-<algo>-<run-id>.")
    var out: String?
    @OptionGroup var quiet: QuietOption

    func widths() throws -> [Int] {
        try hidden.split(separator: ",").map { part in
            guard let w = Int(part.trimmingCharacters(in: .whitespaces)), (1...4096).contains(w) else { throw ValidationError("--hidden: '\(part)' is not a width in [1, 4096]") }
            return w
        }
    }

    func validate() throws {
        guard ["cql", "bc"].contains(algo) else { throw ValidationError("--algo must be cql or bc, got '\(algo)'") }
        guard (0...1).contains(behaviourMix) else { throw ValidationError("--behaviour-mix must be in [0, 1], got \(behaviourMix)") }
        guard (1...100_000_000).contains(steps) else { throw ValidationError("--steps must be in [1, 100000000], got \(steps)") }
        guard (1...1000).contains(datasets) else { throw ValidationError("--datasets must be in [1, 1000], got \(datasets)") }
        guard (2...100_000).contains(truthRuns) else { throw ValidationError("--truth-runs must be in [2, 100000], got \(truthRuns)") }
        guard try !widths().isEmpty else { throw ValidationError("--hidden needs at least one width") }
        if let b = batch { guard (1...65_536).contains(b) else { throw ValidationError("--batch must be in [1, 65536], got \(b)") } }
        if let l = learningRate { guard l > 0, l.isFinite else { throw ValidationError("--learning-rate must be positive, got \(l)") } }
        guard alpha >= 0, alpha.isFinite else { throw ValidationError("--alpha must be >= 0, got \(alpha)") }
        guard targetUpdate >= 1 else { throw ValidationError("--target-update must be at least 1, got \(targetUpdate)") }
        if let out, out.isEmpty { throw ValidationError("--out must not be empty") }
    }

    func run() throws {
        var c = OfflineRLConfig()
        c.behaviour = behaviour; c.behaviourMix = behaviourMix; c.algo = algo; c.steps = steps; c.datasets = datasets; c.truthRuns = truthRuns
        c.threads = threads.threads
        c.cql.hidden = try widths(); c.bc.hidden = c.cql.hidden
        if let b = batch { c.cql.batchSize = b; c.bc.batchSize = b }
        if let l = learningRate { c.cql.learningRate = l; c.bc.learningRate = l }
        c.cql.alpha = alpha; c.cql.targetUpdateInterval = targetUpdate
        let r = try OPEJob.trainOffline(scenarioPath: scenario, config: c, seed: seed.seed, out: out, progress: Progress(enabled: !quiet.quiet))
        print(r.markdown)
        print("Written to \(r.destination.path)")
    }
}
