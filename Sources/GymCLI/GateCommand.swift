import ArgumentParser
import Foundation
import GymRunner

struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Re-check a finished run against gate rules without re-running it.",
        discussion: "Reads RUN_DIR/run.json. Rules come from --rules FILE (a scenario or a YAML list of rules), else from the rules recorded in the run. Exits 0 when every rule passes, 1 when one fails, 65 when the run directory or the rules file is unreadable."
    )

    @Argument(help: "A run directory written by `optima-gym run`.")
    var runDir: String

    @Option(help: "YAML file with gate rules (a `gate:` list, or a bare list of rules).")
    var rules: String?

    func run() throws {
        try printVerdict(try RunJob.recheckGate(runDirectory: runDir, rulesPath: rules))
    }
}
