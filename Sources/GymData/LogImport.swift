import Foundation

/// Logged bandit data from files.
public enum LogImport {
    /// The Open Bandit Dataset layout `<dir>/<policy>/<campaign>/<campaign>.csv` with
    /// `item_context.csv` beside it, read as the Open Bandit Pipeline 0.5.7 reads it: rows in file
    /// (time) order; action = item_id; position 1/2/3 -> 0/1/2; reward = click; pscore =
    /// propensity_score; the context is the one-hot encoding of user_feature_0..3 with each
    /// column's first level (in sorted order) dropped (`pandas.get_dummies(drop_first=True)`); the
    /// action context per item is [label codes of item_feature_1..3 (sorted levels), item_feature_0].
    /// The affinity columns are not used. The number of actions is max(item_id) + 1.
    public static func openBandit(directory: String, policy: String, campaign: String) throws -> LoggedBandit {
        let base = URL(fileURLWithPath: directory).appendingPathComponent(policy).appendingPathComponent(campaign)
        let path = base.appendingPathComponent("\(campaign).csv").path
        let csv = try CSVText.read(path: path)
        func column(_ name: String) throws -> Int {
            guard let j = csv.header.firstIndex(of: name) else {
                throw DataError(file: path, line: 1, column: name, message: "missing column (the Open Bandit Dataset layout has it; see its README)")
            }
            return j
        }
        let ja = try column("item_id"), jp = try column("position"), jr = try column("click"), js = try column("propensity_score")
        let ju = try (0..<4).map { try column("user_feature_\($0)") }
        let n = csv.rows.count
        var action = [Int32](repeating: 0, count: n), position = action
        var reward = [Double](repeating: 0, count: n), pscore = reward
        for (i, row) in csv.rows.enumerated() {
            let line = csv.lines[i]
            guard let a = Int(row[ja]), a >= 0 else { throw DataError(file: path, line: line, column: "item_id", message: "'\(row[ja])' is not a non-negative integer") }
            guard let p = Int(row[jp]), (1...3).contains(p) else { throw DataError(file: path, line: line, column: "position", message: "'\(row[jp])' must be 1, 2 or 3") }
            guard let r = Double(row[jr]), r.isFinite else { throw DataError(file: path, line: line, column: "click", message: "'\(row[jr])' is not a number") }
            guard let s = Double(row[js]), s > 0, s <= 1 else {
                throw DataError(file: path, line: line, column: "propensity_score", message: "'\(row[js])' must be a probability in (0, 1]")
            }
            action[i] = Int32(a); position[i] = Int32(p - 1); reward[i] = r; pscore[i] = s
        }
        // Context: one-hot of the user features, first sorted level dropped.
        var levels: [[String]] = []
        for j in ju { levels.append(Array(Set(csv.rows.map { $0[j] })).sorted()) }
        let dims = levels.map { max(0, $0.count - 1) }
        let dx = dims.reduce(0, +)
        var context = [Double](repeating: 0, count: n * dx)
        var offsets: [Int] = []
        var off = 0
        for d in dims { offsets.append(off); off += d }
        let index = levels.map { lv in Dictionary(uniqueKeysWithValues: lv.enumerated().map { ($1, $0) }) }
        for (i, row) in csv.rows.enumerated() {
            for (f, j) in ju.enumerated() {
                let l = index[f][row[j]]!
                if l > 0 { context[i * dx + offsets[f] + l - 1] = 1 }
            }
        }
        let K = Int(action.max() ?? 0) + 1
        // Action context from item_context.csv.
        let ipath = base.appendingPathComponent("item_context.csv").path
        let items = try CSVText.read(path: ipath)
        guard let ji = items.header.firstIndex(of: "item_id"), let j0 = items.header.firstIndex(of: "item_feature_0") else {
            throw DataError(file: ipath, line: 1, message: "item_context.csv needs item_id and item_feature_0..3")
        }
        let jc = try (1...3).map { k -> Int in
            guard let j = items.header.firstIndex(of: "item_feature_\(k)") else { throw DataError(file: ipath, line: 1, column: "item_feature_\(k)", message: "missing column") }
            return j
        }
        let codes = jc.map { j -> [String: Int] in
            Dictionary(uniqueKeysWithValues: Array(Set(items.rows.map { $0[j] })).sorted().enumerated().map { ($1, $0) })
        }
        var actionContext = [Double](repeating: 0, count: K * 4)
        for (r, row) in items.rows.enumerated() {
            guard let id = Int(row[ji]), id >= 0 else { throw DataError(file: ipath, line: items.lines[r], column: "item_id", message: "'\(row[ji])' is not an item id") }
            guard id < K else { continue }
            for (k, j) in jc.enumerated() { actionContext[id * 4 + k] = Double(codes[k][row[j]]!) }
            guard let v = Double(row[j0]), v.isFinite else { throw DataError(file: ipath, line: items.lines[r], column: "item_feature_0", message: "'\(row[j0])' is not a number") }
            actionContext[id * 4 + 3] = v
        }
        return LoggedBandit(actions: K, positions: 3, action: action, position: position, reward: reward, pscore: pscore,
                            context: context, contextDimension: dx, actionContext: actionContext, actionContextDimension: 4,
                            source: "\(policy)/\(campaign)/\(campaign).csv")
    }

