import Foundation
import GymCore
import GymData
import GymReports
import GymRunner
import GymStore
import GymSynth
import Hummingbird

/// Where the synthetic endpoints find persona models and how much one request may ask for.
public struct SyntheticSettings: Sendable {
    /// Persona models (from `optima-gym synth fit`) are `<dir>/<name>.json`, named without a path.
    public var modelsDir = "personas"
    /// Profiles one request may generate or add.
    public var maxProfiles = 1000
    /// Seconds a request waits for its profiles (one generation runs at a time) before a 503.
    public var timeout: Double = 10
    public init() {}
}

/// What this server has made since it started (`GET /api/ml/synthetic/stats`).
final class SyntheticCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Int] = [:]
    func add(_ key: String, _ n: Int) { lock.lock(); values[key, default: 0] += n; lock.unlock() }
    func snapshot() -> [String: Int] { lock.lock(); defer { lock.unlock() }; return values }
}

/// A flag that is claimed once: whichever of the work and the timer finishes first answers.
final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func claim() -> Bool { lock.lock(); defer { lock.unlock() }; if done { return false }; done = true; return true }
}

extension MLServer {
    /// Runs `body` on `queue`; answers 503 when it has not finished within `timeout` seconds.
    static func offload<T: Sendable>(_ queue: DispatchQueue, timeout: Double, what: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            let once = Once()
            queue.async { let r = Result { try body() }; if once.claim() { c.resume(with: r) } }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if once.claim() { c.resume(throwing: HTTPError(.serviceUnavailable, message: "\(what): not finished within \(timeout) s (the server is busy); try again")) }
            }
        }
    }

    /// A scratch directory for one request, removed afterwards.
    static func scratch<T>(_ body: (URL) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optima-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try body(dir)
    }

    /// A bad-input error of the synthetic machinery as a 422 that names no server path.
    static func unprocessable(_ e: Error, what: String, hide: [(String, String)]) -> Error {
        guard e is BadInputError else { return e }
        var text = "\(e)"
        for (path, label) in hide { text = text.replacingOccurrences(of: path, with: label) }
        return HTTPError(.unprocessableContent, message: "\(what): \(text.prefix(1000))")
    }

    static func addSynthetic(_ router: Router<BasicRequestContext>, store: Store, token: String?, settings: SyntheticSettings) {
        let queue = DispatchQueue(label: "optima-gym.synthetic")
        let counters = SyntheticCounters()
        @Sendable func modelPath(_ f: Fields) throws -> (name: String, path: String) {
            let name = try fileName(try f.string("model", max: 128)!, field: "model")
            let path = URL(fileURLWithPath: settings.modelsDir).appendingPathComponent("\(name).json").path
            guard FileManager.default.fileExists(atPath: path) else { throw HTTPError(.notFound, message: "model: no persona model named '\(name)' on this server") }
            return (name, path)
        }
        router.post("/api/ml/synthetic/generate") { request, _ -> Response in
            try authorize(request, token: token)
            let f = try Fields(try await jsonObject(request), known: ["model", "count", "seed", "variance_scale", "edge_cases"])
            let (name, path) = try modelPath(f)
            let count = try f.integer("count", 1...settings.maxProfiles)!
            let seed = UInt64(try f.integer("seed", 0...9_007_199_254_740_991, optional: true) ?? 1)
            let scale = try f.number("variance_scale", 0...100, optional: true, openLow: true) ?? 1
            let edge = try f.bool("edge_cases") ?? false
            let made = try await offload(queue, timeout: settings.timeout, what: "generate") { () throws -> (lines: [Substring], profiles: [RunImport.Profile]) in
                try scratch { dir in
                    let out = dir.appendingPathComponent("profiles.jsonl").path
                    var q = GenerateRequest(modelPath: path, count: count, out: out, jsonl: true)
                    q.seed = seed; q.varianceScale = scale; q.edgeCases = edge
                    do { _ = try ProfileWriter.generate(q, progress: nil) } catch { throw unprocessable(error, what: "model", hide: [(path, name)]) }
                    let text = try String(contentsOfFile: out, encoding: .utf8)
                    let lines = text.split(separator: "\n")
                    let profiles = try lines.map { line -> RunImport.Profile in
                        guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let id = o["profile_id"] as? String,
                              let traits = o["traits"], let vector = o["persona_vector"] as? [NSNumber] else {
                            throw HTTPError(.internalServerError, message: "generate: a profile could not be read back")
                        }
                        var blob = Data(capacity: 4 * vector.count)
                        for x in vector { withUnsafeBytes(of: Float(x.doubleValue).bitPattern.littleEndian) { blob.append(contentsOf: $0) } }
                        let t = try JSONSerialization.data(withJSONObject: traits, options: [.sortedKeys])
                        return .init(profileID: id, personaVector: blob, traits: String(decoding: t, as: UTF8.self), interactionHistory: "[]", source: "generated")
                    }
                    return (lines, profiles)
                }
            }
            let stored: Int
            do { stored = try store.storeSynthetic(made.profiles) } catch { throw mapped(error) }
            counters.add("generate_requests", 1); counters.add("profiles_generated", made.lines.count)
            var b = "{\"model\":\(JSON.escape(name)),\"seed\":\(seed),\"count\":\(made.lines.count),\"stored\":\(stored),\"profiles\":["
            b += made.lines.joined(separator: ",") + "]}"
            return jsonResponse(ByteBuffer(string: b))
        }
        router.post("/api/ml/synthetic/augment") { request, _ -> Response in
            try authorize(request, token: token)
            let f = try Fields(try await jsonObject(request), known: ["model", "rows", "target_size", "balance", "seed"])
            let (name, path) = try modelPath(f)
            let model: PersonaModel
            do { model = try PersonaModel.load(path: path) } catch { throw unprocessable(error, what: "model", hide: [(path, name)]) }
            let csv = try augmentCSV(f.o["rows"], model: model, cap: settings.maxProfiles)
            let target = try f.integer("target_size", 1...(2 * settings.maxProfiles), optional: true)
            if let target, target > csv.rows + settings.maxProfiles {
                throw HTTPError(.unprocessableContent, message: "target_size: \(target) would add \(target - csv.rows) profiles, more than \(settings.maxProfiles) per request")
            }
            let balance = try f.string("balance", max: 256, optional: true)
            guard (target == nil) != (balance == nil) else { throw HTTPError(.badRequest, message: "target_size: give exactly one of target_size and balance") }
            if let target, target < csv.rows { throw HTTPError(.unprocessableContent, message: "target_size: \(target) is below the \(csv.rows) rows given") }
            if let balance { try checkBalance(balance, csv: csv, model: model, cap: settings.maxProfiles) }
            let seed = UInt64(try f.integer("seed", 0...9_007_199_254_740_991, optional: true) ?? 1)
            let made = try await offload(queue, timeout: settings.timeout, what: "augment") { () throws -> (real: Int, redraws: Int, rows: [[String: Any]], profiles: [RunImport.Profile]) in
                try scratch { dir in
                    let real = dir.appendingPathComponent("rows.csv").path, out = dir.appendingPathComponent("augmented.csv").path
                    try csv.text.write(toFile: real, atomically: true, encoding: .utf8)
                    let r: (real: Int, augmented: Int, redraws: Int)
                    do { r = try ProfileWriter.augment(real: real, model: path, out: out, targetSize: target, balance: balance, seed: seed, overwrite: false) } catch {
                        throw unprocessable(error, what: "rows", hide: [(real, "rows (as CSV, line 1 the header)"), (path, name)])
                    }
                    let table = try CSVText.read(path: out)
                    var rows: [[String: Any]] = [], profiles: [RunImport.Profile] = []
                    for row in table.rows where row[1] == "augmented" {
                        var traits: [String: Any] = [:]
                        for (j, c) in model.numeric.enumerated() { traits[c.name] = Double(row[2 + j]) ?? 0 }
                        for (k, c) in model.categorical.enumerated() { traits[c.name] = row[2 + model.numeric.count + k] }
                        rows.append(["profile_id": row[0], "source": "augmented", "traits": traits])
                        let t = try JSONSerialization.data(withJSONObject: traits, options: [.sortedKeys])
                        profiles.append(.init(profileID: row[0], personaVector: Data(), traits: String(decoding: t, as: UTF8.self), interactionHistory: "[]", source: "augmented"))
                    }
                    return (r.real, r.redraws, rows, profiles)
                }
            }
            let stored: Int
            do { stored = try store.storeSynthetic(made.profiles) } catch { throw mapped(error) }
            counters.add("augment_requests", 1); counters.add("profiles_augmented", made.rows.count)
            let o: [String: Any] = ["model": name, "seed": seed, "real": made.real, "augmented": made.rows.count, "redraws": made.redraws,
                                    "stored": stored, "profiles": made.rows]
            return jsonResponse(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])))
        }
        router.get("/api/ml/synthetic/stats") { _, _ -> Response in
            var models: [[String: Any]] = []
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: settings.modelsDir)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
            for file in files.prefix(100) {
                let name = String(file.dropLast(5))
                guard (try? checkID(name, field: "model")) != nil,
                      let m = try? PersonaModel.load(path: URL(fileURLWithPath: settings.modelsDir).appendingPathComponent(file).path) else { continue }
                models.append(["name": name, "components": m.components.count, "numeric_columns": m.numeric.map(\.name),
                               "categorical_columns": m.categorical.map(\.name), "rows_used": m.privacy.rowsUsed, "users": m.privacy.users,
                               "epsilon": m.privacy.epsilon, "delta": m.privacy.delta])
            }
            let counts: (server: [String: Int], all: [String: Int])
            do { counts = try store.syntheticCounts() } catch { throw mapped(error) }
            var served = counters.snapshot()
            for k in ["generate_requests", "augment_requests", "profiles_generated", "profiles_augmented"] where served[k] == nil { served[k] = 0 }
            let o: [String: Any] = ["models": models, "stored_by_server": counts.server, "stored_all": counts.all, "served_since_start": served,
                                    "max_profiles_per_request": settings.maxProfiles]
            return jsonResponse(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])))
        }
    }

    /// The posted rows as a CSV of the model's columns: every row an object with exactly those
    /// columns, numbers for numeric ones and strings for categorical ones.
    static func augmentCSV(_ value: Any?, model m: PersonaModel, cap: Int) throws -> (text: String, rows: Int, levels: [String: [String]]) {
        guard let rows = value as? [Any], (1...cap).contains(rows.count) else {
            throw HTTPError(.badRequest, message: "rows: expected an array of 1 to \(cap) objects (the model's columns: \((m.numeric.map(\.name) + m.categorical.map(\.name)).joined(separator: ", ")))")
        }
        let names = m.numeric.map(\.name) + m.categorical.map(\.name)
        var text = names.map(CSVFormat.escape).joined(separator: ",") + "\n"
        var levels: [String: [String]] = [:]
        for (i, item) in rows.enumerated() {
            guard let o = item as? [String: Any] else { throw HTTPError(.badRequest, message: "rows[\(i)]: expected an object") }
            if let extra = o.keys.sorted().first(where: { !names.contains($0) }) {
                throw HTTPError(.unprocessableContent, message: "rows[\(i)].\(extra.prefix(64)): not a column of the model (\(names.joined(separator: ", ")))")
            }
            var fields: [String] = []
            for c in m.numeric {
                guard let n = o[c.name] as? NSNumber, String(cString: n.objCType) != "c", n.doubleValue.isFinite else {
                    throw HTTPError(.unprocessableContent, message: "rows[\(i)].\(c.name): expected a number (a numeric column of the model)")
                }
                fields.append(String(n.doubleValue))
            }
            for c in m.categorical {
                guard let s = o[c.name] as? String, (1...256).contains(s.count) else {
                    throw HTTPError(.unprocessableContent, message: "rows[\(i)].\(c.name): expected a string of 1 to 256 characters (a categorical column of the model)")
                }
                fields.append(CSVFormat.escape(s))
                levels[c.name, default: []].append(s)
            }
            text += fields.joined(separator: ",") + "\n"
        }
        return (text, rows.count, levels)
    }

    /// `balance` must name a categorical column, and balancing must stay within the cap.
    static func checkBalance(_ column: String, csv: (text: String, rows: Int, levels: [String: [String]]), model m: PersonaModel, cap: Int) throws {
        guard let c = m.categorical.first(where: { $0.name == column }) else {
            throw HTTPError(.unprocessableContent, message: "balance: expected a categorical column of the model (\(m.categorical.map(\.name).joined(separator: ", "))), got '\(column.prefix(64))'")
        }
        var counts = Dictionary(uniqueKeysWithValues: c.levels.map { ($0, 0) })
        for v in csv.levels[column] ?? [] where counts[v] != nil { counts[v]! += 1 }
        let top = counts.values.max() ?? 0
        let needed = counts.values.reduce(0) { $0 + (top - $1) }
        guard needed <= cap else { throw HTTPError(.unprocessableContent, message: "balance: balancing '\(column)' would add \(needed) profiles, more than \(cap) per request") }
    }
}
