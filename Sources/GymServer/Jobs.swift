import Foundation
import GymRunner
import GymStore

/// Where `POST /api/ml/train` finds what it may run, and where the runs go.
public struct JobSettings: Sendable {
    /// Scenarios are `<dir>/<name>.yaml`, sweeps `<dir>/sweeps/<name>.yaml`; a request names one
    /// by name only, so nothing outside this directory can be run.
    public var scenariosDir = "scenarios"
    /// A job's report goes to `<dir>/server-jobs/<job id>`.
    public var reportsDir = "reports"
    /// Threads of a job (jobs run one at a time).
    public var threads = 1
    /// Jobs waiting beyond the running one; more get 429.
    public var maxQueued = 16
    /// How long a stopping server waits for the running job before marking it interrupted.
    public var shutdownGrace: Double = 30
    public init() {}
}

/// The background jobs: one runs at a time, in order, on a thread of its own (never on the
/// threads that answer requests). Each state change is committed to the store's `jobs` table.
public final class JobQueue: @unchecked Sendable {
    let store: Store
    let settings: JobSettings
    private let queue = DispatchQueue(label: "optima-gym.jobs")
    private let lock = NSLock()
    private var waiting = 0
    private var stopping = false
    private var running: (id: String, progress: GymRunner.Progress)?
    /// Queued jobs cancelled by request: skipped when their turn comes.
    private var cancelled: Set<String> = []
    private let idle = DispatchGroup()

    public init(store: Store, settings: JobSettings) throws {
        self.store = store
        self.settings = settings
        // Jobs a previous server left queued or running died with it.
        try store.interruptJobs(reason: "the server stopped (or crashed) before the job finished")
    }

    /// The file a request's name stands for: `<scenarios>/<name>.yaml` or `<scenarios>/sweeps/<name>.yaml`.
    func file(kind: String, name: String) -> String {
        let dir = URL(fileURLWithPath: settings.scenariosDir)
        return (kind == "sweep" ? dir.appendingPathComponent("sweeps") : dir).appendingPathComponent("\(name).yaml").path
    }

    /// Queues a job (false: the queue is full or the server is stopping).
    func submit(_ job: JobRecord) throws -> Bool {
        lock.lock()
        guard !stopping, waiting < settings.maxQueued else { lock.unlock(); return false }
        waiting += 1
        lock.unlock()
        do { try store.addJob(job) } catch {
            lock.lock(); waiting -= 1; lock.unlock()
            throw error
        }
        idle.enter()
        queue.async { [self] in
            defer { idle.leave() }
            lock.lock()
            waiting -= 1
            let stop = stopping || cancelled.remove(job.jobID) != nil
            let progress = GymRunner.Progress(enabled: false, tracking: true)
            if !stop { running = (job.jobID, progress) }
            lock.unlock()
            guard !stop else { return }
            execute(job, progress: progress)
            lock.lock(); running = nil; lock.unlock()
        }
        return true
    }

    enum Cancellation { case cancelled(JobRecord), running, finished(String) }

    /// Cancels a queued job: it is marked `cancelled` now and never starts. A running job cannot
    /// be cancelled (it stops only with the server); a finished one stays as it is.
    func cancel(_ id: String) throws -> Cancellation {
        lock.lock(); defer { lock.unlock() }
        var j = try store.job(id)
        if running?.id == id || j.status == "running" { return .running }
        guard j.status == "queued" else { return .finished(j.status) }
        j.status = "cancelled"
        j.finishedAt = Self.now()
        j.message = "cancelled by request before it started"
        guard try store.updateJob(j) else { return .finished(try store.job(id).status) }
        cancelled.insert(id)
        return .cancelled(j)
    }

    /// The running job's progress (0...1), when it is this one and has announced its size.
    func fraction(_ id: String) -> Double? {
        lock.lock(); defer { lock.unlock() }
        return running?.id == id ? running?.progress.fraction : nil
    }

    func execute(_ queued: JobRecord, progress: GymRunner.Progress) {
        var j = queued
        j.status = "running"
        j.startedAt = Self.now()
        guard (try? store.updateJob(j)) == true else { return }
        do {
            let out = URL(fileURLWithPath: settings.reportsDir).appendingPathComponent("server-jobs").appendingPathComponent(j.jobID).path
            if j.kind == "sweep" {
                let o = try SweepJob.run(file: file(kind: j.kind, name: j.target), out: out, shard: (0, 1), threads: settings.threads,
                                         resume: false, progress: progress, storePath: store.path)
                // A sweep's cells are registered as runs `<sweep id>/cell-NNNNNN`: the job names the sweep id.
                j.runID = try store.runID(reportDir: o.destination.path)?.components(separatedBy: "/cell-").first
            } else {
                var q = RunRequest(scenarioPath: file(kind: j.kind, name: j.target), seed: j.seed, freshSeed: UInt64.random(in: 1...UInt64(UInt32.max)),
                                   out: out, threads: settings.threads)
                q.storePath = store.path
                let o = try RunJob.run(q, progress: progress)
                j.runID = o.report.runID
                j.gatePassed = o.report.verdict.results.isEmpty ? nil : o.report.verdict.passed
            }
            j.status = "succeeded"
        } catch {
            j.status = "failed"
            // The error names the scenario file (relative to the server's directory), never the store.
            j.message = String("\(error)".replacingOccurrences(of: store.path, with: "the store").prefix(2000))
        }
        j.finishedAt = Self.now()
        _ = try? store.updateJob(j)
    }

    /// Stops taking jobs, lets the running one finish within the grace period, and marks anything
    /// unfinished interrupted. Returns the number marked.
    @discardableResult
    public func shutdown() -> Int {
        lock.lock(); stopping = true; lock.unlock()
        _ = idle.wait(timeout: .now() + settings.shutdownGrace)
        return (try? store.interruptJobs(reason: "the server stopped before the job finished")) ?? 0
    }

    /// Holds the queue (tests): no job starts until the returned function is called.
    func holdQueue() -> @Sendable () -> Void {
        let gate = DispatchSemaphore(value: 0)
        queue.async { gate.wait() }
        return { gate.signal() }
    }

    /// Blocks until no job is queued or running (tests).
    func waitUntilIdle() { idle.wait() }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}

struct JobBody: Encodable {
    var jobId: String, kind: String, target: String, seed: UInt64?, status: String
    var createdAt: String, startedAt: String?, finishedAt: String?, runId: String?, gatePassed: Bool?, message: String?
    var progress: Double?
    init(_ j: JobRecord, progress: Double?) {
        jobId = j.jobID; kind = j.kind; target = j.target; seed = j.seed; status = j.status; createdAt = j.createdAt
        startedAt = j.startedAt; finishedAt = j.finishedAt; runId = j.runID; gatePassed = j.gatePassed; message = j.message
        self.progress = j.status == "succeeded" ? 1 : progress
    }
}
