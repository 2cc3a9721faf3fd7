import GymAgents
import GymGate
import GymSim
import XCTest
@testable import GymScenario

/// Type, range, structure and cross-key checks, one small document at a time.
final class ValidationTests: XCTestCase {
    // MARK: defaults

    func testAbsentKeysTakeTheSwiftDefaults() throws {
        let s = try ScenarioLoader.parse(text: "name: plain\n", file: "x.yaml")
        XCTAssertEqual(s, Scenario(name: "plain"))
        XCTAssertNil(s.seed)
        XCTAssertEqual(s.agents, [.random, .oracle, .epsilonGreedy(EpsilonGreedyConfig())])
        XCTAssertEqual(s.gate, [])
    }

    func testNameDefaultsToTheFileName() throws {
        XCTAssertEqual(try ScenarioLoader.parse(text: "seed: 1\n", file: "some/dir/my_run.yaml").name, "my_run")
        XCTAssertEqual(try ScenarioLoader.parse(text: "seed: 1\n", file: "odd name!.yml").name, "odd_name_")
        XCTAssertEqual(try ScenarioLoader.parse(text: "seed: 1\n", file: "...").name, "scenario")
        XCTAssertEqual(try ScenarioLoader.parse(text: "{}\n", file: "a.b.yaml").name, "a.b")
    }

    func testOneKeyChangesOnlyItsProperty() throws {
        var expected = Scenario(name: "x")
        expected.sim.pairing.dailyExposureBudget = 2
        expected.evaluation.eval.bootstrapSamples = 1000
        expected.sim.population.traitEstimateNoise = 0.2
        let s = try ScenarioLoader.parse(text: """
            name: x
            pairing: {daily_exposure_budget: 2}
            evaluation:
              bootstrap_samples: 1_000
            population:
              trait_estimate_noise: 0.2
            """, file: "x.yaml")
        XCTAssertEqual(s, expected)
    }

    func testEmptySectionsAreDefaults() throws {
        let s = try ScenarioLoader.parse(text: "name: x\npopulation:\nemotion: {}\n", file: "x.yaml")
        XCTAssertEqual(s, Scenario(name: "x"))
    }

    // MARK: types

    func testIntegerKeys() throws {
        assertSingle(diagnostics("training:\n  episodes: 1.5\n"), line: 2, column: 13, keyPath: "training.episodes",
                     contains: ["expected an integer, got '1.5'"])
        assertSingle(diagnostics("training:\n  episodes: [1]\n"), keyPath: "training.episodes", contains: ["expected an integer, got a list"])
        assertSingle(diagnostics("training:\n  episodes:\n"), keyPath: "training.episodes", contains: ["expected an integer, got nothing"])
        assertSingle(diagnostics("training:\n  episodes: \"100\"\n"), keyPath: "training.episodes",
                     contains: ["got the quoted string '100' (remove the quotes)"])
        assertSingle(diagnostics("training:\n  episodes: 99999999999999999999999\n"), keyPath: "training.episodes",
                     contains: ["too large"])
        XCTAssertEqual(try ScenarioLoader.parse(text: "training: {episodes: 2e4}\n", file: "x.yaml").training.episodes, 20_000)
        XCTAssertEqual(try ScenarioLoader.parse(text: "training: {episodes: 30_000}\n", file: "x.yaml").training.episodes, 30_000)
        XCTAssertEqual(try ScenarioLoader.parse(text: "emotion: {distress_bias: -1_0.2_5e-1}\n", file: "x.yaml").sim.emotion.distressBias, -1.025, accuracy: 1e-12)
        XCTAssertEqual(try ScenarioLoader.parse(text: "seed: 0xFF_FF\n", file: "x.yaml").seed, 65_535)
        assertSingle(diagnostics("training: {episodes: a_b}\n"), contains: ["expected an integer, got 'a_b'"])
    }