    /// A plain CSV log: `action` (0-based integer), `reward`, `propensity` in (0, 1], optionally
    /// `position` (0-based integer); every other column must be numeric and is a context feature.
    /// `actions`: the action space's size (nil: the largest logged action + 1).
    public static func csv(path: String, actions: Int?) throws -> LoggedBandit {
        let t = try CSVText.read(path: path)
        func column(_ name: String) throws -> Int {
            guard let j = t.header.firstIndex(of: name) else {
                throw DataError(file: path, line: 1, column: name, message: "missing column (a log needs action, reward and propensity)")
            }
            return j
        }
        let ja = try column("action"), jr = try column("reward"), js = try column("propensity")
        let jp = t.header.firstIndex(of: "position")
        let contextColumns = t.header.indices.filter { $0 != ja && $0 != jr && $0 != js && $0 != jp }
        let n = t.rows.count
        var action = [Int32](repeating: 0, count: n), position = action
        var reward = [Double](repeating: 0, count: n), pscore = reward
        var context = [Double](repeating: 0, count: n * contextColumns.count)
        for (i, row) in t.rows.enumerated() {
            let line = t.lines[i]
            guard let a = Int(row[ja].trimmingCharacters(in: .whitespaces)), a >= 0 else {
                throw DataError(file: path, line: line, column: "action", message: "'\(row[ja])' is not a non-negative integer")
            }
            if let k = actions, a >= k { throw DataError(file: path, line: line, column: "action", message: "\(a) is outside the action space 0..\(k - 1)") }
            guard let r = Double(row[jr].trimmingCharacters(in: .whitespaces)) else {
                throw DataError(file: path, line: line, column: "reward", message: "'\(row[jr])' is not a number")
            }
            guard r.isFinite else { throw DataError(file: path, line: line, column: "reward", message: "'\(row[jr])': NaN and infinite rewards are not allowed") }
            guard let s = Double(row[js].trimmingCharacters(in: .whitespaces)), s.isFinite else {
                throw DataError(file: path, line: line, column: "propensity", message: "'\(row[js])' is not a number")
            }
            guard s > 0, s <= 1 else {
                throw DataError(file: path, line: line, column: "propensity", message: "\(row[js]) must be in (0, 1] (a logged action has positive probability)")
            }
            if let jp {
                guard let p = Int(row[jp].trimmingCharacters(in: .whitespaces)), p >= 0 else {
                    throw DataError(file: path, line: line, column: "position", message: "'\(row[jp])' is not a non-negative integer")
                }
                position[i] = Int32(p)
            }
            for (k, j) in contextColumns.enumerated() {
                guard let x = Double(row[j].trimmingCharacters(in: .whitespaces)), x.isFinite else {
                    throw DataError(file: path, line: line, column: t.header[j], message: "'\(row[j])' is not a finite number (context columns are numeric)")
                }
                context[i * contextColumns.count + k] = x
            }
            action[i] = Int32(a); reward[i] = r; pscore[i] = s
        }
        let K = actions ?? (Int(action.max() ?? 0) + 1)
        let L = Int(position.max() ?? 0) + 1
        return LoggedBandit(actions: K, positions: L, action: action, position: position, reward: reward, pscore: pscore,
                            context: context, contextDimension: contextColumns.count, source: path)
    }

