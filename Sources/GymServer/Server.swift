import Foundation
import GymStore
import Hummingbird

/// `optima-gym serve`: the blueprint's /api/ml endpoints (section 6) and a dashboard over the
/// SQLite store: the registry's models, a model's metrics, a user's episodes, logging episodes and
/// reward signals (with a bearer token), the OpenAPI document and the dashboard's pages.
public struct ServeOptions: Sendable {
    public var storePath: String
    public var host = "127.0.0.1"
    public var port = 8080
    /// The bearer token the mutating endpoints need (nil: the server is read-only).
    public var token: String?
    /// What `POST /api/ml/train` may run and where its reports go.
    public var jobs = JobSettings()
    /// `POST /api/ml/deploy` reads gate files `<dir>/<name>.yaml` by name.
    public var gatesDir = "gates"
    /// Persona models and caps of the synthetic endpoints.
    public var synthetic = SyntheticSettings()
    public init(storePath: String) { self.storePath = storePath }
}

public enum MLServer {
    /// Ids (model ids, aliases, user ids, run ids, episode and signal ids): 1 to 128 of letters,
    /// digits and `.`, `_`, `-`, `:`; never a path separator. Ids are only ever SQL parameters,
    /// never file names, so no id can reach outside the store.
    static func checkID(_ raw: String, field: String) throws -> String {
        // Path parameters arrive percent-encoded (`m%3A1` is `m:1`).
        let s = raw.removingPercentEncoding ?? raw
        let ok = (1...128).contains(s.count) && s.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-:".unicodeScalars.contains($0))
        }
        guard ok, !s.allSatisfy({ $0 == "." }) else {
            throw HTTPError(.badRequest, message: "\(field): expected 1 to 128 letters, digits, '.', '_', '-' or ':', got '\(s.prefix(64))'")
        }
        return s
    }

    /// A query parameter that must be an integer in `range` (absent: `fallback`).
    static func intParameter(_ request: Request, _ name: String, _ range: ClosedRange<Int>, fallback: Int) throws -> Int {
        guard let text = request.uri.queryParameters.get(name) else { return fallback }
        guard let n = Int(text), range.contains(n) else {
            throw HTTPError(.badRequest, message: "\(name): expected an integer in [\(range.lowerBound), \(range.upperBound)], got '\(text.prefix(32))'")
        }
        return n
    }

    /// A store error as an HTTP error: not found 404, anything else about the request 400.
    static func mapped(_ error: Error) -> Error {
        guard let e = error as? StoreError else { return error }
        // The messages name what was asked for, never the store's path on the server.
        switch e {
        case let .notFound(_, what): return HTTPError(.notFound, message: what)
        case let .ambiguous(_, what, candidates):
            return HTTPError(.badRequest, message: "\(what) is ambiguous: it matches \(candidates.prefix(5).joined(separator: ", "))")
        default: return HTTPError(.internalServerError, message: "the store cannot answer")
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return ByteBuffer(bytes: try encoder.encode(value))
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        jsonResponse(try encode(value), status: status)
    }

    static func jsonResponse(_ body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }

    /// A GET answer from `cache` while the store is unchanged since it was made (the key is the
    /// request's path and query); otherwise made by `make` and kept. Errors are never kept.
    static func cached(_ cache: ResponseCache, _ request: Request, store: Store, _ make: () throws -> ByteBuffer) throws -> Response {
        let key = request.uri.description
        let version: Int64
        do { version = try store.dataVersion() } catch { throw mapped(error) }
        if let hit = cache.get(key, version: version) { return jsonResponse(hit) }
        let body: ByteBuffer
        do { body = try make() } catch { throw mapped(error) }
        cache.put(key, version: version, body)
        return jsonResponse(body)
    }

    static func html(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The methods a served path allows (nil: not a served path).
    static func allowedMethods(_ path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        switch parts.count {
        case 0: return "GET"
        case 1: return parts[0] == "openapi.json" || parts[0] == "compare" ? "GET" : nil
        case 2: return parts[0] == "runs" ? "GET" : nil
        case 3:
            guard parts[0] == "api" && parts[1] == "ml" else { return nil }
            switch parts[2] { case "models": return "GET"; case "episode", "reward", "train": return "POST"; default: return nil }
        case 4 where parts[2] == "synthetic":
            guard parts[0] == "api" && parts[1] == "ml" else { return nil }
            switch parts[3] { case "stats": return "GET"; case "generate", "augment": return "POST"; default: return nil }
        case 4:
            guard parts[0] == "api" && parts[1] == "ml" else { return nil }
            switch parts[2] { case "metrics", "episodes", "jobs": return "GET"; case "deploy": return "POST"; default: return nil }
        case 5: return parts[0] == "api" && parts[1] == "ml" && parts[2] == "jobs" && parts[4] == "cancel" ? "POST" : nil
        default: return nil
        }
    }

    /// 405 with `Allow` for a method a served path does not take (RFC 9110 15.5.6).
    struct MethodNotAllowed<Context: RequestContext>: RouterMiddleware {
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            if let allowed = MLServer.allowedMethods(request.uri.path),
               !allowed.components(separatedBy: ", ").contains(request.method.rawValue),
               !(allowed.hasPrefix("GET") && request.method == .head) {
                throw HTTPError(.methodNotAllowed, headers: [.allow: allowed], message: "\(request.method.rawValue) \(request.uri.path): only \(allowed) is served here")
            }
            return try await next(request, context)
        }
    }

    /// The routes over `store`.
    public static func router(store: Store, token: String? = nil, jobs: JobQueue? = nil, gatesDir: String = "gates",
                              synthetic: SyntheticSettings = SyntheticSettings()) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MethodNotAllowed())
        addMutations(router, store: store, token: token)
        addJobs(router, store: store, token: token, jobs: jobs, gatesDir: gatesDir)
        addSynthetic(router, store: store, token: token, settings: synthetic)
        let cache = ResponseCache()
        router.get("/api/ml/models") { request, _ -> Response in
            let limit = try intParameter(request, "limit", 1...1000, fallback: 100)
            return try cached(cache, request, store: store) { try encode(ModelList(models: try store.models(limit: limit).map(ModelBody.init))) }
        }
        router.get("/api/ml/metrics/:modelId") { request, context -> Response in
            let ref = try checkID(try context.parameters.require("modelId"), field: "modelId")
            return try cached(cache, request, store: store) {
                let (model, rows) = try store.modelWithMetrics(ref)
                return try encode(ModelMetrics(modelId: model.id, agent: model.agent, modelType: model.modelType,
                                               metrics: rows.map { MetricBody(runId: $0.runID, $0.metric) }))
            }
        }
        router.get("/api/ml/episodes/:userId") { request, context -> Response in
            let user = try checkID(try context.parameters.require("userId"), field: "userId")
            let limit = try intParameter(request, "limit", 1...10_000, fallback: 1000)
            return try cached(cache, request, store: store) {
                let rows = try store.episodes(user: user, limit: limit)
                return try encode(UserEpisodes(userId: user, episodes: rows.map { EpisodeBody(runId: $0.runID, $0.episode) }))
            }
        }
        router.get("/openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        }
        router.get("/") { _, _ -> Response in
            do { return html(try Dashboard.index(store: store)) } catch { throw mapped(error) }
        }
        router.get("/compare") { request, _ -> Response in
            // Both runs are required: a run id or a unique prefix of one, each.
            func runRef(_ name: String) throws -> String {
                guard let raw = request.uri.queryParameters.get(name) else {
                    throw HTTPError(.badRequest, message: "\(name): required (a run id or a unique prefix of one)")
                }
                return try checkID(raw, field: name)
            }
            let a = try runRef("a"), b = try runRef("b")
            do { return html(try Dashboard.compare(store: store, a: a, b: b)) } catch { throw mapped(error) }
        }
        router.get("/runs/:runId") { _, context -> Response in
            let ref = try checkID(try context.parameters.require("runId"), field: "runId")
            do { return html(try Dashboard.run(store: store, ref: ref)) } catch { throw mapped(error) }
        }
        return router
    }

    /// Serves until SIGTERM or SIGINT (graceful shutdown: requests in flight finish).
    public static func run(_ o: ServeOptions) async throws {
        let store = try Store(path: o.storePath)
        let jobs = try JobQueue(store: store, settings: o.jobs)
        let app = Application(router: router(store: store, token: o.token, jobs: jobs, gatesDir: o.gatesDir, synthetic: o.synthetic),
                              configuration: .init(address: .hostname(o.host, port: o.port), serverName: "optima-gym"))
        try await app.runService()
        // Requests have finished; the running job gets the grace period, then anything
        // unfinished is marked interrupted.
        jobs.shutdown()
    }
}

