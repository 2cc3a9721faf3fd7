import Foundation

/// Logged trajectories (user journeys) for sequential off-policy evaluation: the rows of a
/// `LoggedBandit` ordered by trajectory and, within one, by step, with the trajectory
/// boundaries, an optional discrete state per row and an optional time since the trajectory's
/// start per row.
public struct TrajectoryLog: Sendable {
    /// The rows, trajectory by trajectory, each in step order (step t of trajectory i is row
    /// `offsets[i] + t`). Context, masks and times as in any log.
    public var rows: LoggedBandit
    /// Row ranges: trajectory i is rows offsets[i] ..< offsets[i + 1].
    public var offsets: [Int]
    /// The trajectories' ids, in order of first appearance in the file.
    public var ids: [String]
    /// Per row: the discrete state id (empty when the log has no `state`).
    public var state: [Int32] = []
    /// Number of states (largest state id + 1; 0 without states).
    public var states: Int = 0
    /// Per row: simulated or wall seconds since the trajectory's first step (empty when the log
    /// has no times).
    public var elapsed: [Double] = []
    /// Per row: the file line it came from (for messages after sorting).
    public var lines: [Int] = []
    /// Per row: whether the journey ended there for good (churn, opt-out: no next state). Only a
    /// trajectory's last step can be terminal; a last step that is not was cut off (truncated).
    /// Empty when the log has no `terminal` field.
    public var terminal: [Bool] = []

    public var count: Int { ids.count }
    public var horizon: Int { (0..<count).map { offsets[$0 + 1] - offsets[$0] }.max() ?? 0 }
    public var source: String { rows.source }

    public init(rows: LoggedBandit, offsets: [Int], ids: [String]) {
        self.rows = rows; self.offsets = offsets; self.ids = ids
    }

    /// The logged policy's own value: the mean over trajectories of the discounted return
    /// sum_t d_t r_t, with `discount` giving d at every row.
    public func loggedValue(discount: [Double]) -> Double {
        guard count > 0 else { return .nan }
        var total = 0.0
        for i in 0..<count {
            var g = 0.0
            for j in offsets[i]..<offsets[i + 1] { g += discount[j] * rows.reward[j] }
            total += g
        }
        return total / Double(count)
    }
}

/// The raw rows of a trajectory log before ordering: what a reader found on each line.
public struct TrajectoryRows {
    public var file: String
    public var id: [String] = []
    public var step: [Int] = []
    public var line: [Int] = []
    public var elapsed: [Double] = []
    public var state: [Int32] = []
    /// Per row: the `terminal` field, when the log has one.
    public var terminal: [Bool] = []
    /// Trajectory-level fields that must agree on every row of a trajectory (name, value per row).
    public var fixed: [(name: String, values: [String])] = []
    /// Optional, instead of `id`: each row's trajectory as an index into `names`.
    public var trajectory: [Int32] = []
    public var names: [String] = []
    public init(file: String) { self.file = file }

