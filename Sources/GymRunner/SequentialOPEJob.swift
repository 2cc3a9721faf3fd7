import Foundation
import GymData
import GymEval
import GymGate
import GymRandom
import GymReports
import GymScenario
import GymSim

/// What `optima-gym ope` asks for on a trajectory log.
public struct SequentialOPERequest: Sendable {
    public var logs: String
    public var policy: String
    public var scenarioPath: String?
    public var actions: Int?
    public var out: String?
    public var discounting: Discounting = .perStep(1)
    /// tabular (needs `state`), linear (numeric context), none, or nil: tabular when the log has
    /// states, else linear when it has context, else none.
    public var fqe: String?
    /// --fqe mlp: gradient steps per fold.
    public var fqeSteps = 10_000
    public var clip: Double?
    public var resamples = 1000
    /// Gate rules on the journey estimators (`dr.ci_low>=logged`: the logged policy's discounted
    /// value per trajectory), and the whole-trajectory ESS below which the candidate fails.
    public var requirements: [OPERequirement] = []
    public var essFloor = 100.0
    public var seed: UInt64 = 1
    public var threads = 1
    public var limits = DataLimits.standard
    public init(logs: String, policy: String) { self.logs = logs; self.policy = policy }
}

public struct SequentialOPEReport: Sendable {
    public var request: SequentialOPERequest
    public var trajectories: Int, rows: Int, horizon: Int, actions: Int, states: Int
    public var loggedValue: Double
    public var estimates: [SequentialEstimate]
    public var diagnostics: SequentialDiagnostics
    public var q: StepQ?
    public var seconds: Double
    public var gate: OPEGate.Result?


    public func estimatesCSV() -> String {
        var s = "estimator,value,ci_low,ci_high,ess,max_weight\n"
        for e in estimates {
            s += "\(e.estimator.rawValue),\(e.value),\(e.ciLow),\(e.ciHigh),\(diagnostics.trajectoryESS),\(diagnostics.trajectoryMaxWeight)\n"
        }
        return s
    }

    public func stepsCSV() -> String {
        var s = "step,trajectories,ess,max_weight\n"
        for t in 0..<diagnostics.reached.count { s += "\(t),\(diagnostics.reached[t]),\(diagnostics.ess[t]),\(diagnostics.maxWeight[t])\n" }
        return s
    }

    public func markdown() -> String {
        let r = request, d = diagnostics
        var md = "# Sequential off-policy estimate\n\n| | |\n|---|---|\n"
        md += "| log | `\(r.logs)`: \(trajectories) trajectories, \(rows) decisions, longest \(horizon) steps, \(actions) actions\(states > 0 ? ", \(states) states" : "") |\n"
        md += "| candidate | \(r.policy) |\n"
        md += "| discount | \(r.discounting.description) |\n"
        md += String(format: "| logged policy's value | %.6f (mean discounted return per trajectory) |\n", loggedValue)
        md += "| Q model (dr, fqe) | \(q.map { $0.model } ?? "none: dr and fqe need a Q (a log with `state` gives tabular FQE, numeric context linear FQE)") |\n"
        md += "| intervals | 95% percentile bootstrap, \(r.resamples) resamples of whole trajectories (Poisson counts, seed \(r.seed)); self-normalising denominators recomputed in every resample |\n"
        md += "| note | fqe's interval resamples the trajectories with Q fitted once, so it leaves out the Q model's own error; dr's does not depend on Q being right |\n"
        md += "| weight clipping | \(d.clip.map { "cumulative weights capped at \(Render.g($0)); bound on \(d.clippedRows) rows (estimates biased towards the logged policy)" } ?? "none") |\n\n"
        md += "| estimator | estimate | 95% interval |\n|---|---|---|\n"
        for e in estimates {
            md += String(format: "| %@ | %.6f | [%.6f, %.6f] |\n", e.estimator.rawValue as NSString, e.value, e.ciLow, e.ciHigh)
        }
        md += String(format: "\nWhole-trajectory weights: ESS %.1f of %d (%.1f%%), largest %.3g, %.1f%% of trajectories with weight 0.\n",
                     d.trajectoryESS, trajectories, 100 * d.trajectoryESS / Double(max(1, trajectories)), d.trajectoryMaxWeight, 100 * d.zeroWeightShare)
        if let q, q.model.hasPrefix("linear") || q.model.hasPrefix("MLP") {
            md += "\nQ model: \(q.notes.joined(separator: "; ")). A fitted Q can extrapolate beyond the logged contexts; dr's correction term carries what it misses.\n"
        } else if let q {
            md += "\nQ model: \(q.emptyCells) empty (step, state, action) cells (Q = 0 there)"
            md += q.extrapolatedRows > 0 ? String(format: "; on %d rows the candidate puts mass on an empty cell (mean %.3f): dr corrects for it, fqe does not.\n", q.extrapolatedRows, q.extrapolatedMass) : "; the candidate never needs one.\n"
        }
        if let gate { md += gate.markdown }
        md += "\n## Per step\n\n| step | trajectories | ESS of W_0:t | largest W_0:t |\n|---|---|---|---|\n"
        let H = d.reached.count
        let shown = H <= 30 ? Array(0..<H) : Array(0..<10) + stride(from: 10, to: H - 5, by: max(1, (H - 15) / 10)).map { $0 } + Array((H - 5)..<H)
        for t in shown { md += String(format: "| %d | %d | %.1f | %.3g |\n", t, d.reached[t], d.ess[t], d.maxWeight[t]) }
        if shown.count < H { md += "\nEvery step is in steps.csv.\n" }
        return md
    }
}

