import Foundation
import GymAgents
import GymCore
import GymData
import GymReports

extension OfflineRLResult {
    public func markdown() -> String {
        let c = config
        var md = "# Offline RL: \(c.algo) on \(dataPath)\n\n| | |\n|---|---|\n"
        if let p = provenance {
            md += "| dataset | `\(dataPath)`: \(p.worlds) world(s) of scenario \(p.scenario) (`\(p.scenarioFile)`, sha256 \(p.scenarioSHA256.prefix(12))) logged by \(p.behaviour)"
            md += p.behaviourMix > 0 ? String(format: " mixed with %.2f uniform", p.behaviourMix) : ""
            md += ", seed \(p.seed) |\n"
        } else {
            md += "| dataset | `\(dataPath)` (no dataset.json: provenance unknown) |\n"
        }
        md += "| data | \(journeys + heldOutJourneys) journeys (\(terminals) ended by churn or opt-out, \(truncated) cut off); \(journeys) for training (\(transitions) transitions), \(heldOutJourneys) held out for validation |\n"
        if c.algo == "bc" {
            md += "| learner | behaviour cloning: \(c.bc.hidden.map(String.init).joined(separator: "-")) relu, \(c.steps) steps of batch \(c.bc.batchSize), Adam lr \(Render.g(c.bc.learningRate)), beta \(Render.g(c.bc.beta)) |\n"
        } else {
            md += "| learner | discrete CQL: \(c.cql.hidden.map(String.init).joined(separator: "-")) relu, \(c.steps) steps of batch \(c.cql.batchSize), Adam lr \(Render.g(c.cql.learningRate)), alpha \(Render.g(c.cql.alpha)), target network every \(c.cql.targetUpdateInterval) steps |\n"
        }
        md += "| discount | gamma \(Render.g(gammaPerDay)) per day between decisions (semi-Markov) |\n"
        md += "| deployed | the greedy policy: the allowed action with the highest \(c.algo == "bc" ? "logit" : "Q value") |\n| seed | \(c.seed) |\n"
        if hasTruth {
            let b = behaviourValue, p = policyValue, d = difference
            md += "\n## The truth (simulator, fresh worlds)\n\nBoth policies act on the same \(c.truthRuns) fresh worlds; value = mean discounted return per journey (`user_return`); 95% intervals from the spread over worlds.\n\n"
            md += "| policy | true user_return | 95% interval |\n|---|---|---|\n"
            md += String(format: "| behaviour (%@) | %.4f | [%.4f, %.4f] |\n", (provenance?.behaviour ?? "?") as NSString, b.mean, b.low, b.high)
            md += String(format: "| learned (%@) | %.4f | [%.4f, %.4f] |\n", c.algo as NSString, p.mean, p.low, p.high)
            md += String(format: "| learned - behaviour (paired by world) | %+.4f | [%+.4f, %+.4f] |\n", d.mean, d.low, d.high)
            md += b.mean > 0 ? String(format: "\nThe learned policy reaches %.1f%% of the behaviour's true value", 100 * p.mean / b.mean) : "\nThe behaviour's true value is not positive (no percentage)"
            md += d.low > 0 ? "; the learned policy beats it (the paired interval is above 0).\n" : (d.high < 0 ? "; the learned policy is worse (the paired interval is below 0).\n" : "; the paired interval includes 0.\n")
            if let q = qEstimate {
                let verdict = q > p.high ? "**overestimation**: above the true value's interval" : (q < p.low ? "underestimation: below the true value's interval" : "within the true value's interval")
                md += String(format: "\nThe learned Q's own estimate of its value per journey is %.4f against its true %.4f: %@.\n", q, p.mean, verdict as NSString)
            }
        } else if let q = qEstimate {
            md += String(format: "\nThe learned Q's own estimate of its value per journey is %.4f (no simulator truth: give --scenario for a dataset from `dataset collect`).\n", q)
        }
        if let v = validation.last {
            md += "\n## Off-policy validation on the \(heldOutJourneys) held-out journeys\n\n"
            md += String(format: "The behaviour's value on them (their mean discounted return) is %.4f. DR and FQE (%@ FQE, cross-fitted) of the learned greedy policy, 95%% bootstrap intervals over journeys (%d resamples):\n\n", heldOutLoggedValue, c.validationFQE as NSString, c.resamples)
            md += "| step | dr | dr 95% interval | fqe | fqe 95% interval |\n|---|---|---|---|---|\n"
            for x in validation {
                md += String(format: "| %d | %.4f | [%.4f, %.4f] | %.4f | [%.4f, %.4f] |\n", x.step, x.dr.value, x.dr.ciLow, x.dr.ciHigh, x.fqe.value, x.fqe.ciLow, x.fqe.ciHigh)
            }
            if hasTruth {
                let p = policyValue.mean
                md += String(format: "\nAt the end: dr %@ the true value %.4f, fqe %@ it.\n", (v.dr.ciLow <= p && p <= v.dr.ciHigh ? "covers" : "misses") as NSString, p,
                             (v.fqe.ciLow <= p && p <= v.fqe.ciHigh ? "covers" : "misses") as NSString)
            }
            if !hasTruth, let q = qEstimate, q > v.dr.ciHigh {
                md += String(format: "\n**Overestimation flag**: the learned Q's own estimate %.4f is above DR's interval on the held-out journeys (DR of a greedy policy rests on few matching journeys: docs/offline-rl.md).\n", q)
            }
        }
        md += "\n## Learning curve\n\n| step | loss | mean Q of the logged actions |\n|---|---|---|\n"
        for x in curve { md += "| \(x.step) | \(Render.f(x.loss)) | \(Render.f(x.meanQ)) |\n" }
        return md
    }

