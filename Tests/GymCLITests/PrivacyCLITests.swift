import Foundation
import XCTest

/// `optima-gym privacy ...`: printed figures, flags and ledgers.
final class PrivacyCLITests: CLITestCase {
    func testEpsilonAndSigma() throws {
        // DP-SGD on MNIST (q = 256/60000, sigma 1.1, 14,062 steps): Opacus 1.6.0 and dp-accounting
        // 0.6.0 both give 2.59656.
        let e = try run(["privacy", "epsilon", "--sigma", "1.1", "--steps", "14062", "--sampling-rate", "0.004266666666666667", "--delta", "1e-5"])
        XCTAssertEqual(e.code, 0, e.stderr)
        XCTAssertTrue(e.stdout.hasPrefix("epsilon 2.5965"), e.stdout)
        let s = try run(["privacy", "sigma", "--epsilon", "1", "--delta", "1e-5"])
        XCTAssertEqual(s.code, 0, s.stderr)
        XCTAssertTrue(s.stdout.hasPrefix("sigma 4.0453"), s.stdout)   // dp-accounting: 4.045385
    }

    func testBadFlagsExit64() throws {
        for args in [["privacy", "epsilon", "--sigma", "0"], ["privacy", "epsilon", "--sigma", "1", "--delta", "1"],
                     ["privacy", "epsilon", "--sigma", "1", "--sampling-rate", "1.5"], ["privacy", "sigma", "--epsilon", "-1"],
                     ["privacy", "epsilon", "--sigma", "1", "--steps", "0"], ["privacy", "ledger"]] {
            let r = try run(args)
            XCTAssertEqual(r.code, 64, "\(args): \(r.stderr)")
            XCTAssertFalse(r.stderr.isEmpty)
        }
    }

    func testLedgerShowsOrRefuses() throws {
        let data = tmp.appendingPathComponent("d.csv")
        let missing = try run(["privacy", "ledger", data.path])
        XCTAssertEqual(missing.code, 65)
        XCTAssertTrue(missing.stderr.contains("no privacy ledger"), missing.stderr)
        let ledger = tmp.appendingPathComponent("d.csv.privacy-ledger.json")
        try "{\"format\": \"optima-gym-privacy-ledger\", \"version\": 1".write(to: ledger, atomically: true, encoding: .utf8)
        let corrupt = try run(["privacy", "ledger", data.path])
        XCTAssertEqual(corrupt.code, 65)
        XCTAssertTrue(corrupt.stderr.contains("\(ledger.path): error: not a valid privacy ledger"), corrupt.stderr)
        try """
        {"format": "optima-gym-privacy-ledger", "version": 1, "dataset": "d.csv", "budget": {"epsilon": 1, "delta": 1e-5},
         "releases": [{"id": 1, "what": "synth fit", "time": "2026-11-27T00:00:00Z", "epsilon": 0.5, "spentAfter": 0.5,
                       "events": [{"gaussian": {"sigma": 9.2}}]}]}
        """.write(to: ledger, atomically: true, encoding: .utf8)
        let ok = try run(["privacy", "ledger", data.path])
        XCTAssertEqual(ok.code, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("#1 2026-11-27T00:00:00Z synth fit"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("remaining"), ok.stdout)
    }
}