    func testNumberKeys() throws {
        assertSingle(diagnostics("emotion: {stationary_sd: abc}\n"), keyPath: "emotion.stationary_sd", contains: ["expected a number, got 'abc'"])
        assertSingle(diagnostics("emotion: {stationary_sd: .inf}\n"), keyPath: "emotion.stationary_sd", contains: ["finite"])
        assertSingle(diagnostics("emotion: {stationary_sd: .nan}\n"), keyPath: "emotion.stationary_sd", contains: ["finite"])
        assertSingle(diagnostics("emotion: {stationary_sd: 1e999}\n"), keyPath: "emotion.stationary_sd", contains: ["too large"])
        assertSingle(diagnostics("emotion: {stationary_sd: 0x10}\n"), keyPath: "emotion.stationary_sd", contains: ["expected a number"])
        assertSingle(diagnostics("emotion: {stationary_sd: {a: 1}}\n"), keyPath: "emotion.stationary_sd", contains: ["got a mapping"])
        XCTAssertEqual(try ScenarioLoader.parse(text: "emotion: {stationary_sd: 2}\n", file: "x.yaml").sim.emotion.stationarySD, 2)
        XCTAssertEqual(try ScenarioLoader.parse(text: "emotion: {distress_bias: -1e-1}\n", file: "x.yaml").sim.emotion.distressBias,
                       -0.1, accuracy: 1e-15)
    }

    func testBooleanKeys() throws {
        assertSingle(diagnostics("logging: {episodes: yes}\n"), keyPath: "logging.episodes", contains: ["expected true or false, got 'yes'"])
        assertSingle(diagnostics("logging: {episodes: 1}\n"), keyPath: "logging.episodes", contains: ["expected true or false, got '1'"])
        XCTAssertFalse(try ScenarioLoader.parse(text: "logging: {episodes: false}\n", file: "x.yaml").logging.episodes)
        XCTAssertTrue(try ScenarioLoader.parse(text: "logging: {episodes: True}\n", file: "x.yaml").logging.episodes)
    }

    func testSeed() throws {
        XCTAssertEqual(try ScenarioLoader.parse(text: "seed: 18446744073709551615\n", file: "x.yaml").seed, UInt64.max)
        XCTAssertEqual(try ScenarioLoader.parse(text: "seed: 0x10\n", file: "x.yaml").seed, 16)
        XCTAssertNil(try ScenarioLoader.parse(text: "seed: ~\n", file: "x.yaml").seed)
        assertSingle(diagnostics("seed: 18446744073709551616\n"), keyPath: "seed", contains: ["must fit in 64 bits"])
        assertSingle(diagnostics("seed: -1\n"), keyPath: "seed", contains: ["must be a non-negative integer, got '-1'"])
        assertSingle(diagnostics("seed: 1.5\n"), keyPath: "seed", contains: ["expected a non-negative integer, got '1.5'"])
        assertSingle(diagnostics("seed: abc\n"), keyPath: "seed", contains: ["expected a non-negative integer, got 'abc'"])
    }

    func testNameAndGenerator() throws {
        assertSingle(diagnostics("name: ../etc\n"), keyPath: "name", contains: ["must be 1 to 64 characters"])
        assertSingle(diagnostics("name: [a]\n"), keyPath: "name", contains: ["expected a string, got a list"])
        assertSingle(diagnostics("generator: mt1993\n"), line: 1, column: 12, keyPath: "generator",
                     contains: ["unknown GSL generator 'mt1993' (did you mean 'mt19937'?)"])
        XCTAssertEqual(try ScenarioLoader.parse(text: "generator: taus2\n", file: "x.yaml").generator, "taus2")
        XCTAssertEqual(try ScenarioLoader.parse(text: "name: 2026\n", file: "x.yaml").name, "2026")
        XCTAssertEqual(try ScenarioLoader.parse(text: "description:\n", file: "x.yaml").description, "")
    }

    // MARK: ranges

