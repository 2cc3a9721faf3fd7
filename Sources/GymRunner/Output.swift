import Foundation
import GymCore
import GymData
import GymRandom
import GymReports

/// A growable byte buffer for fast text output (the episode logs run to tens of megabytes).
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }
    public mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
    public mutating func append(_ i: Int) { append(String(i)) }
    /// Shortest round-trip representation; null for non-finite values.
    public mutating func append(number x: Double) { if x.isFinite { append(x.description) } else { append("null" as StaticString) } }
    mutating func appendUUID(seed: UInt64, _ label: String) { DeterministicUUID.append(seed: seed, label: label, to: &bytes) }
    /// Two decimal digits, zero-padded.
    mutating func append2(_ v: Int) { bytes.append(UInt8(48 + v / 10)); bytes.append(UInt8(48 + v % 10)) }
}

/// Renders the blueprint's `training_episodes` and `reward_signals` tables as JSON Lines.
public enum EpisodeLog {
    /// Simulated time 0 is Monday 2026-01-05T00:00:00Z.
    static let epochDays = 20458  // days from 1970-01-01 to 2026-01-05

    /// Deterministic UUID (version-4 layout) from the run seed and a label.
    public static func uuid(seed: UInt64, _ label: String) -> String {
        var w = ByteWriter(capacity: 36)
        appendUUID(&w, seed: seed, label)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    static func appendUUID(_ w: inout ByteWriter, seed: UInt64, _ label: String) {
        w.appendUUID(seed: seed, label)
    }

    /// ISO 8601 UTC timestamp of simulated second `t` (civil-from-days, Hinnant's algorithm).
    public static func timestamp(_ t: Double) -> String {
        var w = ByteWriter(capacity: 20)
        appendTimestamp(&w, t)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    static func appendTimestamp(_ w: inout ByteWriter, _ t: Double) {
        let total = t.isFinite ? Int(t.rounded(.down)) : 0
        let days = epochDays + total / 86_400
        let secs = total % 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        w.append2(y / 100); w.append2(y % 100); w.append("-" as StaticString); w.append2(m); w.append("-" as StaticString); w.append2(d)
        w.append("T" as StaticString); w.append2(secs / 3600); w.append(":" as StaticString); w.append2((secs % 3600) / 60)
        w.append(":" as StaticString); w.append2(secs % 60); w.append("Z" as StaticString)
    }

    /// `training_episodes.jsonl`: one line per decision, with the acting policy's propensity.
    /// `modelVersion` is the acting model's checkpoint id.
    public static func episodes(_ records: RunRecords, contexts: [String], agent: String, seed: UInt64, modelVersion: String,
                                actionLabel: (Int) -> String) -> [UInt8] {
        var w = ByteWriter(capacity: records.episodes.count * 520)
        let model = modelVersion
        for e in records.episodes {
            w.append("{\"episode_id\":\"" as StaticString); appendUUID(&w, seed: seed, "\(agent)/episode/\(e.index)")
            w.append("\",\"user_id\":\"" as StaticString); appendUUID(&w, seed: seed, "user/\(e.user)")
            w.append("\",\"context_snapshot\":" as StaticString); w.append(e.index < contexts.count ? contexts[e.index] : "{}")
            w.append(",\"action_taken\":" as StaticString); w.append(JSON.escape(actionLabel(e.action)))
            w.append(",\"outcome\":\"" as StaticString); w.append(e.outcome.name)
            w.append("\",\"reward_score\":" as StaticString); w.append(number: e.reward)
            w.append(",\"timestamp\":\"" as StaticString); appendTimestamp(&w, e.time)
            w.append("\",\"model_version\":" as StaticString); w.append(JSON.escape(model))
            w.append(",\"propensity\":" as StaticString); w.append(number: e.propensity)
            w.append(",\"action_index\":" as StaticString); w.append(e.action)
            w.append(",\"journey_step\":" as StaticString); w.append(e.journeyStep)
            w.append(",\"elapsed_seconds\":" as StaticString); w.append(number: e.elapsed)
            if e.kind == .suggestPairing && e.target >= 0 {
                w.append(",\"target_user_id\":\"" as StaticString); appendUUID(&w, seed: seed, "user/\(e.target)")
                w.append("\",\"predicted_resonance\":" as StaticString); w.append(number: e.predictedResonance)
            } else if e.kind == .recommendHive && e.target >= 0 {
                w.append(",\"event_id\":\"" as StaticString); appendUUID(&w, seed: seed, "event/\(e.target)")
                w.append("\"" as StaticString)
            }
            w.append("}\n" as StaticString)
        }
        return w.bytes
    }

    /// `reward_signals.jsonl`: one line per signal; latency in whole seconds.
    public static func signals(_ records: RunRecords, agent: String, seed: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: records.signals.count * 200)
        for (i, s) in records.signals.enumerated() {
            w.append("{\"signal_id\":\"" as StaticString); appendUUID(&w, seed: seed, "\(agent)/signal/\(i)")
            w.append("\",\"episode_id\":\"" as StaticString); appendUUID(&w, seed: seed, "\(agent)/episode/\(s.episode)")
            w.append("\",\"signal_type\":\"" as StaticString); w.append(s.kind.name)
            w.append("\",\"value\":" as StaticString); w.append(number: s.value)
            w.append(",\"latency\":" as StaticString); w.append(s.latency.isFinite ? Int(s.latency.rounded()) : 0)
            w.append(",\"confidence\":" as StaticString); w.append(number: s.confidence)
            w.append("}\n" as StaticString)
        }
        return w.bytes
    }
}

extension AtomicDirectory {
    /// The evaluation logs of one agent: `logs/<agent>/training_episodes.jsonl` and `reward_signals.jsonl`.
    public func writeLogs(_ run: AgentRun, seed: UInt64, actionLabel: (Int) -> String) throws {
        try write("logs/\(run.name)/training_episodes.jsonl",
                  bytes: EpisodeLog.episodes(run.evaluation, contexts: run.contexts, agent: run.name, seed: seed,
                                             modelVersion: run.modelVersion, actionLabel: actionLabel))
        try write("logs/\(run.name)/reward_signals.jsonl", bytes: EpisodeLog.signals(run.evaluation, agent: run.name, seed: seed))
    }

