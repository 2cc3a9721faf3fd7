import Foundation
import GymData
import GymEval
import GymRandom

/// The blueprint's SyntheticQuality for one synthetic set: every figure, how it was computed,
/// rendered as markdown and CSV.
public struct QualityReport: Sendable {
    public struct Inputs: Sendable {
        public var modelPath: String
        public var realPath: String
        public var holdoutPath: String
        public var syntheticPath: String
        public var target: String?
        public var k: Int
        public var seed: UInt64
        public var ledger: PrivacyLedger?
        public var ledgerPath: String?
        public init(modelPath: String, realPath: String, holdoutPath: String, syntheticPath: String, target: String?, k: Int,
                    seed: UInt64, ledger: PrivacyLedger?, ledgerPath: String?) {
            self.modelPath = modelPath; self.realPath = realPath; self.holdoutPath = holdoutPath; self.syntheticPath = syntheticPath
            self.target = target; self.k = k; self.seed = seed; self.ledger = ledger; self.ledgerPath = ledgerPath
        }
    }

    public var inputs: Inputs
    public var counts: (real: Int, holdout: Int, synthetic: Int)
    public var columns: [Quality.ColumnScore]
    public var correlation: (score: Double, pairs: Int)?
    public var diversity: (synthetic: (meanPairwise: Double, intraClusterVariance: Double), real: (meanPairwise: Double, intraClusterVariance: Double))
    public var dcrSynthetic: [Double]
    public var dcrHoldout: [Double]
    public var exactCopies: Int
    public var tstr: (target: String, synthetic: Double, real: Double)?
    public var groups: (shown: [KAnonymity.Group], suppressedGroups: Int, suppressedRealRows: Int, columns: [String])?
    public var model: PersonaModel

    public static let dcrLimit = 2000
    public static let diversityPairs = 20_000

    public static func compute(model: PersonaModel, real: EncodedRows, holdout: EncodedRows, synthetic: EncodedRows, inputs: Inputs) throws -> QualityReport {
        let root = SeedTree(root: inputs.seed)
        let cols = Quality.columnScores(real: real, synthetic: synthetic, model: model)
        let corr = Quality.correlationSimilarity(real: real, synthetic: synthetic, model: model)
        let divS = Quality.diversity(synthetic, cluster: Quality.assign(synthetic, model: model), pairs: diversityPairs,
                                     stream: root.child("synth.stats.diversity").stream())
        let divR = Quality.diversity(real, cluster: Quality.assign(real, model: model), pairs: diversityPairs,
                                     stream: root.child("synth.stats.diversity.real").stream())
        let dS = Quality.dcr(from: synthetic, to: real, limit: dcrLimit)
        let dH = Quality.dcr(from: holdout, to: real, limit: dcrLimit)
        var realKeys = Set<[Int]>()
        for i in 0..<real.count { realKeys.insert(real.key(i)) }
        var copies = 0
        for i in 0..<synthetic.count where realKeys.contains(synthetic.key(i)) { copies += 1 }
        var tstr: (String, Double, Double)?
        if let t = inputs.target {
            guard let q = model.categorical.firstIndex(where: { $0.name == t }) else {
                throw DataError(file: inputs.modelPath, column: t, message: "--target must be one of the model's categorical columns (\(model.categorical.map(\.name).joined(separator: ", ")))")
            }
            let levels = model.categorical.map(\.levels.count)
            let onSynthetic = NaiveBayes(train: synthetic, target: q, levels: levels).accuracy(holdout)
            let onReal = NaiveBayes(train: real, target: q, levels: levels).accuracy(holdout)
            tstr = (t, onSynthetic, onReal)
        }
        let qi = model.categorical.indices.filter { model.categorical[$0].quasiIdentifier }
        var groups: ([KAnonymity.Group], Int, Int, [String])?
        if !qi.isEmpty {
            let g = KAnonymity.groups(real: real, synthetic: synthetic, qi: qi, model: model, k: inputs.k)
            groups = (g.shown, g.suppressedGroups, g.suppressedRealRows, qi.map { model.categorical[$0].name })
        }
        return QualityReport(inputs: inputs, counts: (real.count, holdout.count, synthetic.count), columns: cols, correlation: corr,
                             diversity: (divS, divR), dcrSynthetic: dS, dcrHoldout: dH, exactCopies: copies,
                             tstr: tstr, groups: groups, model: model)
    }