/// `optima-gym ope` on a log with trajectories: the journey-level estimators.
public enum SequentialOPEJob {
    public static func load(_ q: SequentialOPERequest) throws -> TrajectoryLog {
        if q.logs.hasSuffix(".jsonl") { return try LogImport.journeys(path: q.logs, actions: q.actions, limits: q.limits) }
        return try LogImport.trajectoryCSV(path: q.logs, actions: q.actions, limits: q.limits)
    }

    /// The candidate on the log: uniform (over each row's allowed actions when the log has them),
    /// probs:FILE.csv (one row per discrete state: state, p_0 ... p_{K-1}), agent:NAME or
    /// checkpoint:FILE (simulator logs with observation vectors).
    public static func target(_ spec: String, log: TrajectoryLog, scenario: Scenario?, seed: UInt64, limits: DataLimits,
                              progress: Progress?) throws -> TrajectoryTarget {
        let A = log.rows.actions
        if spec == "uniform" && log.rows.masks.isEmpty {
            return TrajectoryTarget(actions: A, table: [Double](repeating: 1 / Double(A), count: A * max(1, log.states)),
                                    byState: log.states > 0, name: "uniform")
        }
        if spec.hasPrefix("probs:") {
            let path = String(spec.dropFirst(6))
            guard log.states > 0 else {
                throw DataError(file: log.source, column: "state", message: "--policy \(spec) gives a distribution per state; the log has no `state` column")
            }
            return TrajectoryTarget(actions: A, table: try stateTable(path: path, states: log.states, actions: A), byState: true, name: spec)
        }
        if spec.hasPrefix("bts:") { throw OPECandidateError(message: "--policy bts: is a bandit candidate (per item and position); a trajectory log needs uniform, probs:, agent: or checkpoint:") }
        let perRow = try OPECandidates.target(spec: spec, log: log.rows, scenario: scenario, seed: seed, limits: limits, progress: progress)
        guard let p = perRow as? PerRowPolicy else {
            throw OPECandidateError(message: "--policy \(spec) has no distribution per logged row")
        }
        return TrajectoryTarget(actions: A, table: p.probs, byState: false, name: spec)
    }

    /// A policy per discrete state: a CSV with `state, p_0 ... p_{K-1}`, every state of the log
    /// once, each row summing to 1 (within 1e-6).
    public static func stateTable(path: String, states: Int, actions: Int) throws -> [Double] {
        let t = try CSVText.read(path: path)
        let names = ["state"] + (0..<actions).map { "p_\($0)" }
        guard t.header == names else {
            throw DataError(file: path, line: 1, message: "the columns must be exactly state, p_0 ... p_\(actions - 1) (the log has \(actions) actions); found \(t.header.prefix(4).joined(separator: ", "))\(t.header.count > 4 ? ", ..." : "")")
        }
        var table = [Double](repeating: .nan, count: states * actions)
        var seenOn = [Int](repeating: 0, count: states)
        for (i, row) in t.rows.enumerated() {
            let line = t.lines[i]
            guard let s = Int(row[0].trimmingCharacters(in: .whitespaces)), s >= 0 else {
                throw DataError(file: path, line: line, column: "state", message: "'\(row[0])' is not a state id (a non-negative integer)")
            }
            guard s < states else { continue }   // a state the log never visits
            guard seenOn[s] == 0 else { throw DataError(file: path, line: line, column: "state", message: "state \(s) again (first on line \(seenOn[s]))") }
            seenOn[s] = line
            var sum = 0.0
            for a in 0..<actions {
                guard let p = Double(row[a + 1].trimmingCharacters(in: .whitespaces)), p >= 0, p <= 1 else {
                    throw DataError(file: path, line: line, column: names[a + 1], message: "'\(row[a + 1])' is not a probability")
                }
                table[s * actions + a] = p; sum += p
            }
            guard abs(sum - 1) <= 1e-6 else { throw DataError(file: path, line: line, message: "the probabilities of state \(s) sum to \(sum), not 1") }
        }
        if let s = seenOn.firstIndex(of: 0) {
            throw DataError(file: path, message: "no row for state \(s), which the log visits (every state 0..\(states - 1) needs a distribution)")
        }
        return table
    }

