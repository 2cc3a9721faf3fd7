import ArgumentParser
import Foundation
import GymRunner

@main
struct OptimaGym: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optima-gym",
        abstract: "Offline RL gym and evaluation harness for social recommendation.",
        discussion: """
        Exit codes: 0 ok / gate passed, 1 gate failed, 64 bad flags, 65 bad input (scenario, data), 70 internal error.
        """,
        version: projectVersion,
        subcommands: [Run.self, Evaluate.self, Check.self, GateCommand.self, Synth.self, Privacy.self, OPECommand.self, Bench.self]
    )
}

/// Exit codes (sysexits).
enum Exit {
    static let gateFailed = ExitCode(1)
    static let usage = ExitCode(64)
    static let dataError = ExitCode(65)
    static let software = ExitCode(70)
}

func printError(_ message: String) {
    FileHandle.standardError.write((message.hasSuffix("\n") ? message : message + "\n").data(using: .utf8)!)
}