    /// A candidate's probabilities per logged row: a CSV with columns p_0 ... p_{K-1}, one row per
    /// logged row in log order, each row summing to 1 (within 1e-6). Returns rows x actions, row-major.
    public static func policyProbabilities(path: String, rows: Int, actions: Int) throws -> [Double] {
        let t = try CSVText.read(path: path)
        let names = (0..<actions).map { "p_\($0)" }
        guard t.header == names else {
            throw DataError(file: path, line: 1, message: "the policy's columns are \(t.header.count) (\(t.header.prefix(3).joined(separator: ", "))...); the log's action space needs exactly p_0 ... p_\(actions - 1)")
        }
        guard t.rows.count == rows else {
            throw DataError(file: path, message: "\(t.rows.count) rows of probabilities for \(rows) logged rows")
        }
        var probs = [Double](repeating: 0, count: rows * actions)
        for (i, row) in t.rows.enumerated() {
            var sum = 0.0
            for a in 0..<actions {
                guard let p = Double(row[a]), p >= 0, p <= 1 else {
                    throw DataError(file: path, line: t.lines[i], column: names[a], message: "'\(row[a])' is not a probability")
                }
                probs[i * actions + a] = p; sum += p
            }
            guard abs(sum - 1) <= 1e-6 else { throw DataError(file: path, line: t.lines[i], message: "the probabilities sum to \(sum), not 1") }
        }
        return probs
    }

