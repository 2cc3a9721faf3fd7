import Foundation
import GymData

/// `optima-gym explain RUN --user ID`: one user's decisions in a run, from the run's
/// `explanations/<agent>.jsonl`, as a human-readable record (the blueprint's trust-vault entry):
/// every decision, why it was made and what came of it.
public enum ExplainJob {
    /// The record of `user` (the user's number in the run, or the user_id UUID of the logs) for
    /// `agent` (nil: every agent with explanations).
    public static func render(run: String, user: String, agent: String?) throws -> String {
        let dir = URL(fileURLWithPath: run).appendingPathComponent("explanations")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else {
            throw DataError(file: run, message: FileManager.default.fileExists(atPath: run)
                            ? "the run has no explanations (run it with --explain, or set logging.explanations)"
                            : "no such run directory")
        }
        let agents = names.filter { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(6)) }.sorted()
        if let agent, !agents.contains(agent) {
            throw DataError(file: dir.path, message: "no explanations for agent '\(agent)'; the run has \(agents.joined(separator: ", "))")
        }
        let byNumber = Int(user).map { "\"user\":\($0)," }
        let needle = byNumber ?? "\"user_id\":\"\(user.lowercased())\""
        var out = ""
        var found = 0
        for a in agents where agent == nil || agent == a {
            let path = dir.appendingPathComponent("\(a).jsonl").path
            guard let data = FileManager.default.contents(atPath: path) else { throw DataError(file: path, message: "cannot read the file") }
            var lines: [[String: Any]] = []
            var lineNumber = 0
            for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                lineNumber += 1
                guard !raw.isEmpty, String(decoding: raw, as: UTF8.self).contains(needle) else { continue }
                guard let o = (try? JSONSerialization.jsonObject(with: Data(raw))) as? [String: Any] else {
                    throw DataError(file: path, line: lineNumber, message: "not a JSON object (a damaged explanations file)")
                }
                lines.append(o)
            }
            guard !lines.isEmpty else { continue }
            found += lines.count
            out += record(agent: a, lines)
        }
        guard found > 0 else {
            throw DataError(file: dir.path, message: "user '\(user)' has no decision in \(agent.map { "agent \($0)'s evaluation" } ?? "this run's evaluations") (give the user's number in the run or its user_id)")
        }
        return out
    }

    static func record(agent: String, _ lines: [[String: Any]]) -> String {
        func s(_ o: [String: Any], _ k: String) -> String { o[k] as? String ?? "" }
        func d(_ o: [String: Any], _ k: String) -> Double? { (o[k] as? NSNumber)?.doubleValue }
        let first = lines[0]
        var out = "User \(first["user"].map { "\($0)" } ?? "?") (\(s(first, "user_id"))), agent \(agent), model \(s(first, "model_version"))\n"
        let rewards = lines.compactMap { d($0, "reward_received") }
        out += "\(lines.count) decision\(lines.count == 1 ? "" : "s") in the evaluation, total reward \(String(format: "%.4f", rewards.reduce(0, +)))\n"
        for o in lines {
            out += "\nDecision \(o["decision"].map { "\($0)" } ?? "?") on day \(String(format: "%.2f", d(o, "time_days") ?? .nan)) (episode \(s(o, "episode_id")))\n"
            out += "  Context:    \(s(o, "context_summary"))\n"
            out += "  Action:     \(s(o, "action_taken")) (probability \(String(format: "%.3f", d(o, "propensity") ?? .nan)))\n"
            if let x = o["explanation"] as? [String: Any] {
                out += "  Expected:   \(s(o, "expected_outcome"))\n"
                out += "  Why:        \(s(x, "method")); the score \(String(format: "%.4f", d(x, "score") ?? .nan)) against \(String(format: "%.4f", d(x, "baseline_score") ?? .nan)) for \(s(x, "baseline")) comes mostly from:\n"
                for f in x["top_features"] as? [[String: Any]] ?? [] {
                    out += "                \(String(format: "%+.4f", d(f, "attribution") ?? .nan))  \(s(f, "feature")) = \(String(format: "%.4g", d(f, "value") ?? .nan))"
                    out += (d(f, "baseline") ?? 0) != 0 ? " (baseline \(String(format: "%.4g", d(f, "baseline")!)))\n" : "\n"
                }
            } else {
                out += "  Why:        \(s(o, "expected_outcome"))\n"
            }
            out += "  Outcome:    \(s(o, "actual_outcome"))\n"
            out += "  Adjustment: \(s(o, "model_adjustment"))\n"
        }
        return out + "\n"
    }
}
