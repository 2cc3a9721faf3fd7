import Foundation
import XCTest
@testable import GymScenario

/// Paths of the repository, found from this file's location (Tests/GymScenarioTests/Support.swift).
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let scenarios = root.appendingPathComponent("scenarios")
    static func scenario(_ relative: String) -> String { scenarios.appendingPathComponent(relative).path }
}

/// The diagnostics of text that must fail to load (fails the test if it loads).
func diagnostics(_ yaml: String, file: String = "test.yaml", line: UInt = #line) -> [ScenarioDiagnostic] {
    do {
        _ = try ScenarioLoader.parse(text: yaml, file: file)
        XCTFail("expected the scenario to be rejected", line: line)
        return []
    } catch let error as ScenarioError {
        return error.diagnostics
    } catch {
        XCTFail("unexpected error type \(type(of: error)): \(error)", line: line)
        return []
    }
}

/// The diagnostics of the file at `path` that must fail to load.
func diagnostics(path: String, line: UInt = #line) -> [ScenarioDiagnostic] {
    do {
        _ = try ScenarioLoader.load(path: path)
        XCTFail("expected \(path) to be rejected", line: line)
        return []
    } catch let error as ScenarioError {
        return error.diagnostics
    } catch {
        XCTFail("unexpected error type \(type(of: error)): \(error)", line: line)
        return []
    }
}

/// Asserts that exactly one diagnostic exists and that it matches.
@discardableResult
func assertSingle(_ diags: [ScenarioDiagnostic], line expectedLine: Int? = nil, column: Int? = nil, keyPath: String? = nil,
                  contains fragments: [String], file: StaticString = #filePath, line: UInt = #line) -> ScenarioDiagnostic? {
    guard diags.count == 1, let d = diags.first else {
        XCTFail("expected 1 diagnostic, got \(diags.count):\n" + diags.map(\.description).joined(separator: "\n"), file: file, line: line)
        return nil
    }
    assertMatches(d, line: expectedLine, column: column, keyPath: keyPath, contains: fragments, file: file, line: line)
    return d
}

func assertMatches(_ d: ScenarioDiagnostic, line expectedLine: Int? = nil, column: Int? = nil, keyPath: String? = nil,
                   contains fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
    if let expectedLine { XCTAssertEqual(d.line, expectedLine, "line of: \(d)", file: file, line: line) }
    if let column { XCTAssertEqual(d.column, column, "column of: \(d)", file: file, line: line) }
    if let keyPath { XCTAssertEqual(d.keyPath, keyPath, "key path of: \(d)", file: file, line: line) }
    for fragment in fragments {
        XCTAssertTrue(d.message.contains(fragment), "'\(d.message)' should contain '\(fragment)'", file: file, line: line)
    }
}

/// The one diagnostic with this key path (fails if there is not exactly one).
func diagnostic(_ diags: [ScenarioDiagnostic], keyPath: String, file: StaticString = #filePath, line: UInt = #line) -> ScenarioDiagnostic? {
    let found = diags.filter { $0.keyPath == keyPath }
    XCTAssertEqual(found.count, 1, "diagnostics for \(keyPath): \(diags.map(\.description))", file: file, line: line)
    return found.first
}