    public func truthCSV() -> String {
        var s = "world,behaviour_user_return,policy_user_return\n"
        for k in 0..<behaviourTruth.count { s += "\(k),\(behaviourTruth[k]),\(policyTruth[k])\n" }
        return s
    }

    public func curveCSV() -> String {
        var s = "step,loss,mean_q\n"
        for x in curve { s += "\(x.step),\(x.loss),\(Render.csvNumber(x.meanQ))\n" }
        return s
    }

    public func validationCSV() -> String {
        var s = "step,estimator,value,ci_low,ci_high\n"
        for x in validation {
            for e in [x.dr, x.fqe] { s += "\(x.step),\(e.estimator.rawValue),\(e.value),\(e.ciLow),\(e.ciHigh)\n" }
        }
        return s
    }
}

extension OPEJob {
    /// `dataset collect`: journeys.jsonl and dataset.json (and a README.md), written atomically.
    public static func collectDataset(scenarioPath: String, behaviour: String, mix: Double, worlds: Int, seed: UInt64?, out: String,
                                      progress: Progress) throws -> (dataset: JourneyDataset, destination: URL) {
        let sc = try ScenarioBinding.load(path: scenarioPath)
        let text = (try? String(contentsOfFile: scenarioPath, encoding: .utf8)) ?? ""
        let s = seed ?? sc.seed ?? 1
        let dir = try AtomicDirectory(destination: URL(fileURLWithPath: out))
        let d: JourneyDataset
        do {
            defer { progress.finish() }
            d = try OfflineDataset.collect(scenario: sc, scenarioFile: scenarioPath, scenarioSHA256: SHA256.hex(Array(text.utf8)), behaviour: behaviour,
                                           mix: mix, worlds: worlds, seed: s, progress: progress)
        }
        let p = d.provenance!
        try dir.write("journeys.jsonl", bytes: OfflineDataset.jsonl(d.log, behaviour: behaviour))
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try dir.write("dataset.json", String(decoding: try e.encode(p), as: UTF8.self) + "\n")
        try dir.write("README.md", """
            # Dataset: \(p.behaviour) on \(p.scenario)

            Logged by `optima-gym dataset collect \(scenarioPath) --behaviour \(p.behaviour) --behaviour-mix \(p.behaviourMix) --worlds \(p.worlds) --seed \(p.seed)`.

            \(p.transitions) decisions in \(p.journeys) journeys (\(p.terminals) ended by churn or opt-out, \(p.truncated) cut off at the horizon); \
            observations of \(p.observationDimension) numbers, \(p.actionLabels.count) actions; the behaviour's mean discounted return per journey \
            (gamma \(p.gammaPerDay) per day) is \(String(format: "%.4f", p.loggedUserReturn)).

            `journeys.jsonl` holds one decision per line (fields in docs/offline-rl.md); `dataset.json` its provenance.

            """)
        try dir.commit()
        return (d, dir.destination)
    }

