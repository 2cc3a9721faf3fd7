import Foundation
import GymAgents
import GymEval
import GymGate
import GymSim
import Yams

// The `agents` key: the agent kinds and their settings tables (the other structured keys are in
// ScenarioSchema+Structures.swift). Each agent's settings are a `Schema` table, validated and
// documented like every other key.

extension ScenarioSchema {
    // MARK: agents

    /// The agent kinds a scenario can list, with their meaning.
    static let agentKinds: [(name: String, doc: String)] = [
        ("random", "Uniform over the allowed actions: a lower bound. Takes no settings."),
        ("oracle", "Reads the hidden truth and picks the action with the highest true expected reward now: a myopic upper-bound reference (it never gives up today's reward for the user's next days). Takes no settings."),
        ("lookahead", "Reads the hidden truth and looks ahead: each allowed action's expected reward now plus the user's expected discounted reward over the next `horizon_days`, rolled forward on a copy of the user's hidden state (fatigue, boredom, trust, ignored distress) under the best of base policies that take the oracle's action unless the user's fatigue reaches a ceiling. A look-ahead upper-bound reference (docs/ppo-journey.md says what it copies and what it does not). Settings below."),
        ("epsilon_greedy", "Ridge-regression reward models per action family, epsilon-greedy exploration: the myopic baseline. Settings below."),
        ("paced_bandit", "The epsilon_greedy bandit whose greedy choice charges every suggestion (any action but no_action) a fixed `suggestion_cost`, a stand-in for the fatigue it spends: it suggests only when a suggestion's predicted reward beats doing nothing by more than the cost. A pacing heuristic, stronger than the myopic bandit where over-suggesting costs users. Settings: epsilon_greedy's and `suggestion_cost`."),
        ("ppo", "Proximal Policy Optimization: actor and critic MLPs, an update every `update_every` decisions on the block that ended `reward_lag` decisions earlier, epsilon-greedy exploration on top of the policy. Settings below."),
    ]

    static var ppoSchema: Schema<PPOAgentConfig> {
        Schema(fields: [
            Field.number("learning_rate", \PPOAgentConfig.ppo.learningRate, .aboveUpTo(0, 1), "Adam's learning rate at the first update."),
            .choice("lr_schedule", \.ppo.lrSchedule, "`constant`, `linear` (to 0 at the end of training) or `cosine` annealing (the blueprint's)."),
            .integer("update_every", \.updateEvery, 16...1_000_000, "Decisions between updates; each update trains on one block of this many decisions."),
            .integer("minibatch_size", \.minibatchSize, 1...1_000_000, "Minibatch size (the blueprint's batch of 256 episodes)."),
            .integer("update_epochs", \.ppo.updateEpochs, 1...100, "Passes over the block per update."),
            .integer("reward_lag", \.rewardLag, 0...10_000_000, "An update trains on the block that ended this many decisions ago, so that most delayed signals (and most users' next decisions) have arrived. With `returns: journey` a signal arriving later corrects its decision in the next update; with `returns: decision` it is not used."),
            .choice("returns", \.returns, "`journey`: a user's successive decisions are one episode, GAE(lambda) along it with the semi-Markov discount of `discount.per_day`, no bootstrap after churn or opt-out, a bootstrap from the value when a journey is cut or still open, late signals corrected (docs/ppo-journey.md). `decision`: every decision is a one-step episode (advantage r - V), the behaviour before journeys."),
            .number("gae_lambda", \.ppo.gaeLambda, .closed(0, 1), "lambda of GAE along a journey (1: Monte Carlo returns within the block; 0: one-step TD). Unused with `returns: decision`."),
            .number("clip_coef", \.ppo.clipCoef, .aboveUpTo(0, 10), "PPO's clip range epsilon for the ratio (and the value clip)."),
            .flag("clip_value_loss", \.ppo.clipValueLoss, "Clip the value loss around the rollout's values."),
            .flag("normalize_advantages", \.ppo.normalizeAdvantages, "Normalise advantages per minibatch."),
            .number("entropy_coef", \.ppo.entropyCoef, .closed(0, 10), "Weight of the entropy bonus."),
            .number("value_coef", \.ppo.valueCoef, .closed(0, 100), "Weight of the value loss."),
            .number("max_grad_norm", \.ppo.maxGradNorm, .aboveUpTo(0, 1_000_000), "Gradient-norm clip (see `gradient_clip`)."),
            .choice("gradient_clip", \.ppo.gradientClipMode, "`separate`: clip the actor's and the critic's gradient norms each to `max_grad_norm` (their optimisers are separate; a large value loss from returns summed over journeys would otherwise scale the actor's step down); `joint`: one norm over both, as CleanRL's single optimiser."),
            .optionalNumber("target_kl", \.ppo.targetKL, .aboveUpTo(0, 100), "Stop an update's epochs early when approx-KL exceeds this; null: never."),
            .integer("hidden_size", \.hiddenSize, 1...4096, "Width of every hidden layer."),
            .integer("hidden_layers", \.hiddenLayers, 1...16, "Number of hidden layers."),
            .choice("activation", \.ppo.activation, "Hidden-layer activation: `tanh` or `relu`."),
            .choice("precision", \.ppo.networkPrecision, "Precision of the networks' forward and backward passes: `float` or `double` (parameters and Adam stay in double either way; docs/blas.md has the speed and accuracy measurements)."),
            .number("epsilon_start", \.ppo.explorationStart, .closed(0, 1), "Epsilon-greedy exploration on top of the policy at the start of training."),
            .number("epsilon_end", \.ppo.explorationEnd, .closed(0, 1), "Exploration after `decay_episodes`."),
            .integer("decay_episodes", \.ppo.explorationDecaySteps, 1...100_000_000, "Training decisions over which exploration decays linearly."),
            .number("evaluation_epsilon", \.evaluationEpsilon, .closed(0, 1), "Exploration while evaluating (learning frozen)."),
            .flag("normalize_observations", \.normalizeObservations, "Normalise observations by running mean and variance (frozen while evaluating), clipped to +-10."),
            .flag("shared_action_head", \.sharedActionHead, "Score every action with one actor network over per-action features (context, action family, the slot's candidate or event features, the tone), so that candidate and event slots share weights; false: one network maps the observation to all logits."),
        ], rules: [
            CrossRule(keys: ["epsilon_end", "epsilon_start"], doc: "`epsilon_end` must be at most `epsilon_start`.") { c in
                c.ppo.explorationEnd <= c.ppo.explorationStart ? nil
                    : "epsilon_end (\(formatNumber(c.ppo.explorationEnd))) must be at most epsilon_start (\(formatNumber(c.ppo.explorationStart)))"
            },
            CrossRule(keys: ["minibatch_size", "update_every"], doc: "`minibatch_size` must be at most `update_every`.") { c in
                c.minibatchSize <= c.updateEvery ? nil
                    : "minibatch_size (\(c.minibatchSize)) must be at most update_every (\(c.updateEvery))"
            },
        ])
    }

