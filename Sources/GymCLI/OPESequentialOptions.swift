import ArgumentParser
import Foundation
import GymData
import GymEval
import GymRunner

/// The options of `ope` that apply to trajectory logs (journey-level estimators).
struct SequentialOPEOptions: ParsableArguments {
    @Flag(help: "Read a simulator JSONL log as journeys (one trajectory per user_id, step = journey_step) and run the journey-level estimators. A CSV log with a trajectory_id column is read as trajectories without it.")
    var trajectories = false

    @Option(help: "Trajectory logs: the discount per step, in (0, 1]. Default 1 (undiscounted).")
    var gamma: Double?

    @Option(name: .customLong("gamma-per-day"), help: "Trajectory logs: discount by elapsed time instead, gamma^(days since the trajectory's start) (needs elapsed_seconds; the journey world's semi-Markov discount).")
    var gammaPerDay: Double?

    @Option(help: "Trajectory logs: cap every cumulative importance weight at this value (> 0); the report states it and how often it bound.")
    var clip: Double?

    @Option(help: "Trajectory logs: the Q model of dr and fqe: tabular (time-indexed, needs a `state` column), linear (ridge FQE over the numeric context, cross-fitted over trajectories), mlp (a network with one hidden layer of 100 over the one-hot state or the numeric context, 10,000 Adam steps of batch 100, target network every 100 steps, cross-fitted over 2 folds; --fqe-steps) or none. Default: tabular when the log has states, else linear when it has context.")
    var fqe: String?

    @Option(name: .customLong("fqe-steps"), help: "Trajectory logs, --fqe mlp: gradient steps per fold (batch 100).")
    var fqeSteps: Int = 10_000

    func validate() throws {
        guard (1...10_000_000).contains(fqeSteps) else { throw ValidationError("--fqe-steps must be in [1, 10000000], got \(fqeSteps)") }
        if let g = gamma { guard g > 0, g <= 1 else { throw ValidationError("--gamma must be in (0, 1], got \(g)") } }
        if let g = gammaPerDay { guard g > 0, g <= 1 else { throw ValidationError("--gamma-per-day must be in (0, 1], got \(g)") } }
        if gamma != nil && gammaPerDay != nil { throw ValidationError("--gamma and --gamma-per-day are alternatives; give one") }
        if let c = clip { guard c > 0, c.isFinite else { throw ValidationError("--clip must be a positive number, got \(c)") } }
        if let f = fqe { guard ["tabular", "linear", "mlp", "none"].contains(f) else { throw ValidationError("--fqe must be tabular, linear, mlp or none, got '\(f)'") } }
    }

    var given: Bool { gamma != nil || gammaPerDay != nil || clip != nil || fqe != nil }
}

extension OPEEstimateCommand {
    var isSequential: Bool { sequential.trajectories || LogImport.hasTrajectories(path: logs) }

    func validateSequential() throws {
        guard isSequential else {
            if sequential.given { throw ValidationError("--gamma, --gamma-per-day, --clip and --fqe apply to trajectory logs (a CSV with trajectory_id, or --trajectories)") }
            return
        }
        if signals != nil { throw ValidationError("--signals and --cutoffs apply to per-decision logs, not trajectory logs") }
        if policy.hasPrefix("bts:") { throw ValidationError("--policy bts: is a bandit candidate; a trajectory log needs uniform, probs:FILE.csv, agent:NAME or checkpoint:FILE") }
    }

    func runSequential() throws {
        var q = SequentialOPERequest(logs: logs, policy: policy)
        q.scenarioPath = scenario; q.actions = actions; q.out = output.out
        q.discounting = sequential.gammaPerDay.map { .perDay($0) } ?? .perStep(sequential.gamma ?? 1)
        q.fqe = sequential.fqe; q.clip = sequential.clip; q.fqeSteps = sequential.fqeSteps
        q.requirements = try parsedRequirements(); q.essFloor = essFloor
        q.resamples = estimation.resamples; q.seed = seed.seed ?? 1; q.threads = threads.threads; q.limits = limits.limits
        let (report, _) = try SequentialOPEJob.estimate(q, progress: Progress(enabled: true))
        print(report.markdown())
        print(String(format: "%.2f s.", report.seconds))
        if let g = report.gate, !g.verdict.passed { throw GateFailed() }
    }
}
