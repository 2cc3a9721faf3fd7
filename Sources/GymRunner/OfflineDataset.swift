import Foundation
import GymReports
import GymAgents
import GymCore
import GymData
import GymEval
import GymRandom
import GymScenario
import GymSim

/// Where a dataset of logged journeys came from (`dataset.json`, D4RL-style): the scenario, the
/// seed, the behaviour and its size. A dataset from elsewhere has none.
public struct DatasetProvenance: Codable, Equatable, Sendable {
    public static let formatName = "optima-gym.dataset"
    public static let currentVersion = 1
    public var format = DatasetProvenance.formatName
    public var version = DatasetProvenance.currentVersion
    public var scenario: String
    public var scenarioFile: String
    public var scenarioSHA256: String
    public var seed: String
    public var behaviour: String
    public var behaviourMix: Double
    public var worlds: Int
    public var transitions: Int
    public var journeys: Int
    public var terminals: Int
    public var truncated: Int
    public var gammaPerDay: Double
    public var observationDimension: Int
    public var actionLabels: [String]
    /// The behaviour's own value in the log: the mean discounted return per journey.
    public var loggedUserReturn: Double
    public var file = "journeys.jsonl"

    enum CodingKeys: String, CodingKey {
        case format, version, scenario, scenarioFile = "scenario_file", scenarioSHA256 = "scenario_sha256", seed, behaviour
        case behaviourMix = "behaviour_mix", worlds, transitions, journeys, terminals, truncated, gammaPerDay = "gamma_per_day"
        case observationDimension = "observation_dimension", actionLabels = "action_labels", loggedUserReturn = "logged_user_return", file
    }
}