    static var lookAheadSchema: Schema<LookAheadConfig> {
        Schema(fields: [
            Field.number("horizon_days", \LookAheadConfig.horizonDays, .aboveUpTo(0, 365), "Simulated days each roll-out covers after the decision."),
            .numbers("fatigue_ceilings", \.fatigueCeilings, counts: 1...16, meaning: "one base policy per ceiling", element: .aboveUpTo(0, 1),
                     "Fatigue ceilings of the roll-outs' base policies: each takes the myopic oracle's action at every later session unless the user's fatigue is at or above its ceiling (1: never pauses); an action's value uses the best of them."),
        ], rules: [])
    }

    static var epsilonGreedySchema: Schema<EpsilonGreedyConfig> {
        Schema(fields: [
            Field.number("epsilon_start", \EpsilonGreedyConfig.epsilonStart, .closed(0, 1), "Exploration rate at the start of training."),
            .number("epsilon_end", \.epsilonEnd, .closed(0, 1), "Exploration rate after `decay_episodes`."),
            .integer("decay_episodes", \.decayEpisodes, 1...100_000_000, "Training decisions over which epsilon decays."),
            .choice("schedule", \.schedule,
                    "`linear`: start + (end - start) min(1, t / decay); `exponential`: end + (start - end) exp(-5 t / decay)."),
            .number("evaluation_epsilon", \.evaluationEpsilon, .closed(0, 1), "Exploration rate while evaluating (learning frozen)."),
            .number("ridge_lambda", \.ridgeLambda, .aboveUpTo(0, 1_000_000), "Ridge penalty lambda of each action family's reward model."),
            .integer("refit_every", \.refitEvery, 1...1_000_000, "Refit the ridge models every this many decisions."),
        ], rules: [
            CrossRule(keys: ["epsilon_end", "epsilon_start"], doc: "`epsilon_end` must be at most `epsilon_start`.") { c in
                c.epsilonEnd <= c.epsilonStart ? nil
                    : "epsilon_end (\(formatNumber(c.epsilonEnd))) must be at most epsilon_start (\(formatNumber(c.epsilonStart)))"
            },
        ])
    }

    static var pacedBanditSchema: Schema<PacedBanditConfig> {
        let bandit = epsilonGreedySchema
        return Schema(fields: bandit.fields.map { $0.lifted(\PacedBanditConfig.bandit) } + [
            Field.number("suggestion_cost", \PacedBanditConfig.suggestionCost, .closed(0, 100),
                         "Charged against every suggestion's predicted reward in the greedy choice (exploration is unchanged)."),
        ], rules: bandit.rules.map { $0.lifted(\PacedBanditConfig.bandit) })
    }

    static var agentsField: Field<Scenario> {
        Field(key: "agents", type: "list of agents", allowed: "1 or more, unique names",
              doc: "The agents trained and evaluated, in report order. See [agents](#agents).",
              defaultText: { s in s.agents.map(\.name).joined(separator: ", ") },
              read: readAgents, sample: { _ in "[oracle]" })
            .withDetails(agentsDetails)
    }

