import ArgumentParser
import Foundation
import GymRunner
import GymSynth

struct SynthSplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Split a real table into a part to fit and a holdout that the fit never sees (the baseline of synth stats' distance to closest record and its validation accuracy).",
        discussion: "Rows go to the holdout with probability --holdout-fraction, drawn from the seed (synth.split); with --user-column, all rows of a user go to the same side."
    )

    @Option(help: "The real table (CSV).")
    var real: String
    @Option(name: .customLong("holdout-fraction"), help: "Share of rows (or users) held out, in (0, 1).")
    var holdoutFraction: Double = 0.2
    @Option(name: .customLong("train-out"), help: "Where to write the part to fit.")
    var trainOut: String
    @Option(name: .customLong("holdout-out"), help: "Where to write the holdout.")
    var holdoutOut: String
    @Option(name: .customLong("user-column"), help: "Keep each user's rows together.")
    var userColumn: String?
    @OptionGroup var seed: SeedOption
    @OptionGroup var force: ForceOption

    func validate() throws {
        guard holdoutFraction > 0 && holdoutFraction < 1 else { throw ValidationError("--holdout-fraction must be in (0, 1), got \(holdoutFraction)") }
        guard trainOut != holdoutOut else { throw ValidationError("--train-out and --holdout-out must differ") }
    }

    func run() throws {
        let (na, nb) = try SynthJobs.split(real: real, trainOut: trainOut, holdoutOut: holdoutOut, fraction: holdoutFraction,
                                           userColumn: userColumn, seed: seed.seed ?? 1, overwrite: force.force)
        print("\(na) rows to \(trainOut), \(nb) rows to \(holdoutOut)")
    }
}

struct SynthStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Synthetic-data quality report (report.md, quality.csv and distribution charts): per-column KL, KS/TV complements, correlation similarity, diversity, the privacy budget, distance to closest record against a real holdout, train-on-synthetic validation accuracy and k-anonymised group patterns.",
        discussion: "--real is the data the model was fitted on, --holdout real rows it never saw (see synth split), --synthetic the output of synth generate (CSV). Columns are read by the model's schema; others are ignored. The report directory is written to a temporary directory and renamed into place."
    )

    @Option(help: "The persona model.")
    var model: String
    @Option(help: "The real rows the model was fitted on (CSV).")
    var real: String
    @Option(help: "Real rows the fit never saw (CSV).")
    var holdout: String
    @Option(help: "Synthetic rows (CSV from synth generate).")
    var synthetic: String
    @Option(help: "Output directory (must not exist or be empty).")
    var out: String
    @Option(help: "Categorical column to predict for the train-on-synthetic / test-on-real accuracy.")
    var target: String?
    @Option(help: "k of k-anonymity: group patterns with fewer real members are suppressed.")
    var k: Int = 5
    @Option(help: "The privacy ledger of the real data (default: <real>.privacy-ledger.json).")
    var ledger: String?
    @OptionGroup var seed: SeedOption

    func validate() throws {
        guard (2...1_000_000).contains(k) else { throw ValidationError("--k must be in [2, 1000000], got \(k)") }
        if out.isEmpty { throw ValidationError("--out must not be empty") }
    }

    func run() throws {
        let report = try SynthJobs.stats(model: model, real: real, holdout: holdout, synthetic: synthetic, out: out, target: target, k: k,
                                         ledgerPath: ledger, seed: seed.seed ?? 1)
        print(String(format: "quality report in %@: mean KL %.4f nats over %d columns, correlation similarity %@, DCR median synthetic %.4f vs holdout %.4f%@",
                     out as NSString, report.meanKL, report.columns.count, report.correlation.map { String(format: "%.4f", $0.score) } ?? "n/a",
                     QualityReport.median(report.dcrSynthetic), QualityReport.median(report.dcrHoldout), report.dcrFlagged ? " (FLAGGED)" : ""))
        if let t = report.tstr { print(String(format: "validation accuracy (%@): trained on synthetic %.4f, on real %.4f", t.target as NSString, t.synthetic, t.real)) }
        if let g = report.groups { print("k-anonymity (k = \(k)): \(g.suppressedGroups) group patterns (\(g.suppressedRealRows) real rows) suppressed, \(g.shown.count) shown") }
    }
}

struct SynthAugmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment",
        abstract: "Real rows plus synthetic ones (source = augmented), up to a target size or until a class column is balanced.",
        discussion: "Output columns: profile_id (a UUID derived from the seed), source (real or augmented) and the model's columns, real rows first in file order. With --balance COLUMN every level of that categorical column is brought up to the most frequent level's count by drawing from the model conditioned on the level (component chosen by weight x frequency of the level). Synthetic rows that equal a real row in every modelled column are drawn again. Written to a temporary file and renamed into place."
    )

    @Option(help: "The real table (CSV).")
    var real: String
    @Option(help: "The persona model.")
    var model: String
    @Option(help: "Output CSV.")
    var out: String
    @Option(name: .customLong("target-size"), help: "Total rows wanted (real + synthetic).")
    var targetSize: Int?
    @Option(help: "A categorical column of the model to balance.")
    var balance: String?
    @OptionGroup var seed: SeedOption
    @OptionGroup var force: ForceOption

    func validate() throws {
        guard (targetSize == nil) != (balance == nil) else { throw ValidationError("give exactly one of --target-size and --balance") }
        if let t = targetSize { guard t >= 1 && t <= 1_000_000_000 else { throw ValidationError("--target-size must be in [1, 1000000000], got \(t)") } }
    }

    func run() throws {
        let r = try ProfileWriter.augment(real: real, model: model, out: out, targetSize: targetSize, balance: balance,
                                          seed: seed.seed ?? 1, overwrite: force.force)
        print("\(r.real) real + \(r.augmented) augmented rows to \(out) (\(r.redraws) exact copies of real rows drawn again)")
    }
}