    /// Orders `log`'s rows (one per entry here, in file order) by trajectory (first appearance)
    /// and step, checking that every trajectory's steps are 0, 1, ..., with no gap and no
    /// duplicate, that its fixed fields agree, and that its times never go back. Errors name
    /// the line and the column.
    public func ordered(_ log: LoggedBandit, elapsedColumn: String = "elapsed_seconds") throws -> TrajectoryLog {
        let n = trajectory.isEmpty ? id.count : trajectory.count
        var ids: [String] = []
        var members: [[Int]] = []
        if trajectory.isEmpty {
            var index: [String: Int] = [:]
            for i in 0..<n {
                if let k = index[id[i]] { members[k].append(i) } else {
                    index[id[i]] = ids.count; ids.append(id[i]); members.append([i])
                }
            }
        } else {
            ids = names
            members = [[Int]](repeating: [], count: names.count)
            for i in 0..<n { members[Int(trajectory[i])].append(i) }
        }
        var order: [Int] = []
        order.reserveCapacity(n)
        var offsets = [0]
        for (k, m) in members.enumerated() {
            let sorted = m.sorted { step[$0] != step[$1] ? step[$0] < step[$1] : line[$0] < line[$1] }
            for (t, i) in sorted.enumerated() {
                if step[i] != t {
                    if t > 0 && step[i] == step[sorted[t - 1]] {
                        throw DataError(file: file, line: line[i], column: "step",
                                        message: "trajectory '\(ids[k])' has step \(step[i]) twice (also on line \(line[sorted[t - 1]]))")
                    }
                    throw DataError(file: file, line: line[i], column: "step",
                                    message: "trajectory '\(ids[k])' jumps to step \(step[i]) without step \(t) (steps start at 0 and have no gaps)")
                }
                for f in fixed where f.values[i] != f.values[sorted[0]] {
                    throw DataError(file: file, line: line[i], column: f.name,
                                    message: "'\(f.values[i])' differs from '\(f.values[sorted[0]])' on line \(line[sorted[0]]), the same trajectory '\(ids[k])' (a trajectory-level field)")
                }
                if !terminal.isEmpty, terminal[i], t < sorted.count - 1 {
                    throw DataError(file: file, line: line[i], column: "terminal",
                                    message: "step \(step[i]) of trajectory '\(ids[k])' is terminal but step \(step[sorted[t + 1]]) follows on line \(line[sorted[t + 1]]) (only a trajectory's last step can be terminal)")
                }
                if !elapsed.isEmpty, t > 0, elapsed[i] < elapsed[sorted[t - 1]] {
                    throw DataError(file: file, line: line[i], column: elapsedColumn,
                                    message: "\(elapsed[i]) is before step \(t - 1)'s \(elapsed[sorted[t - 1]]) in trajectory '\(ids[k])' (time since the start never goes back)")
                }
            }
            order.append(contentsOf: sorted)
            offsets.append(order.count)
        }
        func pick<T>(_ a: [T]) -> [T] { a.isEmpty ? a : order.map { a[$0] } }
        var rows = log
        rows.action = pick(log.action); rows.position = pick(log.position); rows.reward = pick(log.reward); rows.pscore = pick(log.pscore)
        rows.times = pick(log.times)
        let D = log.contextDimension, A = log.actions
        if D > 0 {
            var c = [Double](repeating: 0, count: n * D)
            for (j, i) in order.enumerated() { for d in 0..<D { c[j * D + d] = log.context[i * D + d] } }
            rows.context = c
        }
        if !log.masks.isEmpty {
            var m = [Bool](repeating: false, count: n * A)
            for (j, i) in order.enumerated() { for a in 0..<A { m[j * A + a] = log.masks[i * A + a] } }
            rows.masks = m
        }
        var out = TrajectoryLog(rows: rows, offsets: offsets, ids: ids)
        out.state = pick(state)
        out.states = state.isEmpty ? 0 : Int(state.max()!) + 1
        out.lines = pick(line)
        out.terminal = pick(terminal)
        if !elapsed.isEmpty {
            var e = pick(elapsed)
            for k in 0..<ids.count where offsets[k + 1] > offsets[k] {
                let start = e[offsets[k]]
                for j in offsets[k]..<offsets[k + 1] { e[j] -= start }
            }
            out.elapsed = e
        }
        return out
    }
}

extension LogImport {
    /// Columns of a trajectory CSV that hold one value per trajectory.
    public static let trajectoryFixedColumns = ["user_id", "group", "segment", "model_version", "logging_policy"]

