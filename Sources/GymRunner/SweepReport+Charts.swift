import Foundation
import GymCore
import GymEval
import GymReports

/// The sweep report's charts: each ranked metric against each numeric parameter (the ranked
/// agent in a panel with its own scale, every agent in a second panel), a heatmap with intervals
/// for a two-parameter grid, and the best setting's learning curves and parity bars.
enum SweepCharts {
    typealias Context = SweepMerge.Context

    static func render(_ c: Context) -> (markdown: String, files: [(String, String)]) {
        var md = "", files: [(String, String)] = []
        let m = c.m
        var effects = "metric,parameter,value,agent,mean,ci_low,ci_high,cells\n"
        md += "\n## Metric against parameter\n\nEach point: the mean over every cell with that parameter value (the other parameters and the seeds pooled), with a \(c.level) t-interval over those cells, clipped to the metric's range (`parameter_effects.csv`). The top panel shows the ranked agent (`\(c.rankAgent)`) on its own scale; the bottom panel every agent on a shared one. Drawn from `cells.csv`.\n\n"
        for name in m.rankBy {
            for (i, p) in m.parameters.enumerated() {
                let values = Array(Set(m.settings.map { $0[i] })).compactMap { v in Double(v).map { ($0, v) } }.sorted { $0.0 < $1.0 }
                guard values.count >= 2, values.count == Set(m.settings.map { $0[i] }).count else { continue }
                var series: [ChartSeries] = []
                for (k, (agent, upper)) in c.agents.enumerated() {
                    var xs: [Double] = [], ys: [Double] = [], lo: [Double] = [], hi: [Double] = []
                    for (x, text) in values {
                        let sel = c.cells.filter { m.settings[$0.setting][i] == text }.compactMap { c.metric($0, agent, name) }
                        let s = SweepMerge.summarize(sel, name: name, confidence: m.confidence)
                        guard s.mean.isFinite else { continue }
                        effects += "\(name),\(Render.csvField(p)),\(Render.csvField(text)),\(Render.csvField(agent)),\(Render.csvNumber(s.mean)),\(Render.csvNumber(s.low)),\(Render.csvNumber(s.high)),\(s.n)\n"
                        xs.append(x); ys.append(s.mean); lo.append(s.low.isFinite ? s.low : s.mean); hi.append(s.high.isFinite ? s.high : s.mean)
                    }
                    if !xs.isEmpty { series.append(ChartSeries(label: agentLabel(agent, isUpperBound: upper), x: xs, y: ys, low: lo, high: hi, dashed: upper, colorIndex: k)) }
                }
                guard !series.isEmpty else { continue }
                let title = MetricCatalog.info(name)?.title ?? name
                let yLabel = "\(name) (mean, \(c.level) interval)"
                var panels: [String] = []
                if let ranked = series.first(where: { $0.label == c.rankAgent }) {
                    panels.append(SVGChart.lineChart(title: "\(c.rankAgent) (own scale)", xLabel: p, yLabel: yLabel, series: [ranked], height: 340))
                }
                panels.append(SVGChart.lineChart(title: "every agent (shared scale)", xLabel: p, yLabel: yLabel, series: series, height: 340))
                let file = "charts/\(name)-vs-\(p.replacingOccurrences(of: "/", with: "_")).svg"
                files.append((file, SVGChart.panels(title: "\(title) against \(p)", panels)))
                md += "![\(title) against \(p)](\(file))\n\n"
            }
        }
        // A two-parameter grid: one heatmap per ranked metric, the ranked agent's mean per setting.
        if m.parameters.count == 2 {
            let xv = orderedValues(m, 0), yv = orderedValues(m, 1)
            var index: [String: Int] = [:]
            for (s, v) in m.settings.enumerated() { index["\(v[0])\u{1}\(v[1])"] = s }
            if index.count == m.settings.count && xv.count * yv.count == m.settings.count {
                md += "## Two-parameter grid\n\nThe ranked agent's mean per setting over its seeds, with the \(c.level) t-interval below it.\n\n"
                for name in m.rankBy {
                    guard let per = c.summary["\(c.rankAgent)/\(name)"] else { continue }
                    func at(_ x: String, _ y: String) -> SweepMerge.Summary? { index["\(x)\u{1}\(y)"].map { per[$0] } }
                    let title = MetricCatalog.info(name)?.title ?? name
                    let file = "charts/\(name)-grid.svg"
                    files.append((file, SVGChart.heatmap(
                        title: "\(title) of \(c.rankAgent) over \(m.parameters[0]) and \(m.parameters[1])", xLabel: m.parameters[0], yLabel: m.parameters[1],
                        xValues: xv, yValues: yv,
                        value: yv.map { y in xv.map { x in at(x, y)?.mean ?? .nan } },
                        low: yv.map { y in xv.map { x in at(x, y)?.low ?? .nan } },
                        high: yv.map { y in xv.map { x in at(x, y)?.high ?? .nan } },
                        higherIsBetter: MetricCatalog.info(name)?.direction != .lowerIsBetter)))
                    md += "![\(title) over the grid](\(file))\n\n"
                }
            }
        }
        files.append(("parameter_effects.csv", effects))
        let (bmd, bfiles) = bestSetting(c)
        return (md + bmd, files + bfiles)
    }

