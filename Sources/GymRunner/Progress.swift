import Foundation

/// Progress on stderr: a live line when stderr is a terminal, plain lines (every 10%) otherwise.
/// Thread-safe; agents running in parallel each report their own task.
public final class Progress: @unchecked Sendable {
    let lock = NSLock()
    let live: Bool
    let enabled: Bool
    var lastPrinted: [String: Int] = [:]
    var states: [String: String] = [:]
    var order: [String] = []
    let start = Date()

    public init(enabled: Bool = true) {
        self.enabled = enabled
        live = isatty(STDERR_FILENO) == 1
    }

    /// Reports `done` of `total` units for `task` (e.g. "epsilon_greedy training").
    public func update(_ task: String, done: Int, total: Int) {
        guard enabled, total > 0 else { return }
        lock.lock(); defer { lock.unlock() }
        let pct = done * 100 / total
        if live {
            if states[task] == nil { order.append(task) }
            let width = 20
            let filled = min(width, done * width / total)
            states[task] = "\(task) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(pct)%"
            let line = order.compactMap { states[$0] }.suffix(2).joined(separator: "  |  ")
            let elapsed = String(format: "%.0fs", Date().timeIntervalSince(start))
            FileHandle.standardError.write(("\r\u{1B}[K" + line + "  " + elapsed).data(using: .utf8)!)
        } else {
            let step = pct / 10
            if lastPrinted[task].map({ step > $0 }) ?? true {
                lastPrinted[task] = step
                FileHandle.standardError.write("\(task): \(done)/\(total) (\(pct)%)\n".data(using: .utf8)!)
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
