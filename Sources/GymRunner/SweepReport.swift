import Foundation
import GymData
import GymEval
import GymRandom
import GymReports

/// Merges a sweep's cells (from one directory or from shards) into its report. The report depends
/// only on the cells, never on how the work was split: the same sweep gives the same bytes.
public enum SweepMerge {
    /// Files of the merged report (besides `cells/` and `charts/`).
    public static let reportFiles = ["report.md", "cells.csv", "settings.csv"]

    /// Reads the manifests and cells of `dirs`, checks that they are one complete sweep, and
    /// writes the report (and, when `dest` is not among `dirs`, a copy of the cells) to `dest`.
    /// Errors name the directory or file (SweepError, exit 65).
    @discardableResult
    public static func merge(_ dirs: [URL], into dest: URL) throws -> SweepManifest {
        precondition(!dirs.isEmpty)
        var manifests: [(URL, SweepManifest)] = []
        for d in dirs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: d.path, isDirectory: &isDir), isDir.boolValue else {
                throw SweepError("\(d.path): no such directory")
            }
            manifests.append((d, try SweepManifest.read(d.appendingPathComponent("sweep.json"))))
        }
        let (firstDir, m) = manifests[0]
        for (d, o) in manifests.dropFirst() {
            guard o.fingerprint == m.fingerprint else {
                let what = o.sweep != m.sweep ? "sweep '\(o.sweep)', not '\(m.sweep)'" : (o.version != m.version ? "optima-gym \(o.version), not \(m.version)" : "another edit of sweep '\(o.sweep)' or its base scenario")
                throw SweepError("\(d.path): this shard is from \(what) (fingerprint \(o.fingerprint); \(firstDir.path) has \(m.fingerprint))")
            }
        }
        let total = m.cellCount
        var cellText = [String?](repeating: nil, count: total)
        var cells = [SweepCellResult?](repeating: nil, count: total)
        for (d, _) in manifests {
            let cdir = d.appendingPathComponent("cells")
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: cdir.path)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
            for name in names {
                guard let k = Int(name.dropLast(5)), k >= 0, k < total else {
                    throw SweepError("\(cdir.appendingPathComponent(name).path): not a cell of this sweep (it has cells 0..\(total - 1))")
                }
                let url = cdir.appendingPathComponent(name)
                let r = try Sweep.readCell(url, fingerprint: m.fingerprint, expected: k)
                let text = String(decoding: FileManager.default.contents(atPath: url.path) ?? Data(), as: UTF8.self)
                if let prev = cellText[k] {
                    guard prev == text else { throw SweepError("\(url.path): cell \(k) differs from the same cell in another directory") }
                    continue
                }
                cellText[k] = text
                cells[k] = r
            }
        }
        let missing = (0..<total).filter { cells[$0] == nil }
        if !missing.isEmpty {
            let shards = Set(manifests.map { $0.1.shard })
            var why = ""
            if let n = manifests.compactMap({ Int($0.1.shard.split(separator: "/").last ?? "") }).first, !shards.contains("all") {
                let absent = (0..<n).filter { !shards.contains("\($0)/\(n)") }
                if !absent.isEmpty { why = "; shard(s) \(absent.map { "\($0)/\(n)" }.joined(separator: ", ")) not given" }
            }
            let list = missing.prefix(10).map(String.init).joined(separator: ", ") + (missing.count > 10 ? ", ..." : "")
            throw SweepError("\(dirs.map(\.path).joined(separator: ", ")): \(missing.count) of \(total) cells are missing (\(list))\(why); finish them with `optima-gym sweep FILE --resume --out DIR` (and the same --shard)")
        }
        let results = cells.map { $0! }
        try OutputGuard.makeDirectory(dest.appendingPathComponent("charts"))
        if !dirs.contains(where: { $0.standardized.path == dest.standardized.path }) {
            try OutputGuard.makeDirectory(dest.appendingPathComponent("cells"))
            for k in 0..<total { try Sweep.writeAtomically(cellText[k]!, to: dest.appendingPathComponent(Sweep.cellName(k))) }
            var merged = m
            merged.shard = "merged"
            try Sweep.writeAtomically(merged.json(), to: dest.appendingPathComponent("sweep.json"))
        }
        let files = render(m, results)
        // Charts first, report.md last: a report that exists is complete.
        for (name, text) in files.sorted(by: { ($0.0 == "report.md" ? 1 : 0, $0.0) < ($1.0 == "report.md" ? 1 : 0, $1.0) }) {
            try Sweep.writeAtomically(text, to: dest.appendingPathComponent(name))
        }
        return m
    }

    struct Summary { var mean: Double; var low: Double; var high: Double; var n: Int; var total: Int }

    /// Mean over the values with a t-interval at `confidence` over them (one value: the cell's own
    /// interval), clipped to the metric's range (a parity above 1 or a negative rate cannot
    /// appear). `n` counts the values that exist (for sample_efficiency: the seeds that reached
    /// the target), `total` the cells.
    static func summarize(_ v: [MetricValue], name: String, confidence: Double) -> Summary {
        let xs = v.map(\.value).filter { $0.isFinite }
        guard !xs.isEmpty else { return Summary(mean: .nan, low: .nan, high: .nan, n: 0, total: v.count) }
        let range = MetricCatalog.info(name)?.range ?? (-Double.infinity...Double.infinity)
        func clip(_ x: Double) -> Double { x.isFinite ? min(range.upperBound, max(range.lowerBound, x)) : x }
        let mean = xs.reduce(0, +) / Double(xs.count)
        if xs.count == 1, let one = v.first(where: { $0.value.isFinite }) {
            return Summary(mean: mean, low: clip(one.ciLow), high: clip(one.ciHigh), n: 1, total: v.count)
        }
        let sd = (xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)).squareRoot()
        let t = SpecialFunctions.studentTUpperQuantile((1 - confidence) / 2, nu: Double(xs.count - 1))
        let h = t * sd / Double(xs.count).squareRoot()
        return Summary(mean: mean, low: clip(mean - h), high: clip(mean + h), n: xs.count, total: v.count)
    }

    static func f(_ x: Double) -> String { Render.f(x) }

    /// "value [low, high]", with "(k of n seeds reached the target)" for sample_efficiency.
    static func cellText(_ x: Summary, _ name: String) -> String {
        var t = "\(f(x.mean)) [\(f(x.low)), \(f(x.high))]"
        if name == "sample_efficiency" { t = (x.n > 0 ? t + " " : "") + "(\(x.n) of \(x.total) seeds reached the target)" }
        return t
    }

    /// What the report renders from: the manifest, the cells, and the summaries per setting.
    struct Context {
        let m: SweepManifest
        let cells: [SweepCellResult]
        let agents: [(String, Bool)]
        let rankAgent: String
        let metricNames: [String]
        let bySetting: [[SweepCellResult]]
        let summary: [String: [Summary]]
        var level: String { Render.percent(m.confidence) }
        func metric(_ c: SweepCellResult, _ agent: String, _ name: String) -> MetricValue? {
            c.agents.first { $0.name == agent }?.metrics.first { $0.name == name }
        }
        func settingLabel(_ s: Int) -> String { zip(m.parameters, m.settings[s]).map { "\($0.0)=\($0.1)" }.joined(separator: ", ") }
        /// Settings ordered best first by `name` for the ranked agent (finite means only).
        func ranking(_ name: String) -> [Int] {
            guard let per = summary["\(rankAgent)/\(name)"] else { return [] }
            let lower = MetricCatalog.info(name)?.direction == .lowerIsBetter
            return per.indices.filter { per[$0].mean.isFinite }.sorted { a, b in
                per[a].mean != per[b].mean ? (lower ? per[a].mean < per[b].mean : per[a].mean > per[b].mean) : a < b
            }
        }
    }

    static func render(_ m: SweepManifest, _ cells: [SweepCellResult]) -> [(String, String)] {
        let agents = cells.first?.agents.map { ($0.name, $0.upperBound) } ?? []
        let rankAgent = m.rankAgent ?? agents.first { !$0.1 }?.0 ?? agents.first?.0 ?? ""
        let metricNames = cells.first?.agents.first?.metrics.map(\.name) ?? []
        var bySetting = [[SweepCellResult]](repeating: [], count: m.settings.count)
        for c in cells { bySetting[c.setting].append(c) }
        var summary: [String: [Summary]] = [:]   // "agent/metric" -> per setting
        for (agent, _) in agents {
            for name in metricNames {
                summary["\(agent)/\(name)"] = bySetting.map { cs in
                    summarize(cs.map { c in c.agents.first { $0.name == agent }?.metrics.first { $0.name == name }
                        ?? MetricValue(name: name, value: .nan, ciLow: .nan, ciHigh: .nan, count: 0) }, name: name, confidence: m.confidence)
                }
            }
        }
        let ctx = Context(m: m, cells: cells, agents: agents, rankAgent: rankAgent, metricNames: metricNames, bySetting: bySetting, summary: summary)
        var files: [(String, String)] = [("cells.csv", cellsCSV(ctx)), ("settings.csv", settingsCSV(ctx))]
        var md = header(ctx) + bestSettings(ctx) + acrossSettings(ctx)
        let (chartMarkdown, charts) = SweepCharts.render(ctx)
        md += chartMarkdown
        files += charts
        md += gateSection(ctx)
        files.append(("report.md", md))
        return files
    }

    /// cells.csv: one row per cell x agent x metric.
    static func cellsCSV(_ c: Context) -> String {
        let m = c.m
        var out = "cell,setting,seed," + m.parameters.map(Render.csvField).joined(separator: ",") + (m.parameters.isEmpty ? "" : ",") + "agent,metric,value,ci_low,ci_high,count,gate_passed\n"
        for cell in c.cells {
            let prefix = "\(cell.index),\(cell.setting),\(cell.seed)," + m.settings[cell.setting].map(Render.csvField).joined(separator: ",") + (m.parameters.isEmpty ? "" : ",")
            for a in cell.agents {
                for x in a.metrics {
                    out += prefix + "\(Render.csvField(a.name)),\(x.name),\(Render.csvNumber(x.value)),\(Render.csvNumber(x.ciLow)),\(Render.csvNumber(x.ciHigh)),\(x.count),\(cell.gatePassed)\n"
                }
            }
        }
        return out
    }

    /// settings.csv: per setting x agent x metric, the mean over seeds with its interval, the seeds
    /// with a value (for sample_efficiency: the seeds that reached the target) and the seeds run.
    static func settingsCSV(_ c: Context) -> String {
        let m = c.m
        var out = "setting," + m.parameters.map(Render.csvField).joined(separator: ",") + (m.parameters.isEmpty ? "" : ",") + "agent,metric,mean,ci_low,ci_high,seeds_measured,seeds,cells_passing_gate\n"
        for s in 0..<m.settings.count {
            let passing = c.bySetting[s].filter(\.gatePassed).count
            for (agent, _) in c.agents {
                for name in c.metricNames {
                    let x = c.summary["\(agent)/\(name)"]![s]
                    out += "\(s)," + m.settings[s].map(Render.csvField).joined(separator: ",") + (m.parameters.isEmpty ? "" : ",")
                        + "\(Render.csvField(agent)),\(name),\(Render.csvNumber(x.mean)),\(Render.csvNumber(x.low)),\(Render.csvNumber(x.high)),\(x.n),\(x.total),\(passing)\n"
                }
            }
        }
        return out
    }

    static func header(_ c: Context) -> String {
        let m = c.m
        var md = "# Sweep \(m.sweep)\n\n| | |\n|---|---|\n"
        md += "| base scenario | `\(m.base)` |\n"
        for (i, p) in m.parameters.enumerated() {
            let vals = Array(Set(m.settings.map { $0[i] })).sorted { (Double($0) ?? 0, $0) < (Double($1) ?? 0, $1) }
            md += "| `\(p)` | \(vals.prefix(12).joined(separator: ", "))\(vals.count > 12 ? ", ... (\(vals.count) values)" : "") |\n"
        }
        md += "| seeds | \(m.seeds.prefix(12).map(String.init).joined(separator: ", "))\(m.seeds.count > 12 ? ", ..." : "") |\n"
        md += "| cells | \(c.cells.count) (\(m.settings.count) settings × \(m.seeds.count) seeds) |\n"
        md += "| gate | \(c.cells.filter(\.gatePassed).count) of \(c.cells.count) cells pass |\n"
        md += "| sweep fingerprint | `\(m.fingerprint)` (optima-gym \(m.version)) |\n\n"
        md += "Each setting's figure is the mean over its seeds with a \(c.level) t-interval over the seeds (with one seed: the run's own bootstrap interval), clipped to the metric's range. Ranked agent: `\(c.rankAgent)`. Every number is in `settings.csv` (per setting) and `cells.csv` (per cell × agent × metric).\n\n"
        return md
    }

    static func bestSettings(_ c: Context) -> String {
        var md = "## Best setting per metric\n\n| metric | better | best setting | value [\(c.level) interval] | runner-up | value | best single cell |\n|---|---|---|---|---|---|---|\n"
        for name in c.m.rankBy {
            guard let per = c.summary["\(c.rankAgent)/\(name)"] else { md += "| \(name) | | not measured | | | | |\n"; continue }
            let lower = MetricCatalog.info(name)?.direction == .lowerIsBetter
            let order = c.ranking(name)
            guard let best = order.first else { md += "| \(name) | | not measurable in any cell | | | | |\n"; continue }
            let runner = order.dropFirst().first
            var bestCell: (SweepCellResult, MetricValue)? = nil
            for cell in c.cells {
                guard let v = c.metric(cell, c.rankAgent, name), v.value.isFinite else { continue }
                if let b = bestCell {
                    if lower ? v.value < b.1.value : v.value > b.1.value { bestCell = (cell, v) }
                } else { bestCell = (cell, v) }
            }
            var row = "| \(name) | \(lower ? "lower" : "higher") | \(c.settingLabel(best)) | \(cellText(per[best], name)) | "
            if let r = runner { row += "\(c.settingLabel(r)) | \(f(per[r].mean))" } else { row += " | " }
            row += " | "
            if let (cell, v) = bestCell {
                row += "cell \(cell.index) (setting \(cell.setting), seed \(cell.seed)): \(f(v.value)) [\(f(v.ciLow)), \(f(v.ciHigh))]"
            }
            md += row + " |\n"
        }
        return md
    }

    static func acrossSettings(_ c: Context) -> String {
        let m = c.m
        let shown = c.metricNames.filter { n in c.summary["\(c.rankAgent)/\(n)"]?.contains { $0.mean.isFinite || n == "sample_efficiency" } ?? false }
        var md = "\n## Metrics across settings (\(c.rankAgent))\n\n| setting | " + m.parameters.map { "`\($0)`" }.joined(separator: " | ") + (m.parameters.isEmpty ? "" : " | ")
            + shown.joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: m.parameters.count + shown.count) + "\n"
        for s in 0..<m.settings.count {
            md += "| \(s) | " + m.settings[s].joined(separator: " | ") + (m.parameters.isEmpty ? "" : " | ")
                + shown.map { n in cellText(c.summary["\(c.rankAgent)/\(n)"]![s], n) }.joined(separator: " | ") + " |\n"
        }
        return md
    }

    /// The gate: each rule once, with the cells it passes and fails in and the reason it fails
    /// (said once, not per cell), then the verdict per cell.
    static func gateSection(_ c: Context) -> String {
        var md = "\n## Gate\n\n"
        let rules = c.cells.first?.gate.map(\.rule) ?? []
        guard !rules.isEmpty else { return md + "The scenario defines no gate rules.\n" }
        md += "| # | rule | cells passing | cells failing | why it fails (the first failing cell's reason) |\n|---|---|---|---|---|\n"
        var never: [String] = []
        for (i, rule) in rules.enumerated() {
            let results = c.cells.compactMap { $0.gate.count > i ? $0.gate[i] : nil }
            let fails = results.filter { !$0.passed }
            md += "| \(i + 1) | \(rule) | \(results.count - fails.count) | \(fails.count) | \(fails.first?.reason ?? "") |\n"
            if fails.count == results.count { never.append(rule) }
        }
        if !never.isEmpty {
            md += "\n**No cell can pass** while \(never.map { "`\($0)`" }.joined(separator: ", ")) fail\(never.count == 1 ? "s" : "") in every cell.\n"
        }
        md += "\n| cell | setting | seed | verdict | failing rules |\n|---|---|---|---|---|\n"
        for cell in c.cells {
            let fails = cell.gate.enumerated().filter { !$0.element.passed }.map { "\($0.offset + 1)" }
            md += "| \(cell.index) | \(cell.setting) | \(cell.seed) | \(cell.gatePassed ? "passed" : "**failed**") | \(fails.isEmpty ? "" : "rules " + fails.joined(separator: ", ")) |\n"
        }
        md += "\nRules are numbered in the order of the table above.\n"
        return md
    }
}
