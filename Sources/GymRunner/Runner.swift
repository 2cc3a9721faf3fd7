import Foundation
import GymAgents
import GymCore
import GymEval
import GymLinalg
import GymGate
import GymRandom
import GymReports
import GymScenario
import GymSim

public let projectVersion = "0.1.0"

/// A scenario that validates but cannot run.
public enum RunError: BadInputError {
    case noDecisions(scenario: String, phase: String)
    public var description: String {
        switch self {
        case let .noDecisions(scenario, phase):
            return "scenario \(scenario): the \(phase) world produces no decision (no user session falls within sessions.max_days; check sessions.max_days, sessions.weekday_weights, sessions.hour_weights and population.activity_mean)"
        }
    }
}

/// What one agent produced: training rewards, the evaluation run and its metrics.
public struct AgentRun: Sendable {
    public var spec: AgentSpec
    public var name: String
    public var isUpperBound: Bool
    public var trainingRewards: [Double]
    /// Simulated time of each training decision (seconds from the start of its world).
    public var trainingTimes: [Double] = []
    public var trainingPairGood: [Bool?]
    public var epsilons: [Double]?
    public var evaluation: RunRecords
    public var contexts: [String]
    public var metrics: [MetricValue]
    public var notes: [String]
    /// The trained policy's checkpoint (JSON), its content-addressed id and model type.
    public var checkpoint: Data?
    public var checkpointID: String?
    public var checkpointType: String?
    /// PPO's per-update statistics.
    public var updates: [PPOUpdateStats] = []
    /// The anomaly detectors' alarms and outlier flags over the evaluation (nil: not run).
    public var anomalies: [DetectorAlarm]?
    /// What the circuit breakers did in evaluation and in training (nil: the scenario has none).
    public var breakers: BreakerLog?
    public var trainingBreakers: BreakerLog?
    /// One explanation per evaluation decision (nil: not asked for, `run --explain`).
    public var explanations: [ExplanationRow]?
}

/// Runs a scenario: each agent trains on the training world, then is evaluated with learning
/// frozen on a held-out world with fresh seeds. Agents run in parallel on `threads` threads;
/// each has its own streams, so the results do not depend on the thread count.
///
/// Seeds (children of the root): `sim.train` (training world, the same for every agent, so agents
/// face common random numbers), `sim.train/<k>` for a fresh world if one ends early, `sim.eval`
/// (evaluation world), `sim.survey`, `agent/<name>`, `eval.bootstrap/<name>`,
/// `eval.sample_efficiency/<name>`.
public enum Runner {
    public static func runAgent(_ spec: AgentSpec, scenario: Scenario, seeds: SeedTree, generator: GeneratorKind,
                                captureContexts: Bool, progress: Progress?, trainingDate: String = "", logObservations: Bool = false,
                                provenance: Provenance = Provenance()) throws -> AgentRun {
        let name = spec.name
        let world = JourneyWorld(config: scenario.sim)
        world.generator = generator
        var provenance = provenance
        let policy: Policy
        if let r = provenance.resume, r.modelType == name {
            // Continuous learning: this agent starts from the registered checkpoint.
            // The agent's own streams, as a fresh agent of this run would have them.
            let agentSeeds = seeds.child("agent").child(name)
            let ppo = r.modelType == "ppo"
            let loaded = try Checkpoints.load(data: r.data, path: "checkpoint \(r.id)", layout: world.observationLayout, actions: world.actionLayout,
                                              sampler: (ppo ? agentSeeds.child("sample") : agentSeeds).stream(generator),
                                              shuffle: agentSeeds.child("shuffle").stream(generator), trainingDecisions: scenario.training.episodes)
            policy = loaded.policy
            provenance.parent = (r.id, loaded.trainingDecisions)
        } else {
            provenance.resume = nil
            policy = makePolicy(spec, layout: world.observationLayout, actions: world.actionLayout,
                                seeds: seeds.child("agent").child(name), generator: generator,
                                trainingDecisions: scenario.training.episodes, discount: scenario.sim.journeyDiscount)
        }
        // The look-ahead reference neither learns nor has a learning curve worth its cost (its
        // roll-outs take about a millisecond a decision): it skips training.
        var t = Training()
        if case .lookahead = spec {
            t.notes.append("a reference that does not learn: no training phase, no learning curve")
            progress?.update("\(name) training", done: scenario.training.episodes, total: scenario.training.episodes)
        } else {
            t = try train(policy, world: world, worldSeed: seeds.child("sim.train"), decisions: scenario.training.episodes,
                          matchThreshold: scenario.sim.pairing.matchThreshold, scenario: scenario.name,
                          label: "\(name) training", progress: progress, honourOptOut: scenario.training.honourOptOut,
                          safety: SafetyMonitor(scenario, world: world, ownDetectors: true),
                          disputes: (scenario.training.disputeProbability, scenario.training.disputeBadOutcome, scenario.training.honourDisputes,
                                     seeds.child("disputes").child(name)))
        }
        // Evaluation: learning frozen, fresh world.
        policy.learning = false
        if let p = provenance.parent { t.notes.append("continued training from checkpoint \(p.id) (\(p.decisions) decisions before this run)") }
        var run = try evaluate(policy, spec: spec, scenario: scenario, seeds: seeds, generator: generator, world: world,
                               captureContexts: captureContexts, progress: progress, trainingDate: trainingDate,
                               training: (t.rewards, t.pairGood, t.epsilons, t.notes), logObservations: logObservations,
                               provenance: provenance)
        run.trainingTimes = t.times
        run.trainingBreakers = t.breakers
        if let tr = scenario.transfer {
            run.metrics.append(try transfer(spec, scenario: scenario, transfer: tr, seeds: seeds, generator: generator, progress: progress))
        }
        return run
    }

