import Foundation
import XCTest
@testable import GymScenario

/// Each file in `scenarios/broken/` gives the diagnostics it was written for.
final class BrokenScenarioTests: XCTestCase {
    func testSyntaxError() {
        let path = Repo.scenario("broken/syntax_error.yaml")
        let d = assertSingle(diagnostics(path: path), line: 3, column: 1, keyPath: "",
                             contains: ["YAML syntax error", "could not find expected ':'"])
        XCTAssertEqual(d?.file, path)
        XCTAssertEqual(d?.sourceLine, "population")
        XCTAssertEqual(d?.description, "\(path):3:1: error: YAML syntax error: could not find expected ':' after this key\npopulation\n^")
    }

    func testUnknownKey() {
        let d = assertSingle(diagnostics(path: Repo.scenario("broken/unknown_key.yaml")), line: 5, column: 3,
                             keyPath: "pairing.daly_exposure_budget",
                             contains: ["unknown key (did you mean 'daily_exposure_budget'?)"])
        XCTAssertEqual(d?.sourceLine, "  daly_exposure_budget: 2")
    }

    func testWrongType() {
        assertSingle(diagnostics(path: Repo.scenario("broken/wrong_type.yaml")), line: 4, column: 9, keyPath: "population.size",
                     contains: ["expected an integer, got 'abc'"])
    }

    func testOutOfRange() {
        let path = Repo.scenario("broken/out_of_range.yaml")
        let d = assertSingle(diagnostics(path: path), line: 8, column: 14, keyPath: "population.groups.B.share",
                             contains: ["must be in [0, 1], got 1.4"])
        XCTAssertEqual(d?.description, """
            \(path):8:14: error: population.groups.B.share: must be in [0, 1], got 1.4
                  share: 1.4
                         ^
            """)
    }

    func testEmpty() {
        let d = assertSingle(diagnostics(path: Repo.scenario("broken/empty.yaml")), line: 1, column: 1, keyPath: "",
                             contains: ["the file is empty; a scenario needs at least"])
        XCTAssertNil(d?.sourceLine)
    }

    func testGarbage() throws {
        let path = Repo.scenario("broken/garbage.bin")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertTrue(bytes.contains(0), "the garbage holds NUL bytes")
        XCTAssertNil(String(bytes: bytes, encoding: .utf8), "the garbage is not UTF-8")
        // The first bad byte, 0xFF, is at offset 8: line 2, column 1.
        let d = assertSingle(diagnostics(path: path), line: 2, column: 1, keyPath: "",
                             contains: ["not valid UTF-8", "0xFF", "byte offset 8"])
        XCTAssertNil(d?.sourceLine, "binary lines are not echoed")
        // The same through parse(data:), and any prefix or slice of the garbage never traps.
        XCTAssertEqual(ScenarioLoaderTestHooks.diagnostics(bytes).first?.message, d?.message)
        for start in stride(from: 0, to: bytes.count, by: 7) {
            for length in [1, 5, 40, bytes.count] {
                _ = ScenarioLoaderTestHooks.diagnostics(Array(bytes[start..<min(bytes.count, start + length)]))
            }
        }
    }

    func testMultipleErrorsAreAllReported() {
        let diags = diagnostics(path: Repo.scenario("broken/multiple_errors.yaml"))
        // Sorted by place in the file.
        XCTAssertEqual(diags.map { [$0.line, $0.column] }, diags.map { [$0.line, $0.column] }.sorted { $0.lexicographicallyPrecedes($1) })
        let expected: [(String, Int, String)] = [
            ("seed", 3, "must be a non-negative integer, got '-5'"),
            ("population.size", 5, "expected an integer, got '1.5'"),
            ("population.groups", 7, "group shares must sum to 1, got A 0.7 + B 0.7 = 1.4"),
            ("pairing.candidates_shown", 10, "must be in [1, 64], got 100"),
            ("pairing.daily_exposure_budgt", 11, "unknown key (did you mean 'daily_exposure_budget'?)"),
            ("rewards.engagement_weight", 13, "must sum to 1, got 0.5 + 0.4 + 0.3 = 1.2"),
            ("logging.episodes", 15, "expected true or false, got 'yes'"),
            ("agents[1].epsilon_greedy.epsilon_end", 18, "epsilon_end (0.2) must be at most epsilon_start (0.1)"),
            ("gate[0].metric", 20, "unknown value 'mean_rewrd' (did you mean 'mean_reward'?)"),
        ]
        XCTAssertEqual(diags.count, expected.count, diags.map(\.description).joined(separator: "\n"))
        for (keyPath, line, fragment) in expected {
            if let d = diagnostic(diags, keyPath: keyPath) { assertMatches(d, line: line, contains: [fragment]) }
        }
        // The whole error prints every diagnostic, one after the other.
        let error = ScenarioError(diagnostics: diags)
        XCTAssertEqual(error.description.components(separatedBy: ": error: ").count - 1, expected.count)
    }

    func testMissingFile() {
        let path = Repo.scenario("does_not_exist.yaml")
        let d = assertSingle(diagnostics(path: path), line: 0, column: 0, keyPath: "", contains: ["cannot read file: no such file"])
        XCTAssertEqual(d?.file, path)
        XCTAssertEqual(d?.description, "\(path): error: cannot read file: no such file")
    }

    func testDirectoryIsNotAFile() {
        assertSingle(diagnostics(path: Repo.scenario("broken")), contains: ["cannot read file", "directory"])
    }
}

/// Small wrappers so tests can feed raw bytes.
enum ScenarioLoaderTestHooks {
    static func diagnostics(_ bytes: [UInt8]) -> [ScenarioDiagnostic] {
        do {
            _ = try ScenarioLoader.parse(data: bytes, file: "bytes.yaml")
            return []
        } catch let error as ScenarioError {
            return error.diagnostics
        } catch {
            return [ScenarioDiagnostic(file: "", line: 0, column: 0, keyPath: "", message: "unexpected \(error)", sourceLine: nil)]
        }
    }
}
