import Foundation
import GymData
import GymEval
import GymRandom
import GymReports
import GymScenario
import GymSynth

/// What `synth fit` asks for. Flags given here win over the `--config` file's keys.
public struct SynthFitRequest: Sendable {
    public var realPath: String
    public var outPath: String
    public var configPath: String?
    public var epsilon: Double?
    public var delta: Double?
    public var budget: Double?
    public var components: Int?
    public var maxComponents: Int?
    public var iterations: Int?
    public var maxRowsPerUser: Int?
    public var userColumn: String?
    /// NAME=ROLE overrides (NAME may hold `*`), in flag order.
    public var roles: [(String, ColumnRole)] = []
    public var bounds: [String: (Double, Double)] = [:]
    public var ledgerPath: String?
    public var seed: UInt64 = 1
    public var overwrite = false

    public init(realPath: String, outPath: String) { self.realPath = realPath; self.outPath = outPath }
}

public struct SynthFitOutcome: Sendable {
    public var model: PersonaModel
    public var ledgerPath: String
    public var ledger: PrivacyLedger
}

/// The `synth` commands' work: fit, split, augment and stats (generation: `ProfileWriter`).
public enum SynthJobs {
    /// Fits a DP persona model and records the release in the dataset's ledger. Outputs are
    /// checked before any work; the model is put in place first and the ledger written after it,
    /// so a release is never recorded without its model nor a model kept without its record (if
    /// the ledger cannot be written, the model is removed again).
    public static func fit(_ q: SynthFitRequest) throws -> SynthFitOutcome {
        let file = try q.configPath.map { try SynthConfigLoader.load(path: $0) }
        let ledgerPath = q.ledgerPath ?? ((file?.ledger.isEmpty ?? true) ? nil : file!.ledger) ?? PrivacyLedger.defaultPath(forData: q.realPath)
        var inputs = [(flag: "--real", path: q.realPath), (flag: "--ledger", path: ledgerPath)]
        if let c = q.configPath { inputs.append((flag: "--config", path: c)) }
        try OutputGuard.checkFile(q.outPath, flag: "--out", inputs: inputs, overwrite: q.overwrite)
        try checkLedgerPath(ledgerPath, inputs: [(flag: "--real", path: q.realPath)] + (q.configPath.map { [(flag: "--config", path: $0)] } ?? []))
        let csv = try CSVText.read(path: q.realPath)
        let table = try DataTable.build(csv, file: q.realPath, roles: try roles(q, header: csv.header, file: file))
        var b = (file?.bounds ?? [:]).mapValues { ($0[0], $0[1]) }
        for (k, v) in q.bounds { b[k] = v }
        for name in b.keys.sorted() where !table.numericNames.contains(name) {
            throw DataError(file: q.realPath, column: name, message: "--bounds names a column that is not numeric in this table")
        }
        var components = q.components
        if components == nil, let c = file?.components {
            guard let k = Int(exactly: c) else { throw DataError(file: q.configPath!, column: "components", message: "must be a whole number, got \(c)") }
            components = k
        }
        var cfg = SynthFitConfig()
        cfg.epsilon = q.epsilon ?? file?.epsilon ?? 1.0
        cfg.delta = q.delta ?? file?.delta ?? 1e-5
        cfg.components = components
        cfg.maxComponents = q.maxComponents ?? file?.maxComponents ?? 4
        cfg.iterations = q.iterations ?? file?.iterations ?? 8
        cfg.maxRowsPerUser = q.maxRowsPerUser ?? file?.maxRowsPerUser ?? 1
        cfg.bounds = b
        var book = try PrivacyLedger.load(path: ledgerPath)
            ?? PrivacyLedger(dataset: URL(fileURLWithPath: q.realPath).lastPathComponent, budget: .init(epsilon: q.budget ?? cfg.epsilon, delta: cfg.delta))
        if book.budget.delta != cfg.delta {
            throw DataError(file: ledgerPath, message: "the ledger's delta is \(book.budget.delta); fit with --delta \(book.budget.delta)")
        }
        let result = try DPMixtureFit.fit(table, config: cfg, seed: q.seed, source: URL(fileURLWithPath: q.realPath).lastPathComponent)
        // In memory first: refuses a release over the budget before anything is written.
        try book.record(what: "synth fit -> \(URL(fileURLWithPath: q.outPath).lastPathComponent)", events: result.events, path: ledgerPath)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let w = try StreamWriter(path: q.outPath, flag: "--out", inputs: inputs, overwrite: q.overwrite)
        w.write(String(decoding: try enc.encode(result.model), as: UTF8.self))
        w.byte(10)
        try w.commit()
        do { try book.save(path: ledgerPath) } catch {
            w.retract()
            throw error
        }
        return SynthFitOutcome(model: result.model, ledgerPath: ledgerPath, ledger: book)
    }

    /// A ledger is read, updated and written in place: it must be a regular file or absent, and
    /// not one of the inputs.
    static func checkLedgerPath(_ path: String, inputs: [(flag: String, path: String)]) throws {
        for i in inputs where OutputGuard.sameFile(path, i.path) {
            throw OutputError.cannotCreate(path: path, reason: "--ledger is the same file as \(i.flag) \(i.path) (nothing was done)")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw OutputError.cannotCreate(path: path, reason: "the privacy ledger path is a directory (nothing was done)")
        }
    }