    /// What a training phase produced.
    public struct Training {
        public var rewards: [Double] = []
        /// Simulated time of each decision in the first world (-1 in later worlds).
        public var times: [Double] = []
        public var pairGood: [Bool?] = []
        public var epsilons: [Double]?
        public var notes: [String] = []
        /// Decision indices used (the next phase continues from here).
        public var decisionsUsed = 0
        /// What the circuit breakers did (nil: the scenario has none).
        public var breakers: BreakerLog?
    }

    /// Trains `policy` for `decisions` decisions on worlds seeded from `worldSeed` (a fresh world
    /// `worldSeed/<k>` when one ends), numbering decisions from `startIndex`.
    public static func train(_ policy: Policy, world: JourneyWorld, worldSeed: SeedTree, decisions nTrain: Int,
                             matchThreshold threshold: Double, scenario: String, label: String, progress: Progress?,
                             startIndex: Int = 0, honourOptOut: Bool = false, safety: SafetyMonitor? = nil,
                             disputes: (base: Double, badOutcome: Double, honour: Bool, seeds: SeedTree)? = nil) throws -> Training {
        var out = Training()
        let exploring = policy as? Exploring
        out.epsilons = exploring == nil ? nil : []
        out.rewards.reserveCapacity(nTrain)
        policy.learning = true
        var offset = startIndex
        var worldIndex = 0
        // Training keeps only what the learning curve needs (no per-decision records).
        world.recording = false
        world.reset(seed: worldSeed)
        if world.isDone { throw RunError.noDecisions(scenario: scenario, phase: "training") }
        var shifted: [Feedback] = []
        var done = 0
        // A learner over journeys is told where each decision sits in its user's journey, when
        // journeys end, and when a world's open journeys are cut (truncated).
        let journeys = policy as? JourneyAware
        var exclusion = OptOutExclusion(policy, enabled: honourOptOut)
        var disputed = disputes.flatMap { d in Disputes(base: d.base, badOutcome: d.badOutcome, honour: d.honour, stream: d.seeds.stream(world.generator)) }
        while done < nTrain {
            if world.isDone {
                journeys?.truncateJourneys(at: world.currentTime)
                offset += world.decisionIndex
                worldIndex += 1
                world.reset(seed: SeedTree(root: worldSeed.root, path: worldSeed.path + "/\(worldIndex)"))
                if world.isDone { throw RunError.noDecisions(scenario: scenario, phase: "training") }
                if worldIndex == 1 { out.notes.append("the training world ended before \(nTrain) decisions; training continued on fresh worlds") }
                continue
            }
            journeys?.willAct(in: world.decisionContext)
            let k = offset + world.decisionIndex
            let mask = safety?.mask(world.actionMask, decision: k) ?? world.actionMask
            let choice = policy.act(observation: world.observation, mask: mask, decision: k,
                                    truth: policy.isUpperBound ? world.hiddenTruth : nil)
            if let exploring { out.epsilons?.append(exploring.epsilon) }
            let r = world.step(choice)
            exclusion?.after(decision: k, user: world.lastEpisode.user, world: worldIndex, ends: r.endedJourneys)
            if !r.endedJourneys.isEmpty { journeys?.journeysEnded(r.endedJourneys) }
            let e = world.lastEpisode
            out.rewards.append(e.reward)
            out.times.append(worldIndex == 0 ? e.time : -1)
            out.pairGood.append(e.kind == .suggestPairing ? e.trueResonance >= threshold : nil)
            if !r.feedback.isEmpty {
                let delivered = disputed == nil ? r.feedback : disputed!.filter(r.feedback)
                if offset == 0 { policy.observe(delivered) } else {
                    shifted = delivered.map { var f = $0; f.episode += offset; return f }
                    policy.observe(shifted)
                    if safety != nil { shifted = r.feedback.map { var f = $0; f.episode += offset; return f } }
                }
            }
            // The breakers number decisions across worlds, as the learner does.
            safety?.after(decision: k, world: world, result: r, feedback: offset == 0 || r.feedback.isEmpty ? r.feedback : shifted)
            done += 1
            if done % 2000 == 0 { progress?.update(label, done: done, total: nTrain) }
        }
        progress?.update(label, done: nTrain, total: nTrain)
        if let d = disputed { out.notes.append(d.note) }
        if let e = exclusion { out.notes.append(e.note) }
        journeys?.truncateJourneys(at: world.currentTime)
        out.decisionsUsed = offset + world.decisionIndex
        out.breakers = safety.map { BreakerLog($0.suite) }
        return out
    }

