import Foundation
import GymAgents
import GymGate
import GymSim
import XCTest
@testable import GymScenario

/// The scenarios in `scenarios/*.yaml` must load as shipped, with the values they advertise.
final class ShippedScenarioTests: XCTestCase {
    func testEveryShippedScenarioLoads() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Repo.scenarios.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        XCTAssertTrue(Set(["baseline.yaml", "high_distress.yaml", "small_town.yaml"]).isSubset(of: files), "\(files)")
        for file in files {
            let path = Repo.scenario(file)
            do {
                let scenario = try ScenarioLoader.load(path: path)
                XCTAssertEqual(scenario.name, (file as NSString).deletingPathExtension, "a shipped scenario is named after its file")
                XCTAssertFalse(scenario.description.isEmpty, "\(file) should describe itself")
                // Gate rules point back at their lines.
                for rule in scenario.gate { XCTAssertTrue(rule.source?.hasPrefix(path + ":") == true, "\(rule)") }
            } catch {
                XCTFail("\(file) does not load:\n\(error)")
            }
        }
    }

    func testBrokenFilesAreNotRunnableScenarios() throws {
        let top = try FileManager.default.contentsOfDirectory(atPath: Repo.scenarios.path)
        XCTAssertFalse(top.contains("syntax_error.yaml"), "broken files live in scenarios/broken/")
        XCTAssertTrue(FileManager.default.fileExists(atPath: Repo.scenario("broken/syntax_error.yaml")))
    }

    func testBaseline() throws {
        let path = Repo.scenario("baseline.yaml")
        let s = try ScenarioLoader.load(path: path)
        XCTAssertEqual(s.name, "baseline")
        XCTAssertEqual(s.seed, 20_261_126)
        XCTAssertEqual(s.generator, "mt19937")
        XCTAssertEqual(s.sim.population.size, 1000)
        XCTAssertEqual(s.training.episodes, 20_000)
        XCTAssertEqual(s.training.curveWindow, 1000)
        XCTAssertEqual(s.evaluation.episodes, 20_000)
        XCTAssertEqual(s.agents.map(\.name), ["random", "oracle", "epsilon_greedy", "ppo"])
        XCTAssertEqual(s.agents[2], .epsilonGreedy(EpsilonGreedyConfig()))
        XCTAssertTrue(s.logging.episodes)
        // Baseline keeps every simulator setting at its default.
        XCTAssertEqual(s.sim, SimConfig())
        XCTAssertEqual(s.evaluation.eval.bootstrapSamples, 500)

        // Both shippable agents at every target the baseline world measures, on interval bounds,
        // plus the privacy parameters.
        XCTAssertEqual(s.gate.count, 23)
        XCTAssertEqual(Set(s.gate.map(\.agent)), ["epsilon_greedy", "ppo", "population"])
        for r in s.gate where r.agent != "population" {
            XCTAssertEqual(r.on, r.min != nil ? .ciLow : .ciHigh, "\(r.agent) \(r.metric) checks an interval bound")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func line(of needle: String) -> Int { (lines.firstIndex { $0.contains(needle) } ?? -1) + 1 }
        XCTAssertEqual(s.gate[0], GateRule(metric: "mean_reward", agent: "epsilon_greedy", min: 0.10, on: .ciLow,
                                           source: "\(path):\(line(of: "metric: mean_reward"))"))
        XCTAssertEqual(s.gate.first { $0.metric == "bias_parity" && $0.agent == "ppo" },
                       GateRule(metric: "bias_parity", agent: "ppo", min: 0.95, on: .ciLow,
                                source: "\(path):\(line(of: "metric: bias_parity, agent: ppo"))", alertBelow: 0.9))
    }

    func testHighDistress() throws {
        let s = try ScenarioLoader.load(path: Repo.scenario("high_distress.yaml"))
        XCTAssertEqual(s.name, "high_distress")
        XCTAssertEqual(s.sim.emotion.distressBias, 0.0)
        XCTAssertEqual(s.sim.emotion.neuroticismLoading, 1.2, accuracy: 1e-12)
        let groups = s.sim.population.groups
        let baseline = PopulationConfig().groups
        XCTAssertEqual(groups.map(\.name), ["A", "B", "C"])
        XCTAssertEqual(groups.map(\.share), [0.5, 0.3, 0.2])
        for (g, b) in zip(groups, baseline) {
            func neuroticismMean(_ x: GroupConfig) -> Double { x.traitAlpha[4] / (x.traitAlpha[4] + x.traitBeta[4]) }
            XCTAssertGreaterThan(neuroticismMean(g), neuroticismMean(b) + 0.05, "group \(g.name) should lean neurotic")
            XCTAssertEqual(Array(g.traitAlpha.prefix(4)), Array(b.traitAlpha.prefix(4)), "other traits unchanged")
        }
        // Otherwise like baseline.
        let baseline2 = try ScenarioLoader.load(path: Repo.scenario("baseline.yaml"))
        XCTAssertEqual(s.seed, baseline2.seed)
        XCTAssertEqual(s.sim.population.size, baseline2.sim.population.size)
        XCTAssertEqual(s.training, baseline2.training)
        XCTAssertEqual(s.evaluation, baseline2.evaluation)
        XCTAssertEqual(s.agents, Array(baseline2.agents.prefix(3)))
        // Its own gate (the distressed world has different attainable values), on the same agents.
        XCTAssertFalse(s.gate.isEmpty)
        XCTAssertTrue(s.gate.allSatisfy { r in s.agents.contains { $0.name == r.agent } })
    }

    func testSmallTown() throws {
        let s = try ScenarioLoader.load(path: Repo.scenario("small_town.yaml"))
        XCTAssertEqual(s.name, "small_town")
        XCTAssertEqual(s.sim.population.size, 150)
        XCTAssertEqual(s.sim.population.candidatePool, 12)
        XCTAssertEqual(s.sim.pairing.candidatesShown, 3)
        XCTAssertEqual(s.sim.pairing.dailyExposureBudget, 1)
        XCTAssertEqual(s.sim.hives.eventsPerWeekPer1000, 40)
        XCTAssertEqual(s.training.episodes, 8000)
        XCTAssertEqual(s.evaluation.episodes, 8000)
        var greedy = EpsilonGreedyConfig()
        greedy.decayEpisodes = 4000
        XCTAssertEqual(s.agents, [.random, .oracle, .epsilonGreedy(greedy)])
        XCTAssertEqual(s.gate.count, 3)
    }
}