    func testRanges() {
        assertSingle(diagnostics("population: {size: 1}\n"), keyPath: "population.size", contains: ["must be in [2, 5000000], got 1"])
        assertSingle(diagnostics("emotion: {distress_threshold: 1}\n"), keyPath: "emotion.distress_threshold",
                     contains: ["must be in (0, 1), got 1"])
        assertSingle(diagnostics("emotion: {distress_threshold: 0}\n"), keyPath: "emotion.distress_threshold", contains: ["(0, 1)"])
        assertSingle(diagnostics("pairing: {candidates_shown: 65}\n"), keyPath: "pairing.candidates_shown", contains: ["[1, 64]"])
        assertSingle(diagnostics("hives: {events_shown: -1}\n"), keyPath: "hives.events_shown", contains: ["[0, 32], got -1"])
        assertSingle(diagnostics("evaluation: {bootstrap_samples: 49}\n"), keyPath: "evaluation.bootstrap_samples", contains: ["[50, 100000]"])
        assertSingle(diagnostics("evaluation: {confidence: 0.5}\n"), keyPath: "evaluation.confidence", contains: ["(0.5, 1)"])
        assertSingle(diagnostics("emotion: {reversion_per_day: 0}\n"), keyPath: "emotion.reversion_per_day", contains: ["(0, 100]"])
    }

    func testFixedLengthLists() throws {
        assertSingle(diagnostics("sessions:\n  weekday_weights: [1, 1, 1]\n"), line: 2, column: 20, keyPath: "sessions.weekday_weights",
                     contains: ["exactly 7 numbers (Monday to Sunday), got 3"])
        assertSingle(diagnostics("sessions:\n  weekday_weights: [1, 1, 1, -1, 1, 1, 1]\n"), line: 2, column: 30,
                     keyPath: "sessions.weekday_weights[3]", contains: ["must be in [0, 1000], got -1"])
        assertSingle(diagnostics("sessions:\n  weekday_weights: [0, 0, 0, 0, 0, 0, 0]\n"), keyPath: "sessions.weekday_weights",
                     contains: ["positive sum"])
        assertSingle(diagnostics("sessions:\n  hour_weights: 1\n"), keyPath: "sessions.hour_weights",
                     contains: ["expected a list of 24 numbers (hours 0 to 23), got '1'"])
        let week: [Double] = [1, 2, 3, 4, 5, 6, 7]
        XCTAssertEqual(try ScenarioLoader.parse(text: "sessions: {weekday_weights: [1, 2, 3, 4, 5, 6, 7]}\n", file: "x.yaml")
            .sim.sessions.weekdayWeights, week)
    }

    // MARK: keys

    func testUnknownKeysGetSuggestions() {
        assertSingle(diagnostics("populaton:\n  size: 5\n"), line: 1, column: 1, keyPath: "populaton",
                     contains: ["did you mean 'population'?"])
        assertSingle(diagnostics("pairing: {dailyExposureBudget: 2}\n"), keyPath: "pairing.dailyExposureBudget",
                     contains: ["did you mean 'daily_exposure_budget'?"])
        assertSingle(diagnostics("pairing: {daily-exposure-budget: 2}\n"), contains: ["did you mean 'daily_exposure_budget'?"])
        assertSingle(diagnostics("population: {candidates_shown: 2}\n"), keyPath: "population.candidates_shown",
                     contains: ["did you mean 'pairing.candidates_shown'?"])
        assertSingle(diagnostics("hives: {events_per_week_per1000: 3}\n"), contains: ["did you mean 'events_per_week_per_1000'?"])
        assertSingle(diagnostics("logging: {zzz: 1}\n"), keyPath: "logging.zzz", contains: ["unknown key; valid keys here: episodes"])
        assertSingle(diagnostics("population: 5\n"), keyPath: "population", contains: ["expected a mapping of keys, got '5'"])
        assertSingle(diagnostics("[1, 2]: x\n"), contains: ["keys must be plain names"])
        assertSingle(diagnostics("population:\n  <<: {size: 5}\n"), line: 2, column: 3, keyPath: "population.<<",
                     contains: ["merge keys ('<<') are not supported"])
    }

    func testDuplicateKeys() {
        let d = assertSingle(diagnostics("name: x\npopulation:\n  size: 10\n  topics: 3\n  size: 20\n"), line: 5, column: 3,
                             keyPath: "size", contains: ["duplicate key 'size' (first given at line 3)"])
        XCTAssertEqual(d?.sourceLine, "  size: 20")
    }

