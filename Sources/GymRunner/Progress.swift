import Foundation

/// Progress on stderr: a live line when stderr is a terminal, plain lines (every 10%) otherwise.
/// Thread-safe; agents running in parallel each report their own task.
public final class Progress: @unchecked Sendable {
    let lock = NSLock()
    let live: Bool
    let enabled: Bool
    /// Counts progress without printing it (`enabled` false), for `fraction` (a server job's status).
    let tracking: Bool
    var lastPrinted: [String: Int] = [:]
    var states: [String: String] = [:]
    var order: [String] = []
    let start = Date()
    var overallTotal = 0
    var doneByTask: [String: Int] = [:]

    /// Announces the total units of all tasks, so that lines can show overall progress and an ETA.
    public func begin(total: Int) {
        lock.lock(); defer { lock.unlock() }
        overallTotal = total
    }

    /// "overall 40%, ETA 12s" (empty before `begin` or before any progress).
    func overall() -> String {
        guard overallTotal > 0 else { return "" }
        let done = doneByTask.values.reduce(0, +)
        guard done > 0 else { return "" }
        let f = min(1, Double(done) / Double(overallTotal))
        let elapsed = Date().timeIntervalSince(start)
        let eta = f > 0 ? elapsed * (1 - f) / f : 0
        return String(format: "overall %.0f%%, ETA %.0fs", 100 * f, eta)
    }

    public init(enabled: Bool = true, tracking: Bool = false) {
        self.enabled = enabled
        self.tracking = tracking
        live = isatty(STDERR_FILENO) == 1
    }

    /// The share of the units announced by `begin` done so far (nil before `begin`).
    public var fraction: Double? {
        lock.lock(); defer { lock.unlock() }
        guard overallTotal > 0 else { return nil }
        return min(1, Double(doneByTask.values.reduce(0, +)) / Double(overallTotal))
    }

    /// Reports `done` of `total` units for `task` (e.g. "epsilon_greedy training"); `detail` names
    /// what was just finished or is running (e.g. a sweep cell).
    public func update(_ task: String, done: Int, total: Int, detail: String? = nil) {
        guard enabled || tracking, total > 0 else { return }
        lock.lock(); defer { lock.unlock() }
        let pct = done * 100 / total
        doneByTask[task] = done
        guard enabled else { return }
        let suffix = detail.map { " " + $0 } ?? ""
        if live {
            if states[task] == nil { order.append(task) }
            let width = 20
            let filled = min(width, done * width / total)
            states[task] = "\(task) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(done)/\(total)"
            let line = order.compactMap { states[$0] }.suffix(2).joined(separator: "  |  ")
            var text = line + "  " + overall() + suffix
            if text.count > 160 { text = String(text.prefix(157)) + "..." }
            FileHandle.standardError.write(("\r\u{1B}[K" + text).data(using: .utf8)!)
        } else {
            let step = pct / 10
            // Plain lines: every 10%, and every unit when a detail is given and units are few.
            if lastPrinted[task].map({ step > $0 }) ?? true || (detail != nil && total <= 100) {
                lastPrinted[task] = step
                let o = overall()
                FileHandle.standardError.write("\(task): \(done)/\(total) (\(pct)%)\(o.isEmpty ? "" : "; " + o)\(suffix)\n".data(using: .utf8)!)
            }
        }
    }

    /// A message on its own line.
    public func note(_ message: String) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        FileHandle.standardError.write(((live ? "\r\u{1B}[K" : "") + message + "\n").data(using: .utf8)!)
    }

    public func finish() {
        guard enabled, live else { return }
        lock.lock(); defer { lock.unlock() }
        FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!)
    }
}
