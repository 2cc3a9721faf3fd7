import Foundation
import GymCore
import GymRunner
import GymStore
import Hummingbird

/// `POST /api/ml/train` (a run or sweep queued as a background job), `GET /api/ml/jobs/{jobId}`,
/// `POST /api/ml/jobs/{jobId}/cancel` (a queued job; the record stays, marked cancelled),
/// and `POST /api/ml/deploy/{checkpointId}` (the release gate moves `champion`).
extension MLServer {
    /// Work that blocks (a gate evaluating models) on a queue of its own, never on the threads
    /// that answer requests.
    static func offload<T: Sendable>(_ queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in queue.async { c.resume(with: Result { try body() }) } }
    }

    /// A name of a file in a directory the server was given (a scenario, a sweep, a gate file):
    /// an id that does not start with a dot.
    static func fileName(_ raw: String, field: String) throws -> String {
        let s = try checkID(raw, field: field)
        guard !s.hasPrefix("."), !s.contains(":") else {
            throw HTTPError(.badRequest, message: "\(field): expected a name of letters, digits, '.', '_' or '-' not starting with '.', got '\(s.prefix(64))'")
        }
        return s
    }

    static func addJobs(_ router: Router<BasicRequestContext>, store: Store, token: String?, jobs: JobQueue?, gatesDir: String) {
        router.post("/api/ml/train") { request, _ -> Response in
            try authorize(request, token: token)
            guard let jobs else { throw HTTPError(.serviceUnavailable, message: "train: this server runs no jobs") }
            let f = try Fields(try await jsonObject(request), known: ["scenario", "sweep", "seed"])
            let scenario = try f.string("scenario", max: 128, optional: true), sweep = try f.string("sweep", max: 128, optional: true)
            guard (scenario == nil) != (sweep == nil) else {
                throw HTTPError(.badRequest, message: "scenario: give exactly one of scenario (a run) and sweep")
            }
            let kind = scenario != nil ? "run" : "sweep"
            let name = try fileName((scenario ?? sweep)!, field: kind == "run" ? "scenario" : "sweep")
            let seed = try f.integer("seed", 0...9_007_199_254_740_991, optional: true).map { UInt64($0) }
            guard FileManager.default.fileExists(atPath: jobs.file(kind: kind, name: name)) else {
                throw HTTPError(.notFound, message: "\(kind == "run" ? "scenario" : "sweep"): no \(kind == "run" ? "scenario" : "sweep") named '\(name)' on this server")
            }
            let job = JobRecord(jobID: "job-" + UUID().uuidString.lowercased(), kind: kind, target: name, seed: seed, createdAt: JobQueue.now())
            let queued: Bool
            do { queued = try jobs.submit(job) } catch { throw mapped(error) }
            guard queued else {
                throw HTTPError(.tooManyRequests, message: "train: \(jobs.settings.maxQueued) jobs are waiting already (or the server is stopping); try again later")
            }
            var r = try json(JobBody(job, progress: nil), status: .accepted)
            r.headers[.location] = "/api/ml/jobs/\(job.jobID)"
            return r
        }
        router.get("/api/ml/jobs/:jobId") { _, context -> Response in
            let id = try checkID(try context.parameters.require("jobId"), field: "jobId")
            do { return try json(JobBody(try store.job(id), progress: jobs?.fraction(id))) } catch { throw mapped(error) }
        }
        router.post("/api/ml/jobs/:jobId/cancel") { request, context -> Response in
            try authorize(request, token: token)
            let id = try checkID(try context.parameters.require("jobId"), field: "jobId")
            guard let jobs else { throw HTTPError(.serviceUnavailable, message: "jobId: this server runs no jobs") }
            let outcome: JobQueue.Cancellation
            do { outcome = try jobs.cancel(id) } catch { throw mapped(error) }
            switch outcome {
            case .cancelled(let j): return try json(JobBody(j, progress: nil))
            case .running: throw HTTPError(.conflict, message: "jobId: job '\(id)' is running; a running job stops only when the server stops")
            case .finished(let status): throw HTTPError(.conflict, message: "jobId: job '\(id)' has finished (\(status)); nothing to cancel")
            }
        }
        let gateQueue = DispatchQueue(label: "optima-gym.deploy")
        router.post("/api/ml/deploy/:checkpointId") { request, context -> Response in
            try authorize(request, token: token)
            let ref = try checkID(try context.parameters.require("checkpointId"), field: "checkpointId")
            let f = try Fields(try await jsonObject(request), known: ["run", "rules"])
            let runRef = try f.id("run")
            let rules = try f.string("rules", max: 128, optional: true).map { try fileName($0, field: "rules") }
            let model: String, run: String
            do { model = try store.resolveModel(ref); run = try store.resolveRun(runRef) } catch { throw mapped(error) }
            var q = GateRequest(run: run)
            q.storePath = store.path
            q.promote = model
            if let rules {
                let path = URL(fileURLWithPath: gatesDir).appendingPathComponent("\(rules).yaml").path
                guard FileManager.default.fileExists(atPath: path) else { throw HTTPError(.notFound, message: "rules: no gate file named '\(rules)' on this server") }
                q.rulesPath = path
            }
            let request = q
            let outcome: GateOutcome
            do { outcome = try await offload(gateQueue) { try GateJob.run(request, progress: nil) } } catch let e as StoreError {
                throw mapped(e)
            } catch let e as BadInputError {
                throw HTTPError(.unprocessableContent, message: "deploy: \("\(e)".replacingOccurrences(of: store.path, with: "the store").prefix(1000))")
            }
            let deployed = (try? store.aliasTarget(Store.championAlias)) == model && outcome.verdict.passed
            return try json(DeployBody(checkpointId: model, runId: outcome.runID, passed: outcome.verdict.passed, deployed: deployed,
                                       action: outcome.action, rules: outcome.verdict.results.map {
                                           .init(rule: $0.rule.summary, passed: $0.passed, measured: $0.measured.flatMap { $0.isFinite ? $0 : nil }, reason: $0.reason)
                                       }))
        }
    }
}

struct DeployBody: Encodable {
    struct Rule: Encodable { var rule: String, passed: Bool, measured: Double?, reason: String }
    var checkpointId: String, runId: String, passed: Bool, deployed: Bool, action: String?
    var rules: [Rule]
}