    // MARK: cross-key rules

    func testCrossKeyRules() {
        assertSingle(diagnostics("rewards:\n  success_threshold: -0.1\n"), line: 2, keyPath: "rewards.success_threshold",
                     contains: ["success_threshold (-0.1) must be greater than failure_threshold (-0.05)"])
        assertSingle(diagnostics("training:\n  episodes: 100\n"), line: 2, keyPath: "training.episodes",
                     contains: ["curve_window (1000) must be at most training.episodes (100)"])
        assertSingle(diagnostics("training:\n  curve_window: 100\n  episodes: 50\n"), line: 2, keyPath: "training.curve_window",
                     contains: ["must be at most"])
        assertSingle(diagnostics("population: {candidate_pool: 3}\n"), keyPath: "population.candidate_pool",
                     contains: ["candidates_shown (5) must be at most population.candidate_pool (3)"])
        assertSingle(diagnostics("population: {size: 10}\n"), keyPath: "population.size",
                     contains: ["candidate_pool (32) must be less than population.size (10)"])
        assertSingle(diagnostics("evaluation: {retention_days: 200}\n"), keyPath: "evaluation.retention_days",
                     contains: ["must be less than sessions.max_days (120)"])
        // A rejected value does not also trigger the rules it takes part in.
        assertSingle(diagnostics("rewards: {engagement_weight: 2}\n"), keyPath: "rewards.engagement_weight", contains: ["[0, 1]"])
        XCTAssertNoThrow(try ScenarioLoader.parse(text: "rewards: {engagement_weight: 0.2, resonance_weight: 0.5}\n", file: "x.yaml"))
    }

    // MARK: groups and tones

    func testGroups() throws {
        let s = try ScenarioLoader.parse(text: """
            population:
              groups:
                Z: {share: 0.25, trait_alpha: [1, 2, 3, 4, 5]}
                Y: {share: 0.75}
            """, file: "x.yaml")
        XCTAssertEqual(s.sim.population.groups, [
            GroupConfig(name: "Z", share: 0.25, traitAlpha: [1, 2, 3, 4, 5]),
            GroupConfig(name: "Y", share: 0.75),
        ], "file order, unspecified traits default to [5, 5, 5, 5, 5]")
        assertSingle(diagnostics("population:\n  groups:\n    A: {share: 0.5}\n    B: {share: 0.4}\n"), line: 3, column: 5,
                     keyPath: "population.groups", contains: ["group shares must sum to 1, got A 0.5 + B 0.4 = 0.9"])
        assertSingle(diagnostics("population:\n  groups:\n    A: {trait_alpha: [1, 1, 1, 1, 1]}\n"), line: 3, column: 8,
                     keyPath: "population.groups.A.share", contains: ["missing required key 'share'"])
        assertSingle(diagnostics("population:\n  groups:\n    A:\n"), keyPath: "population.groups.A.share", contains: ["missing required key"])
        assertSingle(diagnostics("population:\n  groups:\n    A: {share: 1, trait_beta: [1, 1, 0, 1, 1]}\n"),
                     keyPath: "population.groups.A.trait_beta[2]", contains: ["must be in [0.01, 1000], got 0"])
        assertSingle(diagnostics("population:\n  groups:\n    A: {share: 1, shares: 1}\n"), keyPath: "population.groups.A.shares",
                     contains: ["did you mean 'share'?"])
        assertSingle(diagnostics("population:\n  groups: []\n"), keyPath: "population.groups", contains: ["expected a mapping of group name"])
        assertSingle(diagnostics("population:\n  groups: {}\n"), keyPath: "population.groups", contains: ["1 to 64 groups, got 0"])
    }

