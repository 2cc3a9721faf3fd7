import Foundation
import GymStore

extension Dashboard {
    /// `/compare?a=<id>&b=<id>`: two runs side by side. Their scenarios, seeds, start times and
    /// gate verdicts; one table with a row per (agent, metric) recorded in either run, with each
    /// run's value and interval and the difference B − A; then their learning curves next to each
    /// other (one above the other on a narrow screen and in print). `a` and `b` are run ids or
    /// unique prefixes, as on `/runs/<id>`; they may name the same run.
    static func compare(store: Store, a: String, b: String) throws -> String {
        let runA = try store.run(try store.resolveRun(a))
        let runB = try store.run(try store.resolveRun(b))
        let sa = runA.summary, sb = runB.summary
        var h = "<p><a href=\"/\">all runs</a></p>\n<h1>Run \(esc(sa.runID)) vs run \(esc(sb.runID))</h1>\n"
        h += "<table id=\"runs-compared\"><tr><th></th><th>run A</th><th>run B</th></tr>\n"
        func row(_ label: String, _ cellA: String, _ cellB: String, cls: String? = nil) {
            let c = cls.map { " class=\"\($0)\"" } ?? ""
            h += "<tr><th>\(label)</th><td\(c)>\(cellA)</td><td\(c)>\(cellB)</td></tr>\n"
        }
        row("run", runLink(sa.runID), runLink(sb.runID))
        row("kind", esc(sa.kind), esc(sb.kind))
        row("scenario", "<b>\(esc(sa.scenario))</b> (<code>\(esc(runA.scenarioFile))</code>)",
            "<b>\(esc(sb.scenario))</b> (<code>\(esc(runB.scenarioFile))</code>)")
        row("seed", esc(sa.seed), esc(sb.seed))
        row("started", esc(sa.startedAt), esc(sb.startedAt))
        row("release gate", verdict(sa.gatePassed), verdict(sb.gatePassed), cls: "verdict")
        row("wall time (s)", num(sa.wallTimeSeconds, 1), num(sb.wallTimeSeconds, 1))
        h += "</table>\n"
        if sa.scenario != sb.scenario || runA.scenarioText != runB.scenarioText {
            h += "<p class=\"note\">The two runs were made from different scenario files (or different versions of one): compare their metrics with care.</p>\n"
        }

        h += "<h2>Metrics</h2>\n<table id=\"compare\"><tr><th>agent</th><th>metric</th><th>run A</th><th>interval A</th>"
        h += "<th>run B</th><th>interval B</th><th>B − A</th></tr>\n"
        for (ma, mb) in metricPairs(runA.metrics, runB.metrics) {
            guard let m = ma ?? mb else { continue }
            h += "<tr class=\"metric\"><td>\(esc(m.agent))</td><td>\(esc(m.name))</td>"
            h += "<td class=\"num\">\(metricValue(ma))</td><td class=\"num\">\(metricInterval(ma))</td>"
            h += "<td class=\"num\">\(metricValue(mb))</td><td class=\"num\">\(metricInterval(mb))</td>"
            h += "<td class=\"num\">\(difference(ma?.value, mb?.value))</td></tr>\n"
        }
        h += "</table>\n"

        // The reports' own learning curves, side by side, when their directories are still there.
        h += "<h2>Learning curves</h2>\n<div class=\"pair\" id=\"curves\">\n"
        for (side, s) in [("a", sa), ("b", sb)] {
            h += "<div class=\"chart\" id=\"learning_curve-\(side)\"><h3>Run \(side.uppercased()): \(esc(s.runID))</h3>\n"
            if let svg = reportChart(s.reportDir, "learning_curve.svg") {
                h += svg
            } else {
                h += "<p>This run's report has no learning curve chart (its directory was moved or removed).</p>"
            }
            h += "</div>\n"
        }
        h += "</div>\n"
        return page("Run \(sa.runID) vs run \(sb.runID)", h)
    }

    /// A link to a run's page.
    static func runLink(_ id: String) -> String {
        "<a href=\"/runs/\(esc(id))\">\(esc(id))</a>"
    }

    /// The (agent, metric) pairs recorded in either list: those of `a` in its order, then those only
    /// in `b` in its order. A pair recorded twice in one list keeps its first row.
    static func metricPairs(_ a: [RunImport.Metric], _ b: [RunImport.Metric]) -> [(RunImport.Metric?, RunImport.Metric?)] {
        struct Key: Hashable { var agent: String, name: String }
        func firsts(_ ms: [RunImport.Metric]) -> (order: [Key], rows: [Key: RunImport.Metric]) {
            var order: [Key] = [], rows: [Key: RunImport.Metric] = [:]
            for m in ms {
                let k = Key(agent: m.agent, name: m.name)
                if rows[k] == nil { rows[k] = m; order.append(k) }
            }
            return (order, rows)
        }
        let fa = firsts(a), fb = firsts(b)
        let keys = fa.order + fb.order.filter { fa.rows[$0] == nil }
        return keys.map { (fa.rows[$0], fb.rows[$0]) }
    }

    /// A metric's value; a dash when the run did not record the metric at all.
    static func metricValue(_ m: RunImport.Metric?) -> String {
        guard let m else { return "<span title=\"not recorded in this run\">—</span>" }
        return num(m.value)
    }

    /// A metric's interval as `[low, high]`; n/a without one, empty when the run did not record the metric.
    static func metricInterval(_ m: RunImport.Metric?) -> String {
        guard let m else { return "" }
        if m.ciLow == nil && m.ciHigh == nil { return "n/a" }
        return "[\(num(m.ciLow)), \(num(m.ciHigh))]"
    }

    /// B − A with its sign; n/a when either value is missing or not finite.
    static func difference(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b, a.isFinite, b.isFinite, (b - a).isFinite else { return "n/a" }
        let d = b - a
        return (d > 0 ? "+" : "") + num(d)
    }
}
