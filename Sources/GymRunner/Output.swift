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
        let url = temporary.appendingPathComponent(relative)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
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

/// Renders the blueprint's `training_episodes` and `reward_signals` tables as JSON Lines.
public enum EpisodeLog {
    /// Simulated time 0 is Monday 2026-01-05T00:00:00Z.
    static let epochDays = 20458  // days from 1970-01-01 to 2026-01-05

    /// Deterministic UUID (version-4 layout) from the run seed and a label.
    public static func uuid(seed: UInt64, _ label: String) -> String {
        let h1 = SeedTree.splitmix64(seed ^ SeedTree.fnv1a64(label))
        let h2 = SeedTree.splitmix64(h1 ^ 0x5bd1_e995_5bd1_e995)
        let hex = String(format: "%016llx%016llx", h1, h2)
        var chars = Array(hex)
        chars[12] = "4"
        let v = Int(String(chars[16]), radix: 16)!
        chars[16] = Array(String((v & 0x3) | 0x8, radix: 16))[0]
        let s = String(chars)
        let i = s.startIndex
        func sub(_ a: Int, _ b: Int) -> Substring { s[s.index(i, offsetBy: a)..<s.index(i, offsetBy: b)] }
        return "\(sub(0, 8))-\(sub(8, 12))-\(sub(12, 16))-\(sub(16, 20))-\(sub(20, 32))"
    }

    /// ISO 8601 UTC timestamp of simulated second `t` (civil-from-days, Hinnant's algorithm).
    public static func timestamp(_ t: Double) -> String {
        let total = Int(t.rounded(.down))
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
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, secs / 3600, (secs % 3600) / 60, secs % 60)
    }

    static func num(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

    /// `training_episodes.jsonl`: one line per decision, with the acting policy's propensity.
    public static func episodes(_ records: RunRecords, contexts: [String], agent: String, seed: UInt64,
                                actionLabel: (Int) -> String) -> String {
        var out = ""
        out.reserveCapacity(records.episodes.count * 400)
        for e in records.episodes {
            let ctx = e.index < contexts.count ? contexts[e.index] : "{}"
            out += "{\"episode_id\":\"\(uuid(seed: seed, "\(agent)/episode/\(e.index)"))\""
            out += ",\"user_id\":\"\(uuid(seed: seed, "user/\(e.user)"))\""
            out += ",\"context_snapshot\":\(ctx)"
            out += ",\"action_taken\":\(JSON.escape(actionLabel(e.action)))"
            out += ",\"outcome\":\"\(e.outcome.name)\",\"reward_score\":\(num(e.reward))"
            out += ",\"timestamp\":\"\(timestamp(e.time))\",\"model_version\":\"\(agent)@optima-gym-\(projectVersion)\""
            out += ",\"propensity\":\(num(e.propensity)),\"action_index\":\(e.action)"
            if e.kind == .suggestPairing && e.target >= 0 {
                out += ",\"target_user_id\":\"\(uuid(seed: seed, "user/\(e.target)"))\",\"predicted_resonance\":\(num(e.predictedResonance))"
            } else if e.kind == .recommendHive && e.target >= 0 {
                out += ",\"event_id\":\"\(uuid(seed: seed, "event/\(e.target)"))\""
            }
            out += "}\n"
        }
        return out
    }

    /// `reward_signals.jsonl`: one line per signal; latency in whole seconds.
    public static func signals(_ records: RunRecords, agent: String, seed: UInt64) -> String {
        var out = ""
        out.reserveCapacity(records.signals.count * 200)
        for (i, s) in records.signals.enumerated() {
            out += "{\"signal_id\":\"\(uuid(seed: seed, "\(agent)/signal/\(i)"))\""
            out += ",\"episode_id\":\"\(uuid(seed: seed, "\(agent)/episode/\(s.episode)"))\""
            out += ",\"signal_type\":\"\(s.kind.name)\",\"value\":\(num(s.value))"
            out += ",\"latency\":\(Int(s.latency.rounded())),\"confidence\":\(num(s.confidence))}\n"
        }
        return out
    }
}