    func testTones() throws {
        let s = try ScenarioLoader.parse(text: """
            interventions:
              tones:
                - {name: calm, trait_loadings: [0, 0, 0, 1, 1]}
                - name: bold
                  trait_loadings: [1, 0, 1, 0, 0]
            """, file: "x.yaml")
        XCTAssertEqual(s.sim.interventions.tones, [ToneConfig(name: "calm", traitLoadings: [0, 0, 0, 1, 1]),
                                                   ToneConfig(name: "bold", traitLoadings: [1, 0, 1, 0, 0])])
        assertSingle(diagnostics("""
            interventions:
              tones:
                - {name: calm, trait_loadings: [0, 0, 0, 1, 1]}
                - {name: calm, trait_loadings: [1, 0, 0, 1, 1]}
            """), line: 4, keyPath: "interventions.tones[1].name", contains: ["tone 'calm' is already defined at line 3"])
        assertSingle(diagnostics("interventions:\n  tones:\n    - {name: calm}\n"), keyPath: "interventions.tones[0].trait_loadings",
                     contains: ["missing required key 'trait_loadings'"])
        assertSingle(diagnostics("interventions:\n  tones: []\n"), keyPath: "interventions.tones", contains: ["1 to 64 tones, got 0"])
    }

    func testBreakers() throws {
        let s = try ScenarioLoader.parse(text: """
            safety:
              fallback: no_intervention
              breakers:
                - {kind: intervention_fpr, threshold: 0.1, window: 500, min_decisions: 100, cooldown: 2000}
                - {kind: detector, detector: action_drift}
            """, file: "x.yaml")
        XCTAssertEqual(s.safety.fallback, .noIntervention)
        XCTAssertEqual(s.safety.breakers.map(\.label), ["intervention_fpr", "detector"])
        XCTAssertEqual(s.safety.breakers[0].window, 500)
        XCTAssertEqual(s.safety.breakers[1].detector, "action_drift")
        assertSingle(diagnostics("safety:\n  breakers:\n    - {kind: group_parity}\n"), line: 3, keyPath: "safety.breakers[0].threshold",
                     contains: ["needs a threshold", "0.9"])
        assertSingle(diagnostics("safety:\n  breakers:\n    - {kind: opt_out_rate, threshold: 0.01, window: 10, min_decisions: 20}\n"),
                     keyPath: "safety.breakers[0].min_decisions", contains: ["min_decisions (20) must be at most window (10)"])
        assertSingle(diagnostics("safety:\n  breakers:\n    - {kind: detector, threshold: 0.5}\n"), keyPath: "safety.breakers[0].threshold",
                     contains: ["no threshold"])
        assertSingle(diagnostics("safety:\n  breakers:\n    - {kind: intervention_fp, threshold: 0.1}\n"), keyPath: "safety.breakers[0].kind",
                     contains: ["intervention_fpr"])
        assertSingle(diagnostics("safety:\n  breakers:\n    - {kind: detector}\n    - {kind: detector, detector: group_drift}\n"), line: 4,
                     keyPath: "safety.breakers[1].name", contains: ["already defined at line 3"])
        assertSingle(diagnostics("safety:\n  fallback: champion\n"), keyPath: "safety.fallback", contains: ["no_action"])
        assertSingle(diagnostics("safety:\n  breakers:\n    - {kind: intervention_fpr, threshold: 1.5}\n"), keyPath: "safety.breakers[0].threshold",
                     contains: ["1.5"])
    }

    // MARK: agents

