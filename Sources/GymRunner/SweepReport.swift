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
        let fm = FileManager.default
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

    struct Summary { var mean: Double; var low: Double; var high: Double; var n: Int }

    /// Mean over values with a 95% t-interval (one value: the cell's own interval).
    static func summarize(_ v: [MetricValue]) -> Summary {
        let xs = v.map(\.value).filter { $0.isFinite }
        guard !xs.isEmpty else { return Summary(mean: .nan, low: .nan, high: .nan, n: 0) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        if xs.count == 1, let one = v.first(where: { $0.value.isFinite }) { return Summary(mean: mean, low: one.ciLow, high: one.ciHigh, n: 1) }
        let sd = (xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)).squareRoot()
        let t = SpecialFunctions.studentTUpperQuantile(0.025, nu: Double(xs.count - 1))
        let h = t * sd / Double(xs.count).squareRoot()
        return Summary(mean: mean, low: mean - h, high: mean + h, n: xs.count)
    }

    static func f(_ x: Double) -> String { Render.f(x) }

    static func render(_ m: SweepManifest, _ cells: [SweepCellResult]) -> [(String, String)] {
        let nSeeds = m.seeds.count
        let agents = cells.first?.agents.map { ($0.name, $0.upperBound) } ?? []
        let rankAgent = m.rankAgent ?? agents.first { !$0.1 }?.0 ?? agents.first?.0 ?? ""
        let metricNames = cells.first?.agents.first?.metrics.map(\.name) ?? []
        func metric(_ c: SweepCellResult, _ agent: String, _ name: String) -> MetricValue? {
            c.agents.first { $0.name == agent }?.metrics.first { $0.name == name }
        }
        func settingLabel(_ s: Int) -> String { zip(m.parameters, m.settings[s]).map { "\($0.0)=\($0.1)" }.joined(separator: ", ") }
        // cells.csv: one row per cell x agent x metric.
        var cellsCSV = "cell,setting,seed," + m.parameters.map(Render.csvField).joined(separator: ",") + (m.parameters.isEmpty ? "" : ",") + "agent,metric,value,ci_low,ci_high,count,gate_passed\n"
        for c in cells {
            let prefix = "\(c.index),\(c.setting),\(c.seed)," + m.settings[c.setting].map(Render.csvField).joined(separator: ",") + (m.parameters.isEmpty ? "" : ",")
            for a in c.agents {
                for x in a.metrics {
                    cellsCSV += prefix + "\(Render.csvField(a.name)),\(x.name),\(Render.csvNumber(x.value)),\(Render.csvNumber(x.ciLow)),\(Render.csvNumber(x.ciHigh)),\(x.count),\(c.gatePassed)\n"
                }
            }
        }
        // settings.csv: per setting x agent x metric, the mean over seeds with its interval.
        var bySetting = [[SweepCellResult]](repeating: [], count: m.settings.count)
        for c in cells { bySetting[c.setting].append(c) }
        var settingsCSV = "setting," + m.parameters.map(Render.csvField).joined(separator: ",") + (m.parameters.isEmpty ? "" : ",") + "agent,metric,mean,ci_low,ci_high,seeds,cells_passing_gate\n"
        var summary: [String: [Summary]] = [:]   // "agent/metric" -> per setting
        for (agent, _) in agents {
            for name in metricNames {
                summary["\(agent)/\(name)"] = bySetting.map { cs in summarize(cs.compactMap { metric($0, agent, name) }) }
            }
        }
        for s in 0..<m.settings.count {
            let passing = bySetting[s].filter(\.gatePassed).count
            for (agent, _) in agents {
                for name in metricNames {
                    let x = summary["\(agent)/\(name)"]![s]
                    settingsCSV += "\(s)," + m.settings[s].map(Render.csvField).joined(separator: ",") + (m.parameters.isEmpty ? "" : ",")
                        + "\(Render.csvField(agent)),\(name),\(Render.csvNumber(x.mean)),\(Render.csvNumber(x.low)),\(Render.csvNumber(x.high)),\(x.n),\(passing)\n"
                }
            }
        }
        var files: [(String, String)] = [("cells.csv", cellsCSV), ("settings.csv", settingsCSV)]
        // report.md
        var md = "# Sweep \(m.sweep)\n\n| | |\n|---|---|\n"
        md += "| base scenario | `\(m.base)` |\n"
        for (i, p) in m.parameters.enumerated() {
            let vals = Array(Set(m.settings.map { $0[i] })).sorted { (Double($0) ?? 0, $0) < (Double($1) ?? 0, $1) }
            md += "| `\(p)` | \(vals.prefix(12).joined(separator: ", "))\(vals.count > 12 ? ", ... (\(vals.count) values)" : "") |\n"
        }
        md += "| seeds | \(m.seeds.prefix(12).map(String.init).joined(separator: ", "))\(m.seeds.count > 12 ? ", ..." : "") |\n"
        md += "| cells | \(cells.count) (\(m.settings.count) settings × \(nSeeds) seeds) |\n"
        md += "| gate | \(cells.filter(\.gatePassed).count) of \(cells.count) cells pass |\n"
        md += "| sweep fingerprint | `\(m.fingerprint)` (optima-gym \(m.version)) |\n\n"
        md += "Each setting's figure is the mean over its seeds with a 95% t-interval over the seeds (with one seed: the run's own bootstrap interval). Ranked agent: `\(rankAgent)`. Every number is in `settings.csv` (per setting) and `cells.csv` (per cell × agent × metric).\n\n"
        // Best setting per ranked metric.
        md += "## Best setting per metric\n\n| metric | better | best setting | value [95% interval] | runner-up | value | best single cell |\n|---|---|---|---|---|---|---|\n"
        for name in m.rankBy {
            guard let per = summary["\(rankAgent)/\(name)"] else { md += "| \(name) | | not measured | | | | |\n"; continue }
            let lower = MetricCatalog.info(name)?.direction == .lowerIsBetter
            let order = per.indices.filter { per[$0].mean.isFinite }.sorted { a, b in
                per[a].mean != per[b].mean ? (lower ? per[a].mean < per[b].mean : per[a].mean > per[b].mean) : a < b
            }
            guard let best = order.first else { md += "| \(name) | | not measurable in any cell | | | | |\n"; continue }
            let runner = order.dropFirst().first
            var bestCell: (SweepCellResult, MetricValue)? = nil
            for c in cells {
                guard let v = metric(c, rankAgent, name), v.value.isFinite else { continue }
                if let b = bestCell {
                    let better: Bool = lower ? v.value < b.1.value : v.value > b.1.value
                    if better { bestCell = (c, v) }
                } else { bestCell = (c, v) }
            }
            var row = "| \(name) | \(lower ? "lower" : "higher") | \(settingLabel(best)) | "
            row += "\(f(per[best].mean)) [\(f(per[best].low)), \(f(per[best].high))] | "
            if let r = runner { row += "\(settingLabel(r)) | \(f(per[r].mean))" } else { row += " | " }
            row += " | "
            if let (c, v) = bestCell {
                row += "cell \(c.index) (setting \(c.setting), seed \(c.seed)): \(f(v.value)) [\(f(v.ciLow)), \(f(v.ciHigh))]"
            }
            md += row + " |\n"
        }
        // Every metric across settings.
        let shown = metricNames.filter { n in summary["\(rankAgent)/\(n)"]?.contains { $0.mean.isFinite } ?? false }
        md += "\n## Metrics across settings (\(rankAgent))\n\n| setting | " + m.parameters.map { "`\($0)`" }.joined(separator: " | ") + (m.parameters.isEmpty ? "" : " | ")
            + shown.joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: m.parameters.count + shown.count) + "\n"
        for s in 0..<m.settings.count {
            md += "| \(s) | " + m.settings[s].joined(separator: " | ") + (m.parameters.isEmpty ? "" : " | ")
                + shown.map { n in let x = summary["\(rankAgent)/\(n)"]![s]; return "\(f(x.mean)) [\(f(x.low)), \(f(x.high))]" }.joined(separator: " | ") + " |\n"
        }
        // Charts: each ranked metric against each numeric parameter (marginal over the others).
        md += "\n## Metric against parameter\n\nEach point: the mean over every cell with that parameter value (the other parameters and the seeds pooled), with a 95% t-interval over those cells. Drawn from `cells.csv`.\n\n"
        for name in m.rankBy {
            for (i, p) in m.parameters.enumerated() {
                let values = Array(Set(m.settings.map { $0[i] })).compactMap { v in Double(v).map { ($0, v) } }.sorted { $0.0 < $1.0 }
                guard values.count >= 2, values.count == Set(m.settings.map { $0[i] }).count else { continue }
                var series: [ChartSeries] = []
                for (agent, upper) in agents {
                    var xs: [Double] = [], ys: [Double] = [], lo: [Double] = [], hi: [Double] = []
                    for (x, text) in values {
                        let sel = cells.filter { m.settings[$0.setting][i] == text }.compactMap { metric($0, agent, name) }
                        let s = summarize(sel)
                        guard s.mean.isFinite else { continue }
                        xs.append(x); ys.append(s.mean); lo.append(s.low.isFinite ? s.low : s.mean); hi.append(s.high.isFinite ? s.high : s.mean)
                    }
                    if !xs.isEmpty { series.append(ChartSeries(label: upper ? "\(agent) (upper bound)" : agent, x: xs, y: ys, low: lo, high: hi, dashed: upper)) }
                }
                guard !series.isEmpty else { continue }
                let title = MetricCatalog.info(name)?.title ?? name
                let file = "charts/\(name)-vs-\(p.replacingOccurrences(of: "/", with: "_")).svg"
                files.append((file, SVGChart.lineChart(title: "\(title) against \(p)", xLabel: p, yLabel: "\(name) (mean, 95% interval)", series: series)))
                md += "![\(title) against \(p)](\(file))\n\n"
            }
        }
        // Learning curves of the best setting of the first ranked metric.
        if let name = m.rankBy.first, let per = summary["\(rankAgent)/\(name)"],
           let best = per.indices.filter({ per[$0].mean.isFinite }).max(by: { a, b in
               let lower = MetricCatalog.info(name)?.direction == .lowerIsBetter
               return per[a].mean != per[b].mean ? (lower ? per[a].mean > per[b].mean : per[a].mean < per[b].mean) : a > b
           }) {
            var series: [ChartSeries] = []
            for (agent, upper) in agents {
                let curves = bySetting[best].compactMap { c in c.agents.first { $0.name == agent }?.curve }.filter { !$0.isEmpty }
                guard let first = curves.first else { continue }
                let n = curves.map(\.count).min() ?? 0
                let xs = first.prefix(n).map { Double($0.episodes) }
                let ys = (0..<n).map { j in curves.reduce(0) { $0 + $1[j].mean } / Double(curves.count) }
                let lo = (0..<n).map { j in curves.reduce(0) { $0 + $1[j].low } / Double(curves.count) }
                let hi = (0..<n).map { j in curves.reduce(0) { $0 + $1[j].high } / Double(curves.count) }
                series.append(ChartSeries(label: upper ? "\(agent) (upper bound)" : agent, x: xs, y: ys, low: lo, high: hi, dashed: upper))
            }
            // Per-group success rates of the same setting, pooled over its seeds.
            var rates: [GroupRate] = []
            for (agent, _) in agents {
                var pooled: [String: (Int, Int)] = [:]
                var order: [String] = []
                for c in bySetting[best] {
                    for (g, n, k) in c.agents.first(where: { $0.name == agent })?.groups ?? [] {
                        if pooled[g] == nil { order.append(g) }
                        let p = pooled[g] ?? (0, 0)
                        pooled[g] = (p.0 + n, p.1 + k)
                    }
                }
                for g in order { rates.append(GroupRate(agent: agent, group: g, decisions: pooled[g]!.0, successes: pooled[g]!.1)) }
            }
            if !rates.isEmpty {
                let groups = Array(Set(rates.map(\.group))).sorted()
                func r(_ a: String, _ g: String) -> GroupRate? { rates.first { $0.agent == a && $0.group == g } }
                files.append(("charts/parity-best.svg", SVGChart.groupedBars(
                    title: "Success-outcome rate by group, setting \(best)", xLabel: "group",
                    yLabel: "success rate (95% Wilson interval)", categories: groups,
                    seriesLabels: agents.map { $0.1 ? "\($0.0) (upper bound)" : $0.0 },
                    values: agents.map { a in groups.map { r(a.0, $0)?.rate ?? .nan } },
                    low: agents.map { a in groups.map { r(a.0, $0)?.low ?? .nan } },
                    high: agents.map { a in groups.map { r(a.0, $0)?.high ?? .nan } })))
                var pcsv = "agent,group,decisions,successes,rate,ci_low,ci_high\n"
                for g in rates { pcsv += "\(Render.csvField(g.agent)),\(Render.csvField(g.group)),\(g.decisions),\(g.successes),\(Render.csvNumber(g.rate)),\(Render.csvNumber(g.low)),\(Render.csvNumber(g.high))\n" }
                files.append(("parity-best.csv", pcsv))
            }
            if !series.isEmpty {
                files.append(("charts/learning_curves-best.svg", SVGChart.lineChart(title: "Learning curves, setting \(best) (\(settingLabel(best)))",
                    xLabel: "training decisions", yLabel: "windowed mean reward (band: 95% interval, mean over seeds)", series: series)))
                md += "## Learning curves of the best setting for \(name)\n\nSetting \(best): \(settingLabel(best)); each curve is the mean over the \(nSeeds) seed(s) of the windowed mean reward and its interval.\n\n![Learning curves](charts/learning_curves-best.svg)\n\n"
                if !rates.isEmpty {
                    md += "## Parity of the best setting\n\nSuccess-outcome rate per population group, pooled over the setting's seeds, with 95% Wilson intervals (`parity-best.csv`).\n\n![Success-outcome rate by group](charts/parity-best.svg)\n\n"
                }
            }
        }
        // Gate verdict per cell.
        md += "## Gate verdict per cell\n\n| cell | setting | seed | verdict | first failing rule |\n|---|---|---|---|---|\n"
        for c in cells {
            let fail = c.gate.first { !$0.passed }
            md += "| \(c.index) | \(c.setting) | \(c.seed) | \(c.gate.isEmpty ? "no rules" : (c.gatePassed ? "passed" : "**failed**")) | \(fail?.reason ?? "") |\n"
        }
        files.append(("report.md", md))
        return files
    }
}
