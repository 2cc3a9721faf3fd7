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
    public static func openBandit(directory: String, policy: String, campaign: String, limits: DataLimits = .standard) throws -> LoggedBandit {
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
            let a = try limits.index(row[ja], limit: limits.maxActions, flag: "--max-actions", what: "item", file: path, line: line, column: "item_id")
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
            let id = try limits.index(row[ji], limit: limits.maxActions, flag: "--max-actions", what: "item", file: ipath, line: items.lines[r], column: "item_id")
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
    public static func csv(path: String, actions: Int?, limits: DataLimits = .standard) throws -> LoggedBandit {
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
            let a = try limits.index(row[ja], limit: limits.maxActions, flag: "--max-actions", what: "action", file: path, line: line, column: "action")
            if let k = actions, a >= k { throw DataError(file: path, line: line, column: "action", message: "\(a) is outside the action space 0..\(k - 1)") }
            let (r, s) = try rewardAndPropensity(row, reward: jr, propensity: js, file: path, line: line)
            if let jp {
                position[i] = Int32(try limits.index(row[jp], limit: limits.maxPositions, flag: "--max-positions", what: "position", file: path, line: line, column: "position"))
            }
            try readContext(row, columns: contextColumns, header: t.header, into: &context, at: i * contextColumns.count, file: path, line: line)
            action[i] = Int32(a); reward[i] = r; pscore[i] = s
        }
        let K = actions ?? (Int(action.max() ?? 0) + 1)
        let L = Int(position.max() ?? 0) + 1
        return LoggedBandit(actions: K, positions: L, action: action, position: position, reward: reward, pscore: pscore,
                            context: context, contextDimension: contextColumns.count, source: path)
    }

    /// A CSV row's `reward` (finite) and `propensity` (in (0, 1]), or an error naming the place.
    static func rewardAndPropensity(_ row: [String], reward jr: Int, propensity js: Int, file path: String, line: Int) throws -> (Double, Double) {
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
        return (r, s)
    }

    /// A CSV row's numeric context columns into `context[at...]`.
    static func readContext(_ row: [String], columns: [Int], header: [String], into context: inout [Double], at base: Int, file path: String, line: Int) throws {
        for (k, j) in columns.enumerated() {
            guard let x = Double(row[j].trimmingCharacters(in: .whitespaces)), x.isFinite else {
                throw DataError(file: path, line: line, column: header[j], message: "'\(row[j])' is not a finite number (context columns are numeric)")
            }
            context[base + k] = x
        }
    }

    /// A candidate's probabilities per logged row: a CSV with columns p_0 ... p_{K-1}, one row per
    /// logged row in log order, each row summing to 1 (within 1e-6). Returns rows x actions, row-major.
    public static func policyProbabilities(path: String, rows: Int, actions: Int, limits: DataLimits = .standard) throws -> [Double] {
        try limits.checkTable(rows: rows, actions: actions, file: path, what: "the candidate's probabilities")
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
}
