import Foundation
import GymAgents
import GymCore
import GymData
import GymEval
import GymGate
import GymRandom
import GymScenario
import GymStore

/// What `optima-gym gate` asks for.
public struct GateRequest: Sendable {
    /// A run directory (with run.json) or a registered run id.
    public var run: String
    public var rulesPath: String?
    public var storePath: String?
    /// Move `champion` to this model (an alias such as challenger, or an id) when every rule passes.
    public var promote: String?
    /// Compare `champion` with the id it named before on this run's users; roll back on degradation.
    public var watch = false
    /// `ope` report directories: (candidate name or nil, directory).
    public var ope: [(name: String?, dir: String)] = []
    public init(run: String) { self.run = run }
}

/// What the gate decided.
public struct GateOutcome: Sendable {
    public var runID: String
    public var verdict: GateVerdict
    /// The registry change, if any ("champion -> <id> (was <id>)").
    public var action: String?
    public var notes: [String] = []
}

/// Why a gate cannot be applied (exit 65): the rule's place first.
public struct GateInputError: BadInputError, Equatable {
    public let place: String
    public let message: String
    public var description: String { "\(place): error: \(message)" }
}

/// The one release gate: every rule of a gate file over a run's metrics, its population's
/// privacy and synthetic-data quality, off-policy reports, and regression rules against
/// registered models; promotion and rollback of `champion` in the same transaction as the
/// verdict.
public enum GateJob {
    public static func run(_ q: GateRequest, progress: Progress?) throws -> GateOutcome {
        let store = try q.storePath.flatMap { path -> Store? in
            // A plain check of a run directory needs no store; the registry's modes do.
            if q.promote == nil && !q.watch && !FileManager.default.fileExists(atPath: path) { return nil }
            return try Store(path: path, mustExist: q.promote != nil || q.watch)
        }
        let loaded = try RunMetrics.load(q.run, store: store)
        // What champion names before anything is evaluated: a promotion is recorded only if it
        // still names it (another process may move it meanwhile).
        let championAtStart = try store?.aliasTarget(Store.championAlias)
        var rules: [GateRule]
        var watch = GateWatch()
        if let path = q.rulesPath {
            let file = try ScenarioLoader.loadGateFile(path: path)
            rules = file.rules
            if let w = file.watch { watch = w }
        } else {
            rules = loaded.recordedRules
        }
        var sets = loaded.sets
        for (name, dir) in q.ope { sets.append(try RunMetrics.opeSet(name: name, dir: dir)) }
        // In the file's order; a regression rule evaluates both models on the run's users.
        var results: [RuleResult] = []
        var evaluator = RegressionEvaluator(store: store, run: loaded, progress: progress)
        for rule in rules {
            results.append(rule.isRegression ? try evaluator.check(rule) : Gate.evaluate([rule], on: sets).results[0])
        }
        var notes: [String] = []
        var action: String?
        var rollbackTo: (from: String, to: String)?, promoteTo: String?
        var reason = ""
        if q.watch {
            guard let store else { throw StoreError.missing(path: q.storePath ?? Store.defaultPath) }
            guard let current = try store.aliasTarget(Store.championAlias) else {
                throw GateInputError(place: store.path, message: "gate --watch: no model is aliased champion yet (set one with `optima-gym models alias champion ID`)")
            }
            if let pair = try store.watchPair(Store.championAlias), pair.current == current {
                var rule = GateRule(metric: watch.metric, agent: Store.championAlias, on: watch.on, source: "gate --watch",
                                    relativeTo: pair.previous, maxDegradation: watch.maxDegradation)
                rule.agent = current
                let r = try evaluator.check(rule, agentLabel: "champion", referenceLabel: "previous champion")
                results.append(r)
                if !r.passed {
                    rollbackTo = (current, pair.previous)
                    reason = "gate --watch on run \(loaded.runID): \(r.reason)"
                }
            } else {
                notes.append("champion \(current.prefix(8)) was not put there by a change still standing (it never moved, or a rollback restored it): nothing to judge it against")
            }
        }
        let verdict = GateVerdict(results: results)
        if let ref = q.promote {
            guard let store else { throw StoreError.missing(path: q.storePath ?? Store.defaultPath) }
            let id: String
            do { id = try store.resolveModel(ref) } catch let e as StoreError {
                throw GateInputError(place: "--promote \(ref)", message: "\(e)")
            }
            if verdict.passed {
                promoteTo = id
                reason = "promoted by gate on run \(loaded.runID): \(verdict.results.count)/\(verdict.results.count) rules passed (\(q.rulesPath ?? "recorded rules"))"
            } else {
                action = "not promoted: \(verdict.failures.count) of \(verdict.results.count) rules failed"
            }
        }
        if let store, try store.hasRun(loaded.runID) {
            var record = VerdictRecord(runID: loaded.runID, rulesFile: q.rulesPath ?? "(recorded rules)",
                                       mode: q.watch ? "watch" : (q.promote != nil ? "promote" : "check"), passed: verdict.passed,
                                       action: action, results: verdict.results.map {
                                           .init(rule: $0.rule.summary, level: $0.level, passed: $0.passed, measured: $0.measured, reason: $0.reason)
                                       })
            if let id = promoteTo { record.action = "champion -> \(id)" }
            if let r = rollbackTo { record.action = "champion rolled back to \(r.to)" }
            // The move is recorded only if champion still names what the gate judged.
            let event = try store.recordVerdict(record, promote: promoteTo.map { (Store.championAlias, $0, championAtStart) },
                                                rollback: rollbackTo.map { (Store.championAlias, $0.from, $0.to) }, reason: reason)
            if let e = event {
                action = e.kind == "unchanged" ? "champion already names \(e.checkpointID ?? "-"): nothing to move"
                    : "champion -> \(e.checkpointID ?? "-") (was \(e.previousID ?? "none")): \(e.reason)"
            }
        } else if promoteTo != nil || rollbackTo != nil {
            throw GateInputError(place: q.run, message: "the run is not registered in the store, so the gate cannot record its decision (run it without --no-store, or name the store with --store)")
        } else if store == nil && !rules.isEmpty {
            notes.append("no store: the verdict is not recorded")
        }
        return GateOutcome(runID: loaded.runID, verdict: GateVerdict(results: verdict.results), action: action, notes: notes)
    }
}