    /// The simulator's `training_episodes.jsonl` (the blueprint's schema with propensities): one
    /// JSON object per line; action = `action_index`, reward = `reward_score` (the weighted sum of
    /// the signals), propensity = `propensity`; the context is the numeric fields of
    /// `context_snapshot` (hour, weekday, week, heart_rate, hrv, stress, active_connections,
    /// pending_matches), one position. Logs written with `run --log-observations` carry the agent's
    /// observation vector and allowed actions in `context_snapshot.observation` /
    /// `context_snapshot.allowed_actions`; then the context is the observation (what a candidate
    /// agent needs to act) and `masks` is set. `actions`: the action space's size (nil: largest + 1).
    /// `episodeIDs`, when given, receives each row's `episode_id` (for `rewardsAtCutoffs`).
    public static func episodes(path: String, actions: Int?, episodeIDs: UnsafeMutablePointer<[String]>? = nil) throws -> LoggedBandit {
        let text = try readText(path, what: "log")
        let keys = ["hour", "weekday", "week", "heart_rate", "hrv", "stress", "active_connections", "pending_matches"]
        var action: [Int32] = [], reward: [Double] = [], pscore: [Double] = [], context: [Double] = [], times: [Double] = []
        var allowed: [[Int]] = []
        var ids: [String] = []
        var observationDimension: Int? = nil
        var hasObservations: Bool? = nil
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw DataError(file: path, line: lineNumber, message: "not a JSON object")
            }
            func number(_ key: String, in o: [String: Any], prefix: String = "") throws -> Double {
                guard let v = o[key] else { throw DataError(file: path, line: lineNumber, column: prefix + key, message: "missing key") }
                guard let x = (v as? NSNumber)?.doubleValue else {
                    throw DataError(file: path, line: lineNumber, column: prefix + key, message: "'\(v)' is not a number")
                }
                return x
            }
            let a = try number("action_index", in: obj)
            guard a >= 0, a == a.rounded(), a < 1e9 else { throw DataError(file: path, line: lineNumber, column: "action_index", message: "\(a) is not a non-negative integer") }
            if let k = actions, Int(a) >= k { throw DataError(file: path, line: lineNumber, column: "action_index", message: "\(Int(a)) is outside the action space 0..\(k - 1)") }
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
                guard let al = ctx["allowed_actions"] as? [Any], let ai = Optional(al.compactMap { ($0 as? NSNumber)?.intValue }),
                      ai.count == al.count, !ai.isEmpty, ai.allSatisfy({ $0 >= 0 && $0 < 1_000_000 }) else {
                    throw DataError(file: path, line: lineNumber, column: "context_snapshot.allowed_actions", message: "missing or not an array of action indices")
                }
                guard ai.contains(Int(a)) else {
                    throw DataError(file: path, line: lineNumber, column: "action_index", message: "\(Int(a)) is not among the allowed actions \(ai)")
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
            action.append(Int32(a)); reward.append(r); pscore.append(p)
        }
        guard !reward.isEmpty else { throw DataError(file: path, message: "empty log: no episodes") }
        let maxAllowed = allowed.map { $0.max() ?? 0 }.max() ?? 0
        let k = actions ?? (max(Int(action.max()!), maxAllowed) + 1)
        if let actions, maxAllowed >= actions {
            throw DataError(file: path, column: "context_snapshot.allowed_actions", message: "action \(maxAllowed) is outside the action space 0..\(actions - 1)")
        }
        let dim = observationDimension ?? keys.count
        var log = LoggedBandit(actions: k, positions: 1, action: action,
                               position: [Int32](repeating: 0, count: reward.count), reward: reward, pscore: pscore,
                               context: context, contextDimension: dim, source: path)
        if times.count == reward.count { log.times = times }
        if !allowed.isEmpty {
            var m = [Bool](repeating: false, count: reward.count * k)
            for (i, al) in allowed.enumerated() { for a in al { m[i * k + a] = true } }
            log.masks = m
        }
        episodeIDs?.pointee = ids
        return log
    }

    /// Seconds since 1970 of "YYYY-MM-DDTHH:MM:SS[.fff]Z".
    public static func parseTimestamp(_ s: String) -> Double? {
        let u = Array(s.utf8)
        guard u.count >= 20, u.last == UInt8(ascii: "Z"), u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"),
              u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":") else { return nil }
        func num(_ a: Int, _ b: Int) -> Int? {
            var v = 0
            for i in a..<b { guard u[i] >= 48 && u[i] <= 57 else { return nil }; v = v * 10 + Int(u[i] - 48) }
            return v
        }
        guard let y = num(0, 4), let m = num(5, 7), let d = num(8, 10), let hh = num(11, 13), let mm = num(14, 16), let ss = num(17, 19),
              (1...12).contains(m), (1...31).contains(d), hh < 24, mm < 60, ss < 61 else { return nil }
        var frac = 0.0
        if u.count > 20 {
            guard u[19] == UInt8(ascii: "."), let f = Double("0" + String(decoding: u[19..<(u.count - 1)], as: UTF8.self)) else { return nil }
            frac = f
        } else if u[19] != UInt8(ascii: "Z") { return nil }
        // Days from civil (Hinnant).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400 + hh * 3600 + mm * 60 + ss) + frac
    }

    /// Reads a whole text file, or a DataError naming it and what it was meant to hold.
    static func readText(_ path: String, what: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw DataError(file: path, message: "cannot read the \(what): \((error as NSError).localizedDescription)")
        }
    }

    /// The simulator's `reward_signals.jsonl` (episode_id, signal_type, value, latency in seconds),
    /// each signal attached to its row of the log whose episode ids are `episodeIDs`. Read once;
    /// `RewardSignals.rewards` then recomputes rewards for any weights and cut-offs.
    public static func rewardSignals(path: String, episodeIDs: [String]) throws -> RewardSignals {
        let text = try readText(path, what: "signals")
        var row: [String: Int] = [:]
        for (i, id) in episodeIDs.enumerated() { row[id] = i }
        var out = RewardSignals(path: path, rows: episodeIDs.count)
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw DataError(file: path, line: lineNumber, message: "not a JSON object")
            }
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
