import Foundation

/// JSON Lines files read line by line, so that every problem names its line: bytes that are not
/// UTF-8, a line that is not a JSON object, a missing or malformed key.
public enum JSONLines {
    /// The non-blank lines of `path` with their 1-based line numbers, each checked to be UTF-8.
    public static func read(path: String, what: String) throws -> [(line: Int, text: Substring)] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DataError(file: path, message: "cannot read the \(what): \((error as NSError).localizedDescription)")
        }
        var out: [(Int, Substring)] = []
        var lineNumber = 0
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            var start = 0
            while start < b.count {
                var end = start
                while end < b.count && b[end] != 10 { end += 1 }
                lineNumber += 1
                let bytes = UnsafeBufferPointer(rebasing: b[start..<end])
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    let at = firstInvalidUTF8(bytes)
                    throw DataError(file: path, line: lineNumber,
                                    message: String(format: "not valid UTF-8 text (byte 0x%02x at byte %d of the line)", bytes[at], at + 1))
                }
                if !text.allSatisfy({ $0.isWhitespace }) { out.append((lineNumber, Substring(text))) }
                start = end + 1
            }
        }
        return out
    }

    /// Offset of the first byte where `bytes` stops being valid UTF-8.
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            let n = c < 0x80 ? 1 : (c >> 5 == 0b110 ? 2 : (c >> 4 == 0b1110 ? 3 : (c >> 3 == 0b11110 ? 4 : 0)))
            guard n > 0, i + n <= bytes.count else { return i }
            for k in 1..<n where bytes[i + k] >> 6 != 0b10 { return i }
            if String(validating: UnsafeBufferPointer(rebasing: bytes[i..<(i + n)]), as: UTF8.self) == nil { return i }
            i += n
        }
        return max(0, bytes.count - 1)
    }

    /// One line parsed as a JSON object.
    public static func object(_ text: Substring, file: String, line: Int) throws -> [String: Any] {
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw DataError(file: file, line: line, message: "not a JSON object")
        }
        return obj
    }
}

