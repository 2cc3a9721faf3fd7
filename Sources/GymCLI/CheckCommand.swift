import ArgumentParser
import Foundation
import GymCore
import GymScenario

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate scenario and sweep files without running them.",
        discussion: "Prints every error compiler-style (file:line:column: error: key.path: message) and exits 65 if any file has one."
    )

    @Argument(help: "Scenario or sweep YAML files (a sweep has `base:` and `parameters:`).")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one scenario file") }
    }

    func run() throws {
        var failed = false
        for f in files {
            do {
                if SweepLoader.isSweep(path: f) {
                    let w = try SweepLoader.load(path: f)
                    print("\(f): ok (sweep \(w.name) of \((w.basePath as NSString).lastPathComponent); \(w.parameters.count) parameters, \(w.settings) settings x \(w.seeds.count) seeds = \(w.cellCount) cells)")
                    continue
                }
                let s = try ScenarioLoader.load(path: f)
                let agents = s.agents.map { $0.name }.joined(separator: ", ")
                print("\(f): ok (scenario \(s.name); \(s.sim.population.size) users; agents \(agents); \(s.gate.count) gate rules)")
            } catch let e as ScenarioError {
                printError(e.description)
                failed = true
            }
        }
        if failed { throw AlreadyReported(failureKind: .badInput) }
    }
}

/// A failure whose messages were printed already (e.g. one per file): only the exit code is left.
struct AlreadyReported: ClassifiedError {
    var failureKind: FailureKind
    var description: String { "" }
}
