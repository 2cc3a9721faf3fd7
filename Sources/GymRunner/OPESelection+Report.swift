import Foundation
import GymEval
import GymReports

extension OPESelectionResult {
    static func num(_ x: Double) -> String { x.isFinite ? String(format: "%.4f", x) : (x == .infinity ? "inf" : "n/a") }

    public func markdown(scenario: String, file: String) -> String {
        let c = config, by = c.selectBy.rawValue
        var md = "# Off-policy selection: \(scenario)\n\n| | |\n|---|---|\n| scenario | `\(file)` |\n"
        md += "| log | one world of the behaviour, \(candidates[0].spec): \(trajectories) journeys, \(decisions) decisions |\n"
        md += "| value | per journey: discounted return (`user_return`), gamma \(Render.g(gammaPerDay)) per day since the user's first decision |\n"
        md += String(format: "| logged policy's value | %.5f (in the log) |\n", loggedValue)
        md += "| estimators | tis, sntis, pdis, snpdis, dr, fqe (linear FQE on the observation vectors, 2-fold cross-fitted); 95% bootstrap over journeys, \(c.resamples) resamples |\n"
        md += "| ranking | by \(by)'s point estimate and by its 95% lower bound |\n"
        md += c.truthRuns > 0 ? "| truth | each candidate on-policy on the same \(c.truthRuns) fresh worlds (mean discounted return per journey) |\n" : "| truth | not computed (--truth-runs 0) |\n"
        md += "| seed | \(c.seed) |\n\n"
        let pointRank = Self.ranks(byPoint), lowRank = Self.ranks(byLowerBound)
        let trueRank = c.truthRuns > 0 ? Self.ranks(PolicySelection.ranking(candidates.map { $0.truth! })) : []
        md += "| candidate | \(by) | 95% interval | rank by \(by) | rank by lower bound | pdis | journey ESS | target mass off the behaviour's support |"
        md += c.truthRuns > 0 ? " truth | true rank |\n|---|---|---|---|---|---|---|---|---|---|\n" : "\n|---|---|---|---|---|---|---|---|\n"
        for (i, x) in candidates.enumerated() {
            let e = x.estimate(c.selectBy), p = x.estimate(.pdis)
            md += String(format: "| %@ | %.5f | [%.5f, %.5f] | %d | %d | %.5f | %.1f%% | %.4f |", x.spec as NSString, e.value, e.ciLow, e.ciHigh, pointRank[i], lowRank[i],
                         p.value, 100 * x.diagnostics.trajectoryESS / Double(max(1, trajectories)), x.unsupportedMass)
            md += c.truthRuns > 0 ? String(format: " %.5f ± %.5f | %d |\n", x.truth!, x.truthSE ?? .nan, trueRank[i]) : "\n"
        }
        md += "\nSelected (highest lower bound of \(by)): **\(candidates[selected].spec)**"
        md += c.truthRuns > 0 ? String(format: ", true value %.5f; the true best is %@ (%.5f).\n", candidates[selected].truth!,
                                       candidates[PolicySelection.ranking(candidates.map { $0.truth! })[0]].spec as NSString,
                                       candidates.map { $0.truth! }.max()!) : ".\n"
        if !assessments.isEmpty {
            md += "\n## Assessment against the truth\n\nEach estimator ranks the \(candidates.count) candidates (the behaviour among them) by its point estimate. nMSE: mean squared error over the candidates divided by the squared range of the true values; Spearman: rank correlation of estimates and truths; regret@k: the best true value minus the best true value among the estimator's top k; SharpeRatio@k (Kiyohara et al. 2023): (best true value among the top k - the behaviour's true value, clipped at 0) / the standard deviation of the top k's true values (n/a at k = 1).\n\n"
            md += "| estimator | nMSE | Spearman |" + c.ks.map { " regret@\($0) |" }.joined() + c.ks.map { " SharpeRatio@\($0) |" }.joined() + "\n"
            md += "|---|---|---|" + String(repeating: "---|", count: 2 * c.ks.count) + "\n"
            for a in assessments {
                md += "| \(a.estimator.rawValue) | \(Self.num(a.nmse)) | \(Self.num(a.spearman)) |" + a.regret.map { " \(Self.num($0)) |" }.joined()
                    + a.sharpe.map { " \(Self.num($0)) |" }.joined() + "\n"
            }
            md += "\n![Estimates against the truth](selection.svg)\n\nChart order (1 = the worst true value): "
            md += PolicySelection.ranking(candidates.map { $0.truth ?? 0 }).reversed().enumerated().map { "\($0.offset + 1). \(candidates[$0.element].spec)" }.joined(separator: "; ") + ".\n"
        }
        if let gate { md += "\nGate rules on the selected candidate (\(candidates[selected].spec)):\n" + gate.markdown }
        return md
    }

    /// Rank (1 = first) of each index in an ordering.
    static func ranks(_ order: [Int]) -> [Int] {
        var r = [Int](repeating: 0, count: order.count)
        for (k, i) in order.enumerated() { r[i] = k + 1 }
        return r
    }

    public func selectionCSV() -> String {
        var s = "candidate,behaviour,estimator,value,ci_low,ci_high,trajectory_ess,max_weight,unsupported_mass,truth,truth_se\n"
        for x in candidates {
            for e in x.estimates {
                s += "\(Render.csvField(x.spec)),\(x.isBehaviour),\(e.estimator.rawValue),\(e.value),\(e.ciLow),\(e.ciHigh),\(x.diagnostics.trajectoryESS),\(x.diagnostics.trajectoryMaxWeight),\(x.unsupportedMass),\(Render.csvNumber(x.truth)),\(Render.csvNumber(x.truthSE))\n"
            }
        }
        return s
    }

    public func assessmentCSV() -> String {
        var s = "estimator,metric,k,value\n"
        for a in assessments {
            s += "\(a.estimator.rawValue),nmse,,\(a.nmse)\n\(a.estimator.rawValue),spearman,,\(a.spearman)\n"
            for (i, k) in config.ks.enumerated() {
                s += "\(a.estimator.rawValue),regret,\(k),\(a.regret[i])\n\(a.estimator.rawValue),sharpe_ratio,\(k),\(a.sharpe[i])\n"
            }
        }
        return s
    }

    /// The selecting estimator's estimates with intervals and the truths, candidates in true order.
    public func chart(scenario: String) -> String {
        let order = PolicySelection.ranking(candidates.map { $0.truth ?? 0 }).reversed()
        let x = (1...candidates.count).map(Double.init)
        let e = order.map { candidates[$0].estimate(config.selectBy) }
        return SVGChart.lineChart(title: "\(scenario): \(config.selectBy.rawValue) against the truth, candidates from worst to best (true)",
                                  xLabel: "candidate, by true value (1 = worst; the order is under the chart in report.md)",
                                  yLabel: "value per journey",
                                  series: [ChartSeries(label: "\(config.selectBy.rawValue) (95% interval)", x: x, y: e.map { $0.value }, low: e.map { $0.ciLow }, high: e.map { $0.ciHigh }),
                                           ChartSeries(label: "truth", x: x, y: order.map { candidates[$0].truth ?? .nan }, dashed: true)])
    }
}