    /// The evaluation phase of one policy (learning frozen) on the `sim.eval` world, with its metrics.
    public static func evaluate(_ policy: Policy, spec: AgentSpec, scenario: Scenario, seeds: SeedTree, generator: GeneratorKind,
                                world: JourneyWorld, captureContexts: Bool, progress: Progress?, trainingDate: String,
                                training: (rewards: [Double], pairGood: [Bool?], epsilons: [Double]?, notes: [String]),
                                logObservations: Bool = false, provenance: Provenance = Provenance()) throws -> AgentRun {
        let name = policy.name
        var notes = training.notes
        let threshold = scenario.sim.pairing.matchThreshold
        policy.learning = false
        // The evaluation draws its actions from its own stream, so that `evaluate --checkpoint`
        // reproduces a run's evaluation exactly.
        (policy as? SamplerReplaceable)?.useSampler(seeds.child("agent").child(name).child("eval.sample").stream(generator))
        let nEval = scenario.evaluation.episodes
        world.recording = true
        world.snapshotObservations = logObservations
        defer { world.snapshotObservations = false }
        world.reset(seed: seeds.child("sim.eval"))
        if world.isDone { throw RunError.noDecisions(scenario: scenario.name, phase: "evaluation") }
        var contexts: [String] = []
        var detectors = makeDetectors(scenario, world: world)
        let safety = SafetyMonitor(scenario, world: world, ownDetectors: false)
        let explaining = scenario.logging.explanations, explainer = explaining ? policy as? Explaining : nil
        var explanations: [ExplanationRow] = []
        var k = 0
        while k < nEval && !world.isDone {
            if captureContexts { contexts.append(world.contextSnapshot()) }
            let mask = safety?.mask(world.actionMask, decision: k) ?? world.actionMask
            let choice = policy.act(observation: world.observation, mask: mask, decision: world.decisionIndex,
                                    truth: policy.isUpperBound ? world.hiddenTruth : nil)
            if explaining {
                let o = world.observation
                explanations.append(explanationRow(k, observation: o, layout: world.observationLayout,
                                                   explanation: explainer?.explain(observation: o, mask: mask, action: choice.action, propensity: choice.propensity)))
            }
            let r = world.step(choice)
            policy.observe(r.feedback)
            let alarmsBefore = detectors?.alarms.count ?? 0
            if detectors != nil { observe(&detectors!, world: world, decision: k, feedback: r.feedback) }
            if let safety {
                safety.after(decision: k, world: world, result: r, feedback: r.feedback, alarms: detectors.map { $0.alarms[alarmsBefore...].map(\.detector) } ?? [])
            }
            k += 1
            if k % 2000 == 0 {
                if scenario.evaluation.wholeHorizon {
                    // Counted in the share of the horizon simulated, scaled to evaluationUnits.
                    let units = evaluationUnits(scenario)
                    let share = min(1, world.currentTime / (scenario.sim.sessions.maxDays * 86_400))
                    progress?.update("\(name) evaluation", done: Int(Double(units) * share), total: units,
                                     detail: "day \(Int(world.currentTime / 86_400)) of \(String(format: "%g", scenario.sim.sessions.maxDays))")
                } else {
                    progress?.update("\(name) evaluation", done: k, total: nEval)
                }
            }
        }
        if scenario.evaluation.wholeHorizon {
            if k == nEval && !world.isDone {
                notes.append("the evaluation reached evaluation.episodes (\(nEval)) before the end of the horizon (evaluation.whole_horizon)")
            }
        } else if k < nEval { notes.append("the evaluation world ended after \(k) of \(nEval) decisions (no active user left or the time limit)") }
        progress?.update("\(name) evaluation", done: evaluationUnits(scenario), total: evaluationUnits(scenario))
        let records = world.finish(surveySeed: seeds.child("sim.survey"))
        let evaluator = Evaluator(config: scenario.evaluation.eval, matchThreshold: threshold)
        let metrics = evaluator.evaluate(records, stream: seeds.child("eval.bootstrap").child(name).stream(generator))
        if let d = policy as? SignalDropCounting, d.droppedSignals > 0 {
            notes.append("\(d.droppedSignals) signals arrived after their decision left the learner's memory and were ignored")
        }
        var run = AgentRun(spec: spec, name: name, isUpperBound: policy.isUpperBound, trainingRewards: training.rewards,
                           trainingPairGood: training.pairGood, epsilons: training.epsilons, evaluation: records, contexts: contexts,
                           metrics: metrics, notes: notes)
        run.anomalies = detectors.map { var d = $0; return d.finish(lastDecision: max(0, k - 1)) }
        run.breakers = safety.map { BreakerLog($0.suite) }
        if explaining { run.explanations = explanations }
        if let learner = policy as? Checkpointable {
            run.updates = learner.updates
            if learner.updates.isEmpty && !training.rewards.isEmpty {
                run.notes.append("\(name) made no update: its first update needs \(learner.decisionsBeforeFirstUpdate) decisions (update_every + reward_lag), more than the \(training.rewards.count) it trained on")
            }
        }
        // Every agent gets a checkpoint; its content-addressed id is the model_version of its logs.
        var perf: [String: Double] = [:]
        for m in metrics where m.value.isFinite { perf[m.name] = m.value }
        let labels = (0..<world.actionLayout.count).map { world.actionLayout.label(of: $0) }
        let lineage = ModelLineage(scenario: scenario.name, scenarioSHA256: provenance.scenarioSHA256, seed: String(seeds.root),
                                   trainingData: provenance.trainingData ?? "simulated: scenario \(scenario.name), world sim.train, \(training.rewards.count) decisions",
                                   trainingDecisions: provenance.parentDecisions + training.rewards.count,
                                   personaModel: provenance.personaModel, parentID: provenance.parentID)
        let saved = try Checkpoints.save(policy, spec: spec, observationDimension: world.observationLayout.dimension,
                                         context: CheckpointContext(scenario: scenario.name, seed: seeds.root, trainingDate: trainingDate,
                                                                    actionLabels: labels, metrics: perf, lineage: lineage))
        run.checkpoint = saved.data
        run.checkpointID = saved.id
        run.checkpointType = saved.modelType
        return run
    }

