import ArgumentParser
import Foundation
import GymData
import GymRunner

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Synthetic personas: fit a differentially private persona model to a real table, generate profiles from it.",
        discussion: "Commands that write a file refuse, with exit 73 and before any work, a path that is a directory, one of their inputs (symlinks followed), or an existing file unless --force. Files are written to a temporary file beside the destination and renamed into place.",
        subcommands: [SynthFitCommand.self, SynthGenerateCommand.self, SynthAugmentCommand.self, SynthSplitCommand.self, SynthStatsCommand.self]
    )
}

struct SynthFitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit a persona model (a mixture of diagonal Gaussians over the numeric columns with per-component category frequencies) to a real CSV table, with differential privacy.",
        discussion: """
        The schema is inferred (an unnamed first column is a row index; all-number columns are numeric; text columns are categorical, or identifiers when more than max(50, rows/2) values are distinct) and --role overrides it. Privacy is per user (--user-column; without one, every row is a user): each user's rows are capped at --max-rows-per-user, numeric values are clipped to their bounds, and every EM iteration releases noisy sufficient statistics through the Gaussian mechanism. The noise is calibrated so that the whole fit (and the BIC selection of k) spends --epsilon at --delta (RDP accounting). The release is recorded in the dataset's privacy ledger (<data>.privacy-ledger.json unless --ledger), which refuses it, with nothing written, when the budget would be exceeded. The ledger is written only after the model file is in place; if it cannot be written, the model file is removed again.
        """
    )

    @Option(help: "The real table (CSV with a header line).")
    var real: String

    @Option(help: "Where to write the model (JSON).")
    var out: String

    @Option(help: "A YAML file with these settings (columns, user_column, bounds, epsilon, delta, components, max_components, iterations, max_rows_per_user, ledger); flags given here take precedence.")
    var config: String?

    @Option(help: "Epsilon this fit spends (default 1).")
    var epsilon: Double?

    @Option(help: "Delta of the guarantee, also the ledger's when this fit creates it (default 1e-5).")
    var delta: Double?

    @Option(help: "Budget epsilon of the dataset's ledger when this fit creates it (default: --epsilon).")
    var budget: Double?

    @Option(help: "Mixture components (default: chosen by BIC among 1...--max-components).")
    var components: Int?

    @Option(name: .customLong("max-components"), help: "Largest k tried by the BIC selection (default 4).")
    var maxComponents: Int?

    @Option(help: "EM iterations per candidate k, each one a noisy release (default 8).")
    var iterations: Int?

    @Option(name: .customLong("max-rows-per-user"), help: "Rows kept per user, the first ones in file order (default 1).")
    var maxRowsPerUser: Int?

    @Option(name: .customLong("user-column"), help: "The column that identifies users (the privacy unit).")
    var userColumn: String?

    @Option(name: .customLong("role"), help: "NAME=ROLE, repeatable; ROLE is numeric, categorical, quasi_identifier, identifier or user; NAME may use * as a wildcard (e.g. 'user-item_affinity_*=identifier').")
    var roles: [String] = []

    @Option(name: .customLong("bounds"), help: "NAME=LOW:HIGH, repeatable: public bounds of a numeric column (values are clipped to them). Columns without bounds use the data's range, which is not private (the model says so).")
    var bounds: [String] = []

    @Option(help: "Privacy ledger file (default: <real>.privacy-ledger.json).")
    var ledger: String?

    @OptionGroup var seed: SeedOption
    @OptionGroup var force: ForceOption

    func validate() throws {
        if let epsilon { guard epsilon > 0 && epsilon.isFinite else { throw ValidationError("--epsilon must be a positive number, got \(epsilon)") } }
        if let delta { guard delta > 0 && delta < 1 else { throw ValidationError("--delta must be in (0, 1), got \(delta)") } }
        if let b = budget { guard b > 0 && b.isFinite else { throw ValidationError("--budget must be a positive number, got \(b)") } }
        if let k = components { guard (1...64).contains(k) else { throw ValidationError("--components must be in [1, 64], got \(k)") } }
        if let m = maxComponents { guard (1...64).contains(m) else { throw ValidationError("--max-components must be in [1, 64], got \(m)") } }
        if let i = iterations { guard (1...1000).contains(i) else { throw ValidationError("--iterations must be in [1, 1000], got \(i)") } }
        if let m = maxRowsPerUser { guard (1...1_000_000).contains(m) else { throw ValidationError("--max-rows-per-user must be in [1, 1000000], got \(m)") } }
        _ = try parsedRoles()
        _ = try parsedBounds()
    }

    func parsedRoles() throws -> [(String, ColumnRole)] {
        try roles.map { spec in
            guard let eq = spec.lastIndex(of: "="), let role = ColumnRole(rawValue: String(spec[spec.index(after: eq)...])) else {
                throw ValidationError("--role must be NAME=ROLE with ROLE one of \(ColumnRole.allCases.map(\.rawValue).joined(separator: ", ")), got '\(spec)'")
            }
            return (String(spec[..<eq]), role)
        }
    }

    func parsedBounds() throws -> [String: (Double, Double)] {
        var out: [String: (Double, Double)] = [:]
        for spec in bounds {
            guard let eq = spec.lastIndex(of: "=") else { throw ValidationError("--bounds must be NAME=LOW:HIGH, got '\(spec)'") }
            let parts = spec[spec.index(after: eq)...].split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let lo = Double(parts[0]), let hi = Double(parts[1]), lo.isFinite, hi.isFinite, lo < hi else {
                throw ValidationError("--bounds must be NAME=LOW:HIGH with finite LOW < HIGH, got '\(spec)'")
            }
            out[String(spec[..<eq])] = (lo, hi)
        }
        return out
    }

    func run() throws {
        var q = SynthFitRequest(realPath: real, outPath: out)
        q.configPath = config; q.epsilon = epsilon; q.delta = delta; q.budget = budget; q.components = components
        q.maxComponents = maxComponents; q.iterations = iterations; q.maxRowsPerUser = maxRowsPerUser; q.userColumn = userColumn
        q.roles = try parsedRoles(); q.bounds = try parsedBounds(); q.ledgerPath = ledger; q.seed = seed.seed ?? 1; q.overwrite = force.force
        let r = try SynthJobs.fit(q)
        let m = r.model
        print("model: \(out) (\(m.components.count) component\(m.components.count == 1 ? "" : "s"), \(m.numeric.count) numeric and \(m.categorical.count) categorical columns, \(m.privacy.rowsUsed) rows of \(m.privacy.users) users; \(m.privacy.rowsDropped) rows over the per-user cap dropped)")
        if m.selection.count > 1 {
            for c in m.selection { print(String(format: "  k = %d: noisy log-likelihood %.1f, %d parameters, BIC %.1f%@", c.components, c.logLikelihood, c.parameters, c.bic, c.components == m.components.count ? " <- chosen" : "")) }
        }
        print(String(format: "privacy: epsilon %.4g at delta %g over %d Gaussian releases (noise multiplier %.4g, sensitivity %.4g)", m.privacy.epsilon, m.privacy.delta, m.privacy.releases, m.privacy.noiseMultiplier, m.privacy.statisticsSensitivity))
        print(String(format: "ledger: %@: spent %.4g of %.4g, remaining %.4g", r.ledgerPath as NSString, r.ledger.spentEpsilon, r.ledger.budget.epsilon, r.ledger.remainingEpsilon))
        for note in m.privacy.notes { print("note: \(note)") }
    }
}

