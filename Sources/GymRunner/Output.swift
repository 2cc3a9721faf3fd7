import Foundation
import GymCore
import GymRandom
import GymReports

/// Errors while writing outputs.
public enum OutputError: Error, CustomStringConvertible {
    case exists(String)
    case io(path: String, message: String)
    public var description: String {
        switch self {
        case .exists(let p): return "\(p): output directory already exists and is not empty; choose another --out (nothing was written)"
        case .io(let p, let m): return "\(p): \(m)"
        }
    }
}

/// Writes a set of files as one unit: everything goes to a hidden temporary directory next to
/// the destination, which is renamed into place at the end. A failure part-way leaves no
/// partial report directory behind.
public final class AtomicDirectory {
    public let destination: URL
    let temporary: URL
    var committed = false
    public private(set) var files: [String] = []

    public init(destination: URL) throws {
        self.destination = destination
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: destination.path, isDirectory: &isDir) {
            let contents = (try? fm.contentsOfDirectory(atPath: destination.path)) ?? ["?"]
            if !isDir.boolValue || !contents.isEmpty { throw OutputError.exists(destination.path) }
        }
        let parent = destination.deletingLastPathComponent()
        do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw OutputError.io(path: parent.path, message: "cannot create directory: \(error.localizedDescription)")
        }
        AtomicDirectory.removeStale(in: parent)
        temporary = parent.appendingPathComponent(".tmp-\(destination.lastPathComponent)-\(getpid())")
        try? fm.removeItem(at: temporary)
        do { try fm.createDirectory(at: temporary, withIntermediateDirectories: true) } catch {
            throw OutputError.io(path: temporary.path, message: "cannot create directory: \(error.localizedDescription)")
        }
    }

    public func write(_ relative: String, _ text: String) throws {
        try write(relative, bytes: Array(text.utf8))
    }

    public func write(_ relative: String, bytes: [UInt8]) throws {
        let url = temporary.appendingPathComponent(relative)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        } catch {
            throw OutputError.io(path: destination.appendingPathComponent(relative).path, message: "cannot write: \(error.localizedDescription)")
        }
        files.append(relative)
    }

    /// Temporary directories left by runs that were killed (their process no longer exists).
    static func removeStale(in parent: URL) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for name in names where name.hasPrefix(".tmp-") {
            guard let dash = name.lastIndex(of: "-"), let pid = Int32(name[name.index(after: dash)...]), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
            }
        }
    }

    /// Moves the finished directory into place. rename(2) replaces an empty directory and fails
    /// on a non-empty one, so a report that appeared meanwhile is never overwritten.
    public func commit() throws {
        if rename(temporary.path, destination.path) != 0 {
            let msg = String(cString: strerror(errno))
            throw OutputError.io(path: destination.path, message: "cannot move the report into place: \(msg)")
        }
        committed = true
    }

    deinit {
        if !committed { try? FileManager.default.removeItem(at: temporary) }
    }
}

/// A growable byte buffer for fast text output (the episode logs run to tens of megabytes).
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }
    static let hexDigits = Array("0123456789abcdef".utf8)

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
    /// `count` lowercase hex digits of `v`, most significant first.
    public mutating func appendHex(_ v: UInt64, count: Int) {
        for k in stride(from: count - 1, through: 0, by: -1) { bytes.append(ByteWriter.hexDigits[Int((v >> UInt64(4 * k)) & 0xf)]) }
    }
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
        let h1 = SeedTree.splitmix64(seed ^ SeedTree.fnv1a64(label))
        var h2 = SeedTree.splitmix64(h1 ^ 0x5bd1_e995_5bd1_e995)
        // Version 4 and the RFC 4122 variant bits.
        let hi = (h1 & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000
        h2 = (h2 & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000
        w.appendHex(hi >> 32, count: 8); w.append("-" as StaticString)
        w.appendHex((hi >> 16) & 0xffff, count: 4); w.append("-" as StaticString)
        w.appendHex(hi & 0xffff, count: 4); w.append("-" as StaticString)
        w.appendHex(h2 >> 48, count: 4); w.append("-" as StaticString)
        w.appendHex(h2 & 0xffff_ffff_ffff, count: 12)
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
    public static func episodes(_ records: RunRecords, contexts: [String], agent: String, seed: UInt64,
                                actionLabel: (Int) -> String) -> [UInt8] {
        var w = ByteWriter(capacity: records.episodes.count * 520)
        let model = "\(agent)@optima-gym-\(projectVersion)"
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
                  bytes: EpisodeLog.episodes(run.evaluation, contexts: run.contexts, agent: run.name, seed: seed, actionLabel: actionLabel))
        try write("logs/\(run.name)/reward_signals.jsonl", bytes: EpisodeLog.signals(run.evaluation, agent: run.name, seed: seed))
    }

    /// The rendered report files (report.md last), then the rename into place.
    public func writeReportAndCommit(_ report: RunReport) throws {
        try write("metrics.csv", Render.metricsCSV(report))
        try write("learning_curve.csv", Render.learningCurveCSV(report))
        try write("learning_curve.svg", SVGChart.learningCurves(report))
        try write("parity.csv", Render.parityCSV(report))
        try write("parity.svg", SVGChart.parityBars(report))
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
