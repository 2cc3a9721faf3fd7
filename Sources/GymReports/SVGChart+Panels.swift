import Foundation

extension SVGChart {
    /// Charts stacked vertically under one title, each with its own scale (nested `<svg>`
    /// elements). `panels` are complete charts from `lineChart` or `groupedBars`.
    public static func panels(title: String, _ panels: [String], width: Double = 760) -> String {
        let head = titleHeight(title, width: width) + 4
        var heights: [Double] = []
        for p in panels {
            // The panel's own height, from its opening tag.
            if let r = p.range(of: "height=\""), let end = p[r.upperBound...].firstIndex(of: "\""), let h = Double(p[r.upperBound..<end]) {
                heights.append(h)
            } else { heights.append(420) }
        }
        let total = head + heights.reduce(0, +)
        var svg = opening(title: title, width: width, height: total)
        var y = head
        for (p, h) in zip(panels, heights) {
            // Re-open the panel at its offset; drop its XML namespace declaration (inherited).
            let body = p.replacingOccurrences(of: "<svg xmlns=\"http://www.w3.org/2000/svg\" ", with: "<svg x=\"0\" y=\"\(n(y))\" ")
            svg += body
            y += h
        }
        svg += "</svg>\n"
        return svg
    }

    /// A heatmap of a metric over a two-parameter grid: one cell per (x, y) setting, coloured by
    /// its value on a white-to-blue scale (direction-aware: `higherIsBetter` darkens high values),
    /// labelled with the value and its interval. NaN cells are grey.
    public static func heatmap(title: String, xLabel: String, yLabel: String, xValues: [String], yValues: [String],
                               value: [[Double]], low: [[Double]], high: [[Double]], higherIsBetter: Bool,
                               width: Double = 760) -> String {
        let left = 96.0, right = 20.0
        let top = titleHeight(title, width: width) + 10
        let cw = (width - left - right) / Double(max(1, xValues.count))
        let ch = 54.0
        let height = top + ch * Double(yValues.count) + 70
        let finite = value.flatMap { $0 }.filter { $0.isFinite }
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        var svg = opening(title: title, width: width, height: height)
        for (r, yv) in yValues.enumerated() {
            let y = top + ch * Double(r)
            svg += "<text x=\"\(n(left - 8))\" y=\"\(n(y + ch / 2 + 4))\" text-anchor=\"end\" fill=\"#444\">\(esc(fit(yv, width: left - 12, fontSize: 12)))</text>\n"
            for (c, _) in xValues.enumerated() {
                let x = left + cw * Double(c)
                let v = value[r][c]
                var fill = "#dddddd", ink = "#222"
                if v.isFinite {
                    var t = hi > lo ? (v - lo) / (hi - lo) : 0.5
                    if !higherIsBetter { t = 1 - t }
                    let g = Int((235 - 160 * t).rounded()), b = Int((250 - 60 * t).rounded()), rr = Int((245 - 200 * t).rounded())
                    fill = String(format: "#%02x%02x%02x", rr, g, b)
                    if t > 0.6 { ink = "#ffffff" }
                }
                svg += "<rect x=\"\(n(x + 1))\" y=\"\(n(y + 1))\" width=\"\(n(cw - 2))\" height=\"\(n(ch - 2))\" fill=\"\(fill)\"/>\n"
                let main = v.isFinite ? label(v) : "n/a"
                svg += "<text x=\"\(n(x + cw / 2))\" y=\"\(n(y + ch / 2 - 2))\" text-anchor=\"middle\" font-weight=\"bold\" fill=\"\(ink)\">\(main)</text>\n"
                if v.isFinite && low[r][c].isFinite && high[r][c].isFinite {
                    let band = fit("[\(label(low[r][c])), \(label(high[r][c]))]", width: cw - 6, fontSize: 10)
                    svg += "<text x=\"\(n(x + cw / 2))\" y=\"\(n(y + ch / 2 + 13))\" text-anchor=\"middle\" font-size=\"10\" fill=\"\(ink)\">\(esc(band))</text>\n"
                }
            }
        }
        let bottom = top + ch * Double(yValues.count)
        for (c, xv) in xValues.enumerated() {
            svg += "<text x=\"\(n(left + cw * (Double(c) + 0.5)))\" y=\"\(n(bottom + 18))\" text-anchor=\"middle\" fill=\"#444\">\(esc(fit(xv, width: cw - 4, fontSize: 12)))</text>\n"
        }
        svg += "<text x=\"\(n(left + (width - left - right) / 2))\" y=\"\(n(bottom + 40))\" text-anchor=\"middle\" fill=\"#222\">\(esc(xLabel))</text>\n"
        svg += "<text transform=\"translate(16 \(n(top + ch * Double(yValues.count) / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"#222\">\(esc(yLabel))</text>\n"
        svg += "</svg>\n"
        return svg
    }

    /// `s` shortened with an ellipsis so that it fits `width` (conservatively measured).
    static func fit(_ s: String, width: Double, fontSize: Double) -> String {
        let maxChars = max(1, Int(width / (fontSize * 0.68)))
        return s.count <= maxChars ? s : String(s.prefix(max(1, maxChars - 1))) + "…"
    }
}

extension SVGChart {
    /// The run report's population chart: one panel per column, the share of real rows and of
    /// simulated users in each bin (or level).
    public static func population(_ r: RunReport) -> String {
        let charts = r.populationColumns.map { c -> String in
            let rt = max(1, c.real.reduce(0, +)), st = max(1, c.simulated.reduce(0, +))
            let none = [Double](repeating: .nan, count: c.bins.count)
            return groupedBars(title: "\(c.name) (\(c.kind)): KL \(String(format: "%.4f", c.kl))", xLabel: c.kind == "numeric" ? "bin" : "level",
                               yLabel: "share of rows", categories: c.bins, seriesLabels: ["real data", "simulated users"],
                               values: [c.real.map { $0 / rt }, c.simulated.map { $0 / st }], low: [none, none], high: [none, none], height: 300)
        }
        return panels(title: "Simulated population against real data: \(r.scenario)", charts)
    }
}
