import Foundation
import GymEval
import GymReports

extension JourneyValidationResult {
    /// The markdown report of `ope validate --journeys` (the chart is `estimates.svg`).
    public func markdown(scenario: String, file: String) -> String {
        let c = config, R = journey.count
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(1, v.count)) }
        func mix(_ m: Double) -> String { m > 0 ? String(format: " mixed with %.2f uniform", m) : "" }
        var md = "# Off-policy validation on journeys: \(scenario)\n\n| | |\n|---|---|\n| scenario | `\(file)` |\n"
        md += "| behaviour (logging) | \(c.behaviour)\(mix(c.behaviourMix)) |\n| target | \(c.target)\(mix(c.targetMix)) |\n"
        md += String(format: "| repetitions | %d logged worlds: %.0f journeys and %.0f decisions each on average |\n", R,
                     mean(trajectories.map(Double.init)), mean(decisions.map(Double.init)))
        md += "| journey value | mean over users with a decision of the discounted return (`user_return`): signals discounted to their decision, gamma \(Render.g(gammaPerDay)) per day since the user's first decision, churn and opt-out penalties included |\n"
        let truthText = c.truthMode == .sameWorld ? "per repetition, the target in the logged world with fresh action seeds, mean of \(c.truthRuns) runs"
                                                  : "the target on-policy on \(c.truthRuns) fresh worlds"
        md += String(format: "| truth | %@: per journey %.5f (standard error %.5f), per decision %.5f (%.5f) |\n", truthText as NSString,
                     mean(journeyTruths), journeyTruthSE, mean(decisionTruths), decisionTruthSE)
        md += String(format: "| behaviour's own value | per journey %.5f, per decision %.5f (mean over the logs) |\n", mean(loggedReturn), mean(loggedReward))
        md += String(format: "| journey weights | whole-journey ESS %.1f%% of the journeys on average, %.1f%% of journeys with weight 0 |\n",
                     100 * mean(zip(diagnostics, trajectories).map { $0.trajectoryESS / Double(max(1, $1)) }), 100 * mean(diagnostics.map { $0.zeroWeightShare }))
        md += "| journey estimators | per journey: Q model \(qModel) on the observation vectors; 95% percentile bootstrap over whole journeys, \(c.resamples) resamples |\n"
        md += "| bandit estimators | per decision, each decision a one-step episode: ridge reward model, \(c.folds) folds; 95% bootstrap over decisions, \(c.resamples) resamples |\n"
        md += "| seed | \(c.seed) |\n\n"
        md += "| estimator | unit | truth | mean estimate | bias | bias / truth | RMSE | mean interval width | coverage of the truth |\n|---|---|---|---|---|---|---|---|---|\n"
        for s in summaries {
            md += String(format: "| %@ | %@ | %.5f | %.5f | %+.5f | %+.1f%% | %.5f | %.5f | %.0f%% |\n", s.estimator as NSString, s.unit as NSString,
                         s.truth, s.meanEstimate, s.bias, 100 * s.relativeBias, s.rmse, s.meanWidth, 100 * s.coverage)
        }
        md += "\nThe bandit estimators answer a different question: the target's mean reward per decision if each decision were a one-step episode, on the states the behaviour led to. Here the target's actions change later states (fatigue, trust, who is still there), which they do not see, and they resample decisions, not users, so their intervals ignore that one user's decisions are correlated. The journey estimators weight each step by the whole journey's weights up to it and resample users (docs/ope.md, \"Journeys: validation in the simulator\").\n\n"
        md += "![Estimates against the truth](estimates.svg)\n"
        return md
    }

    /// Per repetition the dr and pdis estimates with their intervals, and the truth.
    public func chart(scenario: String) -> String {
        let x = (0..<journey.count).map { Double($0 + 1) }
        var series: [ChartSeries] = []
        for (k, e) in SequentialOPE.Estimator.allCases.enumerated() where e == .dr || e == .pdis {
            series.append(ChartSeries(label: "\(e.rawValue) (95% interval)", x: x, y: journey.map { $0[k].value },
                                      low: journey.map { $0[k].ciLow }, high: journey.map { $0[k].ciHigh }))
        }
        series.append(ChartSeries(label: "truth (target on-policy)", x: x, y: journeyTruths, dashed: true))
        return SVGChart.lineChart(title: "\(scenario): journey estimates against the truth, per repetition", xLabel: "repetition",
                                  yLabel: "value per journey", series: series)
    }

    /// One row per repetition and estimator.
    public func estimatesCSV() -> String {
        var s = "repetition,estimator,unit,value,ci_low,ci_high,truth,covered,trajectory_ess,max_weight\n"
        for r in 0..<journey.count {
            for e in journey[r] {
                let t = journeyTruths[r]
                s += "\(r),\(e.estimator.rawValue),journey,\(e.value),\(e.ciLow),\(e.ciHigh),\(t),\(e.ciLow <= t && t <= e.ciHigh),\(diagnostics[r].trajectoryESS),\(diagnostics[r].trajectoryMaxWeight)\n"
            }
            for e in bandit[r] {
                let t = decisionTruths[r]
                s += "\(r),\(e.estimator.rawValue),decision,\(e.value),\(e.ciLow),\(e.ciHigh),\(t),\(e.ciLow <= t && t <= e.ciHigh),,\n"
            }
        }
        return s
    }

    public func coverageCSV() -> String {
        var s = "estimator,unit,truth,mean_estimate,bias,relative_bias,rmse,mean_ci_width,coverage,repetitions\n"
        for x in summaries {
            s += "\(x.estimator),\(x.unit),\(x.truth),\(x.meanEstimate),\(x.bias),\(x.relativeBias),\(x.rmse),\(x.meanWidth),\(x.coverage),\(journey.count)\n"
        }
        return s
    }
}