extension LogImport {
    /// The simulator's `training_episodes.jsonl` (the blueprint's schema with propensities): one
    /// JSON object per line; action = `action_index`, reward = `reward_score` (the weighted sum of
    /// the signals), propensity = `propensity`; the context is the numeric fields of
    /// `context_snapshot` (hour, weekday, week, heart_rate, hrv, stress, active_connections,
    /// pending_matches), one position. Logs written with `run --log-observations` carry the agent's
    /// observation vector and allowed actions in `context_snapshot.observation` /
    /// `context_snapshot.allowed_actions`; then the context is the observation (what a candidate
    /// agent needs to act) and `masks` is set. `actions`: the action space's size (nil: largest + 1).
    /// `episodeIDs`, when given, receives each row's `episode_id` (for `rewardsAtCutoffs`).
    public static func episodes(path: String, actions: Int?, limits: DataLimits = .standard,
                                episodeIDs: UnsafeMutablePointer<[String]>? = nil,
                                journey: UnsafeMutablePointer<JourneyFields>? = nil) throws -> LoggedBandit {
        let lines = try JSONLines.read(path: path, what: "log")
        let keys = ["hour", "weekday", "week", "heart_rate", "hrv", "stress", "active_connections", "pending_matches"]
        var action: [Int32] = [], reward: [Double] = [], pscore: [Double] = [], context: [Double] = [], times: [Double] = []
        var allowed: [[Int]] = []
        var ids: [String] = []
        var observationDimension: Int? = nil
        var hasObservations: Bool? = nil
        let maxA = actions ?? limits.maxActions
        let flag = actions == nil ? "--max-actions" : "--actions"
        for (lineNumber, line) in lines {
            let obj = try JSONLines.object(line, file: path, line: lineNumber)
            func number(_ key: String, in o: [String: Any], prefix: String = "") throws -> Double {
                guard let v = o[key] else { throw DataError(file: path, line: lineNumber, column: prefix + key, message: "missing key") }
                guard let x = (v as? NSNumber)?.doubleValue else {
                    throw DataError(file: path, line: lineNumber, column: prefix + key, message: "'\(v)' is not a number")
                }
                return x
            }
            let ax = try number("action_index", in: obj)
            guard ax >= 0, ax == ax.rounded() else {
                throw DataError(file: path, line: lineNumber, column: "action_index", message: "\(ax) is not a non-negative integer")
            }
            guard ax < Double(maxA) else {
                throw DataError(file: path, line: lineNumber, column: "action_index",
                                message: actions == nil ? "\(ax) is above the limit of \(maxA) actions (raise it with \(flag))"
                                                        : "\(Int(ax)) is outside the action space 0..\(maxA - 1)")
            }
            let a = Int(ax)
            let r = try number("reward_score", in: obj)
            guard r.isFinite else { throw DataError(file: path, line: lineNumber, column: "reward_score", message: "NaN and infinite rewards are not allowed") }
            let p = try number("propensity", in: obj)
            guard p > 0, p <= 1 else { throw DataError(file: path, line: lineNumber, column: "propensity", message: "\(p) must be in (0, 1]") }
            guard let ctx = obj["context_snapshot"] as? [String: Any] else {
                throw DataError(file: path, line: lineNumber, column: "context_snapshot", message: "missing or not an object")
            }
            // The observation vector, all lines or none.
            let obs = ctx["observation"]
            if hasObservations == nil { hasObservations = obs != nil }
            if (obs != nil) != hasObservations! {
                throw DataError(file: path, line: lineNumber, column: "context_snapshot.observation",
                                message: obs == nil ? "missing, but earlier lines have it" : "present, but earlier lines lack it")
            }
            if let obs {
                guard let arr = obs as? [Any], let xs = Optional(arr.compactMap { ($0 as? NSNumber)?.doubleValue }), xs.count == arr.count,
                      xs.allSatisfy({ $0.isFinite }), !xs.isEmpty else {
                    throw DataError(file: path, line: lineNumber, column: "context_snapshot.observation", message: "not an array of finite numbers")
                }
                if observationDimension == nil { observationDimension = xs.count }
                guard xs.count == observationDimension else {
                    throw DataError(file: path, line: lineNumber, column: "context_snapshot.observation",
                                    message: "\(xs.count) numbers; earlier lines have \(observationDimension!)")
                }
                context.append(contentsOf: xs)
                guard let al = ctx["allowed_actions"] as? [Any], !al.isEmpty else {
                    throw DataError(file: path, line: lineNumber, column: "context_snapshot.allowed_actions", message: "missing or not an array of action indices")
                }
                var ai: [Int] = []
                for x in al {
                    guard let d = (x as? NSNumber)?.doubleValue, d >= 0, d == d.rounded() else {
                        throw DataError(file: path, line: lineNumber, column: "context_snapshot.allowed_actions", message: "'\(x)' is not an action index")
                    }
                    guard d < Double(maxA) else {
                        throw DataError(file: path, line: lineNumber, column: "context_snapshot.allowed_actions",
                                        message: actions == nil ? "\(d) is above the limit of \(maxA) actions (raise it with \(flag))"
                                                                : "action \(Int(d)) is outside the action space 0..\(maxA - 1)")
                    }
                    ai.append(Int(d))
                }
                guard ai.contains(a) else {
                    throw DataError(file: path, line: lineNumber, column: "action_index", message: "\(a) is not among the allowed actions \(ai)")
                }
                allowed.append(ai)
            } else {
                for k in keys { context.append(try number(k, in: ctx, prefix: "context_snapshot.")) }
            }
            if let t = obj["timestamp"] as? String {
                guard let secs = parseTimestamp(t) else {
                    throw DataError(file: path, line: lineNumber, column: "timestamp", message: "'\(t)' is not an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)")
                }
                times.append(secs)
            }
            if episodeIDs != nil {
                guard let id = obj["episode_id"] as? String else { throw DataError(file: path, line: lineNumber, column: "episode_id", message: "missing or not a string") }
                ids.append(id)
            }
            if let journey {
                guard let user = obj["user_id"] as? String, !user.isEmpty else {
                    throw DataError(file: path, line: lineNumber, column: "user_id", message: "missing or not a string (journeys are grouped by user)")
                }
                let st = try number("journey_step", in: obj)
                guard st >= 0, st == st.rounded(), st < 1e8 else {
                    throw DataError(file: path, line: lineNumber, column: "journey_step", message: "\(st) is not a step (a non-negative integer)")
                }
                let el = try number("elapsed_seconds", in: obj)
                guard el.isFinite, el >= 0 else {
                    throw DataError(file: path, line: lineNumber, column: "elapsed_seconds", message: "\(el) is not a duration >= 0")
                }
                journey.pointee.user.append(user); journey.pointee.step.append(Int(st)); journey.pointee.elapsed.append(el)
                journey.pointee.model.append((obj["model_version"] as? String) ?? ""); journey.pointee.line.append(lineNumber)
                var ended = false
                if let x = obj["terminal"] {
                    if let v = (x as? NSNumber)?.doubleValue, v == 0 || v == 1 { ended = v == 1 } else {
                        throw DataError(file: path, line: lineNumber, column: "terminal", message: "'\(x)' is not true, false, 0 or 1")
                    }
                }
                journey.pointee.terminal.append(ended)
            }
            action.append(Int32(a)); reward.append(r); pscore.append(p)
        }
        guard !reward.isEmpty else { throw DataError(file: path, message: "empty log: no episodes") }
        let maxAllowed = allowed.map { $0.max() ?? 0 }.max() ?? 0
        let k = actions ?? (max(Int(action.max()!), maxAllowed) + 1)
        let dim = observationDimension ?? keys.count
        var log = LoggedBandit(actions: k, positions: 1, action: action,
                               position: [Int32](repeating: 0, count: reward.count), reward: reward, pscore: pscore,
                               context: context, contextDimension: dim, source: path)
        if times.count == reward.count { log.times = times }
        if !allowed.isEmpty {
            try limits.checkTable(rows: reward.count, actions: k, file: path, what: "the allowed-action masks")
            var m = [Bool](repeating: false, count: reward.count * k)
            for (i, al) in allowed.enumerated() { for a in al { m[i * k + a] = true } }
            log.masks = m
        }
        episodeIDs?.pointee = ids
        return log
    }

