import Foundation
import GymReports

extension OfflineRLResult {
    public func markdown(scenario: String, file: String) -> String {
        let c = config
        let b = behaviourValue, p = policyValue, d = difference
        var md = "# Offline RL in the simulator: \(scenario)\n\n| | |\n|---|---|\n| scenario | `\(file)` |\n"
        md += "| dataset | \(c.datasets) world(s) logged by \(c.behaviour)\(c.behaviourMix > 0 ? String(format: " mixed with %.2f uniform", c.behaviourMix) : ""): \(transitions) transitions, \(journeys) journeys (\(terminals) ended by churn or opt-out, \(truncated) truncated) |\n"
        if c.algo == "bc" {
            md += "| learner | behaviour cloning: \(c.bc.hidden.map(String.init).joined(separator: "-")) relu, \(c.steps) steps of batch \(c.bc.batchSize), Adam lr \(Render.g(c.bc.learningRate)), beta \(Render.g(c.bc.beta)) |\n"
        } else {
            md += "| learner | discrete CQL: \(c.cql.hidden.map(String.init).joined(separator: "-")) relu, \(c.steps) steps of batch \(c.cql.batchSize), Adam lr \(Render.g(c.cql.learningRate)), alpha \(Render.g(c.cql.alpha)), target network every \(c.cql.targetUpdateInterval) steps, discount gamma \(Render.g(gammaPerDay)) per day between decisions |\n"
        }
        md += "| truth | both policies on the same \(c.truthRuns) fresh worlds; value = mean discounted return per journey (`user_return`); 95% intervals from the spread over worlds |\n| seed | \(c.seed) |\n\n"
        md += "| policy | true user_return | 95% interval |\n|---|---|---|\n"
        md += String(format: "| behaviour (%@) | %.4f | [%.4f, %.4f] |\n", c.behaviour as NSString, b.mean, b.low, b.high)
        md += String(format: "| learned (%@) | %.4f | [%.4f, %.4f] |\n", c.algo as NSString, p.mean, p.low, p.high)
        md += String(format: "| learned - behaviour (paired by world) | %+.4f | [%+.4f, %+.4f] |\n", d.mean, d.low, d.high)
        md += String(format: "\nThe learned policy reaches %.1f%% of the behaviour's true value.\n", 100 * p.mean / b.mean)
        if let q = qEstimate {
            let over = q > p.high
            md += String(format: "\nThe learned Q's own estimate of its value per journey is %.4f against its true %.4f: %@.\n", q, p.mean,
                         (over ? "**overestimation** (above the true value's interval)" : (q < p.low ? "underestimation" : "within the true value's interval")) as NSString)
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
}

extension OPEJob {
    /// `train-offline`: report.md, truth.csv and curve.csv, written atomically.
    public static func trainOffline(scenarioPath: String, config: OfflineRLConfig, seed: UInt64?, out: String?,
                                    progress: Progress) throws -> (result: OfflineRLResult, markdown: String, destination: URL) {
        let sc = try ScenarioBinding.load(path: scenarioPath)
        var c = config
        c.seed = seed ?? sc.seed ?? 1
        let dir = try RunJob.claim(out, defaultPath: "reports/\(sc.name)/offline-\(c.algo)-\(makeRunID(started: Date(), seed: c.seed))")
        let r: OfflineRLResult
        do {
            defer { progress.finish() }
            r = try OfflineRL.run(scenario: sc, config: c, progress: progress)
        }
        let md = r.markdown(scenario: sc.name, file: scenarioPath)
        try dir.write("truth.csv", r.truthCSV())
        try dir.write("curve.csv", r.curveCSV())
        try dir.write("report.md", md)
        try dir.commit()
        return (r, md, dir.destination)
    }
}
