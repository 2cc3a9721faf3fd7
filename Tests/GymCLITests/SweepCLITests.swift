import Foundation
import XCTest
import GymTestSupport

/// `optima-gym sweep`: determinism across threads and shards, resume after kill -9, errors.
final class SweepCLITests: CLITestCase {
    /// A small sweep of small_town: 2 grid values x 2 random draws x 2 seeds = 8 cells (or more).
    func writeSweep(name: String = "tiny", file: String? = nil, grid: String = "[1, 2]", samples: Int = 2, seeds: Int = 2, decisions: Int = 300) throws -> URL {
        let url = tmp.appendingPathComponent(file ?? "\(name).yaml")
        let base = repositoryRoot().appendingPathComponent("scenarios/small_town.yaml").path
        try """
        name: \(name)
        base: \(base)
        set:
          training.episodes: \(decisions)
          evaluation.episodes: \(decisions)
          training.curve_window: 100
          evaluation.bootstrap_samples: 50
        parameters:
          pairing.daily_exposure_budget: \(grid)
          population.activity_mean: {uniform: [0.5, 1.5]}
        samples: \(samples)
        seeds: {count: \(seeds)}
        rank_by: [mean_reward, pairing_accuracy]
        """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Every file of the merged report and the cells, by relative path (sweep.json says how the
    /// work was split, so it is compared apart).
    func contents(_ dir: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        let e = FileManager.default.enumerator(atPath: dir.path)!
        while let f = e.nextObject() as? String {
            var isDir: ObjCBool = false
            let u = dir.appendingPathComponent(f)
            if FileManager.default.fileExists(atPath: u.path, isDirectory: &isDir), !isDir.boolValue, f != "sweep.json" {
                out[f] = try String(contentsOf: u, encoding: .utf8)
            }
        }
        return out
    }

    func testThreadsAndFourShardsGiveByteIdenticalOutput() throws {
        let sweep = try writeSweep()
        let one = tmp.appendingPathComponent("one"), two = tmp.appendingPathComponent("two")
        XCTAssertEqual(try run(["sweep", sweep.path, "--out", one.path, "--threads", "1", "--quiet"]).code, 0)
        let r2 = try run(["sweep", sweep.path, "--out", two.path, "--threads", "2"])
        XCTAssertEqual(r2.code, 0, r2.stderr)
        XCTAssertTrue(r2.stderr.contains("sweep tiny: 8/8"), "progress lines: \(r2.stderr)")
        let a = try contents(one)
        XCTAssertEqual(Set(a.keys).intersection(["report.md", "cells.csv", "settings.csv", "charts/mean_reward-vs-pairing.daily_exposure_budget.svg",
                                                 "charts/learning_curves-best.svg", "cells/000007.json"]).count, 6, "\(a.keys.sorted())")
        XCTAssertEqual(a, try contents(two))
        // The charts: the ranked agent's own panel above every agent, a heatmap for the two-parameter
        // grid (2 budgets x 2 drawn activity values), and parameter_effects.csv behind them.
        let chart = try XCTUnwrap(a["charts/mean_reward-vs-pairing.daily_exposure_budget.svg"])
        XCTAssertTrue(chart.contains("(own scale)") && chart.contains("every agent (shared scale)"), "two panels")
        XCTAssertEqual(chart.components(separatedBy: "<svg").count - 1, 3, "one figure holding two panels")
        let heat = try XCTUnwrap(a["charts/mean_reward-grid.svg"])
        XCTAssertEqual(heat.components(separatedBy: "<rect").count - 1, 1 + 4, "background and one cell per setting")
        XCTAssertTrue(a["report.md"]!.contains("![Mean Reward over the grid](charts/mean_reward-grid.svg)"))
        let effects = try XCTUnwrap(a["parameter_effects.csv"]).split(separator: "\n")
        XCTAssertEqual(effects.first, "metric,parameter,value,agent,mean,ci_low,ci_high,cells")
        // settings.csv: intervals within each metric's range, and the seeds that measured it.
        let settings = try XCTUnwrap(a["settings.csv"]).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = settings[0]
        let (im, il, ih) = (header.firstIndex(of: "metric")!, header.firstIndex(of: "ci_low")!, header.firstIndex(of: "ci_high")!)
        XCTAssertTrue(header.contains("seeds_measured") && header.contains("seeds"))
        for row in settings.dropFirst() where ["bias_parity", "pairing_accuracy", "opt_out_rate", "retention_7d"].contains(row[im]) {
            if let lo = Double(row[il]) { XCTAssertGreaterThanOrEqual(lo, 0, "\(row)") }
            if let hi = Double(row[ih]) { XCTAssertLessThanOrEqual(hi, 1, "\(row)") }
        }
        XCTAssertTrue(a["report.md"]!.contains("seeds reached the target)"), "sample_efficiency says how many seeds reached it")
        // Four shards: two by flag, one by Slurm's variables, one by Kubernetes'.
        var shards: [URL] = []
        for i in 0..<4 {
            let d = tmp.appendingPathComponent("shard\(i)")
            shards.append(d)
            let r: Result
            let shardStore = ["OPTIMA_GYM_STORE": tmp.appendingPathComponent("shards.sqlite").path]
            switch i {
            case 2: r = try run(["sweep", sweep.path, "--out", d.path, "--quiet"], environment: shardStore.merging(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"]) { a, _ in a })
            case 3: r = try run(["sweep", sweep.path, "--out", d.path, "--quiet"], environment: shardStore.merging(["JOB_COMPLETION_INDEX": "3", "OPTIMA_SHARD_COUNT": "4"]) { a, _ in a })
            default: r = try run(["sweep", sweep.path, "--out", d.path, "--shard", "\(i)/4", "--quiet"], environment: shardStore)
            }
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: d.appendingPathComponent("report.md").path), "a shard writes no report")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: d.appendingPathComponent("cells").path).filter { $0.hasSuffix(".json") }.count, 2)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("shards.sqlite").path), "a shard never writes the store")
        let merged = tmp.appendingPathComponent("merged")
        let mergedStore = tmp.appendingPathComponent("merged.sqlite").path
        let m = try run(["sweep", "merge"] + shards.map(\.path) + ["--out", merged.path, "--store", mergedStore])
        XCTAssertEqual(m.code, 0, m.stderr)
        XCTAssertEqual(a, try contents(merged), "4 shards merged = one process, byte for byte")
        // The merge imported every cell; the one-process sweeps registered theirs once (the second
        // found them registered).
        for store in [mergedStore, tmp.appendingPathComponent("optima.sqlite").path] {
            let cells = try run(["runs", "list", "--store", store]).stdout.split(separator: "\n").dropFirst()
            XCTAssertEqual(cells.count, 8, "\(store): \(cells)")
            XCTAssertTrue(cells.allSatisfy { $0.split(separator: "\t")[1] == "sweep-cell" })
        }
        // A missing shard, a shard of another sweep, a corrupt cell: 65, named, nothing written.
        let bad = tmp.appendingPathComponent("bad")
        let miss = try run(["sweep", "merge"] + shards.prefix(3).map(\.path) + ["--out", bad.path])
        XCTAssertEqual(miss.code, 65)
        XCTAssertTrue(miss.stderr.contains("2 of 8 cells are missing (3, 7); shard(s) 3/4 not given"), miss.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: bad.path))
        let other = try writeSweep(name: "tiny", file: "edited.yaml", grid: "[1, 3]")
        let od = tmp.appendingPathComponent("other")
        XCTAssertEqual(try run(["sweep", other.path, "--out", od.path, "--shard", "3/4", "--quiet"]).code, 0)
        let mix = try run(["sweep", "merge"] + shards.prefix(3).map(\.path) + [od.path, "--out", bad.path])
        XCTAssertEqual(mix.code, 65)
        XCTAssertTrue(mix.stderr.contains("\(od.path): this shard is from another edit of sweep 'tiny'"), mix.stderr)
        let cell = shards[1].appendingPathComponent("cells/000005.json")
        let text = try String(contentsOf: cell, encoding: .utf8)
        try text.replacingOccurrences(of: "\"value\":", with: "\"value\": ").write(to: cell, atomically: true, encoding: .utf8)
        let corrupt = try run(["sweep", "merge"] + shards.map(\.path) + ["--out", bad.path])
        XCTAssertEqual(corrupt.code, 65)
        XCTAssertTrue(corrupt.stderr.contains("\(cell.path): corrupt cell file"), corrupt.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: bad.path))
        // The shard directories are untouched, and resume repairs the damaged cell.
        let rr = try run(["sweep", sweep.path, "--out", shards[1].path, "--shard", "1/4", "--resume", "--quiet"])
        XCTAssertEqual(rr.code, 0, rr.stderr)
        XCTAssertEqual(try String(contentsOf: cell, encoding: .utf8), text)
    }

    /// kill -9 at five moments, each followed by --resume; the result equals an uninterrupted run.
    func testKillNineFiveTimesThenResumeGivesTheSameOutput() throws {
        let sweep = try writeSweep(grid: "[1, 2, 3]", samples: 3, seeds: 4, decisions: 1500)   // 36 cells
        let ref = tmp.appendingPathComponent("ref")
        let t0 = Date()
        XCTAssertEqual(try run(["sweep", sweep.path, "--out", ref.path, "--quiet"]).code, 0)
        let cellSeconds = Date().timeIntervalSince(t0) / 18   // 36 cells on 2 threads
        let dir = tmp.appendingPathComponent("killed")
        func finished() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("cells").path)) ?? []).filter { $0.hasSuffix(".json") }.count
        }
        // Five kills, each while cells are in flight: after the run has finished at least one more
        // cell, at a seeded random moment within the next cell's time (so that a failure replays).
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        var kills = 0
        for i in 0..<5 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let fraction = Double(state >> 11) / Double(1 << 53)
            let before = finished()
            let p = Process()
            p.executableURL = CLITestCase.binary
            p.arguments = ["sweep", sweep.path, "--out", dir.path, "--quiet"] + (i == 0 ? [] : ["--resume"])
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(120)
            while p.isRunning && finished() <= before && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            Thread.sleep(forTimeInterval: fraction * cellSeconds)
            if p.isRunning { kill(p.processIdentifier, SIGKILL); kills += 1 }
            p.waitUntilExit()
        }
        XCTAssertGreaterThanOrEqual(kills, 4, "the sweep finished before it could be killed")
        XCTAssertGreaterThan(finished(), 0)
        XCTAssertLessThan(finished(), 36)
        let r = try run(["sweep", sweep.path, "--out", dir.path, "--resume"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("resuming:"), r.stderr)
        XCTAssertEqual(try contents(ref), try contents(dir))
        // Without --resume an existing directory is refused before any work (73), and nothing is lost.
        let again = try run(["sweep", sweep.path, "--out", dir.path])
        XCTAssertEqual(again.code, 73)
        XCTAssertTrue(again.stderr.contains("--resume"), again.stderr)
        XCTAssertEqual(try contents(ref), try contents(dir))
        // Cell files are plain JSON (the checksum is a field), readable by any JSON reader.
        let cell = try Data(contentsOf: dir.appendingPathComponent("cells/000000.json"))
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: cell) as? [String: Any])
        XCTAssertTrue((obj["checksum"] as? String)?.hasPrefix("fnv1a64:") ?? false)
        // One changed byte is caught by the checksum: resume runs that cell again.
        var bytes = [UInt8](cell)
        let at = bytes.firstIndex(of: UInt8(ascii: "7")) ?? 40
        bytes[at] = bytes[at] == UInt8(ascii: "7") ? UInt8(ascii: "8") : UInt8(ascii: "7")
        try Data(bytes).write(to: dir.appendingPathComponent("cells/000000.json"))
        let repaired = try run(["sweep", sweep.path, "--out", dir.path, "--resume"])
        XCTAssertEqual(repaired.code, 0, repaired.stderr)
        XCTAssertTrue(repaired.stderr.contains("cell 0: its file is damaged"), repaired.stderr)
        XCTAssertEqual(try contents(ref), try contents(dir))
    }

    func testBrokenSweepFilesAreNamedAtTheirLine() throws {
        let base = repositoryRoot().appendingPathComponent("scenarios/small_town.yaml").path
        let f = tmp.appendingPathComponent("s.yaml")
        func check(_ text: String, _ needle: String, line: UInt = #line) throws {
            try text.write(to: f, atomically: true, encoding: .utf8)
            let c = try run(["check", f.path])
            XCTAssertEqual(c.code, 65, c.stdout, line: line)
            XCTAssertTrue(c.stderr.contains(needle), "\(c.stderr) lacks \(needle)", line: line)
            let r = try run(["sweep", f.path, "--out", tmp.appendingPathComponent("o").path])
            XCTAssertEqual(r.code, 65, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("o").path), line: line)
        }
        try check("base: \(base)\nparameters:\n  pairing.daily_exposure_budget: [1, 2]\nseedz: [1]\n", "s.yaml:4:1: error: seedz: unknown key (did you mean 'seeds'?)")
        try check("base: \(base)\nparameters:\n  pairing.daily_exposure_budget: [1, -2]\n", "s.yaml:3:34: error: parameters.pairing.daily_exposure_budget: pairing.daily_exposure_budget = -2 makes an invalid scenario")
        try check("base: \(base)\nparameters:\n  pairing.nope: [1, 2]\n", "parameters.pairing.nope")
        try check("base: missing.yaml\nparameters:\n  pairing.daily_exposure_budget: [1]\n", "s.yaml:1:7: error: base: missing.yaml: cannot read file: no such file")
        try check("base: \(base)\nparameters:\n  x.y: {normal: [0, 1]}\n", "a random draw is {uniform")
        try check("base: \(base)\nparameters:\n  pairing.daily_exposure_budget: [1]\nrank_by: [mean_rewrd]\n", "unknown metric 'mean_rewrd' (did you mean 'mean_reward'?)")
        try check("base: \(base)\nparameters:\n  pairing.daily_exposure_budget: [1, 2]\nsamples: 3\n", "s.yaml:4:10: error: samples: no parameter is a random draw")
        XCTAssertEqual(try run(["sweep", f.path, "--shard", "4/4"]).code, 64)
        XCTAssertEqual(try run(["sweep", f.path, "--resume"]).code, 64)
        let ok = try run(["check", repositoryRoot().appendingPathComponent("scenarios/sweeps/baseline_exposure_distress.yaml").path])
        XCTAssertEqual(ok.code, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("9 settings x 3 seeds = 27 cells"), ok.stdout)
    }
}