/// The GET answers made since the store last changed (`Store.dataVersion`): at most `capacity`
/// of them and `maxBytes` in all, none larger than `maxEntryBytes`; all are dropped when the store
/// changes or a limit would be passed.
final class ResponseCache: @unchecked Sendable {
    private let lock = NSLock()
    private var version: Int64 = .min
    private var entries: [String: ByteBuffer] = [:]
    private var bytes = 0
    let capacity: Int, maxBytes: Int, maxEntryBytes: Int
    init(capacity: Int = 4096, maxBytes: Int = 64 << 20, maxEntryBytes: Int = 1 << 20) {
        self.capacity = capacity; self.maxBytes = maxBytes; self.maxEntryBytes = maxEntryBytes
    }

    func get(_ key: String, version v: Int64) -> ByteBuffer? {
        lock.lock(); defer { lock.unlock() }
        return v == version ? entries[key] : nil
    }

    func put(_ key: String, version v: Int64, _ body: ByteBuffer) {
        let size = body.readableBytes + key.utf8.count
        guard size <= maxEntryBytes else { return }
        lock.lock(); defer { lock.unlock() }
        // An answer made under an older version than the cache holds is not kept.
        guard v >= version else { return }
        if v != version || entries.count >= capacity || bytes + size > maxBytes {
            entries.removeAll(keepingCapacity: true); bytes = 0; version = v
        }
        if let old = entries.updateValue(body, forKey: key) { bytes -= old.readableBytes + key.utf8.count }
        bytes += size
    }

    /// Bytes held (tests).
    var heldBytes: Int { lock.lock(); defer { lock.unlock() }; return bytes }
}