    /// `train-offline`: report.md, curve.csv, validation.csv, truth.csv (with a scenario) and
    /// checkpoint.json, written atomically.
    public static func trainOffline(dataPath: String, scenarioPath: String?, config: OfflineRLConfig, seed: UInt64?, out: String?,
                                    progress: Progress) throws -> (result: OfflineRLResult, markdown: String, destination: URL, checkpointID: String) {
        let data = try OfflineDataset.load(path: dataPath)
        let sc = try scenarioPath.map { try ScenarioBinding.load(path: $0) }
        if let path = scenarioPath, let p = data.provenance {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let sha = SHA256.hex(Array(text.utf8))
            guard sha == p.scenarioSHA256 else {
                throw DatasetError(path: dataPath, message: "the dataset was collected on \(p.scenarioFile) (sha256 \(p.scenarioSHA256.prefix(12))); \(path) differs (sha256 \(sha.prefix(12))), so its truth would not be the dataset's world")
            }
        }
        if sc != nil && data.provenance == nil { throw DatasetError(path: dataPath, message: "--scenario needs a dataset from `dataset collect` (its dataset.json names the behaviour to compare with)") }
        var c = config
        c.seed = seed ?? data.provenance.flatMap { UInt64($0.seed) } ?? 1
        let name = data.provenance?.scenario ?? "offline"
        let dir = try RunJob.claim(out, defaultPath: "reports/\(name)/offline-\(c.algo)-\(makeRunID(started: Date(), seed: c.seed))")
        let r: OfflineRLResult
        do {
            defer { progress.finish() }
            r = try OfflineRL.run(data: data, scenario: sc, config: c, progress: progress)
        }
        var metrics: [String: Double] = [:]
        if r.hasTruth { metrics["user_return"] = r.policyValue.mean }
        if let v = r.validation.last { metrics["ope_dr"] = v.dr.value; metrics["ope_fqe"] = v.fqe.value }
        let lineage = ModelLineage(scenario: data.provenance?.scenario ?? "", scenarioSHA256: data.provenance?.scenarioSHA256 ?? "", seed: String(c.seed),
                                   trainingData: "logged journeys \(data.path): \(r.transitions) transitions of \(r.journeys) journeys" + (data.provenance.map { " by \($0.behaviour) (mix \($0.behaviourMix), seed \($0.seed))" } ?? ""),
                                   trainingDecisions: r.transitions)
        let ctx = CheckpointContext(scenario: data.provenance?.scenario ?? "", seed: c.seed, trainingDate: ISO8601DateFormatter().string(from: Date()),
                                    actionLabels: r.actionLabels, metrics: metrics, lineage: lineage)
        let saved = try Checkpoints.saveOffline(r.network, kind: c.algo, context: ctx)
        let md = r.markdown() + "\nCheckpoint: `checkpoint.json` (id \(saved.id)).\n"
        try dir.write("checkpoint.json", bytes: Array(saved.data))
        if r.hasTruth { try dir.write("truth.csv", r.truthCSV()) }
        try dir.write("curve.csv", r.curveCSV())
        try dir.write("validation.csv", r.validationCSV())
        try dir.write("report.md", md)
        try dir.commit()
        return (r, md, dir.destination, saved.id)
    }
}
