import Foundation
import XCTest
import GymTestSupport

/// Bad input and faults thrown at the binary: nothing is deleted or overwritten that the command
/// did not create, no crash, no raw Foundation error, every error names its place, and the exit
/// code says what went wrong (64 flags, 65 data, 73 output, 74 I/O; 1 only for a failed gate).
final class RobustnessCLITests: CLITestCase {
    func assertNoRawErrors(_ r: Result, file: StaticString = #filePath, line: UInt = #line) {
        for bad in ["NSCocoaErrorDomain", "Error Domain=", "Fatal error", "Not enough bits"] {
            XCTAssertFalse(r.stderr.contains(bad), "raw error in: \(r.stderr)", file: file, line: line)
        }
        XCTAssertNotEqual(r.code, 1, "exit 1 is for a failed gate only: \(r.stderr)", file: file, line: line)
    }

    /// A small persona model, fitted here (a CSV of 300 rows).
    func smallModel() throws -> (data: URL, model: URL) {
        let data = tmp.appendingPathComponent("people.csv")
        var csv = "age,colour\n"
        for i in 0..<300 { csv += "\(20 + i % 50),\(["red", "green", "blue"][i % 3])\n" }
        try csv.write(to: data, atomically: true, encoding: .utf8)
        let model = tmp.appendingPathComponent("model.json")
        let r = try run(["synth", "fit", "--real", data.path, "--out", model.path, "--bounds", "age=0:100", "--budget", "10"])
        XCTAssertEqual(r.code, 0, r.stderr)
        return (data, model)
    }