/// Logged journeys for offline learning: the trajectories (one per user, steps in time order,
/// `terminal` on the last step of a journey ended by churn or opt-out) and their provenance.
public struct JourneyDataset: Sendable {
    public var log: TrajectoryLog
    public var provenance: DatasetProvenance?
    /// The file the journeys were read from (or will be written to).
    public var path: String
    public var terminals: Int { log.terminal.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// Why a dataset cannot be used.
public struct DatasetError: BadInputError {
    public let path: String
    public let message: String
    public var description: String { "\(path): error: \(message)" }
}

public enum OfflineDataset {
    /// `dataset collect`: the behaviour (an agent of the scenario, trained as `run` trains it under
    /// `seed`, mixed with `mix` uniform) logs `worlds` fresh worlds over the scenario's evaluation
    /// length. World k is seeded `offline.log/k` (actions from `offline.log/k/sample`). Journeys
    /// are named `w<k>-user-<u>`.
    public static func collect(scenario: Scenario, scenarioFile: String, scenarioSHA256: String, behaviour name: String, mix: Double,
                               worlds: Int, seed: UInt64, progress: Progress? = nil) throws -> JourneyDataset {
        let scenario = try ScenarioBinding.bind(scenario)
        let generator = try GeneratorKind.named(scenario.generator)
        let seeds = SeedTree(root: seed)
        let n = scenario.evaluation.wholeHorizon ? Int.max : scenario.evaluation.episodes
        progress?.begin(total: worlds + 1)
        let behaviour = try OPECandidates.trainedAgent(name, scenario: scenario, seed: seed)
        progress?.update("dataset collect: behaviour trained", done: 1, total: worlds + 1)
        let world = JourneyWorld(config: scenario.sim)
        world.generator = generator
        var parts: [TrajectoryLog] = []
        var gamma = 1.0
        for k in 0..<worlds {
            let run = try OPEValidation.logRun(world: world, behaviour: (behaviour, mix), targets: [], decisions: n,
                                               seed: seeds.child("offline.log", k), survey: seeds.child("sim.survey"), generator: generator, scenario: scenario)
            var (t, _) = OPEValidation.journeyLog(run.log, records: run.records, probs: [Double](repeating: 0, count: run.log.count * run.log.actions))
            t.terminal = [Bool](repeating: false, count: t.rows.count)
            for i in 0..<t.count where t.offsets[i + 1] > t.offsets[i] {
                let user = Int(t.ids[i].dropFirst(5)) ?? -1
                if user >= 0 && run.records.users[user].leftAt != nil { t.terminal[t.offsets[i + 1] - 1] = true }
            }
            t.ids = t.ids.map { "w\(k)-\($0)" }
            parts.append(t)
            gamma = run.records.discountPerDay
            progress?.update("dataset collect: world \(k + 1)/\(worlds)", done: k + 2, total: worlds + 1)
        }
        let log = concatenate(parts)
        let labels = (0..<world.actionLayout.count).map { world.actionLayout.label(of: $0) }
        let returns = journeyReturns(log, gammaPerDay: gamma)
        let ended = log.terminal.reduce(0) { $0 + ($1 ? 1 : 0) }
        let p = DatasetProvenance(scenario: scenario.name, scenarioFile: scenarioFile, scenarioSHA256: scenarioSHA256, seed: String(seed),
                                  behaviour: name, behaviourMix: mix, worlds: worlds, transitions: log.rows.count, journeys: log.count,
                                  terminals: ended, truncated: log.count - ended, gammaPerDay: gamma,
                                  observationDimension: log.rows.contextDimension, actionLabels: labels,
                                  loggedUserReturn: returns.reduce(0, +) / Double(max(1, returns.count)))
        return JourneyDataset(log: log, provenance: p, path: "journeys.jsonl")
    }

    /// The discount of a journey log: per day of elapsed time, or per step (a step counting as a
    /// day) when the log has no times.
    public static func discounting(_ log: TrajectoryLog, gammaPerDay g: Double) -> Discounting {
        log.elapsed.isEmpty ? .perStep(g) : .perDay(g)
    }

    /// Each journey's discounted return sum_t gamma^(days since its start) r_t.
    public static func journeyReturns(_ log: TrajectoryLog, gammaPerDay g: Double) -> [Double] {
        let d = discounting(log, gammaPerDay: g).factors(log)
        return (0..<log.count).map { i in (log.offsets[i]..<log.offsets[i + 1]).reduce(0.0) { $0 + d[$1] * log.rows.reward[$1] } }
    }

    /// The logs one after the other (same spaces).
    static func concatenate(_ parts: [TrajectoryLog]) -> TrajectoryLog {
        guard var out = parts.first else { preconditionFailure("no logs") }
        for t in parts.dropFirst() {
            let shift = out.rows.count
            out.rows.action += t.rows.action; out.rows.position += t.rows.position; out.rows.reward += t.rows.reward
            out.rows.pscore += t.rows.pscore; out.rows.context += t.rows.context; out.rows.masks += t.rows.masks
            out.offsets += t.offsets.dropFirst().map { $0 + shift }
            out.ids += t.ids; out.elapsed += t.elapsed; out.terminal += t.terminal
        }
        return out
    }

    /// The journeys as JSONL, one decision per line in journey order, in the simulator log's
    /// fields: `user_id`, `journey_step`, `elapsed_seconds` (since the user's previous decision),
    /// `context_snapshot.observation` (single precision) and `.allowed_actions`, `action_index`,
    /// `propensity` (the behaviour's probability of it), `reward_score` (the decision's reward,
    /// its late signals discounted to its time, plus on a journey's last decision the churn or
    /// opt-out penalty discounted to it), `terminal` and `model_version` (the behaviour).
    public static func jsonl(_ t: TrajectoryLog, behaviour: String) -> [UInt8] {
        let D = t.rows.contextDimension, A = t.rows.actions
        var w = ByteWriter(capacity: t.rows.count * (D * 11 + 200))
        let model = JSON.escape(behaviour)
        for i in 0..<t.count {
            let id = JSON.escape(t.ids[i])
            for j in t.offsets[i]..<t.offsets[i + 1] {
                w.append("{\"user_id\":" as StaticString); w.append(id)
                w.append(",\"journey_step\":" as StaticString); w.append(j - t.offsets[i])
                w.append(",\"elapsed_seconds\":" as StaticString)
                w.append(number: j == t.offsets[i] ? 0 : t.elapsed[j] - t.elapsed[j - 1])
                w.append(",\"context_snapshot\":{\"observation\":[" as StaticString)
                for d in 0..<D {
                    if d > 0 { w.append("," as StaticString) }
                    let x = Float(t.rows.context[j * D + d])
                    w.append(x == 0 ? "0" : x.description)
                }
                w.append("],\"allowed_actions\":[" as StaticString)
                var first = true
                for a in 0..<A where t.rows.masks.isEmpty || t.rows.masks[j * A + a] {
                    if !first { w.append("," as StaticString) }
                    w.append(a); first = false
                }
                w.append("]},\"action_index\":" as StaticString); w.append(Int(t.rows.action[j]))
                w.append(",\"propensity\":" as StaticString); w.append(number: t.rows.pscore[j])
                w.append(",\"reward_score\":" as StaticString); w.append(number: t.rows.reward[j])
                w.append(",\"terminal\":" as StaticString); w.append(t.terminal.isEmpty || !t.terminal[j] ? "false" : "true")
                w.append(",\"model_version\":" as StaticString); w.append(model)
                w.append("}\n" as StaticString)
            }
        }
        return w.bytes
    }

    /// Reads a dataset: a directory (its `dataset.json` when present, and `journeys.jsonl` or
    /// `journeys.csv`), or a journey log file (JSONL in the simulator's fields, or a trajectory
    /// CSV). A log without `terminal` has every journey cut off at its last step.
    public static func load(path: String, actions: Int? = nil, limits: DataLimits = .standard) throws -> JourneyDataset {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw DatasetError(path: path, message: "no such dataset (a directory or a .jsonl / .csv journey log)") }
        var provenance: DatasetProvenance?
        var file = path
        if isDir.boolValue {
            let meta = (path as NSString).appendingPathComponent("dataset.json")
            if let data = FileManager.default.contents(atPath: meta) {
                do { provenance = try JSONDecoder().decode(DatasetProvenance.self, from: data) } catch {
                    throw DatasetError(path: meta, message: "not a valid dataset.json: \(CheckpointError.describe(error))")
                }
                guard provenance!.format == DatasetProvenance.formatName, provenance!.version == DatasetProvenance.currentVersion else {
                    throw DatasetError(path: meta, message: "format '\(provenance!.format)' version \(provenance!.version); this build reads '\(DatasetProvenance.formatName)' version \(DatasetProvenance.currentVersion)")
                }
            }
            let candidates = [provenance?.file, "journeys.jsonl", "journeys.csv"].compactMap { $0 }.map { (path as NSString).appendingPathComponent($0) }
            guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw DatasetError(path: path, message: "the directory has no journeys.jsonl or journeys.csv")
            }
            file = found
        }
        let k = actions ?? provenance?.actionLabels.count
        let log: TrajectoryLog
        if file.hasSuffix(".jsonl") {
            log = try LogImport.journeys(path: file, actions: k, limits: limits)
        } else {
            guard LogImport.hasTrajectories(path: file) else {
                throw DataError(file: file, line: 1, column: "trajectory_id", message: "missing column (a journey CSV needs trajectory_id, step, action, reward and propensity)")
            }
            log = try LogImport.trajectoryCSV(path: file, actions: k, limits: limits)
        }
        guard log.rows.contextDimension > 0 else {
            throw DataError(file: file, message: "the log has no observation vectors (context_snapshot.observation, or numeric columns in a CSV): nothing to learn a policy from")
        }
        if let p = provenance {
            guard p.observationDimension == log.rows.contextDimension else {
                throw DataError(file: file, message: "observations have \(log.rows.contextDimension) numbers; dataset.json says \(p.observationDimension)")
            }
        }
        return JourneyDataset(log: log, provenance: provenance, path: file)
    }

