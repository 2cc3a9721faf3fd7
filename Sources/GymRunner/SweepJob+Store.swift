import Foundation
import GymStore

/// Sweep results in the store. A shard never writes the store: on a cluster its directory sits
/// on a shared (network) filesystem, where SQLite's locking and WAL's shared memory do not work
/// reliably. `sweep merge` (or a one-process sweep) imports every cell once, in one transaction,
/// on the machine that merges.
extension SweepJob {
    /// Registers the cells of a merged sweep directory: one run (kind sweep-cell) per cell with its
    /// metrics and gate, and a sweep_cells row naming its parameters and seed.
    public static func register(merged dir: URL, manifest m: SweepManifest, storePath: String, progress: Progress?) throws {
        let start = Date()
        var rows: [RunImport] = []
        let sweepID = "\(m.sweep)-\(m.fingerprint.prefix(12))"
        for k in 0..<m.cellCount {
            let cell = try Sweep.readCell(dir.appendingPathComponent(Sweep.cellName(k)), fingerprint: m.fingerprint, expected: k)
            let values = m.settings[cell.setting]
            var params: [String: String] = [:]
            for (i, p) in m.parameters.enumerated() where i < values.count { params[p] = values[i] }
            params["seed"] = String(cell.seed)
            let paramJSON = (try? JSONSerialization.data(withJSONObject: params, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            var r = RunImport(runID: "\(sweepID)/cell-\(String(format: "%06d", k))", kind: "sweep-cell", scenario: m.base, scenarioFile: m.base,
                              scenarioText: "", seed: cell.seed, startedAt: ISO8601DateFormatter().string(from: start), wallTimeSeconds: 0,
                              projectVersion: m.version, reportDir: dir.path, gatePassed: cell.gate.isEmpty ? nil : cell.gatePassed)
            for a in cell.agents {
                r.agents.append(.init(name: a.name, checkpointID: nil, isUpperBound: a.upperBound, trainingDecisions: 0, evaluationDecisions: 0))
                for x in a.metrics {
                    r.metrics.append(.init(agent: a.name, name: x.name, value: x.value, ciLow: x.ciLow, ciHigh: x.ciHigh, n: x.count, note: x.note))
                }
            }
            r.sweep = (sweepID, String(k), paramJSON, m.shard)
            rows.append(r)
        }
        let store = try Store(path: storePath)
        let fresh = try rows.filter { try !store.hasRun($0.runID) }
        try store.registerAll(fresh)
        progress?.note(String(format: "store: registered %d cells of sweep %@ in %@ in %.2f s (%d were registered already)",
                              fresh.count, m.sweep, storePath, Date().timeIntervalSince(start), rows.count - fresh.count))
    }
}
