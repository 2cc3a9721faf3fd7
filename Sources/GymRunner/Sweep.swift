import Foundation
import GymCore
import GymData
import GymEval
import GymGate
import GymRandom
import GymReports
import GymScenario

/// Bad sweep data: a corrupt cell, a missing shard, a shard of another sweep (exit 65).
public struct SweepError: BadInputError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "error: " + message }
}

/// What a sweep's output directory holds (`sweep.json`): enough to merge without the sweep file.
public struct SweepManifest: Sendable, Equatable {
    public static let format = "optima-gym.sweep/1"
    public var sweep: String
    public var fingerprint: String
    public var version: String
    public var base: String
    public var parameters: [String]
    public var settings: [[String]]
    public var seeds: [UInt64]
    public var rankBy: [String]
    public var rankAgent: String?
    /// "i/n" for a shard, "all" for a one-process run.
    public var shard: String
    /// The base scenario's evaluation.confidence: the level of every interval of the report.
    public var confidence = 0.95

    public init(_ s: SweepFile, shard: String) {
        sweep = s.name; fingerprint = s.fingerprint(version: projectVersion); version = projectVersion
        base = (s.basePath as NSString).lastPathComponent
        parameters = s.parameters.map(\.key)
        settings = (0..<s.settings).map { s.setting($0) }
        seeds = s.seeds; rankBy = s.rankBy; rankAgent = s.rankAgent; self.shard = shard
        confidence = (try? s.scenario(values: s.setting(0)))?.evaluation.eval.confidence ?? 0.95
    }

    public var cellCount: Int { settings.count * seeds.count }

    func json() -> String {
        JSON.object([
            ("format", .string(Self.format)), ("sweep", .string(sweep)), ("fingerprint", .string(fingerprint)),
            ("version", .string(version)), ("base", .string(base)), ("shard", .string(shard)),
            ("parameters", .array(parameters.map { .string($0) })),
            ("settings", .array(settings.map { .array($0.map { .string($0) }) })),
            ("seeds", .array(seeds.map { .string(String($0)) })),
            ("rank_by", .array(rankBy.map { .string($0) })), ("rank_agent", rankAgent.map { .string($0) } ?? .null),
            ("confidence", .num(confidence)),
        ]).render() + "\n"
    }

    static func read(_ url: URL) throws -> SweepManifest {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SweepError("\(url.path): no sweep manifest (is this a sweep output directory?)")
        }
        guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw SweepError("\(url.path): the manifest is not valid JSON (truncated or corrupt)")
        }
        func str(_ k: String) throws -> String {
            guard let v = o[k] as? String else { throw SweepError("\(url.path): key '\(k)' is missing or not a string") }
            return v
        }
        guard try str("format") == format else { throw SweepError("\(url.path): format is '\(o["format"] ?? "")', expected '\(format)'") }
        var m = SweepManifest(sweep: try str("sweep"), fingerprint: try str("fingerprint"), version: try str("version"), base: try str("base"),
                              shard: try str("shard"))
        guard let p = o["parameters"] as? [String], let st = o["settings"] as? [[String]], let sd = o["seeds"] as? [String],
              let rb = o["rank_by"] as? [String] else { throw SweepError("\(url.path): parameters, settings, seeds or rank_by is missing or malformed") }
        m.parameters = p; m.settings = st; m.seeds = try sd.map { guard let v = UInt64($0) else { throw SweepError("\(url.path): seed '\($0)' is not an integer") }; return v }
        m.rankBy = rb; m.rankAgent = o["rank_agent"] as? String
        if let c = (o["confidence"] as? NSNumber)?.doubleValue, c > 0, c < 1 { m.confidence = c }
        return m
    }

    init(sweep: String, fingerprint: String, version: String, base: String, shard: String) {
        self.sweep = sweep; self.fingerprint = fingerprint; self.version = version; self.base = base
        parameters = []; settings = []; seeds = []; rankBy = []; rankAgent = nil; self.shard = shard
    }
}

/// One finished cell, as its file holds it.
public struct SweepCellResult: Sendable {
    public struct Agent: Sendable {
        public var name: String
        public var upperBound: Bool
        public var metrics: [MetricValue]
        public var curve: [(episodes: Int, mean: Double, low: Double, high: Double)]
        /// Per population group: (group, evaluation decisions, successes).
        public var groups: [(String, Int, Int)] = []
    }
    public var index: Int
    public var setting: Int
    public var seed: UInt64
    public var agents: [Agent]
    public var gate: [(rule: String, passed: Bool, reason: String)]
    public var gatePassed: Bool { gate.allSatisfy { $0.passed } }
}

public enum Sweep {
    public static let cellFormat = "optima-gym.sweep-cell/2"

    public static func cellName(_ k: Int) -> String { String(format: "cells/%06d.json", k) }

    /// The slice of a shard: cells k with k % n == i.
    public static func cells(of total: Int, shard: (Int, Int)) -> [Int] { stride(from: shard.0, to: total, by: shard.1).map { $0 } }