    /// Runs every agent (in parallel on `threads` threads), then adds `sample_efficiency`.
    public static func run(_ scenario: Scenario, seed: UInt64, threads: Int, captureContexts: Bool,
                           progress: Progress?, trainingDate: String = "", logObservations: Bool = false,
                           provenance: Provenance = Provenance()) throws -> (runs: [AgentRun], target: Double?) {
        let scenario = try ScenarioBinding.bind(scenario)
        let generator = try GeneratorKind.named(scenario.generator)
        let seeds = SeedTree(root: seed)
        let specs = scenario.agents
        var results = [Result<AgentRun, Error>?](repeating: nil, count: specs.count)
        let lock = NSLock()
        let workers = max(1, min(threads, specs.count))
        _ = Gemm.preferred   // load the BLAS library on this thread, before any worker needs it
        progress?.begin(total: specs.count * (scenario.training.episodes + evaluationUnits(scenario)))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < specs.count {
                let r = Result { try runAgent(specs[i], scenario: scenario, seeds: seeds, generator: generator,
                                              captureContexts: captureContexts, progress: progress, trainingDate: trainingDate,
                                              logObservations: logObservations, provenance: provenance) }
                lock.lock(); results[i] = r; lock.unlock()
                i += workers
            }
        }
        var runs: [AgentRun] = []
        for r in results { runs.append(try r!.get()) }
        // sample_efficiency: target performance is the oracle's (an upper bound's) mean reward in the
        // same training window; the agent reaches it when its window mean is >= 80% of it. The
        // oracle itself is not measured against itself (that would pass by construction).
        let target = runs.first { $0.isUpperBound }
        let evaluator = Evaluator(config: scenario.evaluation.eval, matchThreshold: scenario.sim.pairing.matchThreshold)
        for i in runs.indices {
            var extra: [MetricValue] = []
            if let t = target, !runs[i].isUpperBound {
                extra.append(evaluator.sampleEfficiency(trainingRewards: runs[i].trainingRewards, targetRewards: t.trainingRewards,
                                                        window: scenario.training.curveWindow, fraction: 0.8,
                                                        stream: seeds.child("eval.sample_efficiency").child(runs[i].name).stream(generator)))
            }
            // adaptation_hours: only when the scenario shifts the reward weights (first training world).
            if let day = scenario.sim.rewards.shiftAtDay {
                let kept = zip(runs[i].trainingTimes, runs[i].trainingRewards).filter { $0.0 >= 0 }
                extra.append(evaluator.adaptationHours(times: kept.map { $0.0 }, rewards: kept.map { $0.1 }, shiftTime: day * 86_400,
                                                       stream: seeds.child("eval.adaptation").child(runs[i].name).stream(generator)))
            }
            let upper = runs[i].isUpperBound
            runs[i].metrics = MetricCatalog.ordered(runs[i].metrics + extra) { name in
                Runner.notMeasured(name, scenario: scenario, isUpperBound: upper, hasOracle: target != nil)
            } + safetyMetrics(runs[i])
        }
        let targetValue = target.map { Stats.mean($0.trainingRewards) }
        return (runs, targetValue)
    }

    /// Why a run-level metric has no value.
    public static func notMeasured(_ name: String, scenario: Scenario, isUpperBound: Bool, hasOracle: Bool, checkpoint: Bool = false) -> String {
        switch name {
        case "transfer":
            return checkpoint ? "not measured: evaluated from a checkpoint" : "not measured: the scenario names no transfer source (transfer.source)"
        case "adaptation_hours":
            return checkpoint ? "not measured: evaluated from a checkpoint" : "not measured: the scenario does not shift the reward weights (rewards.shift_at_day)"
        case "sample_efficiency":
            if checkpoint { return "not measured: evaluated from a checkpoint" }
            if isUpperBound { return "not applicable: this agent defines the target performance (it would reach itself by construction)" }
            return hasOracle ? "not measured" : "not measurable: the scenario has no oracle agent to define target performance"
        default:
            return "not measured"
        }
    }

    /// The report model of a finished run.
    public static func report(scenario: Scenario, scenarioFile: String, seed: UInt64, runs: [AgentRun], target: Double?,
                              wallTime: Double, runID: String, files: [String]) -> RunReport {
        let population = PopulationMetrics.measure(scenario, runs: runs, seed: seed)
        let sets = runs.map { AgentMetricSet(agent: $0.name, metrics: $0.metrics) } + [AgentMetricSet(agent: "population", metrics: population.metrics)]
        let verdict = Gate.evaluate(scenario.gate, on: sets)
        let agents = runs.map { r in
            var notes = r.notes
            if let p = r.metrics.first(where: { $0.name == "bias_parity" }), p.value.isFinite, p.value < 0.9 {
                notes.append(String(format: "bias alert: bias_parity %.4f is below the blueprint's alert line 0.9 (section 8)", p.value))
            }
            var curve = learningCurve(rewards: r.trainingRewards, pairingGood: r.trainingPairGood, epsilons: r.epsilons,
                                      window: scenario.training.curveWindow, confidence: scenario.evaluation.eval.confidence)
            if !r.updates.isEmpty {
                for i in curve.indices {
                    guard let u = r.updates.last(where: { $0.globalStep <= curve[i].episodes }) else { continue }
                    curve[i].approxKL = u.approxKL; curve[i].clipFraction = u.clipFraction
                    curve[i].explainedVariance = u.explainedVariance; curve[i].policyLoss = u.policyLoss
                    curve[i].valueLoss = u.valueLoss; curve[i].entropy = u.entropy
                }
            }
            return AgentReport(name: r.name, isUpperBound: r.isUpperBound, metrics: r.metrics,
                        curve: curve,
                        trainingEpisodes: r.trainingRewards.count, evaluationEpisodes: r.evaluation.episodes.count, notes: notes)
        }
        let settings: [(String, String)] = [
            ("population", "\(scenario.sim.population.size) users, \(scenario.sim.population.groups.count) groups, \(scenario.sim.population.topics) topics"),
            ("training", "\(scenario.training.episodes) decisions per agent (curve window \(scenario.training.curveWindow))"),
            ("evaluation", (scenario.evaluation.wholeHorizon
                            ? "the whole horizon of \(String(format: "%g", scenario.sim.sessions.maxDays)) simulated days per agent (at most \(scenario.evaluation.episodes) decisions)"
                            : "\(scenario.evaluation.episodes) held-out decisions per agent") + ", \(scenario.evaluation.eval.bootstrapSamples) bootstrap resamples"),
            ("reward weights", "engagement \(scenario.sim.rewards.engagementWeight), resonance \(scenario.sim.rewards.resonanceWeight), explicit \(scenario.sim.rewards.explicitWeight)"),
        ] + (scenario.agents.contains { if case .ppo = $0 { return true } else { return false } }
             ? [("matrix products", "\(Gemm.preferred.name) (results are reproducible for a given backend; see docs/blas.md)")] : [])
        var report = RunReport(scenario: scenario.name, scenarioFile: scenarioFile, description: scenario.description, seed: seed,
                         generator: scenario.generator, gslVersion: GSL.version, projectVersion: projectVersion,
                         wallTimeSeconds: wallTime, runID: runID, agents: agents, verdict: verdict, targetPerformance: target,
                         settings: settings, files: files)
        report.confidence = scenario.evaluation.eval.confidence
        report.breakers = runs.compactMap { r in r.breakers.map { breakerSummary($0, agent: r.name) } }
        report.populationSource = population.source
        report.population = population.metrics
        if let f = population.fidelity {
            report.populationColumns = f.columns.map { PopulationColumn(name: $0.name, kind: $0.kind, kl: $0.kl, bins: $0.bins, real: $0.real, simulated: $0.synthetic) }
            report.populationRows = (f.realRows, f.simulatedRows)
        }
        for r in runs {
            let names = r.evaluation.groupNames
            var n = [Int](repeating: 0, count: max(names.count, (r.evaluation.episodes.map(\.group).max() ?? -1) + 1)), s = n
            for e in r.evaluation.episodes where e.group >= 0 {
                n[e.group] += 1
                if e.outcome == .success { s[e.group] += 1 }
            }
            for g in n.indices where n[g] > 0 {
                report.groupRates.append(GroupRate(agent: r.name, group: g < names.count ? names[g] : "group \(g)", decisions: n[g], successes: s[g],
                                                   confidence: scenario.evaluation.eval.confidence))
            }
        }
        // Survival curves over the evaluation's length in whole days.
        for r in runs {
            var counts = [0, 0, 0, 0]
            for e in r.evaluation.episodes { counts[e.kind.rawValue] += 1 }
            let userDays = r.evaluation.users.reduce(0.0) { total, u in
                guard let first = u.firstSession else { return total }
                return total + max(1, ((u.lastSession ?? first) - first) / 86_400)
            }
            report.actionMix.append((r.name, counts, userDays > 0 ? Double(counts[1] + counts[2] + counts[3]) / userDays : .nan))
            report.survival.append((r.name, survivalCurve(r.evaluation, days: Int((r.evaluation.duration / 86_400).rounded(.up)))))
        }
        // Paired differences of mean reward, every pair of agents in the order of their mean reward:
        // the same evaluation users, a user-level bootstrap of the difference.
        let evaluator = Evaluator(config: scenario.evaluation.eval, matchThreshold: scenario.sim.pairing.matchThreshold)
        let generator = (try? GeneratorKind.named(scenario.generator)) ?? .mt19937
        let ranked = runs.sorted { (Stats.mean($0.evaluation.episodes.map(\.reward))) > (Stats.mean($1.evaluation.episodes.map(\.reward))) }
        for metric in Evaluator.pairedMetrics {
            for i in ranked.indices {
                for j in ranked.indices where j > i {
                    let a = ranked[i], b = ranked[j]
                    let d = evaluator.pairedDifference(a.name, a.evaluation, b.name, b.evaluation, metric: metric,
                                                       stream: SeedTree(root: seed).child("eval.paired").child(metric).child(a.name).child(b.name).stream(generator))
                    if d.users > 0 && d.value.isFinite { report.comparisons.append(d) }
                }
            }
        }
        return report
    }
}

/// Progress units of one agent's evaluation: its decisions, or over the whole horizon (whose
/// decision count is unknown in advance) as many units as training has decisions.
func evaluationUnits(_ scenario: Scenario) -> Int {
    scenario.evaluation.wholeHorizon ? max(1, scenario.training.episodes) : scenario.evaluation.episodes
}

extension SimConfig {
    /// The world's discount as a learner over journeys takes it.
    var journeyDiscount: JourneyDiscount {
        JourneyDiscount(perDay: discount.perDay, churnPenalty: discount.churnPenalty, optOutPenalty: discount.optOutPenalty)
    }
}