    /// The journeys as transitions between consecutive decisions of a journey: reward =
    /// `reward`, discount = gamma^(days to the next decision). A journey's last decision has no
    /// next state: terminal (churn, opt-out) or cut off (truncated), either way no bootstrap.
    /// `journeys`: which trajectories (all by default).
    public static func transitions(_ t: TrajectoryLog, gammaPerDay g: Double, journeys: [Int]? = nil) -> Transitions {
        let D = t.rows.contextDimension, A = t.rows.actions
        let which = journeys ?? Array(0..<t.count)
        let n = which.reduce(0) { $0 + t.offsets[$1 + 1] - t.offsets[$1] }
        var obs = [Float](), next = [Float](repeating: 0, count: n * D), action = [Int32](), reward = [Float]()
        obs.reserveCapacity(n * D); action.reserveCapacity(n); reward.reserveCapacity(n)
        var discount = [Float](repeating: 0, count: n), boot = [Bool](repeating: false, count: n)
        let masked = !t.rows.masks.isEmpty
        var mask = [Bool](), nextMask = [Bool](repeating: true, count: masked ? n * A : 0)
        var r = 0
        for i in which {
            let lo = t.offsets[i], hi = t.offsets[i + 1]
            for j in lo..<hi {
                for d in 0..<D { obs.append(Float(t.rows.context[j * D + d])) }
                action.append(t.rows.action[j]); reward.append(Float(t.rows.reward[j]))
                if masked { mask.append(contentsOf: t.rows.masks[(j * A)..<((j + 1) * A)]) }
                if j + 1 < hi {
                    for d in 0..<D { next[r * D + d] = Float(t.rows.context[(j + 1) * D + d]) }
                    let days = t.elapsed.isEmpty ? 1 : (t.elapsed[j + 1] - t.elapsed[j]) / 86_400
                    discount[r] = Float(pow(g, days)); boot[r] = true
                    if masked { for a in 0..<A { nextMask[r * A + a] = t.rows.masks[(j + 1) * A + a] } }
                }
                r += 1
            }
        }
        var out = Transitions(dimension: D, actions: A, observation: obs, nextObservation: next, action: action, reward: reward,
                              discount: discount, bootstrap: boot)
        out.mask = mask; out.nextMask = nextMask
        return out
    }

