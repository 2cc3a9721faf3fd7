import ArgumentParser
import Foundation
import GymData
import GymRunner
import GymSynth

@main
struct OptimaGym: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optima-gym",
        abstract: "Offline RL gym and evaluation harness for social recommendation.",
        discussion: """
        Exit codes: 0 ok / gate passed, 1 gate failed, 64 bad flags, 65 bad input (scenario, data), 70 internal error.
        """,
        version: projectVersion,
        subcommands: [Run.self, SweepCommand.self, Evaluate.self, Check.self, GateCommand.self, Synth.self, Privacy.self, OPECommand.self, ExportCommand.self, Bench.self]
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

/// Writes report files into `out` as one unit through `AtomicDirectory` (a temporary directory
/// renamed into place); an I/O failure becomes a `DataError` naming the path.
/// Flag validation shared by every command with `--out`: the directory may not exist yet, or be
/// empty; anything else would mix or lose results.
func requireEmptyOutput(_ out: String) throws {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: out, isDirectory: &isDir) {
        guard isDir.boolValue, (try? FileManager.default.contentsOfDirectory(atPath: out))?.isEmpty == true else {
            throw ValidationError("--out '\(out)' exists and is not an empty directory")
        }
    }
}

func writeReportDirectory(_ out: String, _ files: [(name: String, text: String)]) throws {
    do {
        let dir = try AtomicDirectory(destination: URL(fileURLWithPath: out))
        for f in files { try dir.write(f.name, f.text) }
        try dir.commit()
    } catch let e as OutputError {
        switch e {
        case .exists(let p): throw DataError(file: p, message: "the output directory exists and is not empty (nothing was written)")
        case .io(let p, let m): throw DataError(file: p, message: m)
        }
    }
}