    /// The distinct values of parameter i, numeric ones in numeric order.
    static func orderedValues(_ m: SweepManifest, _ i: Int) -> [String] {
        var seen: [String] = []
        for s in m.settings where !seen.contains(s[i]) { seen.append(s[i]) }
        return seen.sorted { (Double($0) ?? .infinity, $0) < (Double($1) ?? .infinity, $1) }
    }

    /// Learning curves and per-group success rates of the best setting of the first ranked metric.
    static func bestSetting(_ c: Context) -> (String, [(String, String)]) {
        guard let name = c.m.rankBy.first, let best = c.ranking(name).first else { return ("", []) }
        var md = "", files: [(String, String)] = []
        var series: [ChartSeries] = []
        for (agent, upper) in c.agents {
            let curves = c.bySetting[best].compactMap { cell in cell.agents.first { $0.name == agent }?.curve }.filter { !$0.isEmpty }
            guard let first = curves.first else { continue }
            let n = curves.map(\.count).min() ?? 0
            let xs = first.prefix(n).map { Double($0.episodes) }
            let ys = (0..<n).map { j in curves.reduce(0) { $0 + $1[j].mean } / Double(curves.count) }
            let lo = (0..<n).map { j in curves.reduce(0) { $0 + $1[j].low } / Double(curves.count) }
            let hi = (0..<n).map { j in curves.reduce(0) { $0 + $1[j].high } / Double(curves.count) }
            series.append(ChartSeries(label: agentLabel(agent, isUpperBound: upper), x: xs, y: ys, low: lo, high: hi, dashed: upper))
        }
        var rates: [GroupRate] = []
        for (agent, _) in c.agents {
            var pooled: [String: (Int, Int)] = [:]
            var order: [String] = []
            for cell in c.bySetting[best] {
                for (g, n, k) in cell.agents.first(where: { $0.name == agent })?.groups ?? [] {
                    if pooled[g] == nil { order.append(g) }
                    let p = pooled[g] ?? (0, 0)
                    pooled[g] = (p.0 + n, p.1 + k)
                }
            }
            for g in order { rates.append(GroupRate(agent: agent, group: g, decisions: pooled[g]!.0, successes: pooled[g]!.1, confidence: c.m.confidence)) }
        }
        if !rates.isEmpty {
            let groups = Array(Set(rates.map(\.group))).sorted()
            func r(_ a: String, _ g: String) -> GroupRate? { rates.first { $0.agent == a && $0.group == g } }
            files.append(("charts/parity-best.svg", SVGChart.groupedBars(
                title: "Success-outcome rate by group, setting \(best)", xLabel: "group",
                yLabel: "success rate (\(c.level) Wilson interval)", categories: groups,
                seriesLabels: c.agents.map { agentLabel($0.0, isUpperBound: $0.1) },
                values: c.agents.map { a in groups.map { r(a.0, $0)?.rate ?? .nan } },
                low: c.agents.map { a in groups.map { r(a.0, $0)?.low ?? .nan } },
                high: c.agents.map { a in groups.map { r(a.0, $0)?.high ?? .nan } })))
            var pcsv = "agent,group,decisions,successes,rate,ci_low,ci_high\n"
            for g in rates { pcsv += "\(Render.csvField(g.agent)),\(Render.csvField(g.group)),\(g.decisions),\(g.successes),\(Render.csvNumber(g.rate)),\(Render.csvNumber(g.low)),\(Render.csvNumber(g.high))\n" }
            files.append(("parity-best.csv", pcsv))
        }
        if !series.isEmpty {
            files.append(("charts/learning_curves-best.svg", SVGChart.lineChart(title: "Learning curves, setting \(best) (\(c.settingLabel(best)))",
                xLabel: "training decisions", yLabel: "windowed mean reward (band: \(c.level) interval, mean over seeds)", series: series)))
            md += "## Learning curves of the best setting for \(name)\n\nSetting \(best): \(c.settingLabel(best)); each curve is the mean over the \(c.m.seeds.count) seed(s) of the windowed mean reward and its interval.\n\n![Learning curves](charts/learning_curves-best.svg)\n\n"
            if !rates.isEmpty {
                md += "## Parity of the best setting\n\nSuccess-outcome rate per population group, pooled over the setting's seeds, with \(c.level) Wilson intervals (`parity-best.csv`).\n\n![Success-outcome rate by group](charts/parity-best.svg)\n\n"
            }
        }
        return (md, files)
    }
}
