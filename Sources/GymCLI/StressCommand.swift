import ArgumentParser
import Foundation
import GymEval
import GymRunner
import GymScenario

struct StressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Worst-case search: find the settings of a scenario's world where a policy does worst.",
        discussion: """
            Searches the parameter ranges given by --over (scenario key paths, as in sweep files) with the cross-entropy method (or random search) for the world that minimises (--minimise) or maximises (--maximise) a metric of one agent. Every point trains and evaluates the agent with the same seed. Writes report.md (the worst settings with the metric and its interval, the worst setting again on fresh seeds), stress.csv, stress.svg and worst.yaml to --out, by default reports/<scenario>/stress-<run-id>/.

            Example: optima-gym stress scenarios/baseline.yaml --agent epsilon_greedy --minimise mean_reward --over emotion.distress_bias=-0.8:0 --over churn.fatigue=0:3
            """
    )

    @Argument(help: "Scenario YAML file.")
    var scenario: String

    @Option(help: "The metric to drive down: the worst world is where it is lowest (e.g. mean_reward, retention_7d).")
    var minimise: String?

    @Option(help: "The metric to drive up: the worst world is where it is highest (e.g. intervention_fpr, churn_rate).")
    var maximise: String?

    @Option(help: "A parameter range KEY=LOW:HIGH (a number or integer key of the scenario; integers stay integers). Repeat for several.")
    var over: [String] = []

    @Option(help: "The agent to stress (default: the scenario's first agent that is not an upper bound).")
    var agent: String?

    @Option(help: "cem (the cross-entropy method) or random (random search over rounds x population points).")
    var method: String = "cem"

    @Option(help: "Rounds of the search.")
    var rounds: Int = 5

    @Option(help: "Points per round.")
    var population: Int = 12

    @Option(help: "Share of a round's points the next round is fitted to (cem).")
    var elite: Double = 0.25

    @Option(help: "Fresh seeds the worst setting is run again with.")
    var confirm: Int = 3

    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var output: OutputDirectoryOption
    @OptionGroup var quiet: QuietOption

    /// The parsed `--over` ranges (validate() has checked them).
    func ranges() throws -> [StressRange] {
        try over.map { text in
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--over \(text): expected KEY=LOW:HIGH") }
            let key = parts[0]
            guard let type = ScenarioSchema.keyType(key), type.type == "number" || type.type == "integer" else {
                let hint = ScenarioSchema.closestNumericKey(to: key).map { " (did you mean '\($0)'?)" } ?? ""
                throw ValidationError("--over \(text): '\(key)' is not a number or integer key of a scenario\(hint)")
            }
            let ends = parts[1].split(separator: ":", maxSplits: 1).map(String.init)
            guard ends.count == 2, let lo = Double(ends[0]), let hi = Double(ends[1]), lo.isFinite, hi.isFinite else {
                throw ValidationError("--over \(text): expected LOW:HIGH, two numbers, after '='")
            }
            guard lo < hi else { throw ValidationError("--over \(text): LOW (\(ends[0])) must be less than HIGH (\(ends[1]))") }
            let integer = type.type == "integer"
            if integer && (lo.rounded() != lo || hi.rounded() != hi) {
                throw ValidationError("--over \(text): \(key) is an integer key; give integer bounds")
            }
            return StressRange(key: key, low: lo, high: hi, integer: integer)
        }
    }

    func validate() throws {
        guard (minimise == nil) != (maximise == nil) else { throw ValidationError("give exactly one of --minimise METRIC and --maximise METRIC") }
        let metric = minimise ?? maximise!
        if let problem = GateMetrics.problem(with: metric), !MetricCatalog.names.contains(metric) {
            throw ValidationError("--\(minimise != nil ? "minimise" : "maximise") \(metric): \(problem)")
        }
        guard !over.isEmpty else { throw ValidationError("give at least one --over KEY=LOW:HIGH") }
        let r = try ranges()
        if Set(r.map(\.key)).count < r.count { throw ValidationError("--over names a key twice") }
        guard ["cem", "random"].contains(method) else { throw ValidationError("--method must be cem or random, got '\(method)'") }
        guard (1...100).contains(rounds) else { throw ValidationError("--rounds must be in [1, 100], got \(rounds)") }
        guard (2...1000).contains(population) else { throw ValidationError("--population must be in [2, 1000], got \(population)") }
        guard elite > 0 && elite < 1 else { throw ValidationError("--elite must be in (0, 1), got \(elite)") }
        guard (0...100).contains(confirm) else { throw ValidationError("--confirm must be in [0, 100], got \(confirm)") }
    }

    func run() throws {
        var r = StressRequest(scenarioPath: scenario, metric: minimise ?? maximise!, ranges: try ranges(), seed: seed.seed)
        r.minimise = minimise != nil
        r.agent = agent; r.method = method; r.rounds = rounds; r.population = population; r.eliteFraction = elite
        r.confirmSeeds = confirm; r.threads = threads.threads; r.out = output.out
        let o: StressOutcome
        do { o = try StressJob.run(r, progress: Progress(enabled: !quiet.quiet)) } catch let e as StressError where e.usage {
            throw ValidationError(e.message)
        }
        let w = o.points[o.worst]
        print("stress \(scenario): report in \(o.destination.path)/report.md")
        print(String(format: "  base scenario: %@ %.4f [%.4f, %.4f]", r.metric as NSString, o.base.value, o.base.ciLow, o.base.ciHigh))
        print("  worst found: " + zip(r.ranges, w.values).map { "\($0.0.key)=\($0.1)" }.joined(separator: ", ")
              + String(format: ": %@ %.4f [%.4f, %.4f]", r.metric as NSString, w.metric.value, w.metric.ciLow, w.metric.ciHigh))
        let fresh = o.confirmation.map(\.metric.value).filter(\.isFinite)
        if !fresh.isEmpty { print(String(format: "  the same on %d fresh seeds: mean %.4f", fresh.count, fresh.reduce(0, +) / Double(fresh.count))) }
    }
}
