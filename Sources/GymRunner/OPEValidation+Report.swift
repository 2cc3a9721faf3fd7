import Foundation
import GymEval

extension OPEValidation {
    /// The markdown report of `ope validate`.
    public static func report(_ r: OPEValidationResult, scenario: String, file: String) -> String {
        let c = r.config
        var md = "# Off-policy validation in the simulator: \(scenario)\n\n"
        md += "| | |\n|---|---|\n| scenario | `\(file)` |\n"
        md += "| behaviour (logging) | \(c.behaviour)\(c.behaviourMix > 0 ? String(format: " mixed with %.2f uniform", c.behaviourMix) : "") |\n"
        md += "| target | \(c.target)\(c.targetMix > 0 ? String(format: " mixed with %.2f uniform", c.targetMix) : "") |\n"
        md += "| repetitions | \(r.estimates.count) logged worlds of \(r.decisions) decisions |\n"
        if c.truthMode == .sameWorld {
            md += String(format: "| truth (target on-policy) | per repetition: the target in the logged world with fresh action seeds, mean of %d runs (standard error %.5f); mean over repetitions %.5f |\n", c.truthRuns, r.truthStandardError, r.truth)
        } else {
            md += String(format: "| truth (target on-policy) | %.5f ± %.5f (standard error over %d fresh worlds) |\n", r.truth, r.truthStandardError, c.truthRuns)
        }
        let lv = r.loggedValue.reduce(0, +) / Double(max(1, r.loggedValue.count))
        md += String(format: "| behaviour's own value | %.5f (mean over the logs) |\n", lv)
        let ess = r.diagnostics.map { $0.effectiveSampleSize }.reduce(0, +) / Double(max(1, r.diagnostics.count))
        let mw = r.diagnostics.map { $0.maxWeight }.max() ?? 0
        let um = r.diagnostics.compactMap { $0.unsupportedMass }.reduce(0, +) / Double(max(1, r.diagnostics.count))
        md += String(format: "| importance weights | mean ESS %.0f of %d rows, largest weight %.2f, target mass without behaviour support %.4f |\n", ess, r.decisions, mw, um)
        md += "| seed, resamples, folds | \(c.seed), \(c.resamples), \(c.folds) |\n\n"
        if r.estimates.count == 1 {
            md += "| estimator | estimate | 95% interval | truth | covers | ESS | max weight |\n|---|---|---|---|---|---|---|\n"
            for e in r.estimates[0] {
                md += String(format: "| %@ | %.5f | [%.5f, %.5f] | %.5f | %@ | %.0f | %.2f |\n", e.estimator.title as NSString, e.value, e.ciLow, e.ciHigh, r.truths[0],
                             (e.ciLow <= r.truths[0] && r.truths[0] <= e.ciHigh ? "yes" : "no") as NSString,
                             r.diagnostics[0].effectiveSampleSize, r.diagnostics[0].maxWeight)
            }
        } else {
            md += "| estimator | mean estimate | bias | RMSE | mean interval width | coverage of the truth |\n|---|---|---|---|---|---|\n"
            for s in r.summaries {
                md += String(format: "| %@ | %.5f | %+.5f | %.5f | %.5f | %.0f%% |\n", s.estimator.title as NSString, s.meanEstimate, s.bias, s.rmse, s.meanWidth, 100 * s.coverage)
            }
        }
        return md
    }

    /// One row per repetition and estimator, with the weights' ESS and largest weight.
    public static func estimatesCSV(_ r: OPEValidationResult) -> String {
        var est = "repetition,estimator,value,ci_low,ci_high,truth,covered,ess,max_weight\n"
        for (i, row) in r.estimates.enumerated() {
            for e in row {
                est += "\(i),\(e.estimator.rawValue),\(e.value),\(e.ciLow),\(e.ciHigh),\(r.truths[i]),\(e.ciLow <= r.truths[i] && r.truths[i] <= e.ciHigh),\(r.diagnostics[i].effectiveSampleSize),\(r.diagnostics[i].maxWeight)\n"
            }
        }
        return est
    }

    public static func coverageCSV(_ r: OPEValidationResult) -> String {
        var cov = "estimator,mean_estimate,truth,bias,rmse,mean_ci_width,coverage,repetitions\n"
        for s in r.summaries {
            cov += "\(s.estimator.rawValue),\(s.meanEstimate),\(r.truth),\(s.bias),\(s.rmse),\(s.meanWidth),\(s.coverage),\(r.estimates.count)\n"
        }
        return cov
    }
}
