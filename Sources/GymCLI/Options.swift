import ArgumentParser
import Foundation
import GymData
import GymStore

/// `--seed`, shared by every command that draws random numbers.
struct SeedOption: ParsableArguments {
    @Option(help: "Root seed. Default: the scenario's `seed:` for commands that read a scenario (else a fresh one for run and evaluate, recorded in the report); 12345 for `ope obd`; else 1.")
    var seed: UInt64?
}

/// `--threads`, shared by every parallel command. Results never depend on it.
struct ThreadsOption: ParsableArguments {
    @Option(help: "Worker threads (results do not depend on it). Default: all cores.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be in [1, 1024], got \(threads)") }
    }
}

/// `--quiet`.
struct QuietOption: ParsableArguments {
    @Flag(help: "No progress output on stderr.")
    var quiet = false
}

/// `--out DIR` for commands that write a report directory.
struct OutputDirectoryOption: ParsableArguments {
    @Option(help: "Output directory: must not exist or be empty (an existing non-empty directory or a file exits 73 before any work). Written into a hidden temporary directory beside it and renamed into place at the end.")
    var out: String?

    func validate() throws {
        if let out, out.isEmpty { throw ValidationError("--out must not be empty") }
    }
}

/// `--store FILE` / `--no-store` for commands that register what they produce.
struct StoreOption: ParsableArguments {
    @Option(help: "The SQLite store runs, models and verdicts are registered in. Default: $OPTIMA_GYM_STORE, else reports/optima.sqlite.")
    var store: String?

    @Flag(name: .customLong("no-store"), help: "Register nothing (the report directory is still written).")
    var noStore = false

    var path: String? { noStore ? nil : (store ?? defaultStorePath()) }

    func validate() throws {
        if noStore && store != nil { throw ValidationError("--no-store contradicts --store \(store!)") }
        if let store, store.isEmpty { throw ValidationError("--store must not be empty") }
    }
}

/// `--store FILE` for commands that read the store.
struct StoreReadOption: ParsableArguments {
    @Option(help: "The SQLite store to read. Default: $OPTIMA_GYM_STORE, else reports/optima.sqlite.")
    var store: String?

    var path: String { store ?? defaultStorePath() }

    /// The store, which must exist (a query of a store that is not there is bad input).
    func open() throws -> Store { try Store(path: path, mustExist: true) }
}

func defaultStorePath() -> String {
    if let p = ProcessInfo.processInfo.environment["OPTIMA_GYM_STORE"], !p.isEmpty { return p }
    return Store.defaultPath
}

/// `--force` for commands that write a file.
struct ForceOption: ParsableArguments {
    @Flag(help: "Replace an output file that exists. Never replaces a directory or one of the command's inputs.")
    var force = false
}

/// The bootstrap and reward-model settings shared by the `ope` commands.
struct OPEOptions: ParsableArguments {
    @Option(help: "Bootstrap resamples per estimate.")
    var resamples: Int = 1000

    @Option(help: "Cross-fitting folds of the reward model.")
    var folds: Int = 3

    @Option(name: .customLong("switch-lambda"), help: "Switch-DR's weight threshold (rows with larger importance weights use the reward model only).")
    var switchLambda: Double = 100

    func validate() throws {
        guard (10...1_000_000).contains(resamples) else { throw ValidationError("--resamples must be in [10, 1000000], got \(resamples)") }
        guard (1...20).contains(folds) else { throw ValidationError("--folds must be in [1, 20], got \(folds)") }
        guard switchLambda > 0, !switchLambda.isNaN else { throw ValidationError("--switch-lambda must be > 0, got \(switchLambda)") }
    }
}

/// A fresh root seed for runs that name none (the CLI draws it; libraries never use the system RNG).
func freshSeed() -> UInt64 {
    var rng = SystemRandomNumberGenerator()
    return rng.next()
}

/// Limits on sizes that come from data (`DataLimits`), shared by the commands that read logs.
struct DataLimitOptions: ParsableArguments {
    @Option(name: .customLong("max-actions"), help: "Largest action space a log may imply (an action, item_id or allowed action at or above it is an error naming its line).")
    var maxActions: Int = DataLimits.standard.maxActions

    @Option(name: .customLong("max-positions"), help: "Largest number of slate positions a log may imply.")
    var maxPositions: Int = DataLimits.standard.maxPositions

    @Option(name: .customLong("max-table-cells"), help: "Largest rows x actions table (allowed-action masks, a candidate's per-row probabilities), checked before it is allocated (8 bytes per cell).")
    var maxTableCells: Int = DataLimits.standard.maxTableCells

    @Option(name: .customLong("max-states"), help: "Largest number of discrete states a trajectory log's `state` column may imply.")
    var maxStates: Int = DataLimits.standard.maxStates

    var limits: DataLimits {
        var l = DataLimits(maxActions: maxActions, maxPositions: maxPositions, maxTableCells: maxTableCells)
        l.maxStates = maxStates
        return l
    }

    func validate() throws {
        guard (1...Int(Int32.max)).contains(maxActions) else { throw ValidationError("--max-actions must be in [1, \(Int32.max)], got \(maxActions)") }
        guard (1...Int(Int32.max)).contains(maxPositions) else { throw ValidationError("--max-positions must be in [1, \(Int32.max)], got \(maxPositions)") }
        guard (1...Int(Int32.max)).contains(maxStates) else { throw ValidationError("--max-states must be in [1, \(Int32.max)], got \(maxStates)") }
        guard maxTableCells >= 1 else { throw ValidationError("--max-table-cells must be >= 1, got \(maxTableCells)") }
    }
}

/// `--hidden 256,256`: layer widths, each in [1, 4096].
func hiddenWidths(_ text: String) throws -> [Int] {
    try text.split(separator: ",").map { part in
        guard let w = Int(part.trimmingCharacters(in: .whitespaces)), (1...4096).contains(w) else { throw ValidationError("--hidden: '\(part)' is not a width in [1, 4096]") }
        return w
    }
}