    /// Whether a CSV log has trajectories (a `trajectory_id` column). Simulator JSONL logs are
    /// read per decision unless asked for as journeys.
    public static func hasTrajectories(path: String) -> Bool {
        if path.hasSuffix(".jsonl") { return false }
        // Only a regular file is peeked at (a FIFO would block here; the reader reports it).
        guard let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType, type == .typeRegular else { return false }
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 65_536)) ?? Data()
        guard let text = String(data: head, encoding: .utf8), let first = text.split(separator: "\n", maxSplits: 1).first else { return false }
        return first.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            .contains("trajectory_id")
    }

    /// A `terminal` cell: 0, 1, true or false (nil otherwise).
    static func terminalValue(_ s: String) -> Bool? {
        switch s.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "true": return true
        case "0", "false": return false
        default: return nil
        }
    }

    /// A trajectory CSV: `trajectory_id` (any text), `step` (0-based integer), `action`, `reward`,
    /// `propensity` in (0, 1]; optionally `state` (a discrete state id, a non-negative integer),
    /// `elapsed_seconds` (time since the trajectory's start, >= 0), `terminal` (0/1 or
    /// true/false: the journey ended there for good; only on a last step), trajectory-level columns
    /// (`user_id`, `group`, `segment`, `model_version`, `logging_policy`: one value per
    /// trajectory), and every other column numeric, a context feature. Rows may come in any order.
    public static func trajectoryCSV(path: String, actions: Int?, limits: DataLimits = .standard) throws -> TrajectoryLog {
        if let fast = trajectoryCSVFast(path: path, actions: actions, limits: limits) { return fast }
        let t = try CSVText.read(path: path)
        func column(_ name: String) throws -> Int {
            guard let j = t.header.firstIndex(of: name) else {
                throw DataError(file: path, line: 1, column: name, message: "missing column (a trajectory log needs trajectory_id, step, action, reward and propensity)")
            }
            return j
        }
        let jt = try column("trajectory_id"), jn = try column("step"), ja = try column("action"), jr = try column("reward"), jp = try column("propensity")
        let js = t.header.firstIndex(of: "state"), je = t.header.firstIndex(of: "elapsed_seconds"), jx = t.header.firstIndex(of: "terminal")
        let fixedColumns = t.header.indices.filter { trajectoryFixedColumns.contains(t.header[$0]) }
        let special = Set([jt, jn, ja, jr, jp] + [js, je, jx].compactMap { $0 } + fixedColumns)
        let contextColumns = t.header.indices.filter { !special.contains($0) }
        let n = t.rows.count
        guard n > 0 else { throw DataError(file: path, message: "empty log: a header and no rows") }
        var raw = TrajectoryRows(file: path)
        raw.id.reserveCapacity(n); raw.step.reserveCapacity(n); raw.line = t.lines
        raw.fixed = fixedColumns.map { j in (t.header[j], t.rows.map { r in r[j] }) }
        var action = [Int32](repeating: 0, count: n)
        var reward = [Double](repeating: 0, count: n), pscore = reward
        var context = [Double](repeating: 0, count: n * contextColumns.count)
        if js != nil { raw.state = [Int32](repeating: 0, count: n) }
        if je != nil { raw.elapsed = [Double](repeating: 0, count: n) }
        if jx != nil { raw.terminal = [Bool](repeating: false, count: n) }
        let stepLimit = 100_000_000
        for (i, row) in t.rows.enumerated() {
            let line = t.lines[i]
            let id = row[jt].trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { throw DataError(file: path, line: line, column: "trajectory_id", message: "empty trajectory id") }
            raw.id.append(id)
            guard let st = Int(row[jn].trimmingCharacters(in: .whitespaces)), st >= 0, st < stepLimit else {
                throw DataError(file: path, line: line, column: "step", message: "'\(row[jn])' is not a step (an integer in 0..\(stepLimit - 1))")
            }
            raw.step.append(st)
            let a = try limits.index(row[ja], limit: limits.maxActions, flag: "--max-actions", what: "action", file: path, line: line, column: "action")
            if let k = actions, a >= k { throw DataError(file: path, line: line, column: "action", message: "\(a) is outside the action space 0..\(k - 1)") }
            let (r, s) = try rewardAndPropensity(row, reward: jr, propensity: jp, file: path, line: line)
            if let js {
                raw.state[i] = Int32(try limits.index(row[js], limit: limits.maxStates, flag: "--max-states", what: "state", file: path, line: line, column: "state"))
            }
            if let je {
                guard let e = Double(row[je].trimmingCharacters(in: .whitespaces)), e.isFinite, e >= 0 else {
                    throw DataError(file: path, line: line, column: "elapsed_seconds", message: "'\(row[je])' is not a finite number of seconds >= 0")
                }
                raw.elapsed[i] = e
            }
            if let jx {
                guard let x = terminalValue(row[jx]) else {
                    throw DataError(file: path, line: line, column: "terminal", message: "'\(row[jx])' is not 0, 1, true or false")
                }
                raw.terminal[i] = x
            }
            try readContext(row, columns: contextColumns, header: t.header, into: &context, at: i * contextColumns.count, file: path, line: line)
            action[i] = Int32(a); reward[i] = r; pscore[i] = s
        }
        let K = actions ?? (Int(action.max() ?? 0) + 1)
        let log = LoggedBandit(actions: K, positions: 1, action: action, position: [Int32](repeating: 0, count: n), reward: reward, pscore: pscore,
                               context: context, contextDimension: contextColumns.count, source: path)
        return try raw.ordered(log)
    }

    /// The simulator's `training_episodes.jsonl` as trajectories: one per `user_id` (the user's
    /// journey), step = `journey_step`, time since the start = the running sum of
    /// `elapsed_seconds` (seconds since the user's previous decision); `model_version` is a
    /// trajectory-level field. Rows as `episodes` reads them.
    public static func journeys(path: String, actions: Int?, limits: DataLimits = .standard) throws -> TrajectoryLog {
        var fields = JourneyFields()
        let log = try withUnsafeMutablePointer(to: &fields) { try episodes(path: path, actions: actions, limits: limits, journey: $0) }
        var raw = TrajectoryRows(file: path)
        raw.id = fields.user; raw.step = fields.step; raw.line = fields.line
        raw.fixed = [("model_version", fields.model)]
        if fields.terminal.contains(true) { raw.terminal = fields.terminal }
        // Elapsed since the previous decision, summed in step order once the rows are ordered.
        var ordered = try raw.ordered(log, elapsedColumn: "elapsed_seconds")
        var sincePrevious = [Double](repeating: 0, count: log.count)
        var position: [Int: Int] = [:]
        for (j, l) in ordered.lines.enumerated() { position[l] = j }
        for (i, l) in fields.line.enumerated() { sincePrevious[position[l]!] = fields.elapsed[i] }
        var e = [Double](repeating: 0, count: log.count)
        for k in 0..<ordered.count {
            var total = 0.0
            for j in ordered.offsets[k]..<ordered.offsets[k + 1] {
                if j > ordered.offsets[k] { total += sincePrevious[j] }
                e[j] = total
            }
        }
        ordered.elapsed = e
        return ordered
    }
}

/// The journey fields of a simulator log, per row in file order.
public struct JourneyFields {
    public var user: [String] = []
    public var step: [Int] = []
    public var elapsed: [Double] = []
    public var model: [String] = []
    public var line: [Int] = []
    /// The optional `terminal` field (false when absent).
    public var terminal: [Bool] = []
    public init() {}
}
