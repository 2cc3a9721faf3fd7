/// Settings of the evaluator.
public struct EvalConfig: Sendable, Equatable {
    /// Bootstrap resamples per metric.
    public var bootstrapSamples = 500
    /// Two-sided confidence level of every interval.
    public var confidence = 0.95
    /// Length (days) of the retention window for `retention_7d`.
    public var retentionDays = 7.0
    public init() {}
}