    func testAgents() throws {
        let s = try ScenarioLoader.parse(text: """
            agents:
              - oracle
              - epsilon_greedy:
                  epsilon_start: 0.5
                  schedule: exponential
                  refit_every: 100
            """, file: "x.yaml")
        var config = EpsilonGreedyConfig()
        config.epsilonStart = 0.5
        config.schedule = .exponential
        config.refitEvery = 100
        XCTAssertEqual(s.agents, [.oracle, .epsilonGreedy(config)])
        XCTAssertEqual(try ScenarioLoader.parse(text: "agents: [random, {epsilon_greedy: }]\n", file: "x.yaml").agents,
                       [.random, .epsilonGreedy(EpsilonGreedyConfig())])

        assertSingle(diagnostics("agents:\n  - randm\n"), line: 2, column: 5, keyPath: "agents[0]",
                     contains: ["unknown agent 'randm' (did you mean 'random'?)"])
        assertSingle(diagnostics("agents: [sac]\n"), contains: ["unknown agent 'sac' (known agents: random, oracle, lookahead, epsilon_greedy, paced_bandit, ppo)"])
        var ppo = PPOAgentConfig()
        ppo.ppo.learningRate = 0.001
        ppo.hiddenSize = 32
        ppo.updateEvery = 500
        XCTAssertEqual(try ScenarioLoader.parse(text: "agents: [{ppo: {learning_rate: 0.001, hidden_size: 32, update_every: 500}}]\n", file: "x.yaml").agents,
                       [.ppo(ppo)])
        assertSingle(diagnostics("agents: [{ppo: {minibatch_size: 600, update_every: 500}}]\n"),
                     contains: ["minibatch_size (600) must be at most update_every (500)"])
        assertSingle(diagnostics("agents:\n  - random\n  - oracle\n  - random\n"), line: 4, keyPath: "agents[2]",
                     contains: ["agent 'random' is already listed at line 2"])
        assertSingle(diagnostics("agents: []\n"), keyPath: "agents", contains: ["at least one agent"])
        assertSingle(diagnostics("agents: random\n"), keyPath: "agents", contains: ["expected a list of agents"])
        assertSingle(diagnostics("agents: [{random: {x: 1}}]\n"), keyPath: "agents[0].random", contains: ["takes no settings"])
        assertSingle(diagnostics("agents: [{random: 1, oracle: 2}]\n"), keyPath: "agents[0]", contains: ["a mapping with 2 keys"])
        assertSingle(diagnostics("agents:\n  - epsilon_greedy:\n      schedule: linar\n"), line: 3, column: 17,
                     keyPath: "agents[0].epsilon_greedy.schedule", contains: ["unknown value 'linar' (did you mean 'linear'?)"])
        assertSingle(diagnostics("agents:\n  - epsilon_greedy: {epsilon_strat: 0.2}\n"), keyPath: "agents[0].epsilon_greedy.epsilon_strat",
                     contains: ["did you mean 'epsilon_start'?"])
        assertSingle(diagnostics("agents:\n  - epsilon_greedy: {decay_episodes: 0}\n"), keyPath: "agents[0].epsilon_greedy.decay_episodes",
                     contains: ["[1, 100000000]"])
    }

    // MARK: gate

    func testGateRules() throws {
        let s = try ScenarioLoader.parse(text: """
            gate:
              - metric: retention_7d
                agent: oracle
                min: 0.5
                max: 0.99
                on: value
              - {metric: opt_out_rate, agent: random, max: 0.02, on: ci_high}
            """, file: "g.yaml")
        XCTAssertEqual(s.gate, [GateRule(metric: "retention_7d", agent: "oracle", min: 0.5, max: 0.99, on: .value, source: "g.yaml:2"),
                                GateRule(metric: "opt_out_rate", agent: "random", max: 0.02, on: .ciHigh, source: "g.yaml:7")])
        let names = ["pairing_accuracy", "resonance_rmse", "intervention_acceptance", "retention_7d", "bias_parity", "intervention_fpr",
                     "trust_score", "opt_out_rate", "mean_reward", "sample_efficiency"]
        for name in names {
            XCTAssertNoThrow(try ScenarioLoader.parse(text: "gate: [{metric: \(name), agent: oracle, min: 0}]\n", file: "x.yaml"), name)
        }

        assertSingle(diagnostics("gate:\n  - {metric: retention_7, agent: oracle, min: 0}\n"), line: 2, column: 14, keyPath: "gate[0].metric",
                     contains: ["unknown value 'retention_7' (did you mean 'retention_7d'?)"])
        assertSingle(diagnostics("gate:\n  - {metric: mean_reward, agent: oracel, min: 0}\n"), line: 2, column: 34, keyPath: "gate[0].agent",
                     contains: ["unknown agent 'oracel' (did you mean 'oracle'?"])
        assertSingle(diagnostics("agents: [random]\ngate:\n  - {metric: mean_reward, agent: oracle, min: 0}\n"), keyPath: "gate[0].agent",
                     contains: ["unknown agent 'oracle' (agents here: random)"])
        assertSingle(diagnostics("gate:\n  - {metric: mean_reward, agent: oracle}\n"), line: 2, column: 5, keyPath: "gate[0].min",
                     contains: ["needs 'min', 'max' or both"])
        assertSingle(diagnostics("gate:\n  - {metric: mean_reward, agent: oracle, min: 2, max: 1}\n"), keyPath: "gate[0].min",
                     contains: ["min (2) must be at most max (1)"])
        assertSingle(diagnostics("gate:\n  - {metric: mean_reward, agent: oracle, min: 0, on: ci_lo}\n"), keyPath: "gate[0].on",
                     contains: ["did you mean 'ci_low'?"])
        assertSingle(diagnostics("gate:\n  - {agent: oracle, min: 0}\n"), keyPath: "gate[0].metric", contains: ["missing required key 'metric'"])
        assertSingle(diagnostics("gate: {metric: mean_reward}\n"), keyPath: "gate", contains: ["expected a list of gate rules"])
    }

