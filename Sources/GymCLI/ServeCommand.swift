import ArgumentParser
import Foundation
import GymData
import GymServer

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the /api/ml endpoints and the dashboard over the store.",
        discussion: """
            Binds to loopback (127.0.0.1) by default. GET /api/ml/models, /api/ml/metrics/{modelId}, /api/ml/episodes/{userId}; the OpenAPI 3.1 document at /openapi.json (docs/openapi.json); the dashboard at / (runs and sweeps with their gate verdicts, the registry) and /runs/{runId} (a run's metrics with intervals, verdicts and charts). POST /api/ml/episode and /api/ml/reward log the live system's episodes and signals; POST /api/ml/train queues a run or sweep (by name, from --scenarios) as a background job whose state is at GET /api/ml/jobs/{jobId}; POST /api/ml/deploy/{checkpointId} moves champion to the model when the release gate passes on a named run; POST /api/ml/synthetic/generate and /augment make profiles from a persona model (by name, from --persona-models; at most --max-profiles per request, stored in the store) and GET /api/ml/synthetic/stats reports the models and the profiles made. Writes need a bearer token (--token-file or OPTIMA_GYM_TOKEN); without one the server is read-only. Stops gracefully on SIGTERM or SIGINT: requests in flight finish, the running job gets --shutdown-grace seconds, and any job left is marked interrupted (its report is written atomically, so none is half-written).
            """
    )

    @Option(help: "The SQLite store to serve. Default: $OPTIMA_GYM_STORE, else reports/optima.sqlite.")
    var store: String?

    @Option(help: "Address to bind (default loopback; give 0.0.0.0 only behind a proxy you trust).")
    var host = "127.0.0.1"

    @Option(help: "Port (1-65535; 0 picks a free one).")
    var port = 8080

    @Option(help: "A file holding the bearer token that POST /api/ml/episode and /reward need (default: $OPTIMA_GYM_TOKEN). Without a token the server is read-only: writes get 403.")
    var tokenFile: String?

    @Option(help: "POST /api/ml/train runs scenarios DIR/<name>.yaml and sweeps DIR/sweeps/<name>.yaml, named without a path.")
    var scenarios = "scenarios"

    @Option(help: "A job's report goes to DIR/server-jobs/<job id>.")
    var reports = "reports"

    @Option(help: "POST /api/ml/deploy reads gate files DIR/<name>.yaml, named without a path.")
    var gates = "gates"

    @Option(name: .customLong("job-threads"), help: "Threads of a training job (jobs run one at a time).")
    var jobThreads = 1

    @Option(name: .customLong("max-queued"), help: "Jobs that may wait behind the running one; more get 429.")
    var maxQueued = 16

    @Option(name: .customLong("shutdown-grace"), help: "Seconds a stopping server waits for the running job before marking it interrupted.")
    var shutdownGrace: Double = 30

    @Option(name: .customLong("persona-models"), help: "The synthetic endpoints read persona models DIR/<name>.json (from `synth fit`), named without a path.")
    var personaModels = "personas"

    @Option(name: .customLong("max-profiles"), help: "Profiles one synthetic request may generate or add (1-100000).")
    var maxProfiles = 1000

    @Option(name: .customLong("synthetic-timeout"), help: "Seconds a synthetic request waits for its profiles before a 503.")
    var syntheticTimeout: Double = 10

    func validate() throws {
        guard (1...100_000).contains(maxProfiles) else { throw ValidationError("--max-profiles must be in [1, 100000], got \(maxProfiles)") }
        guard syntheticTimeout.isFinite, syntheticTimeout > 0, syntheticTimeout <= 600 else { throw ValidationError("--synthetic-timeout must be in (0, 600] seconds, got \(syntheticTimeout)") }
        if personaModels.isEmpty { throw ValidationError("--persona-models must not be empty") }
        guard (1...256).contains(jobThreads) else { throw ValidationError("--job-threads must be in [1, 256], got \(jobThreads)") }
        guard (0...10_000).contains(maxQueued) else { throw ValidationError("--max-queued must be in [0, 10000], got \(maxQueued)") }
        guard shutdownGrace.isFinite, (0...3600).contains(shutdownGrace) else { throw ValidationError("--shutdown-grace must be in [0, 3600] seconds, got \(shutdownGrace)") }
        for (flag, dir) in [("--scenarios", scenarios), ("--reports", reports), ("--gates", gates)] where dir.isEmpty {
            throw ValidationError("\(flag) must not be empty")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be in [0, 65535], got \(port)") }
        if host.isEmpty { throw ValidationError("--host must not be empty") }
        if let store, store.isEmpty { throw ValidationError("--store must not be empty") }
    }

    func run() throws {
        var o = ServeOptions(storePath: store ?? defaultStorePath())
        o.host = host; o.port = port
        o.jobs.scenariosDir = scenarios; o.jobs.reportsDir = reports; o.jobs.threads = jobThreads
        o.jobs.maxQueued = maxQueued; o.jobs.shutdownGrace = shutdownGrace; o.gatesDir = gates
        o.synthetic.modelsDir = personaModels; o.synthetic.maxProfiles = maxProfiles; o.synthetic.timeout = syntheticTimeout
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw DataError(file: tokenFile, message: "cannot read the token file")
            }
            let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard t.count >= 16, !t.contains(where: { $0.isWhitespace }) else {
                throw DataError(file: tokenFile, message: "the token must be at least 16 characters with no whitespace")
            }
            o.token = t
        } else if let t = ProcessInfo.processInfo.environment["OPTIMA_GYM_TOKEN"], !t.isEmpty {
            guard t.count >= 16 else { throw ValidationError("OPTIMA_GYM_TOKEN must be at least 16 characters") }
            o.token = t
        }
        print("optima-gym serve: store \(o.storePath) on http://\(host):\(port)/ (\(o.token == nil ? "read-only" : "writes need the bearer token"))")
        fflush(stdout)
        // The command line is synchronous; the server runs on Swift concurrency until it stops.
        final class Outcome: @unchecked Sendable { var error: Error? }
        let outcome = Outcome(), done = DispatchSemaphore(value: 0)
        let options = o
        Task.detached {
            do { try await MLServer.run(options) } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let e = outcome.error { throw e }
    }
}