    /// Runs one cell: the base scenario with the cell's overrides and seed, one thread.
    public static func runCell(_ sweep: SweepFile, _ k: Int) throws -> SweepCellResult {
        let cell = sweep.cell(k)
        let sc = try sweep.scenario(values: cell.values)
        let (runs, target) = try Runner.run(sc, seed: cell.seed, threads: 1, captureContexts: false, progress: nil)
        let report = Runner.report(scenario: sc, scenarioFile: sweep.basePath, seed: cell.seed, runs: runs, target: target,
                                   wallTime: 0, runID: "", files: [])
        let agents = report.agents.map { a in
            SweepCellResult.Agent(name: a.name, upperBound: a.isUpperBound, metrics: a.metrics,
                                  curve: a.curve.map { ($0.episodes, $0.meanReward, $0.ciLow, $0.ciHigh) },
                                  groups: report.groupRates.filter { $0.agent == a.name }.map { ($0.group, $0.decisions, $0.successes) })
        }
        let gate = report.verdict.results.map { r in ("\(r.rule.agent) \(r.rule.metric) \(r.rule.on.rawValue)", r.passed, r.reason) }
        return SweepCellResult(index: k, setting: cell.setting, seed: cell.seed, agents: agents, gate: gate)
    }

    /// The cell file: one JSON object whose last field, `checksum`, is the FNV-1a 64 hash of the
    /// object without it (the text up to `,"checksum"` followed by `}`), so that a damaged file is
    /// never taken for a finished cell while `json.load`, `jq` and pandas read the file as it is.
    public static func cellText(_ r: SweepCellResult, fingerprint: String) -> String {
        func m(_ x: MetricValue) -> JSON {
            .object([("name", .string(x.name)), ("value", .num(x.value)), ("ci_low", .num(x.ciLow)), ("ci_high", .num(x.ciHigh)),
                     ("count", .int(x.count)), ("note", x.note.map { .string($0) } ?? .null)])
        }
        let body = JSON.object([
            ("format", .string(cellFormat)), ("fingerprint", .string(fingerprint)), ("cell", .int(r.index)), ("setting", .int(r.setting)),
            ("seed", .string(String(r.seed))),
            ("agents", .array(r.agents.map { a in
                .object([("name", .string(a.name)), ("upper_bound", .bool(a.upperBound)), ("metrics", .array(a.metrics.map(m))),
                         ("curve", .array(a.curve.map { .array([.int($0.episodes), .num($0.mean), .num($0.low), .num($0.high)]) })),
                         ("groups", .array(a.groups.map { .array([.string($0.0), .int($0.1), .int($0.2)]) }))])
            })),
            ("gate", .array(r.gate.map { .object([("rule", .string($0.rule)), ("passed", .bool($0.passed)), ("reason", .string($0.reason))]) })),
        ]).render(pretty: false)
        return String(body.dropLast()) + ",\"checksum\":\"" + checksum(body) + "\"}\n"
    }

    /// The checksum field's opening, searched from the end of a cell file.
    static let checksumKey = ",\"checksum\":\""

    static func checksum(_ s: String) -> String { String(format: "fnv1a64:%016llx", SeedTree.fnv1a64(s)) }


