import GymEval
import GymGate

/// The names a gate rule may check beyond the run's success metrics: the population's privacy
/// and synthetic-data quality (agent `population`) and off-policy estimates (agent `ope.<candidate>`).
public enum GateMetrics {
    /// Population, privacy and synthetic-data quality, measured for every run (agent `population`).
    public static let population = [
        "privacy.epsilon", "privacy.delta", "privacy.k_min",
        "synthetic.kl_mean", "synthetic.kl_max", "synthetic.diversity", "synthetic.diversity_ratio",
    ]
    /// Off-policy estimates from `optima-gym ope` reports (`gate --ope DIR`), agent `ope.<candidate>`.
    public static var ope: [String] { OPEEstimator.allCases.map { "ope.\($0.rawValue)" } + ["ope.ess"] }
    /// Counts of the anomaly detectors' alarms over an agent's evaluation (`run --detect`):
    /// all alarms, per detector, and the outlier users flagged for review.
    public static let anomalies = ["anomalies.alarms", "anomalies.reward_shift", "anomalies.action_drift", "anomalies.group_drift",
                                   "anomalies.outlier_users"]
    /// The circuit breakers over an agent's evaluation (`safety.breakers`): trips, and the share of
    /// decisions made under the fallback.
    public static let breakers = ["breakers.trips", "breakers.fallback_share"]
    public static var extra: [String] { population + ope + anomalies + breakers }
    /// Metrics a regression rule can compare on paired users.
    public static let paired = Evaluator.pairedMetrics

    /// A message when `name` is not a metric a gate can check (with a did-you-mean), else nil.
    public static func problem(with name: String) -> String? {
        if MetricCatalog.names.contains(name) || extra.contains(name) { return nil }
        if name.hasPrefix("synthetic.kl."), name.count > "synthetic.kl.".count { return nil }
        let all = MetricCatalog.names + extra
        let hint = Suggestions.closest(to: name, among: all).map { " (did you mean '\($0)'?)" } ?? ""
        return "unknown value '\(name)'\(hint); a metric: one of \(all.joined(separator: ", ")), or synthetic.kl.<column>"
    }
}

extension GateRule {
    /// `relative_to` as the schema reads it (empty: none).
    var relativeToText: String {
        get { relativeTo ?? "" }
        set { relativeTo = newValue.isEmpty ? nil : newValue }
    }
}

extension ScenarioSchema {
    /// A gate file's `watch:` section.
    static var gateWatchSchema: Schema<GateWatch> {
        Schema(fields: [
            .choice("metric", \GateWatch.metric, options: { GateMetrics.paired }, "The paired metric the champion is judged on."),
            .number("max_degradation", \.maxDegradation, .closed(0, 1), "Roll back when the champion is worse than the id it named before by more than this fraction (0.05: the blueprint's 5%)."),
            .choice("on", \.on, "Which number of the paired difference is checked: `value`, `ci_low` (the worst end) or `ci_high`."),
        ], rules: [])
    }
}