    // MARK: whole-file problems

    func testTopLevelMustBeAMapping() {
        assertSingle(diagnostics("just text\n"), line: 1, column: 1, contains: ["top level of a scenario must be a mapping", "got 'just text'"])
        assertSingle(diagnostics("- a\n"), contains: ["got a list"])
    }

    func testSyntaxErrors() {
        assertSingle(diagnostics("name: x\npopulation:\n\tsize: 3\n"), line: 3, column: 1, contains: ["tabs cannot indent YAML"])
        assertSingle(diagnostics("name: x\n---\nname: y\n"), line: 2, contains: ["single YAML document"])
        assertSingle(diagnostics("name: \"open\n"), contains: ["YAML syntax error"])
        assertSingle(diagnostics("a: *nowhere\n"), contains: ["undefined alias"])
        assertSingle(diagnostics(String(repeating: "[", count: 100_000)), contains: ["nesting is too deep"])
        assertSingle(diagnostics(String(repeating: "- ", count: 100_000)), contains: ["nesting is too deep"])
    }

    func testEmptyDocuments() {
        for text in ["", "\n\n", "# nothing\n", "~\n", "---\n", "null\n"] {
            assertSingle(diagnostics(text), line: 1, column: 1, contains: ["the file is empty"])
        }
    }

    func testEncodingProblems() {
        var d = ScenarioLoaderTestHooks.diagnostics([0x6E, 0x61, 0x6D, 0x65, 0x3A, 0x20, 0xC3])
        assertSingle(d, line: 1, column: 7, contains: ["not valid UTF-8", "byte offset 6"])
        d = ScenarioLoaderTestHooks.diagnostics(Array("name: a\nseed: 1\u{0}\n".utf8))
        assertSingle(d, line: 2, column: 8, contains: ["NUL byte at byte offset 15"])
        d = ScenarioLoaderTestHooks.diagnostics(Array("name: é\u{7}\n".utf8))
        assertSingle(d, line: 1, column: 8, contains: ["control character U+0007 at byte offset 8"])
        d = ScenarioLoaderTestHooks.diagnostics([0xED, 0xA0, 0x80])  // a UTF-8 encoded surrogate
        assertSingle(d, contains: ["not valid UTF-8", "0xED"])
        d = ScenarioLoaderTestHooks.diagnostics([0xC0, 0xAF])  // overlong "/"
        assertSingle(d, contains: ["not valid UTF-8"])
        // A byte order mark and non-ASCII text are fine.
        XCTAssertEqual(ScenarioLoaderTestHooks.diagnostics([0xEF, 0xBB, 0xBF] + Array("description: café ☕\n".utf8)), [])
        XCTAssertNoThrow(try ScenarioLoader.parse(text: "name: x\r\nseed: 3\r\n", file: "crlf.yaml"))
        // Lines are counted as libyaml counts them, whatever the line breaks.
        for newline in ["\n", "\r\n", "\r", "\u{2028}"] {
            let text = ["name: x", "population:", "  size: abc"].joined(separator: newline)
            assertSingle(diagnostics(text), line: 3, column: 9, keyPath: "population.size", contains: ["got 'abc'"])
            XCTAssertEqual(diagnostics(text).first?.sourceLine, "  size: abc")
            let bytes = Array(["name: x", "seed: 1\u{7}"].joined(separator: newline).utf8)
            assertSingle(ScenarioLoaderTestHooks.diagnostics(bytes), line: 2, column: 8, contains: ["U+0007"])
        }
    }

