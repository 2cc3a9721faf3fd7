import Foundation

/// What one agent's circuit breakers did over its evaluation, as the report shows it.
public struct BreakerSummary: Sendable {
    public var agent: String
    public var fallback: String
    public var decisions: Int
    public var fallbackDecisions: Int
    /// Decisions per chart point.
    public var every: Int
    /// Per breaker: its name, trips, the decisions it held open, and the share of each bucket's
    /// decisions it held open.
    public var breakers: [(name: String, trips: Int, open: Int, shares: [Double])]
    public init(agent: String, fallback: String, decisions: Int, fallbackDecisions: Int, every: Int,
                breakers: [(name: String, trips: Int, open: Int, shares: [Double])]) {
        self.agent = agent; self.fallback = fallback; self.decisions = decisions; self.fallbackDecisions = fallbackDecisions
        self.every = every; self.breakers = breakers
    }
}

extension Render {
    /// `breakers.csv`: agent, breaker, first decision of the bucket, share of its decisions the breaker held open.
    public static func breakersCSV(_ r: RunReport) -> String {
        var out = "agent,breaker,decision,open_share\n"
        for s in r.breakers {
            for b in s.breakers {
                for (i, v) in b.shares.enumerated() { out += "\(csvField(s.agent)),\(csvField(b.name)),\(i * s.every),\(csvNumber(v))\n" }
            }
        }
        return out
    }

    /// The report's section on circuit breakers.
    static func breakersMarkdown(_ r: RunReport) -> String {
        guard !r.breakers.isEmpty else { return "" }
        var md = "## Circuit breakers\n\n![Share of each window of evaluation decisions during which each breaker was open](breakers.svg)\n\n"
        md += "While a breaker is open the scenario's fallback decides. Trips, with when and why, are in `breakers/<agent>.jsonl`; the shares per window in `breakers.csv`.\n\n"
        md += "| agent | breaker | trips | decisions held open |\n|---|---|---|---|\n"
        func share(_ n: Int, _ d: Int) -> String { "\(n) of \(d) (\(f(d > 0 ? 100 * Double(n) / Double(d) : .nan, 1))%)" }
        for s in r.breakers {
            for b in s.breakers { md += "| \(s.agent) | \(b.name) | \(b.trips) | \(share(b.open, s.decisions)) |\n" }
            md += "| \(s.agent) | **any (fallback \(s.fallback) decided)** | \(s.breakers.reduce(0) { $0 + $1.trips }) | \(share(s.fallbackDecisions, s.decisions)) |\n"
        }
        return md + "\n"
    }
}

extension SVGChart {
    /// One panel per agent: the share of each window of evaluation decisions during which each
    /// breaker was open.
    public static func breakers(_ r: RunReport) -> String {
        let panels = r.breakers.map { s in
            lineChart(title: "\(s.agent): fallback \(s.fallback), \(s.fallbackDecisions) of \(s.decisions) decisions",
                      xLabel: "evaluation decision", yLabel: "share of the window open",
                      series: s.breakers.map { b in
                          ChartSeries(label: "\(b.name) (\(b.trips) trip\(b.trips == 1 ? "" : "s"))",
                                      x: b.shares.indices.map { Double($0 * s.every) }, y: b.shares)
                      }, height: 300)
        }
        return SVGChart.panels(title: "Circuit breakers: \(r.scenario)", panels)
    }
}