extension SweepCLITests {
    /// Run reports ship per-group parity bars drawn from parity.csv, whose smallest over largest
    /// rate is the bias_parity metric; sweep reports add the best setting's bars. Both export to a
    /// notebook (nbformat 4) that loads the CSVs; a directory that is not a report exits 65.
    func testParityBarsAndNotebookExport() throws {
        let run = tmp.appendingPathComponent("run")
        XCTAssertEqual(try self.run(["run", repositoryRoot().appendingPathComponent("scenarios/small_town.yaml").path, "--out", run.path, "--quiet"]).code, 0)
        let parity = try read(run.appendingPathComponent("parity.csv")).split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        let metrics = try read(run.appendingPathComponent("metrics.csv")).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let agents = Set(parity.map { $0[0] })
        XCTAssertEqual(agents.count, 3)
        for a in agents {
            let rates = parity.filter { $0[0] == a }.map { Double($0[4])! }
            let bp = try XCTUnwrap(metrics.first { $0[0] == a && $0[1] == "bias_parity" }.flatMap { Double($0[2]) })
            XCTAssertEqual(rates.min()! / rates.max()!, bp, accuracy: 1e-12, a)
            for row in parity where row[0] == a {
                let (lo, r, hi) = (Double(row[5])!, Double(row[4])!, Double(row[6])!)
                XCTAssertTrue(lo < r && r < hi && lo >= 0 && hi <= 1, "\(row)")
            }
        }
        let svg = try read(run.appendingPathComponent("parity.svg"))
        XCTAssertEqual(svg.components(separatedBy: "fill-opacity=\"0.8\"><title>").count - 1, parity.count, "one bar per agent and group")
        XCTAssertTrue(try read(run.appendingPathComponent("report.md")).contains("![Success-outcome rate by group, with 95% Wilson intervals](parity.svg)"))
        let sweep = try writeSweep()
        let sd = tmp.appendingPathComponent("sweep")
        XCTAssertEqual(try self.run(["sweep", sweep.path, "--out", sd.path, "--quiet"]).code, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sd.appendingPathComponent("charts/parity-best.svg").path))
        XCTAssertTrue(try read(sd.appendingPathComponent("report.md")).contains("(charts/parity-best.svg)"))
        let nb = tmp.appendingPathComponent("nb")
        for (dir, csv) in [(run, "metrics.csv"), (sd, "cells.csv")] {
            let r = try self.run(["export", "notebook", dir.path, "--out", nb.path])
            XCTAssertEqual(r.code, 0, r.stderr)
            let data = try Data(contentsOf: nb.appendingPathComponent("\(dir.lastPathComponent).ipynb"))
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            XCTAssertEqual(o["nbformat"] as? Int, 4)
            let cells = try XCTUnwrap(o["cells"] as? [[String: Any]])
            let code = cells.filter { $0["cell_type"] as? String == "code" }.map { ($0["source"] as? [String] ?? []).joined() }
            XCTAssertTrue(code.contains { $0.contains("pd.read_csv(REPORT / \"\(csv)\")") }, "\(code)")
            XCTAssertTrue(code.contains { $0.contains("plt.") })
            XCTAssertTrue(cells.contains { $0["cell_type"] as? String == "markdown" })
        }
        let bad = try self.run(["export", "notebook", tmp.path, "--out", nb.path])
        XCTAssertEqual(bad.code, 65)
        XCTAssertTrue(bad.stderr.contains("not a report directory"), bad.stderr)
    }
}
