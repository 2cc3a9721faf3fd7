/// Settings of the evaluator.
public struct EvalConfig: Sendable, Equatable {
    /// Bootstrap resamples per metric.
    public var bootstrapSamples = 500
    /// Two-sided confidence level of every interval.
    public var confidence = 0.95
    /// Length (days) of the retention window for `retention_7d`.
    public var retentionDays = 7.0
    /// `adaptation_hours`: windows of this many simulated hours after the shift; recovered when a
    /// window's mean reward is within `adaptationTolerance` (relative) of the new plateau, the mean
    /// reward of the last quarter of the post-shift decisions.
    public var adaptationWindowHours = 6.0
    public var adaptationTolerance = 0.05
    /// Anomaly detectors over each evaluation's decision stream (`run --detect`); nil: none.
    public var detectors: DetectorConfig? = nil
    /// Decisions of each evaluation before the detectors start (`evaluation.detector_burn_in`).
    public var detectorBurnIn = 0
    /// The YAML switch `evaluation.detectors`: on gives the default detector settings.
    public var detectorsOn: Bool {
        get { detectors != nil }
        set { detectors = newValue ? (detectors ?? DetectorConfig()) : nil }
    }
    public init() {}
}
