import ArgumentParser
import Foundation
import GymScenario

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate scenario files without running them.",
        discussion: "Prints every error compiler-style (file:line:column: error: key.path: message) and exits 65 if any file has one."
    )

    @Argument(help: "Scenario YAML files.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one scenario file") }
    }

    func run() throws {
        var failed = false
        for f in files {
            do {
                let s = try ScenarioLoader.load(path: f)
                let agents = s.agents.map { $0.name }.joined(separator: ", ")
                print("\(f): ok (scenario \(s.name); \(s.sim.population.size) users; agents \(agents); \(s.gate.count) gate rules)")
            } catch let e as ScenarioError {
                printError(e.description)
                failed = true
            }
        }
        if failed { throw Exit.dataError }
    }
}