    /// Column roles: the config file's `columns:` and `user_column:`, then `--role`, then `--user-column`.
    static func roles(_ q: SynthFitRequest, header: [String], file: SynthFitFile?) throws -> [String: ColumnRole] {
        var out: [String: ColumnRole] = [:]
        if let file {
            let expanded = expandRoles(file.columns, header: header)
            if let bad = expanded.unmatched.first {
                throw DataError(file: q.configPath ?? "config", column: bad, message: "the pattern in 'columns' matches no column of \(q.realPath)")
            }
            out = expanded.roles
            if !file.userColumn.isEmpty { out[file.userColumn] = .user }
        }
        let expanded = expandRoles(q.roles, header: header)
        if let bad = expanded.unmatched.first {
            throw DataError(file: q.realPath, line: 1, column: bad, message: "--role: the pattern matches no column")
        }
        for (k, v) in expanded.roles { out[k] = v }
        if let u = q.userColumn { out[u] = .user }
        return out
    }

    /// `synth split`: rows (or users) to the holdout with probability `fraction` from the seed's
    /// `synth.split` stream. Both outputs are checked before reading anything.
    public static func split(real: String, trainOut: String, holdoutOut: String, fraction: Double, userColumn: String?,
                             seed: UInt64, overwrite: Bool) throws -> (train: Int, holdout: Int) {
        guard !OutputGuard.sameFile(trainOut, holdoutOut) else {
            throw OutputError.cannotCreate(path: holdoutOut, reason: "--train-out and --holdout-out are the same file")
        }
        let input = [(flag: "--real", path: real)]
        try OutputGuard.checkFile(trainOut, flag: "--train-out", inputs: input, overwrite: overwrite)
        try OutputGuard.checkFile(holdoutOut, flag: "--holdout-out", inputs: input, overwrite: overwrite)
        let csv = try CSVText.read(path: real)
        var userIndex: Int?
        if let u = userColumn {
            guard let i = csv.header.firstIndex(of: u) else { throw DataError(file: real, line: 1, column: u, message: "no such column") }
            userIndex = i
        }
        let s = SeedTree(root: seed).child("synth.split").stream()
        var side: [String: Bool] = [:]
        let a = try StreamWriter(path: trainOut, flag: "--train-out", inputs: input, overwrite: overwrite)
        let b = try StreamWriter(path: holdoutOut, flag: "--holdout-out", inputs: input, overwrite: overwrite)
        let header = csv.header.map(CSVFormat.escape).joined(separator: ",") + "\n"
        a.write(header); b.write(header)
        var na = 0, nb = 0
        for row in csv.rows {
            let hold: Bool
            if let ui = userIndex {
                if let h = side[row[ui]] { hold = h } else { hold = s.uniform() < fraction; side[row[ui]] = hold }
            } else {
                hold = s.uniform() < fraction
            }
            let w = hold ? b : a
            w.write(row.map(CSVFormat.escape).joined(separator: ",")); w.byte(10)
            try w.endRecord()
            if hold { nb += 1 } else { na += 1 }
        }
        guard na > 0 && nb > 0 else {
            throw DataError(file: real, message: "the split left one side empty (\(na) and \(nb) rows); use more rows or another --holdout-fraction")
        }
        try a.commit()
        do { try b.commit() } catch { a.retract(); throw error }
        return (na, nb)
    }

    /// `synth stats`: the quality report of synthetic rows against the real rows and a holdout,
    /// written atomically to `out`.
    public static func stats(model: String, real: String, holdout: String, synthetic: String, out: String, target: String?, k: Int,
                             ledgerPath: String?, seed: UInt64) throws -> QualityReport {
        let dir = try AtomicDirectory(destination: URL(fileURLWithPath: out))
        let m = try PersonaModel.load(path: model)
        let r = try EncodedRows.load(path: real, model: m), h = try EncodedRows.load(path: holdout, model: m)
        let s = try EncodedRows.load(path: synthetic, model: m)
        let lp = ledgerPath ?? PrivacyLedger.defaultPath(forData: real)
        let l = try PrivacyLedger.load(path: lp)
        let inputs = QualityReport.Inputs(modelPath: model, realPath: real, holdoutPath: holdout, syntheticPath: synthetic,
                                          target: target, k: k, seed: seed, ledger: l, ledgerPath: l == nil ? nil : lp)
        let report = try QualityReport.compute(model: m, real: r, holdout: h, synthetic: s, inputs: inputs)
        for c in report.columns {
            let share = { (xs: [Double]) -> [Double] in let t = xs.reduce(0, +); return xs.map { t > 0 ? $0 / t : .nan } }
            let none = [Double](repeating: .nan, count: c.bins.count)
            try dir.write(QualityReport.chartFile(c.name), SVGChart.groupedBars(
                title: "\(c.name): real and synthetic (\(c.kind); KL \(String(format: "%.4f", c.kl)) nats)", xLabel: c.kind == "numeric" ? "bin" : "level",
                yLabel: "share of rows", categories: c.bins, seriesLabels: ["real (the fit's data)", "synthetic"],
                values: [share(c.real), share(c.synthetic)], low: [none, none], high: [none, none], width: max(760, 60 + 34 * Double(c.bins.count))))
        }
        for (name, text) in report.files() { try dir.write(name, text) }
        try dir.commit()
        return report
    }
}
