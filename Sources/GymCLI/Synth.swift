import ArgumentParser
import Foundation
import GymData
import GymEval
import GymRandom
import GymReports
import GymScenario
import GymSynth

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Synthetic personas: fit a differentially private persona model to a real table, generate profiles from it.",
        subcommands: [SynthFit.self, SynthGenerate.self, SynthAugment.self, SynthSplit.self, SynthStats.self]
    )
}

struct SynthFit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit a persona model (a mixture of diagonal Gaussians over the numeric columns with per-component category frequencies) to a real CSV table, with differential privacy.",
        discussion: """
        The schema is inferred (an unnamed first column is a row index; all-number columns are numeric; text columns are categorical, or identifiers when more than max(50, rows/2) values are distinct) and --role overrides it. Privacy is per user (--user-column; without one, every row is a user): each user's rows are capped at --max-rows-per-user, numeric values are clipped to their bounds, and every EM iteration releases noisy sufficient statistics through the Gaussian mechanism. The noise is calibrated so that the whole fit (and the BIC selection of k) spends --epsilon at --delta (RDP accounting). The release is recorded in the dataset's privacy ledger (<data>.privacy-ledger.json unless --ledger), which refuses it, with nothing written, when the budget would be exceeded.
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

    @Option(help: "Seed of the noise and the initialisation.")
    var seed: UInt64 = 1

    func validate() throws {
        if let epsilon { guard epsilon > 0 && epsilon.isFinite else { throw ValidationError("--epsilon must be a positive number, got \(epsilon)") } }
        if let delta { guard delta > 0 && delta < 1 else { throw ValidationError("--delta must be in (0, 1), got \(delta)") } }
        if let b = budget { guard b > 0 && b.isFinite else { throw ValidationError("--budget must be a positive number, got \(b)") } }
        if let k = components { guard (1...64).contains(k) else { throw ValidationError("--components must be in [1, 64], got \(k)") } }
        if let m = maxComponents { guard (1...64).contains(m) else { throw ValidationError("--max-components must be in [1, 64], got \(m)") } }
        if let i = iterations { guard (1...1000).contains(i) else { throw ValidationError("--iterations must be in [1, 1000], got \(i)") } }
        if let m = maxRowsPerUser { guard (1...1_000_000).contains(m) else { throw ValidationError("--max-rows-per-user must be in [1, 1000000], got \(m)") } }
        _ = try parsedRoles(header: nil, file: nil)
        _ = try parsedBounds()
    }

    /// Roles by column; patterns are matched against `header` (nil: only checks the syntax).
    func parsedRoles(header: [String]?, file: SynthFitFile?) throws -> [String: ColumnRole] {
        var out: [String: ColumnRole] = [:]
        if let file, let header {
            let expanded = expandRoles(file.columns, header: header)
            if let bad = expanded.unmatched.first {
                throw DataError(file: config ?? "config", column: bad, message: "the pattern in 'columns' matches no column of \(real)")
            }
            out = expanded.roles
            if !file.userColumn.isEmpty { out[file.userColumn] = .user }
        }
        var specs: [(String, ColumnRole)] = []
        for spec in roles {
            guard let eq = spec.lastIndex(of: "="), let role = ColumnRole(rawValue: String(spec[spec.index(after: eq)...])) else {
                throw ValidationError("--role must be NAME=ROLE with ROLE one of \(ColumnRole.allCases.map(\.rawValue).joined(separator: ", ")), got '\(spec)'")
            }
            specs.append((String(spec[..<eq]), role))
        }
        if let header {
            let expanded = expandRoles(specs, header: header)
            if let bad = expanded.unmatched.first { throw ValidationError("--role '\(bad)': the pattern matches no column of \(real)") }
            for (k, v) in expanded.roles { out[k] = v }
        }
        if let u = userColumn { out[u] = .user }
        return out
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
        do {
            try fitAndWrite()
        } catch let e as DataError {
            printError(e.description); throw Exit.dataError
        } catch let e as PrivacyLedgerError {
            printError(e.description); throw Exit.dataError
        } catch let e as ScenarioError {
            printError(e.description); throw Exit.dataError
        }
    }

    func fitAndWrite() throws {
        let file = try config.map { try SynthConfigLoader.load(path: $0) }
        let csv = try CSVText.read(path: real)
        let table = try DataTable.build(csv, file: real, roles: try parsedRoles(header: csv.header, file: file))
        var b = (file?.bounds ?? [:]).mapValues { ($0[0], $0[1]) }
        for (k, v) in try parsedBounds() { b[k] = v }
        let epsilon = self.epsilon ?? file?.epsilon ?? 1.0
        let delta = self.delta ?? file?.delta ?? 1e-5
        var components = self.components
        if components == nil, let c = file?.components {
            guard let k = Int(exactly: c) else { throw DataError(file: config!, column: "components", message: "must be a whole number, got \(c)") }
            components = k
        }
        let maxComponents = self.maxComponents ?? file?.maxComponents ?? 4
        let iterations = self.iterations ?? file?.iterations ?? 8
        let maxRowsPerUser = self.maxRowsPerUser ?? file?.maxRowsPerUser ?? 1
        let ledger = self.ledger ?? ((file?.ledger.isEmpty ?? true) ? nil : file!.ledger)
        for name in b.keys.sorted() where !table.numericNames.contains(name) {
            throw DataError(file: real, column: name, message: "--bounds names a column that is not numeric in this table")
        }
        var cfg = SynthFitConfig()
        cfg.epsilon = epsilon; cfg.delta = delta; cfg.components = components; cfg.maxComponents = maxComponents
        cfg.iterations = iterations; cfg.maxRowsPerUser = maxRowsPerUser; cfg.bounds = b
        let ledgerPath = ledger ?? PrivacyLedger.defaultPath(forData: real)
        var book = try PrivacyLedger.load(path: ledgerPath)
            ?? PrivacyLedger(dataset: URL(fileURLWithPath: real).lastPathComponent, budget: .init(epsilon: budget ?? epsilon, delta: delta))
        let result = try DPMixtureFit.fit(table, config: cfg, seed: seed, source: URL(fileURLWithPath: real).lastPathComponent)
        if book.budget.delta != delta {
            throw DataError(file: ledgerPath, message: "the ledger's delta is \(book.budget.delta); fit with --delta \(book.budget.delta)")
        }
        try book.record(what: "synth fit -> \(URL(fileURLWithPath: out).lastPathComponent)", events: result.events, path: ledgerPath)
        // Model to a temporary file, then the ledger, then the model into place.
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try enc.encode(result.model)
        let w = try StreamWriter(path: out)
        data.withUnsafeBytes { raw in w.write(String(decoding: raw.bindMemory(to: UInt8.self), as: UTF8.self)) }
        w.byte(10)
        try book.save(path: ledgerPath)
        try w.commit()
        let m = result.model
        print("model: \(out) (\(m.components.count) component\(m.components.count == 1 ? "" : "s"), \(m.numeric.count) numeric and \(m.categorical.count) categorical columns, \(m.privacy.rowsUsed) rows of \(m.privacy.users) users; \(m.privacy.rowsDropped) rows over the per-user cap dropped)")
        if m.selection.count > 1 {
            for c in m.selection { print(String(format: "  k = %d: noisy log-likelihood %.1f, %d parameters, BIC %.1f%@", c.components, c.logLikelihood, c.parameters, c.bic, c.components == m.components.count ? " <- chosen" : "")) }
        }
        print(String(format: "privacy: epsilon %.4g at delta %g over %d Gaussian releases (noise multiplier %.4g, sensitivity %.4g)", m.privacy.epsilon, m.privacy.delta, m.privacy.releases, m.privacy.noiseMultiplier, m.privacy.statisticsSensitivity))
        print(String(format: "ledger: %@: spent %.4g of %.4g, remaining %.4g", ledgerPath as NSString, book.spentEpsilon, book.budget.epsilon, book.remainingEpsilon))
        for note in m.privacy.notes { print("note: \(note)") }
    }
}

struct SynthGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate synthetic profiles from a persona model, streamed to CSV or JSON Lines in constant memory.",
        discussion: "Profiles follow the blueprint's synthetic_profiles schema (profile_id, persona_vector, traits, interaction_history, source = generated). The persona vector is normalize(W z + 0.1 N(0, I)) with z = [scaled numeric values, one-hot categories] and W a fixed seeded projection. CSV columns: profile_id, source, the model's columns, persona_0..persona_511. The output does not depend on --threads."
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

    @Option(help: "Root seed.")
    var seed: UInt64 = 1

    @Option(help: "Worker threads.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "The real table (CSV): a profile whose modelled values equal a real row's is drawn again (up to 1,000 times; a profile still a copy then is an error).")
    var real: String?

    var resolvedFormat: String { format ?? (out.hasSuffix(".jsonl") ? "jsonl" : "csv") }

    func validate() throws {
        guard (1...10_000_000_000).contains(count) else { throw ValidationError("--count must be in [1, 10000000000], got \(count)") }
        guard ["csv", "jsonl"].contains(resolvedFormat) else { throw ValidationError("--format must be csv or jsonl, got '\(resolvedFormat)'") }
        guard varianceScale > 0 && varianceScale <= 100 else { throw ValidationError("--variance-scale must be in (0, 100], got \(varianceScale)") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in [1, 256], got \(threads)") }
    }

    func run() throws {
        do { try generate() } catch let e as DataError { printError(e.description); throw Exit.dataError }
    }

    func generate() throws {
        let m = try PersonaModel.load(path: model)
        let root = SeedTree(root: seed)
        let sampler = PersonaSampler(model: m, seed: root, varianceScale: varianceScale, edgeCases: edgeCases)
        let keys = try real.map { RowKeys(try loadInModelSchema($0, m)) }
        let w = try StreamWriter(path: out)
        let d = m.numeric.count, C = m.categorical.count, L = m.latentDimension, D = sampler.projection.dimension
        let jsonl = resolvedFormat == "jsonl"
        if !jsonl {
            w.write("profile_id,source")
            for c in m.numeric { w.byte(44); w.write(CSVFormat.escape(c.name)) }
            for c in m.categorical { w.byte(44); w.write(CSVFormat.escape(c.name)) }
            for j in 0..<D { w.write(",persona_\(j)") }
            w.byte(10)
        }
        let levelText = m.categorical.map { $0.levels.map { jsonl ? JSON.escape($0) : CSVFormat.escape($0) } }
        let nameText = (m.numeric.map(\.name) + m.categorical.map(\.name)).map(JSON.escape)
        let cs = PersonaSampler.chunkSize
        let chunks = (count + cs - 1) / cs
        let T = threads
        // Per-thread buffers: memory does not grow with --count.
        let values = (0..<T).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: cs * max(d, 1)) }
        let codes = (0..<T).map { _ in UnsafeMutablePointer<Int>.allocate(capacity: cs * max(C, 1)) }
        let vectors = (0..<T).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: cs * D) }
        let latent = (0..<T).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: cs * L) }
        defer { for t in 0..<T { values[t].deallocate(); codes[t].deallocate(); vectors[t].deallocate(); latent[t].deallocate() } }
        let buffers = (0..<T).map { _ in ByteBuffer(capacity: 1 << 22) }
        let redraws = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2 * T)
        redraws.initialize(repeating: 0)
        defer { redraws.deallocate() }
        var totalRedraws = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var wave = 0
        while wave * T < chunks {
            let first = wave * T
            let n = min(T, chunks - first)
            // Each thread draws and formats one chunk; the chunks are then written in order.
            DispatchQueue.concurrentPerform(iterations: n) { t in
                let c = first + t
                let rows = min(cs, count - c * cs)
                let rj = sampler.chunk(c, rows: rows, root: root, values: values[t], codes: codes[t], vectors: vectors[t], latent: latent[t], reject: keys)
                redraws[2 * t] = rj.redraws; redraws[2 * t + 1] = rj.copiesKept
                let b = buffers[t]
                b.clear()
                for r in 0..<rows {
                    let id = c * cs + r
                    if jsonl {
                        b.write("{\"profile_id\":\""); writeID(b, id); b.write("\",\"source\":\"generated\",\"traits\":{")
                        for j in 0..<d { if j > 0 { b.byte(44) }; b.write(nameText[j]); b.byte(58); b.write(values[t][r * d + j]) }
                        for q in 0..<C { if d + q > 0 { b.byte(44) }; b.write(nameText[d + q]); b.byte(58); b.write(levelText[q][codes[t][r * C + q]]) }
                        b.write("},\"interaction_history\":[],\"persona_vector\":[")
                        for j in 0..<D { if j > 0 { b.byte(44) }; b.write(vectors[t][r * D + j]) }
                        b.write("]}\n")
                    } else {
                        writeID(b, id); b.write(",generated")
                        for j in 0..<d { b.byte(44); b.write(values[t][r * d + j]) }
                        for q in 0..<C { b.byte(44); b.write(levelText[q][codes[t][r * C + q]]) }
                        for j in 0..<D { b.byte(44); b.write(vectors[t][r * D + j]) }
                        b.byte(10)
                    }
                }
            }
            for t in 0..<n {
                if redraws[2 * t + 1] > 0 {
                    throw DataError(file: model, message: "chunk \(first + t): a profile was still a copy of a real row after 1,000 draws; the model reproduces the real rows too closely to generate without copies")
                }
                totalRedraws += redraws[2 * t]
                try w.append(buffers[t])
            }
            wave += 1
            if chunks > 50 && (wave % max(1, chunks / T / 20) == 0) && out != "-" {
                let done = min(count, wave * T * cs)
                let el = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                printError(String(format: "generated %d / %d profiles (%.0f%%), %.0f/s, ETA %.0f s", done, count, 100 * Double(done) / Double(count),
                                  Double(done) / el, Double(count - done) / max(1, Double(done) / el)))
            }
        }
        try w.commit()
        let el = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let report = out == "-" ? printError : { print($0) }
        if let keys { report("exact copies of the \(keys.count) distinct real rows rejected and drawn again: \(totalRedraws)") }
        report(String(format: "wrote %d profiles to %@ (%@, %.1f MB) in %.2f s: %.0f profiles/s on %d thread%@", count, out as NSString,
                     resolvedFormat as NSString, Double(w.bytesWritten) / 1e6, el, Double(count) / el, T, T == 1 ? "" : "s"))
    }

    /// profile ids: "syn-" and the index, zero-padded to 10 digits.
    func writeID(_ w: ByteBuffer, _ i: Int) {
        w.write("syn-" as StaticString)
        var digits = 1, t = i
        while t >= 10 { t /= 10; digits += 1 }
        for _ in digits..<10 { w.byte(48) }
        w.write(i)
    }
}


struct SynthSplit: ParsableCommand {
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
    @Option(help: "Seed.")
    var seed: UInt64 = 1

    func validate() throws {
        guard holdoutFraction > 0 && holdoutFraction < 1 else { throw ValidationError("--holdout-fraction must be in (0, 1), got \(holdoutFraction)") }
        guard trainOut != holdoutOut else { throw ValidationError("--train-out and --holdout-out must differ") }
    }

    func run() throws {
        do {
            let csv = try CSVText.read(path: real)
            var userIndex: Int?
            if let u = userColumn {
                guard let i = csv.header.firstIndex(of: u) else { throw DataError(file: real, column: u, message: "no such column") }
                userIndex = i
            }
            let s = SeedTree(root: seed).child("synth.split").stream()
            var side: [String: Bool] = [:]
            let a = try StreamWriter(path: trainOut), b = try StreamWriter(path: holdoutOut)
            let header = csv.header.map(CSVFormat.escape).joined(separator: ",") + "\n"
            a.write(header); b.write(header)
            var na = 0, nb = 0
            for row in csv.rows {
                let hold: Bool
                if let ui = userIndex {
                    if let h = side[row[ui]] { hold = h } else { hold = s.uniform() < holdoutFraction; side[row[ui]] = hold }
                } else {
                    hold = s.uniform() < holdoutFraction
                }
                let w = hold ? b : a
                w.write(row.map(CSVFormat.escape).joined(separator: ",")); w.byte(10)
                try w.endRecord()
                if hold { nb += 1 } else { na += 1 }
            }
            guard na > 0 && nb > 0 else { throw DataError(file: real, message: "the split left one side empty (\(na) and \(nb) rows); use more rows or another --holdout-fraction") }
            try a.commit(); try b.commit()
            print("\(na) rows to \(trainOut), \(nb) rows to \(holdoutOut)")
        } catch let e as DataError { printError(e.description); throw Exit.dataError }
    }
}

struct SynthStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Synthetic-data quality report (report.md + quality.csv): per-column KL, KS/TV complements, correlation similarity, diversity, the privacy budget, distance to closest record against a real holdout, train-on-synthetic validation accuracy and k-anonymised group patterns.",
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
    @Option(help: "Seed (diversity's random pairs).")
    var seed: UInt64 = 1

    func validate() throws {
        guard (2...1_000_000).contains(k) else { throw ValidationError("--k must be in [2, 1000000], got \(k)") }
        try requireEmptyOutput(out)
    }

    func run() throws {
        do {
            let m = try PersonaModel.load(path: model)
            let r = try loadInModelSchema(real, m), h = try loadInModelSchema(holdout, m), s = try loadInModelSchema(synthetic, m)
            let ledgerPath = ledger ?? PrivacyLedger.defaultPath(forData: real)
            let l: PrivacyLedger?
            do { l = try PrivacyLedger.load(path: ledgerPath) } catch let e as PrivacyLedgerError { printError(e.description); throw Exit.dataError }
            let inputs = QualityReport.Inputs(modelPath: model, realPath: real, holdoutPath: holdout, syntheticPath: synthetic,
                                              target: target, k: k, seed: seed, ledger: l, ledgerPath: l == nil ? nil : ledgerPath)
            let report = try QualityReport.compute(model: m, real: r, holdout: h, synthetic: s, inputs: inputs)
            try writeReportDirectory(out, [("report.md", report.markdown()), ("quality.csv", report.csv())])
            print(String(format: "quality report in %@: mean KL %.4f nats over %d columns, correlation similarity %@, DCR median synthetic %.4f vs holdout %.4f%@",
                         out as NSString, report.meanKL, report.columns.count, report.correlation.map { String(format: "%.4f", $0.score) } ?? "n/a",
                         QualityReport.median(report.dcrSynthetic), QualityReport.median(report.dcrHoldout), report.dcrFlagged ? " (FLAGGED)" : ""))
            if let t = report.tstr { print(String(format: "validation accuracy (%@): trained on synthetic %.4f, on real %.4f", t.target as NSString, t.synthetic, t.real)) }
            if let g = report.groups { print("k-anonymity (k = \(k)): \(g.suppressedGroups) group patterns (\(g.suppressedRealRows) real rows) suppressed, \(g.shown.count) shown") }
        } catch let e as DataError { printError(e.description); throw Exit.dataError }
    }
}

/// Reads a CSV in a model's schema (its columns; others ignored).
func loadInModelSchema(_ path: String, _ m: PersonaModel) throws -> EncodedRows {
    let csv = try CSVText.read(path: path)
    var roles: [String: ColumnRole] = [:]
    let numeric = Set(m.numeric.map(\.name)), categorical = Set(m.categorical.map(\.name))
    for h in csv.header { roles[h] = numeric.contains(h) ? .numeric : (categorical.contains(h) ? .categorical : .identifier) }
    return try EncodedRows(table: try DataTable.build(csv, file: path, roles: roles), model: m)
}

struct SynthAugment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment",
        abstract: "Real rows plus synthetic ones (source = augmented), up to a target size or until a class column is balanced.",
        discussion: "Output columns: profile_id, source (real or augmented) and the model's columns, real rows first in file order. With --balance COLUMN every level of that categorical column is brought up to the most frequent level's count by drawing from the model conditioned on the level (component chosen by weight x frequency of the level). Synthetic rows that equal a real row in every modelled column are drawn again. Written to a temporary file and renamed into place."
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
    @Option(help: "Seed.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (targetSize == nil) != (balance == nil) else { throw ValidationError("give exactly one of --target-size and --balance") }
        if let t = targetSize { guard t >= 1 && t <= 1_000_000_000 else { throw ValidationError("--target-size must be in [1, 1000000000], got \(t)") } }
    }

    func run() throws {
        do {
            let m = try PersonaModel.load(path: model)
            let rows = try loadInModelSchema(real, m)
            let csv = try CSVText.read(path: real)
            let keys = RowKeys(rows)
            // What to draw: (condition, count) pairs.
            var plan: [((column: Int, level: Int)?, Int)] = []
            if let t = targetSize {
                guard t >= rows.count else {
                    throw DataError(file: real, message: "--target-size \(t) is below the \(rows.count) real rows")
                }
                plan = [(nil, t - rows.count)]
            } else if let b = balance {
                guard let q = m.categorical.firstIndex(where: { $0.name == b }) else {
                    throw DataError(file: model, column: b, message: "--balance must name a categorical column of the model (\(m.categorical.map(\.name).joined(separator: ", ")))")
                }
                var counts = [Int](repeating: 0, count: m.categorical[q].levels.count)
                for i in 0..<rows.count where rows.codes[i * rows.c + q] >= 0 { counts[rows.codes[i * rows.c + q]] += 1 }
                let top = counts.max() ?? 0
                plan = counts.enumerated().filter { $0.element < top }.map { ((q, $0.offset), top - $0.element) }
            }
            let root = SeedTree(root: seed)
            let sampler = PersonaSampler(model: m, seed: root)
            let w = try StreamWriter(path: out)
            w.write("profile_id,source")
            for c in m.numeric { w.byte(44); w.write(CSVFormat.escape(c.name)) }
            for c in m.categorical { w.byte(44); w.write(CSVFormat.escape(c.name)) }
            w.byte(10)
            // Real rows, their original text for the modelled columns.
            let index = Dictionary(uniqueKeysWithValues: csv.header.enumerated().map { ($1, $0) })
            let cols = m.numeric.map { index[$0.name]! } + m.categorical.map { index[$0.name]! }
            for (i, row) in csv.rows.enumerated() {
                w.write("real-\(i),real")
                for j in cols { w.byte(44); w.write(CSVFormat.escape(row[j])) }
                w.byte(10)
                try w.endRecord()
            }
            let d = m.numeric.count, C = m.categorical.count
            var v = [Double](repeating: 0, count: max(d, 1)), k = [Int](repeating: 0, count: max(C, 1)), z = [Double](repeating: 0, count: m.latentDimension)
            let levelText = m.categorical.map { $0.levels.map(CSVFormat.escape) }
            var made = 0, redraws = 0
            for (p, (cond, n)) in plan.enumerated() {
                let s = root.child("synth.augment", p).stream(.taus2)
                for _ in 0..<n {
                    var attempts = 0
                    repeat {
                        v.withUnsafeMutableBufferPointer { vb in k.withUnsafeMutableBufferPointer { kb in z.withUnsafeMutableBufferPointer { zb in
                            sampler.draw(stream: s, values: vb.baseAddress!, codes: kb.baseAddress!, latent: zb.baseAddress!, condition: cond)
                        } } }
                        attempts += 1
                        let copy = z.withUnsafeBufferPointer { zb in k.withUnsafeBufferPointer { kb in
                            keys.contains(latent: zb.baseAddress!, codes: kb.baseAddress!, d: d, c: C)
                        } }
                        if !copy { break }
                        if attempts >= 1000 {
                            throw DataError(file: model, message: "a synthetic row was still a copy of a real row after 1,000 draws\(cond.map { " (level '\(m.categorical[$0.column].levels[$0.level])')" } ?? ""): the model reproduces the real rows too closely")
                        }
                        redraws += 1
                    } while true
                    w.write("aug-\(made),augmented")
                    for j in 0..<d { w.byte(44); w.write(v[j]) }
                    for q in 0..<C { w.byte(44); w.write(levelText[q][k[q]]) }
                    w.byte(10)
                    try w.endRecord()
                    made += 1
                }
            }
            try w.commit()
            print("\(rows.count) real + \(made) augmented rows to \(out) (\(redraws) exact copies of real rows drawn again)")
        } catch let e as DataError { printError(e.description); throw Exit.dataError }
    }
}