    /// Reads and checks a cell file (format, checksum, fingerprint, index).
    public static func readCell(_ url: URL, fingerprint: String, expected k: Int) throws -> SweepCellResult {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw SweepError("\(url.path): cannot read the cell file") }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasSuffix("\"}\n"), let key = text.range(of: checksumKey, options: .backwards),
              checksum(String(text[..<key.lowerBound]) + "}") == String(text[key.upperBound...].dropLast(3)) else {
            throw SweepError("\(url.path): corrupt cell file (checksum mismatch or truncated, \(data.count) bytes)")
        }
        guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw SweepError("\(url.path): corrupt cell file (not JSON)")
        }
        guard o["format"] as? String == cellFormat else { throw SweepError("\(url.path): not a sweep cell (format '\(o["format"] ?? "")')") }
        guard let fp = o["fingerprint"] as? String, fp == fingerprint else {
            throw SweepError("\(url.path): the cell belongs to another sweep or version (fingerprint \(o["fingerprint"] ?? "?"), expected \(fingerprint))")
        }
        guard let idx = (o["cell"] as? NSNumber)?.intValue, idx == k, let setting = (o["setting"] as? NSNumber)?.intValue,
              let seedText = o["seed"] as? String, let seed = UInt64(seedText), let agents = o["agents"] as? [[String: Any]],
              let gate = o["gate"] as? [[String: Any]] else {
            throw SweepError("\(url.path): the cell file's index, setting, seed, agents or gate is missing or wrong")
        }
        func d(_ v: Any?) -> Double { (v as? NSNumber)?.doubleValue ?? .nan }
        let ag: [SweepCellResult.Agent] = agents.map { a in
            let metrics = (a["metrics"] as? [[String: Any]] ?? []).map { x in
                MetricValue(name: x["name"] as? String ?? "", value: d(x["value"]), ciLow: d(x["ci_low"]), ciHigh: d(x["ci_high"]),
                            count: (x["count"] as? NSNumber)?.intValue ?? 0, note: x["note"] as? String)
            }
            let curve = (a["curve"] as? [[Any]] ?? []).map { p in ((p.first as? NSNumber)?.intValue ?? 0, d(p.count > 1 ? p[1] : nil), d(p.count > 2 ? p[2] : nil), d(p.count > 3 ? p[3] : nil)) }
            let groups = (a["groups"] as? [[Any]] ?? []).map { g in (g.first as? String ?? "", (g.count > 1 ? g[1] as? NSNumber : nil)?.intValue ?? 0, (g.count > 2 ? g[2] as? NSNumber : nil)?.intValue ?? 0) }
            return .init(name: a["name"] as? String ?? "", upperBound: a["upper_bound"] as? Bool ?? false, metrics: metrics, curve: curve, groups: groups)
        }
        let g = gate.map { ($0["rule"] as? String ?? "", $0["passed"] as? Bool ?? false, $0["reason"] as? String ?? "") }
        return SweepCellResult(index: idx, setting: setting, seed: seed, agents: ag, gate: g)
    }

    /// Writes `text` to `url` atomically (temporary file in the same directory, then rename).
    public static func writeAtomically(_ text: String, to url: URL) throws {
        try AtomicFile.write(text, to: url)
    }

    /// Runs the shard's unfinished cells of `sweep` into `dir` on `threads` threads. A cell whose
    /// file exists and checks is skipped (resume); a damaged one is run again. Returns the cells run.
    public static func run(_ sweep: SweepFile, dir: URL, shard: (Int, Int), threads: Int, resume: Bool, progress: Progress?) throws -> [Int] {
        let fm = FileManager.default
        let manifest = SweepManifest(sweep, shard: shard.1 == 1 ? "all" : "\(shard.0)/\(shard.1)")
        let manifestURL = dir.appendingPathComponent("sweep.json")
        if fm.fileExists(atPath: manifestURL.path) {
            guard resume else { throw OutputError.cannotCreate(path: dir.path, reason: "--out holds a sweep already; add --resume to continue it, or choose another directory (nothing was done)") }
            let old = try SweepManifest.read(manifestURL)
            guard old.fingerprint == manifest.fingerprint else {
                throw SweepError("\(manifestURL.path): this directory holds another sweep or version (fingerprint \(old.fingerprint), this sweep \(manifest.fingerprint)); nothing was changed")
            }
            guard old.shard == manifest.shard else {
                throw SweepError("\(manifestURL.path): this directory holds shard \(old.shard), not \(manifest.shard)")
            }
        } else {
            try OutputGuard.checkDirectory(dir.path, flag: "--out")
            try OutputGuard.makeDirectory(dir.appendingPathComponent("cells"))
            try writeAtomically(manifest.json(), to: manifestURL)
        }
        try OutputGuard.makeDirectory(dir.appendingPathComponent("cells"))
        // Leftover temporary files of a killed run.
        TempName.removeStale(in: dir.appendingPathComponent("cells"))
        TempName.removeStale(in: dir)
        let mine = cells(of: sweep.cellCount, shard: shard)
        var todo: [Int] = []
        for k in mine {
            let url = dir.appendingPathComponent(cellName(k))
            if fm.fileExists(atPath: url.path) {
                if (try? readCell(url, fingerprint: manifest.fingerprint, expected: k)) != nil { continue }
                progress?.note("cell \(k): its file is damaged; running it again")
            }
            todo.append(k)
        }
        progress?.begin(total: todo.count)
        if todo.count < mine.count { progress?.note("resuming: \(mine.count - todo.count) of \(mine.count) cells already finished") }
        let lock = NSLock()
        var failure: Error?
        var done = 0
        let workers = max(1, min(threads, todo.count))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < todo.count {
                lock.lock(); let stop = failure != nil; lock.unlock()
                if stop { return }
                let k = todo[i]
                let c = sweep.cell(k)
                let label = "cell \(k) (" + zip(sweep.parameters, c.values).map { "\($0.0.key)=\($0.1)" }.joined(separator: ", ") + ", seed \(c.seed))"
                lock.lock(); let d0 = done; lock.unlock()
                progress?.update("sweep \(sweep.name)", done: d0, total: todo.count, detail: "running " + label)
                do {
                    let r = try runCell(sweep, k)
                    try writeAtomically(cellText(r, fingerprint: manifest.fingerprint), to: dir.appendingPathComponent(cellName(k)))
                    lock.lock(); done += 1; let d = done; lock.unlock()
                    progress?.update("sweep \(sweep.name)", done: d, total: todo.count, detail: "finished " + label)
                } catch {
                    lock.lock(); if failure == nil { failure = error }; lock.unlock()
                    return
                }
                i += workers
            }
        }
        if let failure { throw failure }
        return todo
    }
}
