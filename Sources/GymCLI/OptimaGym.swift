import ArgumentParser
import Foundation
import GymRunner

@main
struct OptimaGym: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optima-gym",
        abstract: "Offline RL gym and evaluation harness for social recommendation.",
        discussion: """
        Exit codes: 0 ok / gate passed, 1 gate failed (and nothing else), 64 bad flags, 65 bad input (scenario, data, model, checkpoint), 70 internal error, 73 an output cannot be created (an existing directory or file, an input, a missing directory), 74 I/O error while writing.
        """,
        version: projectVersion,
        subcommands: [RunCommand.self, SweepCommand.self, EvaluateCommand.self, CheckCommand.self, GateCommand.self, SynthCommand.self,
                      PrivacyCommand.self, OPECommand.self, DatasetCommand.self, TrainOfflineCommand.self, ExportCommand.self, BenchCommand.self, RunsCommand.self, ModelsCommand.self,
                      EpisodesCommand.self, MetricsCommand.self, ExplainCommand.self, StressCommand.self, ServeCommand.self]
    )

    /// Parses, runs, and maps every error to one exit code in one place (`ExitStatus`).
    static func main() {
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch {
            // Help, version and bad flags: the argument parser's own messages and codes (64).
            exit(withError: error)
        }
        do {
            try command.run()
        } catch {
            if ExitStatus.isArgumentParserExit(error) { exit(withError: error) }
            let (message, code) = ExitStatus.describe(error)
            if let message { printError(message) }
            Foundation.exit(code)
        }
        Foundation.exit(0)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write((message.hasSuffix("\n") ? message : message + "\n").data(using: .utf8)!)
}

/// Thrown by a command whose release gate failed (it has printed the verdict): exit 1, the only
/// way to exit 1.
struct GateFailed: Error {}
