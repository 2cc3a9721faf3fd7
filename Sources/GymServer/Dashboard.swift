import Foundation
import GymStore

/// The dashboard's pages: server-rendered HTML with the run reports' own SVG charts, no script,
/// readable on a laptop screen and printable.
enum Dashboard {
    static func esc(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func page(_ title: String, _ body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(esc(title))</title>
        <style>
        body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 1.5em auto; padding: 0 1em; color: #222; }
        table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1.5em; font-size: 0.92em; }
        th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.5em; text-align: left; }
        th { background: #f4f4f4; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .passed { color: #1a7f37; font-weight: 600; } .failed { color: #cf222e; font-weight: 600; }
        .chart svg { max-width: 100%; height: auto; }
        .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; } .pair > * { min-width: 0; }
        form.compare label { margin-right: 1em; } form.compare select { max-width: 22em; }
        @media (max-width: 760px) { .pair { grid-template-columns: 1fr; } }
        @media print { a { color: inherit; text-decoration: none; } .chart { page-break-inside: avoid; } .pair { grid-template-columns: 1fr; } form { display: none; } }
        </style></head>
        <body>
        \(body)
        </body></html>

        """
    }

    static func verdict(_ passed: Bool?) -> String {
        switch passed {
        case .some(true): return "<span class=\"passed\">PASSED</span>"
        case .some(false): return "<span class=\"failed\">FAILED</span>"
        case .none: return "no gate"
        }
    }

    static func num(_ x: Double?, _ digits: Int = 4) -> String {
        guard let x, x.isFinite else { return "n/a" }
        return String(format: "%.\(digits)f", x)
    }

    /// A chart of a run's report (`file` in `reportDir`) from its `<svg` on, ready to inline; nil
    /// when the report's directory or the chart is gone. The charts are the reports' own files.
    static func reportChart(_ reportDir: String, _ file: String) -> String? {
        let path = URL(fileURLWithPath: reportDir).appendingPathComponent(file).path
        guard let svg = try? String(contentsOfFile: path, encoding: .utf8), let start = svg.range(of: "<svg") else { return nil }
        return String(svg[start.lowerBound...])
    }

    /// `/`: the runs and sweeps with their gate verdicts, and the registry.
    static func index(store: Store) throws -> String {
        let runs = try store.runs(limit: 200)
        var b = "<h1>OptimaGym</h1>\n<p>Store <code>\(esc(store.path))</code>: \(runs.count) run\(runs.count == 1 ? "" : "s") shown, newest first.</p>\n"
        b += "<h2>Runs and sweeps</h2>\n<table id=\"runs\"><tr><th>run</th><th>kind</th><th>scenario</th><th>started</th><th>gate</th><th>agents</th><th>logged decisions</th><th>wall time (s)</th></tr>\n"
        for r in runs {
            b += "<tr class=\"run\"><td><a href=\"/runs/\(esc(r.runID))\">\(esc(r.runID))</a></td><td>\(esc(r.kind))</td><td>\(esc(r.scenario))</td>"
            b += "<td>\(esc(r.startedAt))</td><td class=\"verdict\">\(verdict(r.gatePassed))</td><td class=\"num\">\(r.agents)</td>"
            b += "<td class=\"num\">\(r.episodes)</td><td class=\"num\">\(num(r.wallTimeSeconds, 1))</td></tr>\n"
        }
        b += "</table>\n"
        if runs.count >= 2 {
            // A plain GET form: the browser sends /compare?a=<id>&b=<id>. B defaults to the newest run.
            func options(_ selected: String) -> String {
                runs.map { "<option value=\"\(esc($0.runID))\"\($0.runID == selected ? " selected" : "")>\(esc($0.runID)) (\(esc($0.scenario)))</option>" }.joined()
            }
            b += "<form class=\"compare\" id=\"compare-form\" method=\"get\" action=\"/compare\"><b>Compare two runs:</b> "
            b += "<label>run A <select name=\"a\">\(options(runs[1].runID))</select></label>"
            b += "<label>run B <select name=\"b\">\(options(runs[0].runID))</select></label><button type=\"submit\">Compare</button></form>\n"
        }
        b += "<h2>Model registry</h2>\n<table id=\"models\"><tr><th>model</th><th>type</th><th>agent</th><th>aliases</th><th>run</th><th>trained</th></tr>\n"
        for m in try store.models(limit: 200) {
            b += "<tr class=\"model\"><td><code>\(esc(m.id))</code></td><td>\(esc(m.modelType))</td><td>\(esc(m.agent))</td>"
            b += "<td>\(esc(m.aliases.joined(separator: ", ")))</td><td><a href=\"/runs/\(esc(m.runID))\">\(esc(m.runID))</a></td><td>\(esc(m.trainingDate))</td></tr>\n"
        }
        b += "</table>\n"
        // The champion's history: every move with its reason, newest first.
        let history = try store.aliasHistory(Store.championAlias)
        if !history.isEmpty {
            b += "<h2>Champion history</h2>\n<table id=\"champion-history\"><tr><th>when</th><th>model</th><th>was</th><th>run</th><th>why</th></tr>\n"
            for e in history.reversed().prefix(100) {
                b += "<tr class=\"alias-event\"><td>\(esc(e.at))</td><td><code>\(esc(e.checkpointID ?? "-"))</code></td><td><code>\(esc(e.previousID ?? "-"))</code></td>"
                b += "<td>\(e.runID.map { "<a href=\"/runs/\(esc($0))\">\(esc($0))</a>" } ?? "")</td><td>\(esc(e.reason))</td></tr>\n"
            }
            b += "</table>\n"
        }
        return page("OptimaGym runs", b)
    }

    /// `/runs/<id>`: a run's metrics with intervals, its verdicts, and its report's charts.
    static func run(store: Store, ref: String) throws -> String {
        let d = try store.run(try store.resolveRun(ref))
        let s = d.summary
        var b = "<p><a href=\"/\">all runs</a></p>\n<h1>Run \(esc(s.runID))</h1>\n"
        b += "<p>\(esc(s.kind)) of scenario <b>\(esc(s.scenario))</b> (<code>\(esc(d.scenarioFile))</code>), seed \(esc(s.seed)), started \(esc(s.startedAt)); release gate: <span id=\"verdict\">\(verdict(s.gatePassed))</span></p>\n"
        if !d.verdicts.isEmpty {
            b += "<h2>Gate verdicts</h2>\n<table id=\"verdicts\"><tr><th>when</th><th>mode</th><th>rules</th><th>verdict</th><th>action</th></tr>\n"
            for v in d.verdicts {
                b += "<tr><td>\(esc(v.at))</td><td>\(esc(v.mode))</td><td>\(esc(v.rulesFile))</td><td>\(verdict(v.passed))</td><td>\(esc(v.action ?? ""))</td></tr>\n"
            }
            b += "</table>\n"
        }
        b += "<h2>Metrics</h2>\n<table id=\"metrics\"><tr><th>agent</th><th>metric</th><th>value</th><th>interval</th><th>n</th></tr>\n"
        for m in d.metrics {
            b += "<tr class=\"metric\"><td>\(esc(m.agent))</td><td>\(esc(m.name))</td><td class=\"num\">\(num(m.value))</td>"
            b += "<td class=\"num\">[\(num(m.ciLow)), \(num(m.ciHigh))]</td><td class=\"num\">\(m.n)</td></tr>\n"
        }
        b += "</table>\n"
        // The report's own charts, when its directory is still there.
        for (file, title) in [("learning_curve.svg", "Learning curves"), ("parity.svg", "Success rate by group (parity)"), ("survival.svg", "Users still active")] {
            guard let body = reportChart(s.reportDir, file) else { continue }
            b += "<h2>\(title)</h2>\n<div class=\"chart\" id=\"\(file.replacingOccurrences(of: ".svg", with: ""))\">\(body)</div>\n"
        }
        return page("Run \(s.runID)", b)
    }
}