/// Compares two registered models on a run's evaluation users, evaluating each (from its
/// checkpoint) once.
struct RegressionEvaluator {
    let store: Store?
    let run: RunMetrics
    let progress: Progress?
    var cache: [String: AgentRun] = [:]
    var scenario: Scenario?

    init(store: Store?, run: RunMetrics, progress: Progress?) { self.store = store; self.run = run; self.progress = progress }

    /// A model reference of a rule: a run agent's checkpoint, else an alias or id in the store.
    func resolve(_ ref: String, rule: GateRule, key: String) throws -> String {
        guard let store else {
            throw GateInputError(place: rule.source ?? "gate", message: "\(key) '\(ref)': a regression rule needs the model registry (a store)")
        }
        if let id = run.agentModels[ref] { return id }
        do { return try store.resolveModel(ref) } catch let e as StoreError {
            var message = "\(e)"
            if case let .notFound(_, what) = e { message = "\(key): \(what)" }
            throw GateInputError(place: rule.source ?? "gate", message: message)
        }
    }

    mutating func evaluation(_ id: String, rule: GateRule) throws -> AgentRun {
        if let r = cache[id] { return r }
        guard let store else { throw GateInputError(place: rule.source ?? "gate", message: "no store") }
        if scenario == nil { scenario = try run.scenario() }
        let (_, payload) = try store.checkpointPayload(id)
        let loaded = try ModelEvaluation.load(payload, label: "model \(id)", scenario: scenario!, seed: run.seed)
        progress?.note("gate: evaluating model \(id.prefix(8)) (\(loaded.modelType)) on run \(run.runID)'s evaluation world")
        let r = try ModelEvaluation.evaluate(loaded, data: payload, scenario: scenario!, seed: run.seed, captureContexts: false,
                                             progress: nil, note: "evaluated by the gate")
        cache[id] = r
        return r
    }

    mutating func check(_ rule: GateRule, agentLabel: String? = nil, referenceLabel: String? = nil) throws -> RuleResult {
        let a = try resolve(rule.agent, rule: rule, key: "agent")
        let b = try resolve(rule.relativeTo ?? "", rule: rule, key: "relative_to")
        let ra = try evaluation(a, rule: rule), rb = try evaluation(b, rule: rule)
        let sc = scenario!
        let generator = try GeneratorKind.named(sc.generator)
        let evaluator = Evaluator(config: sc.evaluation.eval, matchThreshold: sc.sim.pairing.matchThreshold)
        let stream = SeedTree(root: run.seed).child("gate.paired").child(rule.metric).child(a).child(b).stream(generator)
        let d = evaluator.pairedDifference(a, ra.evaluation, b, rb.evaluation, metric: rule.metric, stream: stream)
        let reference = rb.metrics.first { $0.name == rule.metric }?.value ?? .nan
        var shown = rule
        if let l = agentLabel { shown.agent = "\(l) \(a.prefix(8))" }
        if let l = referenceLabel { shown.relativeTo = "\(l) \(b.prefix(8))" }
        let r = Gate.evaluateRegression(shown, difference: (d.value, d.ciLow, d.ciHigh, d.users), reference: reference, agentID: a, referenceID: b)
        return RuleResult(rule: agentLabel == nil ? rule : shown, passed: r.passed, measured: r.measured, reason: r.reason, alert: r.alert)
    }
}