    /// The journeys with the given indices as a log of their own.
    public static func subset(_ t: TrajectoryLog, journeys: [Int]) -> TrajectoryLog {
        let D = t.rows.contextDimension, A = t.rows.actions
        var rows = t.rows
        rows.action = []; rows.position = []; rows.reward = []; rows.pscore = []; rows.context = []; rows.masks = []; rows.times = []
        var offsets = [0], ids: [String] = [], elapsed: [Double] = [], terminal: [Bool] = []
        for i in journeys {
            for j in t.offsets[i]..<t.offsets[i + 1] {
                rows.action.append(t.rows.action[j]); rows.position.append(t.rows.position[j]); rows.reward.append(t.rows.reward[j])
                rows.pscore.append(t.rows.pscore[j]); rows.context.append(contentsOf: t.rows.context[(j * D)..<((j + 1) * D)])
                if !t.rows.masks.isEmpty { rows.masks.append(contentsOf: t.rows.masks[(j * A)..<((j + 1) * A)]) }
                if !t.elapsed.isEmpty { elapsed.append(t.elapsed[j]) }
                if !t.terminal.isEmpty { terminal.append(t.terminal[j]) }
            }
            offsets.append(rows.action.count); ids.append(t.ids[i])
        }
        var out = TrajectoryLog(rows: rows, offsets: offsets, ids: ids)
        out.elapsed = elapsed; out.terminal = terminal
        return out
    }
}