    static func readAgents(_ node: Node, _ keyPath: String, _ root: inout Scenario, _ context: inout ReadContext) {
        let here = node.location ?? .start
        guard case let .sequence(sequence) = node else {
            context.error(here, keyPath, "expected a list of agents (e.g. [random, oracle, epsilon_greedy]), got \(node.shortDescription)")
            return
        }
        guard !sequence.isEmpty else {
            context.error(here, keyPath, "a scenario needs at least one agent")
            return
        }
        let known = agentKinds.map(\.name)
        let before = context.sink.count
        var agents: [AgentSpec] = []
        var firstLine: [String: Int] = [:]
        for (i, item) in sequence.enumerated() {
            let itemPath = "\(keyPath)[\(i)]"
            let itemLocation = item.location ?? here
            // An agent is a bare name or a one-key mapping `name: settings`.
            let nameNode: Node, settings: Node?
            switch item {
            case .scalar where !item.isNull:
                nameNode = item; settings = nil
            case let .mapping(mapping) where mapping.count == 1:
                guard let pair = mapping.first else { continue }
                nameNode = pair.key; settings = pair.value
            default:
                context.error(itemLocation, itemPath,
                              "an agent is a name (`random`) or a one-key mapping (`epsilon_greedy: {epsilon_start: 0.3}`), got "
                                + (item.mapping.map { "a mapping with \($0.count) keys" } ?? item.shortDescription))
                continue
            }
            guard case let .value(name) = YAMLValues.string(nameNode) else {
                context.error(nameNode.location ?? itemLocation, itemPath, "expected an agent name, got \(nameNode.shortDescription)")
                continue
            }
            let nameLocation = nameNode.location ?? itemLocation
            guard known.contains(name) else {
                let hint = Suggestions.closest(to: name, among: known).map { "did you mean '\($0)'?" }
                    ?? "known agents: " + known.joined(separator: ", ")
                context.error(nameLocation, itemPath, "unknown agent '\(name)' (\(hint))")
                continue
            }
            /// `defaults` with the item's settings (if any) read over them through `schema`.
            func configured<C>(_ defaults: C, _ schema: Schema<C>) -> C {
                var config = defaults
                if let settings {
                    schema.read(settings, into: &config, prefix: "\(itemPath).\(name)", context: &context, fallback: nameLocation)
                }
                return config
            }
            let spec: AgentSpec
            switch name {
            case "epsilon_greedy": spec = .epsilonGreedy(configured(EpsilonGreedyConfig(), epsilonGreedySchema))
            case "paced_bandit": spec = .pacedBandit(configured(PacedBanditConfig(), pacedBanditSchema))
            case "lookahead": spec = .lookahead(configured(LookAheadConfig(), lookAheadSchema))
            case "ppo": spec = .ppo(configured(PPOAgentConfig(), ppoSchema))
            default:
                if let settings, !settings.isNull, settings.mapping?.isEmpty != true {
                    context.error(settings.location ?? nameLocation, "\(itemPath).\(name)", "agent '\(name)' takes no settings")
                    continue
                }
                spec = name == "random" ? .random : .oracle
            }
            if let line = firstLine[spec.name] {
                context.error(nameLocation, itemPath, "agent '\(spec.name)' is already listed at line \(line); agent names must be unique")
                continue
            }
            firstLine[spec.name] = nameLocation.line
            agents.append(spec)
        }
        if context.sink.count == before { root.agents = agents }
    }

    static func agentsDetails() -> String {
        var md = """
            ## `agents`

            A list; each item is an agent name, or a one-key mapping from the name to its settings:

            ```yaml
            agents:
              - random
              - oracle
              - epsilon_greedy: {epsilon_start: 0.3, epsilon_end: 0.05, decay_episodes: 10000}
            ```

            Agent names must be unique. Without `agents:` a scenario runs
            \(Scenario(name: "x").agents.map { "`\($0.name)`" }.joined(separator: ", ")) with default settings.

            | agent | meaning |
            |---|---|

            """
        for kind in agentKinds { md += "| `\(kind.name)` | \(escapeCell(kind.doc)) |\n" }
        md += "\n### `epsilon_greedy` settings\n\n"
        md += markdownTable(epsilonGreedySchema, defaults: EpsilonGreedyConfig(), prefix: "")
        md += "\n### `paced_bandit` settings\n\n"
        md += markdownTable(pacedBanditSchema, defaults: PacedBanditConfig(), prefix: "")
        md += "\n### `lookahead` settings\n\n"
        md += markdownTable(lookAheadSchema, defaults: LookAheadConfig(), prefix: "")
        md += "\n### `ppo` settings\n\n"
        md += markdownTable(ppoSchema, defaults: PPOAgentConfig(), prefix: "")
        return md
    }
}
