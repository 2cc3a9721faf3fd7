import Foundation
import GymCore

/// One series of a line chart, with an optional interval band.
public struct ChartSeries: Sendable {
    public var label: String
    public var x: [Double]
    public var y: [Double]
    public var low: [Double]?
    public var high: [Double]?
    public var dashed: Bool
    /// Index into the palette (nil: the series' position), so that an agent keeps its colour
    /// across the panels of a figure.
    public var colorIndex: Int?
    public init(label: String, x: [Double], y: [Double], low: [Double]? = nil, high: [Double]? = nil, dashed: Bool = false, colorIndex: Int? = nil) {
        self.label = label; self.x = x; self.y = y; self.low = low; self.high = high; self.dashed = dashed; self.colorIndex = colorIndex
    }
}

/// A self-contained SVG line chart with bands, axes, ticks, labels and a legend. Deterministic:
/// the same input gives the same bytes.
public enum SVGChart {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]

    static func n(_ x: Double) -> String { String(format: "%.2f", x) }

    /// "Nice" tick values covering [lo, hi] (1-2-5 steps).
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = ceil(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    static func label(_ v: Double) -> String {
        if abs(v) >= 1000 && v == v.rounded() {
            return v >= 1_000_000 ? String(format: "%gM", v / 1_000_000) : String(format: "%gk", v / 1000)
        }
        return String(format: "%g", (v * 10000).rounded() / 10000)
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A conservative estimate of a text's width in pixels: every character counted as wide as a
    /// capital letter of a sans-serif font (0.68 em), so that text never overflows whatever font
    /// the viewer substitutes.
    static func textWidth(_ s: String, fontSize: Double) -> Double { Double(s.count) * fontSize * 0.68 }

    /// `text` broken at spaces into lines no wider than `width` (a word longer than a line is
    /// split by characters).
    static func wrap(_ text: String, width: Double, fontSize: Double) -> [String] {
        let perLine = max(8, Int(width / (fontSize * 0.68)))
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            var w = String(word)
            while w.count > perLine {
                if !current.isEmpty { lines.append(current); current = "" }
                lines.append(String(w.prefix(perLine))); w = String(w.dropFirst(perLine))
            }
            if current.isEmpty { current = w } else if current.count + 1 + w.count <= perLine { current += " " + w } else { lines.append(current); current = w }
        }
        if !current.isEmpty { lines.append(current) }
        return lines.isEmpty ? [""] : lines
    }

    /// Height taken by a wrapped title of `title` at the top of a chart `width` wide.
    static func titleHeight(_ title: String, width: Double) -> Double {
        Double(wrap(title, width: width - 40, fontSize: 15).count) * 19 + 14
    }

    /// The `<svg>` element with its title, white background and heading (wrapped to the width).
    static func opening(title: String, width: Double, height: Double) -> String {
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        svg += "<title>\(esc(title))</title>\n"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"#ffffff\"/>\n"
        for (i, line) in wrap(title, width: width - 40, fontSize: 15).enumerated() {
            svg += "<text x=\"\(n(width / 2))\" y=\"\(n(24 + 19 * Double(i)))\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\" fill=\"#222\">\(esc(line))</text>\n"
        }
        return svg
    }

    /// A legend below a plot: `items` (label, swatch markup at x, y) laid out left to right,
    /// wrapping to a new row before an item would pass the right edge. Returns the markup and the
    /// number of rows.
    static func legend(_ items: [(label: String, swatch: (Double, Double) -> String, swatchWidth: Double)], left: Double, top: Double,
                       width: Double) -> (svg: String, rows: Int) {
        var svg = "", x = left, y = top, rows = items.isEmpty ? 0 : 1
        for it in items {
            let w = it.swatchWidth + 6 + textWidth(it.label, fontSize: 12) + 18
            if x > left && x + w > width - 10 { x = left; y += 18; rows += 1 }
            svg += it.swatch(x, y)
            svg += "<text x=\"\(n(x + it.swatchWidth + 6))\" y=\"\(n(y + 4))\" fill=\"#222\">\(esc(it.label))</text>\n"
            x += w
        }
        return (svg, rows)
    }

    /// Rows a legend of `labels` takes.
    static func legendRows(_ labels: [String], swatchWidth: Double, left: Double, width: Double) -> Int {
        legend(labels.map { ($0, { _, _ in "" }, swatchWidth) }, left: left, top: 0, width: width).rows
    }

    /// Horizontal grid lines with their value labels at nice ticks of [y0, y1].
    static func yGrid(_ y0: Double, _ y1: Double, left: Double, width pw: Double, _ py: (Double) -> Double) -> String {
        var svg = ""
        for t in ticks(y0, y1) {
            let y = py(t)
            svg += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + pw))\" y2=\"\(n(y))\" stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\" fill=\"#444\">\(label(t))</text>\n"
        }
        return svg
    }

    public static func lineChart(title: String, xLabel: String, yLabel: String, series: [ChartSeries],
                                 width: Double = 760, height: Double = 420) -> String {
        let left = 72.0, right = 20.0
        let top = titleHeight(title, width: width) + 6
        let legendRowCount = legendRows(series.map(\.label), swatchWidth: 22, left: left, width: width)
        let bottom = 78.0 + 18 * Double(legendRowCount)
        let height = height + top - 44 + bottom - 96
        let pw = width - left - right, ph = height - top - bottom
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            xs += s.x
            ys += s.y.filter { $0.isFinite } + (s.low ?? []).filter { $0.isFinite } + (s.high ?? []).filter { $0.isFinite }
        }
        var x0 = xs.min() ?? 0, x1 = xs.max() ?? 1
        var y0 = ys.min() ?? 0, y1 = ys.max() ?? 1
        if x1 <= x0 { x0 -= 1; x1 += 1 }
        if y1 <= y0 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.08
        y0 -= pad; y1 += pad
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * ph }
        var svg = opening(title: title, width: width, height: height)
        // Grid and ticks.
        svg += yGrid(y0, y1, left: left, width: pw, py)
        for t in ticks(x0, x1, count: 6) {
            let x = px(t)
            svg += "<line x1=\"\(n(x))\" y1=\"\(n(top + ph))\" x2=\"\(n(x))\" y2=\"\(n(top + ph + 5))\" stroke=\"#444\"/>\n"
            svg += "<text x=\"\(n(x))\" y=\"\(n(top + ph + 18))\" text-anchor=\"middle\" fill=\"#444\">\(label(t))</text>\n"
        }
        svg += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(pw))\" height=\"\(n(ph))\" fill=\"none\" stroke=\"#444\"/>\n"
        if y0 < 0 && y1 > 0 {
            svg += "<line x1=\"\(n(left))\" y1=\"\(n(py(0)))\" x2=\"\(n(left + pw))\" y2=\"\(n(py(0)))\" stroke=\"#999\" stroke-dasharray=\"2,3\"/>\n"
        }
        svg += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(top + ph + 38))\" text-anchor=\"middle\" fill=\"#222\">\(esc(xLabel))</text>\n"
        svg += "<text transform=\"translate(18 \(n(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"#222\">\(esc(yLabel))</text>\n"
        // Bands, then lines.
        for (i, s) in series.enumerated() {
            guard let lo = s.low, let hi = s.high, lo.count == s.x.count, hi.count == s.x.count, s.x.count > 1 else { continue }
            let color = palette[(s.colorIndex ?? i) % palette.count]
            var pts: [String] = []
            for j in 0..<s.x.count where hi[j].isFinite { pts.append("\(n(px(s.x[j]))),\(n(py(hi[j])))") }
            for j in stride(from: s.x.count - 1, through: 0, by: -1) where lo[j].isFinite { pts.append("\(n(px(s.x[j]))),\(n(py(lo[j])))") }
            svg += "<polygon points=\"\(pts.joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
        }
        for (i, s) in series.enumerated() {
            let color = palette[(s.colorIndex ?? i) % palette.count]
            let pts = zip(s.x, s.y).filter { $0.1.isFinite }.map { "\(n(px($0.0))),\(n(py($0.1)))" }
            let dash = s.dashed ? " stroke-dasharray=\"6,4\"" : ""
            if pts.count == 1 {
                let p = pts[0].split(separator: ",")
                svg += "<circle cx=\"\(p[0])\" cy=\"\(p[1])\" r=\"3\" fill=\"\(color)\"/>\n"
            } else if !pts.isEmpty {
                svg += "<polyline points=\"\(pts.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
                // Few points: mark where the measurements are.
                if pts.count <= 12 {
                    for p in pts {
                        let xy = p.split(separator: ",")
                        svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"3\" fill=\"\(color)\"/>\n"
                    }
                }
            }
        }
        // Legend below the plot.
        svg += legend(series.enumerated().map { (i, s) in
            let color = palette[(s.colorIndex ?? i) % palette.count]
            let dash = s.dashed ? " stroke-dasharray=\"6,4\"" : ""
            return (s.label, { x, y in "<line x1=\"\(n(x))\" y1=\"\(n(y))\" x2=\"\(n(x + 22))\" y2=\"\(n(y))\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n" }, 22.0)
        }, left: left, top: top + ph + 62, width: width).svg
        svg += "</svg>\n"
        return svg
    }

    /// A grouped bar chart with error bars: one cluster per category, one bar per series.
    /// `values[s][c]`, `low[s][c]`, `high[s][c]`; non-finite values leave a gap.
    public static func groupedBars(title: String, xLabel: String, yLabel: String, categories: [String], seriesLabels: [String],
                                   values: [[Double]], low: [[Double]], high: [[Double]], width: Double = 760, height: Double = 420) -> String {
        let left = 72.0, right = 20.0
        let top = titleHeight(title, width: width) + 6
        let bottom = 78.0 + 18 * Double(legendRows(seriesLabels, swatchWidth: 14, left: left, width: width))
        let height = height + top - 44 + bottom - 96
        let pw = width - left - right, ph = height - top - bottom
        let all = (values + high).flatMap { $0 }.filter { $0.isFinite }
        let y0 = 0.0
        var y1 = max(all.max() ?? 1, 1e-9)
        y1 *= 1.08
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * ph }
        var svg = opening(title: title, width: width, height: height)
        svg += yGrid(y0, y1, left: left, width: pw, py)
        svg += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(pw))\" height=\"\(n(ph))\" fill=\"none\" stroke=\"#444\"/>\n"
        let C = max(1, categories.count), S = max(1, seriesLabels.count)
        let cw = pw / Double(C), bw = cw * 0.8 / Double(S)
        for (c, cat) in categories.enumerated() {
            let cx = left + cw * (Double(c) + 0.5)
            svg += "<text x=\"\(n(cx))\" y=\"\(n(top + ph + 18))\" text-anchor=\"middle\" fill=\"#444\"><title>\(esc(cat))</title>\(esc(fit(cat, width: cw - 4, fontSize: 12)))</text>\n"
            for s in 0..<seriesLabels.count {
                let v = values[s][c]
                guard v.isFinite else { continue }
                let color = palette[s % palette.count]
                let x = left + cw * Double(c) + cw * 0.1 + bw * Double(s)
                svg += "<rect x=\"\(n(x + 1))\" y=\"\(n(py(v)))\" width=\"\(n(bw - 2))\" height=\"\(n(py(0) - py(v)))\" fill=\"\(color)\" fill-opacity=\"0.8\"><title>\(esc(seriesLabels[s])), \(esc(cat)): \(label(v))</title></rect>\n"
                let lo = low[s][c], hi = high[s][c]
                if lo.isFinite && hi.isFinite {
                    let mx = x + bw / 2
                    svg += "<line x1=\"\(n(mx))\" y1=\"\(n(py(lo)))\" x2=\"\(n(mx))\" y2=\"\(n(py(hi)))\" stroke=\"#222\"/>\n"
                    svg += "<line x1=\"\(n(mx - 4))\" y1=\"\(n(py(lo)))\" x2=\"\(n(mx + 4))\" y2=\"\(n(py(lo)))\" stroke=\"#222\"/>\n"
                    svg += "<line x1=\"\(n(mx - 4))\" y1=\"\(n(py(hi)))\" x2=\"\(n(mx + 4))\" y2=\"\(n(py(hi)))\" stroke=\"#222\"/>\n"
                }
            }
        }
        svg += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(top + ph + 38))\" text-anchor=\"middle\" fill=\"#222\">\(esc(xLabel))</text>\n"
        svg += "<text transform=\"translate(18 \(n(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"#222\">\(esc(yLabel))</text>\n"
        svg += legend(seriesLabels.enumerated().map { (i, l) in
            (l, { x, y in "<rect x=\"\(n(x))\" y=\"\(n(y - 6))\" width=\"14\" height=\"12\" fill=\"\(palette[i % palette.count])\" fill-opacity=\"0.8\"/>\n" }, 14.0)
        }, left: left, top: top + ph + 62, width: width).svg
        svg += "</svg>\n"
        return svg
    }

    /// Per-group success rates of a run report (the parity behind bias_parity), with intervals.
    public static func parityBars(_ r: RunReport) -> String {
        let groups = Array(Set(r.groupRates.map(\.group))).sorted()
        let agents = r.agents.map(\.name)
        func cell(_ a: String, _ g: String) -> GroupRate? { r.groupRates.first { $0.agent == a && $0.group == g } }
        return groupedBars(title: "Success-outcome rate by group (parity)", xLabel: "group", yLabel: "success rate (\(Render.percent(r.confidence)) Wilson interval)",
                           categories: groups, seriesLabels: r.agents.map { agentLabel($0.name, isUpperBound: $0.isUpperBound) },
                           values: agents.map { a in groups.map { cell(a, $0)?.rate ?? .nan } },
                           low: agents.map { a in groups.map { cell(a, $0)?.low ?? .nan } },
                           high: agents.map { a in groups.map { cell(a, $0)?.high ?? .nan } })
    }

    /// The survival chart of a run report: users still active by days since their first session.
    public static func survival(_ r: RunReport) -> String {
        let series = r.survival.enumerated().map { (k, s) in
            ChartSeries(label: agentLabel(s.agent, isUpperBound: r.agents.first { $0.name == s.agent }?.isUpperBound == true),
                        x: s.curve.indices.map(Double.init), y: s.curve,
                        dashed: r.agents.first { $0.name == s.agent }?.isUpperBound == true, colorIndex: k)
        }
        return lineChart(title: "Users still active: \(r.scenario)", xLabel: "days since the user's first session",
                         yLabel: "share still active (Kaplan-Meier)", series: series)
    }

    /// The learning-curve chart of a run report.
    public static func learningCurves(_ r: RunReport) -> String {
        let series = r.agents.map { a in
            ChartSeries(label: agentLabel(a.name, isUpperBound: a.isUpperBound),
                        x: a.curve.map { Double($0.episodes) }, y: a.curve.map { $0.meanReward },
                        low: a.curve.map { $0.ciLow }, high: a.curve.map { $0.ciHigh }, dashed: a.isUpperBound)
        }
        return lineChart(title: "Learning curves: \(r.scenario)", xLabel: "training episodes (decisions)",
                         yLabel: "mean reward per window (-1 to 1)", series: series)
    }
}
