import ArgumentParser
import Foundation
import GymGate
import GymRunner

struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "The release gate: check a finished run against gate rules, promote a model to champion, or watch the champion and roll it back.",
        discussion: """
        Rules come from --rules FILE (a gate file such as gates/release.yaml, a scenario, or a bare YAML list of rules), \
        else from the rules the run recorded. A rule may name any success metric, the long-term metrics, the population's \
        privacy and synthetic-data quality (agent `population`), an `ope` report's estimates (--ope), or compare a model \
        with a registered one on the same users (`relative_to: champion, max_degradation: 0.05`). \
        --promote REF moves the `champion` alias to REF only when every rule passes. --watch compares `champion` with \
        the id it named before on the run's users and, when it is worse by more than the gate file's watch.max_degradation \
        (default 0.05), rolls `champion` back to that id, recording why. Verdicts and alias moves are recorded in the store \
        in one transaction. Exits 0 when every rule passes (and nothing was rolled back), 1 otherwise, 65 when the run, \
        the rules, a named model or alias, or the store is wrong.
        """
    )

    @Argument(help: "A run directory written by `optima-gym run`, or a registered run id (or a unique prefix of one).")
    var runRef: String

    @Option(help: "YAML file with gate rules (a `gate:` list with an optional `watch:` section, or a bare list of rules).")
    var rules: String?

    @Option(help: "Move the champion alias to this model (an alias such as challenger, or a checkpoint id) when every rule passes.")
    var promote: String?

    @Flag(help: "Judge the champion against the id it named before, both evaluated on the run's users; roll it back on degradation (exit 1).")
    var watch = false

    @Option(name: .customLong("ope"), help: "An `optima-gym ope` report directory whose estimates rules can name (agent `ope`); NAME=DIR for agent `ope.NAME`. Repeatable.")
    var ope: [String] = []

    @OptionGroup var store: StoreOption
    @OptionGroup var quiet: QuietOption

    func validate() throws {
        if promote != nil && watch { throw ValidationError("--promote and --watch are separate decisions: run the gate once for each") }
        if (promote != nil || watch) && store.noStore { throw ValidationError("--promote and --watch change the model registry: they cannot be used with --no-store") }
        for o in ope where o.isEmpty || o.hasSuffix("=") { throw ValidationError("--ope '\(o)': expected DIR or NAME=DIR") }
    }

    func run() throws {
        var q = GateRequest(run: runRef)
        q.rulesPath = rules
        q.storePath = store.path
        q.promote = promote
        q.watch = watch
        q.ope = ope.map { o in
            if let eq = o.firstIndex(of: "="), !FileManager.default.fileExists(atPath: o) {
                return (String(o[..<eq]), String(o[o.index(after: eq)...]))
            }
            return (nil, o)
        }
        let outcome = try GateJob.run(q, progress: Progress(enabled: !quiet.quiet))
        for n in outcome.notes { print("note: \(n)") }
        if let a = outcome.action { print(a) }
        // A rollback comes with a failed watch rule: the verdict fails and the exit code is 1.
        try printVerdict(outcome.verdict)
    }
}