    /// The rendered report files (report.md last), then the rename into place.
    public func writeReportAndCommit(_ report: RunReport) throws {
        try write("metrics.csv", Render.metricsCSV(report))
        try write("learning_curve.csv", Render.learningCurveCSV(report))
        try write("learning_curve.svg", SVGChart.learningCurves(report))
        try write("parity.csv", Render.parityCSV(report))
        try write("parity.svg", SVGChart.parityBars(report))
        try write("survival.csv", Render.survivalCSV(report))
        try write("survival.svg", SVGChart.survival(report))
        if !report.populationColumns.isEmpty { try write("population.svg", SVGChart.population(report)) }
        if !report.breakers.isEmpty {
            try write("breakers.csv", Render.breakersCSV(report))
            try write("breakers.svg", SVGChart.breakers(report))
        }
        try write("run.json", Render.runJSON(report))
        try write("report.md", Render.markdown(report))
        try commit()
    }
}

/// Run ids: `<UTC yyyyMMdd-HHmmss>-seed<seed>` plus an optional suffix.
public func makeRunID(started: Date, seed: UInt64, suffix: String = "") -> String {
    let fmt = DateFormatter()
    fmt.locale = Locale(identifier: "en_US_POSIX")
    fmt.timeZone = TimeZone(identifier: "UTC")
    fmt.dateFormat = "yyyyMMdd-HHmmss"
    return "\(fmt.string(from: started))-seed\(seed)\(suffix)"
}
