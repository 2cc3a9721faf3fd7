import Foundation
import GymEval
import GymReports

/// The files of a worst-case search: `stress.csv` (every point), `stress.svg` (the metric of each
/// point in search order, with the worst so far) and `report.md`.
enum StressReport {
    static func csv(_ o: StressOutcome, ranges: [StressRange]) -> String {
        var out = "point,round," + ranges.map { Render.csvField($0.key) }.joined(separator: ",") + ",value,ci_low,ci_high,count\n"
        func row(_ label: String, _ round: String, _ values: [String], _ m: MetricValue) -> String {
            "\(label),\(round)," + values.joined(separator: ",") + ",\(Render.csvNumber(m.value)),\(Render.csvNumber(m.ciLow)),\(Render.csvNumber(m.ciHigh)),\(m.count)\n"
        }
        out += row("base", "", ranges.map { _ in "" }, o.base)
        for (i, p) in o.points.enumerated() { out += row(String(i), String(p.round), p.values, p.metric) }
        for (s, m) in o.confirmation { out += row("confirm-seed-\(s)", "", o.points[o.worst].values, m) }
        return out
    }

    static func chart(_ o: StressOutcome, request r: StressRequest, scenario: String) -> String {
        let x = o.points.indices.map { Double($0) }
        var running: [Double] = []
        var best = Double.nan
        for p in o.points {
            let v = p.metric.value
            if v.isFinite && (best.isNaN || (r.minimise ? v < best : v > best)) { best = v }
            running.append(best)
        }
        return SVGChart.lineChart(title: "Worst-case search: \(scenario), \(o.agent), \(r.metric)", xLabel: "point (search order)",
                                  yLabel: r.metric,
                                  series: [ChartSeries(label: "each point, with its interval", x: x, y: o.points.map { $0.metric.value },
                                                       low: o.points.map { $0.metric.ciLow }, high: o.points.map { $0.metric.ciHigh }),
                                           ChartSeries(label: "worst so far", x: x, y: running, dashed: true),
                                           ChartSeries(label: "base scenario", x: [0, Double(max(1, o.points.count - 1))], y: [o.base.value, o.base.value], dashed: true)])
    }

    static func markdown(_ o: StressOutcome, request r: StressRequest, scenario: String) -> String {
        func m(_ v: MetricValue) -> String { "\(Render.f(v.value)) [\(Render.f(v.ciLow)), \(Render.f(v.ciHigh))]" }
        var md = "# Worst-case search: \(scenario)\n\n"
        md += "The world where **\(o.agent)** does worst, by \(r.minimise ? "the lowest" : "the highest") `\(r.metric)`: "
        md += r.method == "random" ? "random search over \(r.rounds * r.population) points" : "the cross-entropy method, \(r.rounds) rounds of \(r.population) points (elite \(Int(r.eliteFraction * 100))%)"
        md += ", every point run with seed \(r.seed ?? 0) (common random numbers: the points differ only in their settings). Scenario `\(r.scenarioPath)`.\n\n"
        md += "| parameter | range |\n|---|---|\n"
        for g in r.ranges { md += "| `\(g.key)` | \(g.value(0).1) to \(g.value(1).1)\(g.integer ? " (integers)" : "") |\n" }
        md += "\n## Worst settings found\n\n"
        let order = o.points.indices.sorted {
            CrossEntropySearch.key((r.minimise ? 1 : -1) * o.points[$0].metric.value) < CrossEntropySearch.key((r.minimise ? 1 : -1) * o.points[$1].metric.value)
        }
        md += "| rank | " + r.ranges.map { "`\($0.key)`" }.joined(separator: " | ") + " | \(r.metric) [\(String(format: "%g", 100 * o.confidence))% interval] | round |\n"
        md += "|---|" + r.ranges.map { _ in "---|" }.joined() + "---|---|\n"
        for (rank, i) in order.prefix(10).enumerated() {
            md += "| \(rank + 1) | " + o.points[i].values.joined(separator: " | ") + " | \(m(o.points[i].metric)) | \(o.points[i].round) |\n"
        }
        md += "\nThe base scenario, with the same seed: \(m(o.base)).\n\n"
        md += "## The worst setting on fresh seeds\n\n"
        md += "The search picks the lowest of many noisy values, so the worst point's own value is biased toward the extreme (the winner's curse). Run again with \(o.confirmation.count) seeds the search never used:\n\n"
        md += "| seed | \(r.metric) |\n|---|---|\n"
        for (s, v) in o.confirmation { md += "| \(s) | \(m(v)) |\n" }
        let values = o.confirmation.map(\.metric.value).filter(\.isFinite)
        if !values.isEmpty {
            md += "\nMean over the fresh seeds: \(Render.f(values.reduce(0, +) / Double(values.count))) (against \(Render.f(o.points[o.worst].metric.value)) in the search and \(Render.f(o.base.value)) for the base scenario).\n"
        }
        md += "\n![The metric of every point in search order, the worst so far and the base scenario](stress.svg)\n\n"
        md += "## Files\n\n- `stress.csv`: every point (the base first, the confirmation runs last) with its settings, the metric and its interval\n"
        md += "- `stress.svg`: the chart above\n- `worst.yaml`: the scenario with the worst settings, to run again (`optima-gym run worst.yaml`)\n"
        return md
    }
}