struct SynthGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate synthetic profiles from a persona model, streamed to CSV or JSON Lines in constant memory.",
        discussion: "Profiles follow the blueprint's synthetic_profiles schema (profile_id, persona_vector, traits, interaction_history, source = generated). profile_id is a UUID derived from the seed and the profile's index; each profile depends only on the seed and its index (not on --count or --threads). The persona vector is normalize(W z + 0.1 N(0, I)) with z = [scaled numeric values, one-hot categories] and W a fixed seeded projection. CSV columns: profile_id, source, the model's columns, persona_0..persona_511."
    )

    @Option(help: "The persona model (from synth fit).")
    var model: String

    @Option(help: "Number of profiles.")
    var count: Int

    @Option(help: "Output file (.csv or .jsonl; the extension picks the format unless --format); - for standard output.")
    var out: String

    @Option(help: "csv or jsonl.")
    var format: String?

    @Option(name: .customLong("variance-scale"), help: "Multiplies every component's standard deviation.")
    var varianceScale: Double = 1

    @Flag(name: .customLong("edge-cases"), help: "Oversample tails and rare categories: components uniformly, standard deviations at least doubled, category frequencies flattened (p^0.5).")
    var edgeCases = false

    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption

    @Option(help: "The real table (CSV): a profile whose modelled values equal a real row's is drawn again (up to 1,000 times; a profile still a copy then is an error).")
    var real: String?

    @OptionGroup var force: ForceOption

    var resolvedFormat: String { format ?? (out.hasSuffix(".jsonl") ? "jsonl" : "csv") }

    func validate() throws {
        guard (1...10_000_000_000).contains(count) else { throw ValidationError("--count must be in [1, 10000000000], got \(count)") }
        guard ["csv", "jsonl"].contains(resolvedFormat) else { throw ValidationError("--format must be csv or jsonl, got '\(resolvedFormat)'") }
        guard varianceScale > 0 && varianceScale <= 100 else { throw ValidationError("--variance-scale must be in (0, 100], got \(varianceScale)") }
    }

    func run() throws {
        var q = GenerateRequest(modelPath: model, count: count, out: out, jsonl: resolvedFormat == "jsonl")
        q.varianceScale = varianceScale; q.edgeCases = edgeCases; q.seed = seed.seed ?? 1; q.threads = threads.threads
        q.realPath = real; q.overwrite = force.force
        let o = try ProfileWriter.generate(q, progress: out == "-" ? nil : Progress(enabled: true))
        let report = out == "-" ? printError : { print($0) }
        if let n = o.realRows { report("exact copies of the \(n) distinct real rows rejected and drawn again: \(o.redraws)") }
        report(String(format: "wrote %d profiles to %@ (%@, %.1f MB) in %.2f s: %.0f profiles/s on %d thread%@", o.count, out as NSString,
                      resolvedFormat as NSString, Double(o.bytes) / 1e6, o.seconds, Double(o.count) / o.seconds, q.threads, q.threads == 1 ? "" : "s"))
    }
}
