import ArgumentParser
import Foundation
import GymServer

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the /api/ml endpoints and the dashboard over the store.",
        discussion: """
            Binds to loopback (127.0.0.1) by default. GET /api/ml/models, /api/ml/metrics/{modelId}, /api/ml/episodes/{userId}; the OpenAPI 3.1 document at /openapi.json (docs/openapi.json); the dashboard at / (runs and sweeps with their gate verdicts, the registry) and /runs/{runId} (a run's metrics with intervals, verdicts and charts). Read-only for now. Stops gracefully on SIGTERM or SIGINT: requests in flight finish.
            """
    )

    @Option(help: "The SQLite store to serve. Default: $OPTIMA_GYM_STORE, else reports/optima.sqlite.")
    var store: String?

    @Option(help: "Address to bind (default loopback; give 0.0.0.0 only behind a proxy you trust).")
    var host = "127.0.0.1"

    @Option(help: "Port (1-65535; 0 picks a free one).")
    var port = 8080

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be in [0, 65535], got \(port)") }
        if host.isEmpty { throw ValidationError("--host must not be empty") }
        if let store, store.isEmpty { throw ValidationError("--store must not be empty") }
    }

    func run() throws {
        var o = ServeOptions(storePath: store ?? defaultStorePath())
        o.host = host; o.port = port
        print("optima-gym serve: store \(o.storePath) on http://\(host):\(port)/")
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