    func testDiagnosticFormatting() {
        let d = ScenarioDiagnostic(file: "f.yaml", line: 2, column: 4, keyPath: "a.b", message: "bad", sourceLine: "\tx: 1")
        XCTAssertEqual(d.description, "f.yaml:2:4: error: a.b: bad\n\tx: 1\n\t  ^")
        let long = String(repeating: "x", count: 500)
        let cut = ScenarioDiagnostic(file: "f.yaml", line: 1, column: 300, keyPath: "", message: "m", sourceLine: long).description
        let lines = cut.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertLessThan(lines[1].count, 130)
        XCTAssertTrue(lines[1].hasPrefix("...") && lines[1].hasSuffix("..."))
        XCTAssertEqual(lines[2].count, 3 + 60 + 1, "the caret still sits under column 300")
    }

    func testRandomMutationsNeverTrap() throws {
        // Byte-level mutations of a real scenario: each must load or give diagnostics, never trap.
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Repo.scenario("baseline.yaml"))))
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let alphabet = Array(" -:[]{}#&*!|>'\"%@`,?\n\t0123456789.e_abcxyz".utf8) + [0x00, 0xFF, 0xC3]
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + next() % 4) {
                let at = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[at] = alphabet[next() % alphabet.count]
                case 1: bytes.insert(alphabet[next() % alphabet.count], at: at)
                default: bytes.remove(at: at)
                }
            }
            for d in ScenarioLoaderTestHooks.diagnostics(bytes) {
                XCTAssertFalse(d.message.isEmpty)
                XCTAssertFalse(d.message.hasPrefix("unexpected"), d.description)
            }
        }
    }
}

final class TransferKeyTests: XCTestCase {
    func testTransferSourceIsLoadedAndChecked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("transfer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "population: {size: 300}\n".write(to: dir.appendingPathComponent("src.yaml"), atomically: true, encoding: .utf8)
        try "pairing: {candidates_shown: 3}\n".write(to: dir.appendingPathComponent("other.yaml"), atomically: true, encoding: .utf8)
        let good = dir.appendingPathComponent("good.yaml")
        try "transfer: {source: src.yaml, fine_tune_episodes: 500}\n".write(to: good, atomically: true, encoding: .utf8)
        let s = try ScenarioLoader.load(path: good.path)
        XCTAssertEqual(s.transfer?.fineTuneEpisodes, 500)
        XCTAssertEqual(s.transfer?.sourceSim.population.size, 300)
        func diagnostics(_ text: String) throws -> [ScenarioDiagnostic] {
            let url = dir.appendingPathComponent("bad.yaml")
            try text.write(to: url, atomically: true, encoding: .utf8)
            do { _ = try ScenarioLoader.load(path: url.path); return [] } catch let e as ScenarioError { return e.diagnostics }
        }
        let missing = try diagnostics("transfer: {source: nope.yaml}\n")
        XCTAssertEqual(missing.count, 1)
        XCTAssertEqual(missing.first?.keyPath, "transfer.source")
        XCTAssertTrue(missing.first?.message.contains("source scenario") ?? false, "\(missing)")
        let incompatible = try diagnostics("transfer: {source: other.yaml}\n")
        XCTAssertTrue(incompatible.first?.message.contains("pairing.candidates_shown 3 vs 5") ?? false, "\(incompatible)")
        let typo = try diagnostics("transfer: {sorce: src.yaml}\n")
        XCTAssertTrue(typo.first?.message.contains("did you mean 'source'") ?? false, "\(typo)")
    }
}
