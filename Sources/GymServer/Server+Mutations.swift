import Foundation
import GymStore
import Hummingbird

/// The mutating endpoints: `POST /api/ml/episode` and `POST /api/ml/reward`. They need a bearer
/// token (none configured: the server is read-only and answers 403); bodies are at most 64 KiB of
/// JSON, every field checked, errors naming the field; a row is committed before the 201.
extension MLServer {
    static let bodyLimit = 64 * 1024

    /// Checks `Authorization: Bearer <token>` (compared in constant time).
    static func authorize(_ request: Request, token: String?) throws {
        guard let token else {
            throw HTTPError(.forbidden, message: "authorization: this server is read-only (start it with --token-file FILE or OPTIMA_GYM_TOKEN to accept writes)")
        }
        let given = request.headers[.authorization] ?? ""
        let expected = "Bearer " + token
        var diff = UInt8(given.utf8.count == expected.utf8.count ? 0 : 1)
        for (a, b) in zip(given.utf8, expected.utf8) { diff |= a ^ b }
        guard diff == 0 else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "authorization: a valid 'Authorization: Bearer <token>' header is required")
        }
    }

    /// The request's JSON object (at most `bodyLimit` bytes).
    static func jsonObject(_ request: Request) async throws -> [String: Any] {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: bodyLimit) } catch {
            throw HTTPError(.contentTooLarge, message: "body: larger than \(bodyLimit) bytes")
        }
        guard buffer.readableBytes > 0 else { throw HTTPError(.badRequest, message: "body: expected a JSON object, got nothing") }
        guard let o = (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] else {
            throw HTTPError(.badRequest, message: "body: expected a JSON object")
        }
        return o
    }

    /// Field readers: each names the field in its error.
    struct Fields {
        let o: [String: Any]
        let known: Set<String>
        /// `nullable`: the optional fields that may also be given as null (as the schema says);
        /// null for any other field is an error.
        init(_ o: [String: Any], known: [String], nullable: Set<String> = []) throws {
            self.o = o; self.known = Set(known)
            if let extra = o.keys.sorted().first(where: { !self.known.contains($0) }) {
                throw HTTPError(.badRequest, message: "\(extra.prefix(64)): unknown field (expected \(known.joined(separator: ", ")))")
            }
            if let null = o.keys.sorted().first(where: { o[$0] is NSNull && !nullable.contains($0) }) {
                throw HTTPError(.badRequest, message: "\(null): null is not allowed (leave the field out instead)")
            }
        }
        func string(_ k: String, max: Int = 256, optional: Bool = false) throws -> String? {
            guard let v = o[k], !(v is NSNull) else {
                if optional { return nil }
                throw HTTPError(.badRequest, message: "\(k): required")
            }
            guard let s = v as? String, (1...max).contains(s.count) else { throw HTTPError(.badRequest, message: "\(k): expected a string of 1 to \(max) characters") }
            return s
        }
        func id(_ k: String) throws -> String { try MLServer.checkID(try string(k, max: 128)!, field: k) }
        func number(_ k: String, _ range: ClosedRange<Double>, optional: Bool = false, openLow: Bool = false) throws -> Double? {
            guard let v = o[k], !(v is NSNull) else {
                if optional { return nil }
                throw HTTPError(.badRequest, message: "\(k): required")
            }
            // JSON true and false also arrive as NSNumber; their type encoding is 'c' (char).
            guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else { throw HTTPError(.badRequest, message: "\(k): expected a number") }
            let x = n.doubleValue
            guard x.isFinite, range.contains(x), !(openLow && x == range.lowerBound) else {
                throw HTTPError(.badRequest, message: "\(k): expected a number in \(openLow ? "(" : "[")\(range.lowerBound), \(range.upperBound)], got \(x)")
            }
            return x
        }
        func integer(_ k: String, _ range: ClosedRange<Int>, optional: Bool = false) throws -> Int? {
            guard let x = try number(k, Double(range.lowerBound)...Double(range.upperBound), optional: optional) else { return nil }
            guard x.rounded() == x else { throw HTTPError(.badRequest, message: "\(k): expected an integer, got \(x)") }
            return Int(x)
        }
        func bool(_ k: String) throws -> Bool? {
            guard let v = o[k], !(v is NSNull) else { return nil }
            guard let n = v as? NSNumber, String(cString: n.objCType) == "c" else { throw HTTPError(.badRequest, message: "\(k): expected true or false") }
            return n.boolValue
        }
        func choice(_ k: String, _ options: [String]) throws -> String {
            let s = try string(k, max: 64)!
            guard options.contains(s) else { throw HTTPError(.badRequest, message: "\(k): expected one of \(options.joined(separator: ", ")), got '\(s.prefix(64))'") }
            return s
        }
    }

    static func timestamp(_ s: String, field: String) throws -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        let g = ISO8601DateFormatter()
        g.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard f.date(from: s) != nil || g.date(from: s) != nil else {
            throw HTTPError(.badRequest, message: "\(field): expected an ISO 8601 date-time such as 2026-12-07T12:00:00Z, got '\(s.prefix(64))'")
        }
        return s
    }

    static func addMutations(_ router: Router<BasicRequestContext>, store: Store, token: String?) {
        router.post("/api/ml/episode") { request, _ -> Response in
            try authorize(request, token: token)
            let f = try Fields(try await jsonObject(request), known: ["episode_id", "user_id", "context_snapshot", "action_taken", "outcome",
                                                                     "reward_score", "timestamp", "model_version", "propensity", "journey_step"],
                               nullable: ["context_snapshot", "propensity", "journey_step"])
            let context: String
            switch f.o["context_snapshot"] {
            case nil, is NSNull: context = "{}"
            case let d as [String: Any]:
                let data = try JSONSerialization.data(withJSONObject: d, options: [.sortedKeys])
                guard data.count <= 16 * 1024 else { throw HTTPError(.badRequest, message: "context_snapshot: larger than 16384 bytes") }
                context = String(decoding: data, as: UTF8.self)
            default: throw HTTPError(.badRequest, message: "context_snapshot: expected a JSON object")
            }
            let e = RunImport.Episode(episodeID: try f.id("episode_id"), userID: try f.id("user_id"), contextSnapshot: context,
                                      actionTaken: try f.string("action_taken", max: 128)!, outcome: try f.choice("outcome", ["success", "neutral", "failure"]),
                                      rewardScore: try f.number("reward_score", -1...1)!, timestamp: try timestamp(try f.string("timestamp", max: 64)!, field: "timestamp"),
                                      modelVersion: try f.id("model_version"), propensity: try f.number("propensity", 0...1, optional: true, openLow: true),
                                      journeyStep: try f.integer("journey_step", 0...1_000_000_000, optional: true))
            let stored: Bool
            do { stored = try store.logEpisode(e) } catch { throw mapped(error) }
            guard stored else { throw HTTPError(.conflict, message: "episode_id: episode '\(e.episodeID)' was logged before") }
            return try json(Stored(id: e.episodeID), status: .created)
        }
        router.post("/api/ml/reward") { request, _ -> Response in
            try authorize(request, token: token)
            let f = try Fields(try await jsonObject(request), known: ["signal_id", "episode_id", "signal_type", "value", "latency", "confidence"])
            let s = RunImport.Signal(signalID: try f.id("signal_id"), episodeID: try f.id("episode_id"),
                                     signalType: try f.choice("signal_type", ["engagement", "resonance", "explicit_feedback"]),
                                     value: try f.number("value", -1...1)!, latency: try f.integer("latency", 0...31_536_000)!,
                                     confidence: try f.number("confidence", 0...1)!)
            do { try store.logSignal(s) } catch let e as StoreError {
                if case let .invalid(_, detail) = e { throw HTTPError(.conflict, message: detail) }
                throw mapped(e)
            }
            return try json(Stored(id: s.signalID), status: .created)
        }
    }
}

struct Stored: Encodable {
    var id: String
    var stored = true
}