    public static func estimate(_ q: SequentialOPERequest, progress: Progress?) throws -> (report: SequentialOPEReport, destination: URL?) {
        let dir = try q.out.map { try AtomicDirectory(destination: URL(fileURLWithPath: $0)) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let sc = try q.scenarioPath.map { try ScenarioBinding.load(path: $0) }
        var request = q
        if request.actions == nil, let sc, q.logs.hasSuffix(".jsonl") { request.actions = JourneyWorld(config: sc.sim).actionLayout.count }
        let log = try load(request)
        // The estimators hold trajectories x (6 + 2 x longest trajectory) numbers (12 bytes each).
        let columns = 6 + 2 * log.horizon
        let (cells, overflow) = log.count.multipliedReportingOverflow(by: columns)
        guard !overflow, cells <= q.limits.maxTableCells else {
            throw DataError(file: q.logs, message: "\(log.count) trajectories x \(columns) per-trajectory columns (the longest trajectory has \(log.horizon) steps) is above --max-table-cells \(q.limits.maxTableCells) (12 bytes per cell); raise it, or split the log")
        }
        if case .perDay = q.discounting, log.elapsed.isEmpty {
            throw DataError(file: q.logs, column: "elapsed_seconds", message: "--gamma-per-day discounts by elapsed time; the log has no elapsed_seconds")
        }
        let target = try target(q.policy, log: log, scenario: sc, seed: q.seed, limits: q.limits, progress: progress)
        let fqe = q.fqe ?? (log.states > 0 ? "tabular" : (log.rows.contextDimension > 0 ? "linear" : "none"))
        if fqe == "tabular" && log.states == 0 {
            throw DataError(file: q.logs, column: "state", message: "--fqe tabular needs a discrete `state` column")
        }
        if fqe == "linear" && log.rows.contextDimension == 0 {
            throw DataError(file: q.logs, message: "--fqe linear needs numeric context columns")
        }
        if fqe == "mlp" && log.rows.contextDimension == 0 && log.states == 0 {
            throw DataError(file: q.logs, message: "--fqe mlp needs a `state` column or numeric context columns")
        }
        let next = q.discounting.nextFactors(log)
        let stepQ: StepQ? = switch fqe {
        case "tabular": TabularFQE.fit(log, target: target, nextFactor: next)
        case "linear": LinearFQE.fit(log, target: target, nextFactor: next, seed: SeedTree(root: q.seed))
        case "mlp":
            { var m = MLPFQE.Settings(); m.steps = q.fqeSteps; return MLPFQE.fit(log, target: target, nextFactor: next, settings: m, seed: SeedTree(root: q.seed)) }()
        default: nil
        }
        let d = q.discounting.factors(log)
        var o = SequentialOPE.Options(seed: SeedTree(root: q.seed))
        o.resamples = q.resamples; o.threads = q.threads; o.clip = q.clip
        let (est, diag) = SequentialOPE.run(log, target: target, q: stepQ, discount: d, options: o)
        var report = SequentialOPEReport(request: q, trajectories: log.count, rows: log.rows.count, horizon: log.horizon, actions: log.rows.actions,
                                         states: log.states, loggedValue: log.loggedValue(discount: d), estimates: est, diagnostics: diag, q: stepQ,
                                         seconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        if !q.requirements.isEmpty {
            report.gate = OPEGate.evaluate(q.requirements, values: est.map { ($0.estimator.rawValue, $0.value, $0.ciLow, $0.ciHigh) },
                                           effectiveSampleSize: diag.trajectoryESS, essFloor: q.essFloor, loggedValue: report.loggedValue,
                                           rows: log.count, unit: "trajectories")
        }
        if let dir {
            if let g = report.gate { try dir.write("gate.csv", g.csv) }
            try dir.write("estimates.csv", report.estimatesCSV())
            try dir.write("steps.csv", report.stepsCSV())
            try dir.write("report.md", report.markdown())
            try dir.commit()
        }
        return (report, dir?.destination)
    }
}