    /// The simulator's `reward_signals.jsonl` (episode_id, signal_type, value, latency in seconds),
    /// each signal attached to its row of the log whose episode ids are `episodeIDs`. Read once;
    /// `RewardSignals.rewards` then recomputes rewards for any weights and cut-offs.
    public static func rewardSignals(path: String, episodeIDs: [String]) throws -> RewardSignals {
        let lines = try JSONLines.read(path: path, what: "signals")
        var row: [String: Int] = [:]
        for (i, id) in episodeIDs.enumerated() { row[id] = i }
        var out = RewardSignals(path: path, rows: episodeIDs.count)
        for (lineNumber, line) in lines {
            let o = try JSONLines.object(line, file: path, line: lineNumber)
            guard let id = o["episode_id"] as? String else { throw DataError(file: path, line: lineNumber, column: "episode_id", message: "missing or not a string") }
            guard let i = row[id] else { throw DataError(file: path, line: lineNumber, column: "episode_id", message: "'\(id)' is not an episode of the log") }
            guard let kind = o["signal_type"] as? String else { throw DataError(file: path, line: lineNumber, column: "signal_type", message: "missing or not a string") }
            guard let v = (o["value"] as? NSNumber)?.doubleValue, v.isFinite else { throw DataError(file: path, line: lineNumber, column: "value", message: "missing or not a finite number") }
            guard let lat = (o["latency"] as? NSNumber)?.doubleValue, lat.isFinite, lat >= 0 else {
                throw DataError(file: path, line: lineNumber, column: "latency", message: "missing, negative or not a number")
            }
            out.row.append(i); out.kind.append(kind); out.value.append(v); out.latency.append(lat); out.line.append(lineNumber)
        }
        return out
    }
}