    public static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    static func quantile(_ xs: [Double], _ p: Double) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .nan }
        return s[min(s.count - 1, Int(p * Double(s.count)))]
    }

    /// Shares of rows at distance 0 (exact matches of a real row), synthetic and holdout.
    public var exactShares: (synthetic: Double, holdout: Double) {
        (Double(dcrSynthetic.filter { $0 == 0 }.count) / Double(max(1, dcrSynthetic.count)),
         Double(dcrHoldout.filter { $0 == 0 }.count) / Double(max(1, dcrHoldout.count)))
    }

    /// One-sided two-proportion z statistic of the synthetic exact-match share against the
    /// holdout's (pooled variance); > 1.645 means more exact matches than unseen real rows show,
    /// at the 5% level.
    public var exactShareZ: Double {
        let nS = Double(dcrSynthetic.count), nH = Double(dcrHoldout.count)
        guard nS > 0, nH > 0 else { return .nan }
        let (pS, pH) = exactShares
        let p = (pS * nS + pH * nH) / (nS + nH)
        let se = (p * (1 - p) * (1 / nS + 1 / nH)).squareRoot()
        return se > 0 ? (pS - pH) / se : (pS > pH ? .infinity : 0)
    }

    /// Flagged when the synthetic rows sit closer to the real ones than unseen real rows do: a
    /// lower median distance, or (what catches categorical data, where both medians are 0) a
    /// share of exact matches significantly above the holdout's.
    public var dcrFlagged: Bool {
        QualityReport.median(dcrSynthetic) < QualityReport.median(dcrHoldout) || exactShareZ > 1.645
    }
    public var meanKL: Double { columns.isEmpty ? .nan : columns.reduce(0) { $0 + $1.kl } / Double(columns.count) }

    static func f(_ x: Double, _ digits: Int = 4) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "n/a" }
    static func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    /// The report directory's files, report.md last (the charts are rendered by the caller, one
    /// per column at `chartFile`).
    public func files() -> [(name: String, text: String)] {
        [("quality.csv", csv()), ("report.md", markdown())]
    }

    /// Where a column's distribution chart goes in the report directory.
    public static func chartFile(_ column: String) -> String {
        "charts/" + String(column.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" }) + ".svg"
    }

    public func markdown() -> String {
        var md = "# Synthetic-data quality\n\n"
        md += "| | |\n|---|---|\n"
        md += "| model | `\(inputs.modelPath)` (\(model.components.count) components; \(model.numeric.count) numeric, \(model.categorical.count) categorical columns) |\n"
        md += "| real (the fit's data) | `\(inputs.realPath)`: \(counts.real) rows |\n"
        md += "| real holdout (never fitted) | `\(inputs.holdoutPath)`: \(counts.holdout) rows |\n"
        md += "| synthetic | `\(inputs.syntheticPath)`: \(counts.synthetic) rows |\n"
        md += "| seed | \(inputs.seed) |\n\n"
        md += "## Privacy budget\n\n"
        md += String(format: "The model's fit spent epsilon %.4g at delta %g: %d Gaussian-mechanism releases with noise multiplier %.4g (RDP accounting), at most %d row(s) per user, %d users.\n\n",
                     model.privacy.epsilon, model.privacy.delta, model.privacy.releases, model.privacy.noiseMultiplier, model.privacy.maxRowsPerUser, model.privacy.users)
        if let l = inputs.ledger {
            md += "| dataset | budget epsilon | spent | remaining | releases |\n|---|---|---|---|---|\n"
            md += "| \(QualityReport.cell(l.dataset)) | \(QualityReport.f(l.budget.epsilon)) | \(QualityReport.f(l.spentEpsilon)) | \(QualityReport.f(l.remainingEpsilon)) | \(l.releases.count) |\n\n"
            md += "Ledger: `\(inputs.ledgerPath ?? "")`.\n\n"
        } else {
            md += "No ledger was found for the real data: the spent and remaining budget are unknown.\n\n"
        }
        for n in model.privacy.notes { md += "- Note: \(n).\n" }
        if !model.privacy.notes.isEmpty { md += "\n" }
        md += "## Fidelity per column\n\n"
        md += "KL(real || synthetic) in nats, over \(Quality.numericBins) equal-width bins of the model's bounds (numeric columns) or the levels plus one slot for levels the model lacks (categorical), with \(Quality.smoothing) added to every bin count before normalising. The complement is 1 - KS statistic (numeric) or 1 - total variation distance (categorical), as SDMetrics' KSComplement and TVComplement: 1 is identical.\n\n"
        md += "| column | kind | KL (nats) | complement | metric |\n|---|---|---|---|---|\n"
        for c in columns { md += "| \(QualityReport.cell(c.name)) | \(c.kind) | \(QualityReport.f(c.kl)) | \(QualityReport.f(c.complement)) | \(c.metric) |\n" }
        md += "| **mean** | | \(QualityReport.f(meanKL)) | \(QualityReport.f(columns.reduce(0) { $0 + $1.complement } / Double(max(1, columns.count)))) | |\n\n"
        md += "Real against synthetic, each column's distribution (share of rows per bin or level; the shapes behind the KL figures):\n\n"
        for c in columns { md += "![\(c.name): real and synthetic distributions](\(QualityReport.chartFile(c.name)))\n\n" }
        md += "## Correlation similarity\n\n"
        if let c = correlation {
            md += "\(QualityReport.f(c.score)) over \(c.pairs) column pairs: 1 - |r_real - r_synthetic| / 2 for numeric pairs (SDMetrics' CorrelationSimilarity), 1 - total variation of the joint distribution for pairs with a categorical column (numeric ones binned; SDMetrics' ContingencySimilarity). 1 is identical.\n\n"
        } else {
            md += "Not defined: fewer than two modelled columns.\n\n"
        }
        md += "## Diversity\n\n"
        md += "In the encoded space (numeric values scaled to [-1, 1], categories one-hot): the mean distance between \(QualityReport.diversityPairs) random pairs of rows, and the intra-cluster variance (mean squared distance to the centroid of the row's cluster; clusters = the model component each row most likely came from).\n\n"
        md += "| set | mean pairwise distance | intra-cluster variance |\n|---|---|---|\n"
        md += "| synthetic | \(QualityReport.f(diversity.synthetic.meanPairwise)) | \(QualityReport.f(diversity.synthetic.intraClusterVariance)) |\n"
        md += "| real | \(QualityReport.f(diversity.real.meanPairwise)) | \(QualityReport.f(diversity.real.intraClusterVariance)) |\n\n"
        md += "## Distance to closest record (DCR)\n\n"
        md += "For up to \(QualityReport.dcrLimit) rows (spread evenly), the distance in the encoded space to the nearest row of the real data the model was fitted on; the real holdout is the baseline (the idea of SDMetrics' DCRBaselineProtection): synthetic rows should be no closer to the real rows than unseen real rows are.\n\n"
        md += "| from | median DCR | 5th percentile | rows at distance 0 |\n|---|---|---|---|\n"
        md += "| synthetic | \(QualityReport.f(QualityReport.median(dcrSynthetic))) | \(QualityReport.f(QualityReport.quantile(dcrSynthetic, 0.05))) | \(dcrSynthetic.filter { $0 == 0 }.count) of \(dcrSynthetic.count) |\n"
        md += "| real holdout | \(QualityReport.f(QualityReport.median(dcrHoldout))) | \(QualityReport.f(QualityReport.quantile(dcrHoldout, 0.05))) | \(dcrHoldout.filter { $0 == 0 }.count) of \(dcrHoldout.count) |\n\n"
        md += dcrFlagged
            ? "**Flagged:** synthetic rows sit closer to the real rows than new real data does: " + (QualityReport.median(dcrSynthetic) < QualityReport.median(dcrHoldout) ? "the synthetic set's median DCR is below the holdout's" : "the share of synthetic rows that equal a real row exceeds the holdout's") + ".\n\n"
            : "Not flagged: the synthetic set's median DCR is not below the holdout's, and its share of exact matches is not significantly above the holdout's.\n\n"
        md += String(format: "Exact matches (distance 0): %.2f%% of the synthetic rows against %.2f%% of the holdout's; one-sided two-proportion z = %.2f (flagged above 1.645, the 5%% level).\n\n",
                     100 * exactShares.synthetic, 100 * exactShares.holdout, exactShareZ)
        md += "Synthetic rows whose modelled values equal a real row's: \(exactCopies) of \(counts.synthetic). With few, low-cardinality columns such matches are expected (they are combinations of common values, not copied records); compare with the holdout's rows at distance 0.\n\n"
        md += "## Validation accuracy (train on synthetic, test on real)\n\n"
        if let t = tstr {
            md += "A naive Bayes classifier (Gaussian per numeric column, Laplace-smoothed frequencies per categorical column) predicts `\(QualityReport.cell(t.target))` from the other modelled columns; tested on the real holdout.\n\n"
            md += "| trained on | accuracy on the holdout |\n|---|---|\n| synthetic | \(QualityReport.f(t.synthetic)) |\n| real (the fit's data) | \(QualityReport.f(t.real)) |\n\n"
        } else {
            md += "Not computed: give `--target COLUMN` (a categorical column of the model).\n\n"
        }
        md += "## Group patterns (k-anonymity, k = \(inputs.k))\n\n"
        if let g = groups {
            md += "Combinations of the quasi-identifiers (\(g.columns.map { "`\(QualityReport.cell($0))`" }.joined(separator: ", "))). Patterns with fewer than \(inputs.k) real members are suppressed: **\(g.suppressedGroups) pattern\(g.suppressedGroups == 1 ? "" : "s") (\(g.suppressedRealRows) real rows) suppressed**, \(g.shown.count) shown.\n\n"
            md += "| " + g.columns.map(QualityReport.cell).joined(separator: " | ") + " | real | synthetic |\n|" + String(repeating: "---|", count: g.columns.count + 2) + "\n"
            for row in g.shown.prefix(50) {
                md += "| " + row.values.map(QualityReport.cell).joined(separator: " | ") + " | \(row.real) | \(row.synthetic) |\n"
            }
            if g.shown.count > 50 { md += "\n(\(g.shown.count - 50) more patterns with at least \(inputs.k) members in quality.csv.)\n" }
            md += "\n"
        } else {
            md += "No quasi-identifier columns in the model (mark them with `--role NAME=quasi_identifier` when fitting).\n\n"
        }
        return md
    }

    public func csv() -> String {
        var s = "section,name,metric,value\n"
        func row(_ a: String, _ b: String, _ c: String, _ v: Double) { s += "\(a),\(CSVFormat.escape(b)),\(c),\(v.isFinite ? "\(v)" : "")\n" }
        for c in columns { row("column", c.name, "kl_divergence", c.kl); row("column", c.name, c.kind == "numeric" ? "ks_complement" : "tv_complement", c.complement) }
        row("summary", "", "kl_divergence_mean", meanKL)
        if let c = correlation { row("summary", "", "correlation_similarity", c.score) }
        row("diversity", "synthetic", "mean_pairwise_distance", diversity.synthetic.meanPairwise)
        row("diversity", "synthetic", "intra_cluster_variance", diversity.synthetic.intraClusterVariance)
        row("diversity", "real", "mean_pairwise_distance", diversity.real.meanPairwise)
        row("diversity", "real", "intra_cluster_variance", diversity.real.intraClusterVariance)
        row("dcr", "synthetic", "median", QualityReport.median(dcrSynthetic))
        row("dcr", "holdout", "median", QualityReport.median(dcrHoldout))
        row("dcr", "synthetic", "flagged", dcrFlagged ? 1 : 0)
        row("privacy", "", "epsilon_spent_by_model", model.privacy.epsilon)
        if let l = inputs.ledger {
            row("privacy", l.dataset, "privacy_budget_spent", l.spentEpsilon)
            row("privacy", l.dataset, "privacy_budget_remaining", l.remainingEpsilon)
        }
        if let t = tstr { row("validation", t.target, "accuracy_train_synthetic", t.synthetic); row("validation", t.target, "accuracy_train_real", t.real) }
        if let g = groups {
            row("k_anonymity", "", "suppressed_patterns", Double(g.suppressedGroups))
            row("k_anonymity", "", "suppressed_real_rows", Double(g.suppressedRealRows))
            for p in g.shown {
                row("group", p.values.joined(separator: "/"), "real", Double(p.real))
                row("group", p.values.joined(separator: "/"), "synthetic", Double(p.synthetic))
            }
        }
        return s
    }
}

/// Expands NAME=ROLE specs whose NAME may hold `*` against a header.
public func expandRoles(_ specs: [(String, ColumnRole)], header: [String]) -> (roles: [String: ColumnRole], unmatched: [String]) {
    var out: [String: ColumnRole] = [:], unmatched: [String] = []
    for (name, role) in specs {
        if name.contains("*") {
            let m = header.filter { fnmatch(name, $0, 0) == 0 }
            if m.isEmpty { unmatched.append(name) }
            for h in m { out[h] = role }
        } else {
            out[name] = role
        }
    }
    return (out, unmatched)
}