    func nonEmptyDirectory(_ name: String) throws -> URL {
        let d = tmp.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        try "keep me".write(to: d.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        return d
    }

    /// Item 1: an output path that is an existing directory is refused (73) before any work; the
    /// directory and the privacy ledger are untouched.
    func testOutputThatIsADirectoryIsRefusedAndKept() throws {
        let (data, model) = try smallModel()
        let ledger = data.path + ".privacy-ledger.json"
        let ledgerBefore = try Data(contentsOf: URL(fileURLWithPath: ledger))
        let dir = try nonEmptyDirectory("somedir")
        for args in [["synth", "generate", "--model", model.path, "--count", "10", "--out", dir.path],
                     ["synth", "fit", "--real", data.path, "--out", dir.path, "--budget", "10"],
                     ["synth", "split", "--real", data.path, "--train-out", dir.path, "--holdout-out", tmp.appendingPathComponent("h.csv").path],
                     ["synth", "augment", "--real", data.path, "--model", model.path, "--out", dir.path, "--target-size", "400"],
                     ["bench", "ppo-cartpole", "--steps", "512", "--curve", dir.path],
                     ["export", "notebook", tmp.path, "--out", tmp.path, "--name", "somedir"]] {
            let r = try run(args)
            assertNoRawErrors(r)
            if args[0] == "export" { XCTAssertEqual(r.code, 65, "\(args): \(r.stderr)"); continue }   // tmp is not a report
            XCTAssertEqual(r.code, 73, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("\(dir.path): error: cannot create the output:") && r.stderr.contains("is an existing directory"), r.stderr)
            XCTAssertEqual(try read(dir.appendingPathComponent("notes.txt")), "keep me", "\(args)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("h.csv").path))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ledger)), ledgerBefore, "no release recorded for a refused fit")
        // --force never replaces a directory.
        let forced = try run(["synth", "generate", "--model", model.path, "--count", "10", "--out", dir.path, "--force"])
        XCTAssertEqual(forced.code, 73)
        XCTAssertEqual(try read(dir.appendingPathComponent("notes.txt")), "keep me")
    }

    /// Item 1, the ledger: when the ledger cannot be written, the model is removed again, so a
    /// model never exists without its recorded release (and no budget is recorded without a model).
    func testLedgerFailureLeavesNoModel() throws {
        let (data, _) = try smallModel()
        let model = tmp.appendingPathComponent("m2.json")
        let r = try run(["synth", "fit", "--real", data.path, "--out", model.path, "--ledger", tmp.appendingPathComponent("no/such/dir/l.json").path])
        assertNoRawErrors(r)
        XCTAssertEqual(r.code, 74, r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot write the privacy ledger"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: model.path), "the model was removed with the failed ledger write")
    }

    /// Item 2: an output that is an input (directly, through a symlink or a hard link) is
    /// refused, and the input keeps every row.
    func testOutputEqualToAnInputIsRefused() throws {
        let (data, model) = try smallModel()
        let before = try Data(contentsOf: data)
        let symlinkPath = tmp.appendingPathComponent("link.csv"), hard = tmp.appendingPathComponent("hard.csv")
        try FileManager.default.createSymbolicLink(at: symlinkPath, withDestinationURL: data)
        XCTAssertEqual(link(data.path, hard.path), 0)
        for args in [["synth", "split", "--real", data.path, "--train-out", data.path, "--holdout-out", tmp.appendingPathComponent("h.csv").path],
                     ["synth", "split", "--real", data.path, "--train-out", symlinkPath.path, "--holdout-out", tmp.appendingPathComponent("h.csv").path, "--force"],
                     ["synth", "split", "--real", data.path, "--train-out", tmp.appendingPathComponent("t.csv").path, "--holdout-out", hard.path, "--force"],
                     ["synth", "generate", "--model", model.path, "--count", "5", "--out", model.path, "--force"],
                     ["synth", "augment", "--real", symlinkPath.path, "--model", model.path, "--out", data.path, "--target-size", "400", "--force"],
                     ["synth", "fit", "--real", data.path, "--out", tmp.appendingPathComponent("m9.json").path, "--ledger", data.path]] {
            let r = try run(args)
            assertNoRawErrors(r)
            XCTAssertEqual(r.code, 73, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("same file as"), r.stderr)
            XCTAssertEqual(try Data(contentsOf: data), before, "\(args)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("t.csv").path))
    }

    /// Item 3: count-like values from log files are range-checked with their line and column
    /// before anything of their size is allocated; the limits are flags.
    func testHugeActionsAndPositionsInLogsAreErrorsNotCrashes() throws {
        func log(_ rows: [String], header: String = "action,reward,propensity,position") throws -> URL {
            let u = tmp.appendingPathComponent("log-\(UUID().uuidString).csv")
            var text = header + "\n"
            for i in 0..<300 { text += rows.count > i ? rows[i] + "\n" : "\(i % 3),0.5,0.3333333333,0\n" }
            try text.write(to: u, atomically: true, encoding: .utf8)
            return u
        }
        let cases: [(String, String)] = [("3000000000,0.5,0.5,0", "action"), ("100000000,0.5,0.5,0", "action"),
                                         ("1,0.5,0.5,50000000", "position"), ("99999999999999999999999,0.5,0.5,0", "action")]
        for (row, column) in cases {
            let l = try log(["0,0.5,0.3333333333,0", row])
            let r = try run(["ope", "--logs", l.path, "--policy", "uniform", "--resamples", "10"])
            assertNoRawErrors(r)
            XCTAssertEqual(r.code, 65, "\(row): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("\(l.path):3: error: column '\(column)':") && r.stderr.contains("above the limit"), r.stderr)
        }
        // Raising the limit admits a large action space.
        let big = try log(["0,0.5,0.3333333333,0", "20000,0.5,0.5,0"])
        let ok = try run(["ope", "--logs", big.path, "--policy", "uniform", "--resamples", "10", "--max-actions", "30000"])
        XCTAssertEqual(ok.code, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("20001 actions"), ok.stdout)
        // A rows x actions table above --max-table-cells is refused before it is allocated.
        let jsonl = tmp.appendingPathComponent("ep.jsonl")
        var lines = ""
        for i in 0..<50 {
            lines += "{\"episode_id\":\"e\(i)\",\"action_index\":1,\"reward_score\":0.1,\"propensity\":0.5,\"context_snapshot\":{\"observation\":[0.5,1],\"allowed_actions\":[0,1,9000]}}\n"
        }
        try lines.write(to: jsonl, atomically: true, encoding: .utf8)
        let table = try run(["ope", "--logs", jsonl.path, "--policy", "uniform", "--resamples", "10", "--max-table-cells", "1000"])
        assertNoRawErrors(table)
        XCTAssertEqual(table.code, 65, table.stderr)
        XCTAssertTrue(table.stderr.contains("above the limit of 1000 cells (raise it with --max-table-cells)"), table.stderr)
        // An OBD item_id of 3,000,000,000.
        let obd = tmp.appendingPathComponent("obd/random/all")
        try FileManager.default.createDirectory(at: obd, withIntermediateDirectories: true)
        var rows = ",timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user_feature_2,user_feature_3\n"
        for i in 0..<20 { rows += "\(i),2019-11-24 00:00:00+00:00,\(i == 7 ? "3000000000" : String(i % 4)),\(1 + i % 3),0,0.25,a,b,c,d\n" }
        try rows.write(to: obd.appendingPathComponent("all.csv"), atomically: true, encoding: .utf8)
        try ",item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3\n0,0,0.1,x,y,z\n".write(to: obd.appendingPathComponent("item_context.csv"), atomically: true, encoding: .utf8)
        let o = try run(["ope", "--logs", "obd:" + obd.path, "--policy", "uniform", "--resamples", "10"])
        assertNoRawErrors(o)
        XCTAssertEqual(o.code, 65, o.stderr)
        XCTAssertTrue(o.stderr.contains("all.csv:9: error: column 'item_id': 3000000000 is above the limit"), o.stderr)
    }

    /// Item 4: failures that are not a gate never exit 1 and never print a raw Foundation error.
    /// Help and version exit 0 with their text on stdout, at the top and for every subcommand
    /// (a regression: the parser's help request was reported as an internal error, exit 70).
    func testHelpAndVersionExitZero() throws {
        for args in [["--help"], ["run", "--help"], ["sweep", "--help"], ["synth", "fit", "--help"], ["bench", "--help"], ["help", "run"]] {
            let r = try run(args)
            XCTAssertEqual(r.code, 0, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("USAGE:") || r.stdout.contains("Usage:"), "\(args): \(r.stdout)")
            XCTAssertFalse(r.stderr.contains("internal error"), "\(args): \(r.stderr)")
        }
        let v = try run(["--version"])
        XCTAssertEqual(v.code, 0)
        XCTAssertFalse(v.stdout.isEmpty)
        let bad = try run(["run", "--no-such-flag"])
        XCTAssertEqual(bad.code, 64, bad.stderr)
    }

    func testNonGateFailuresDoNotExit1() throws {
        // A scenario that validates but makes no decision (nobody has a session in its horizon).
        let quiet = tmp.appendingPathComponent("quiet.yaml")
        try """
        name: quiet
        seed: 3
        population: {size: 2, candidate_pool: 1, persona_dimension: 16, activity_mean: 0.01}
        emotion: {dimension: 8}
        sessions: {max_days: 8}
        pairing: {candidates_shown: 1}
        training: {episodes: 100, curve_window: 50}
        evaluation: {episodes: 100, bootstrap_samples: 50}
        agents: [random, epsilon_greedy]
        """.write(to: quiet, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(["check", quiet.path]).code, 0)
        let l = tmp.appendingPathComponent("l.jsonl")
        try "{\"episode_id\":\"e\",\"action_index\":0,\"reward_score\":0,\"propensity\":1,\"context_snapshot\":{\"observation\":[0],\"allowed_actions\":[0]}}\n"
            .write(to: l, atomically: true, encoding: .utf8)
        let r = try run(["ope", "--logs", l.path, "--policy", "agent:epsilon_greedy", "--scenario", quiet.path, "--resamples", "10"])
        assertNoRawErrors(r)
        XCTAssertEqual(r.code, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("produces no decision"), r.stderr)
        let run1 = try run(["run", quiet.path, "--out", tmp.appendingPathComponent("q").path, "--quiet"])
        assertNoRawErrors(run1)
        XCTAssertEqual(run1.code, 65, run1.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("q").path), "no partial report")
    }

    /// Item 5: messages name the place: non-UTF-8 bytes on a JSONL line, a sweep whose base is a sweep.
    func testMessagesNameThePlace() throws {
        let l = tmp.appendingPathComponent("bad.jsonl")
        var bytes: [UInt8] = []
        for i in 0..<12 {
            let line = "{\"episode_id\":\"e\(i)\",\"action_index\":0,\"reward_score\":0,\"propensity\":1,\"context_snapshot\":{\"hour\":1,\"weekday\":1,\"week\":0,\"heart_rate\":70,\"hrv\":50,\"stress\":0.2,\"active_connections\":1,\"pending_matches\":0}}\n"
            bytes += Array(line.utf8)
            if i == 8 { bytes.removeLast(); bytes += [0xff, 0xfe, 10] }   // line 9 ends in invalid bytes
        }
        try Data(bytes).write(to: l)
        let r = try run(["ope", "--logs", l.path, "--policy", "uniform", "--resamples", "10"])
        assertNoRawErrors(r)
        XCTAssertEqual(r.code, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(l.path):9: error: not valid UTF-8 text (byte 0xff"), r.stderr)
        // A sweep whose base is another sweep: the error points at `base:`.
        let inner = tmp.appendingPathComponent("inner.yaml")
        try "base: \(repositoryRoot().path)/scenarios/small_town.yaml\nparameters:\n  pairing.daily_exposure_budget: [1, 2]\n".write(to: inner, atomically: true, encoding: .utf8)
        let outer = tmp.appendingPathComponent("outer.yaml")
        try "name: outer\nbase: inner.yaml\nparameters:\n  pairing.daily_exposure_budget: [1, 2]\n".write(to: outer, atomically: true, encoding: .utf8)
        let c = try run(["check", outer.path])
        XCTAssertEqual(c.code, 65, c.stderr)
        XCTAssertTrue(c.stderr.contains("\(outer.path):2:7: error: base: inner.yaml is a sweep file, not a scenario"), c.stderr)
    }

    /// Item 6: a run killed with kill -9 leaves its hidden temporary directory, named with the
    /// pid and the host; the next command writing into the same parent removes it, but never one
    /// from another host (that process may still be writing on a shared filesystem).
    func testStaleTemporaryDirectoriesOfKilledRunsAreSwept() throws {
        let parent = tmp.appendingPathComponent("reports")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = CLITestCase.binary
        p.currentDirectoryURL = repositoryRoot()
        p.arguments = ["run", "scenarios/baseline.yaml", "--out", parent.appendingPathComponent("killed").path, "--quiet", "--threads", "1"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        func temps() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []).filter { $0.hasPrefix(".tmp-") }.sorted() }
        let deadline = Date().addingTimeInterval(60)
        while temps().isEmpty && p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let left = temps()
        XCTAssertEqual(left.count, 1, "the killed run's temporary directory: \(left)")
        XCTAssertTrue(left.first?.hasPrefix(".tmp-\(p.processIdentifier)@") ?? false, "\(left)")
        // One left by a process on another host, which must survive.
        let foreign = ".tmp-\(p.processIdentifier)@some-other-host.example~1~report"
        try FileManager.default.createDirectory(at: parent.appendingPathComponent(foreign), withIntermediateDirectories: true)
        let sc = tmp.appendingPathComponent("t.yaml")
        try """
        name: t
        population: {size: 60, candidate_pool: 8, persona_dimension: 16}
        emotion: {dimension: 8}
        training: {episodes: 200, curve_window: 100}
        evaluation: {episodes: 200, bootstrap_samples: 50}
        agents: [random]
        """.write(to: sc, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(["run", sc.path, "--out", parent.appendingPathComponent("next").path, "--quiet"]).code, 0)
        XCTAssertEqual(temps(), [foreign], "the dead local run's directory is removed, the other host's is kept")
    }
}

