import GymAgents
import GymEval
import GymGate
import GymRandom
import GymSim

/// The scenario format: every key, its type, default, allowed range and meaning.
///
/// The tables below are the single source of truth: `ScenarioLoader` validates with them and
/// `markdownReference()` documents them (`scenarios/README.md` holds the generated text).
public enum ScenarioSchema {}

extension ScenarioSchema {
    /// Top-level sections, in the order the docs show them.
    static let sectionDocs: [(key: String, doc: String)] = [
        ("population", "Who the simulated users are: groups and traits, interests, activity, trust, social graph and pairing pools."),
        ("emotion", "The 128-D emotion state (an Ornstein-Uhlenbeck process) and the distress derived from it."),
        ("sessions", "When users arrive (a Poisson process modulated by hour and weekday) and how long a run lasts."),
        ("pairing", "Two-sided pairing suggestions: true resonance, acceptance, congestion."),
        ("hives", "Hive events (group activities) recommended to users."),
        ("interventions", "Wellbeing interventions: tones, acceptance by distressed users, cost of false positives."),
        ("churn", "Daily churn and opt-out hazards, fatigue and boredom."),
        ("rewards", "The reward signals and the episode outcome."),
        ("discount", "Returns in simulated time: a user's successive decisions are one journey (an episode), discounted per simulated day."),
        ("training", "The training phase."),
        ("evaluation", "The evaluation phase and the statistics of every metric."),
        ("safety", "Circuit breakers: declarative safety constraints checked online during training and evaluation, and the fallback that decides while one is open."),
        ("logging", "What a run writes besides the report."),
    ]

    /// Names the `name` key accepts (they become directory names under `reports/`).
    static func nameProblem(_ name: String) -> String? {
        let scalars = name.unicodeScalars
        let ok = !scalars.isEmpty && scalars.count <= 64
            && scalars.allSatisfy { $0.isASCII && (CharacterSetASCII.alnum($0) || "_-.".unicodeScalars.contains($0)) }
            && scalars.first.map(CharacterSetASCII.alnum) == true
        return ok ? nil : "must be 1 to 64 characters: letters, digits, '_', '-' or '.', starting with a letter or digit; got '\(name)'"
    }

    static func generatorProblem(_ name: String) -> String? {
        do { _ = try GeneratorKind.named(name); return nil } catch RandomError.generatorRangeTooSmall(_, let range, let available) {
            return "GSL generator '\(name)' produces only \(range + 1) distinct values; use one with full 32-bit output (e.g. "
                + available.prefix(6).joined(separator: ", ") + ")"
        } catch {}
        return "unknown GSL generator '\(name)'" + Suggestions.hint(for: name, among: GeneratorKind.available)
            + (Suggestions.closest(to: name, among: GeneratorKind.available) == nil ? " (e.g. mt19937, taus2, ranlxd2)" : "")
    }

    // swiftlint:disable function_body_length
    /// Every key of a scenario file.
    static var scenario: Schema<Scenario> {
        typealias F = Field<Scenario>
        let unitInterval = Bounds.closed(0, 1)
        let weight = Bounds.closed(-20, 20)
        let effect = Bounds.closed(0, 20)
        let fields: [F] = [
            // Top level
            .text("name", \.name, allowed: "letters, digits, `_`, `-`, `.`; 1-64 characters",
                  "The scenario's name; reports go to `reports/<name>/`.",
                  defaultText: { _ in "file name without extension" }, sample: "another_name", validate: nameProblem),
            .text("description", \.description, allowed: "any text", "One or two sentences on what the scenario is for; shown in reports.",
                  allowNull: true, sample: "a sample description"),
            seedField,
            .text("generator", \.generator, allowed: "a GSL generator name (`mt19937`, `taus2`, `ranlxd2`, ...)",
                  "GSL random-number generator of every stream of the run.", sample: "taus2", validate: generatorProblem),
            agentsField,
            gateField,
            transferField,

            // population
            .integer("population.size", \.sim.population.size, 2...5_000_000, "Number of simulated users N."),
            .integer("population.topics", \.sim.population.topics, 1...1024, "Number of interest topics T."),
            .number("population.interest_concentration", \.sim.population.interestConcentration, .closed(0.01, 100),
                    "Dirichlet concentration of each topic in a user's interests (small: a few dominant topics)."),
            groupsField,
            .integer("population.persona_dimension", \.sim.population.personaDimension, 1...4096,
                     "Length of the persona vector normalize(W z + noise)."),
            .number("population.persona_noise", \.sim.population.personaNoise, .closed(0, 10),
                    "Standard deviation of the noise added to W z before normalising."),
            .number("population.activity_mean", \.sim.population.activityMean, .closed(0.01, 100),
                    "Mean sessions per day of a user (Gamma distributed across users)."),
            .number("population.activity_shape", \.sim.population.activityShape, .closed(0.01, 1000),
                    "Shape of that Gamma distribution (large: everyone close to the mean)."),
            .number("population.chronotype_mean_hour", \.sim.population.chronotypeMeanHour, .fromBelow(0, 24),
                    "Mean preferred hour of day; a user's preferred hour ~ Normal(mean, sd) mod 24."),
            .number("population.chronotype_sd_hours", \.sim.population.chronotypeSDHours, .aboveUpTo(0, 24),
                    "Standard deviation (hours) of the preferred hour."),
            .number("population.chronotype_amplitude", \.sim.population.chronotypeAmplitude, unitInterval,
                    "How strongly the preferred hour modulates a user's arrivals (0: not at all)."),
            .number("population.trust_alpha", \.sim.population.trustAlpha, .closed(0.01, 1000), "Initial trust ~ Beta(trust_alpha, trust_beta)."),
            .number("population.trust_beta", \.sim.population.trustBeta, .closed(0.01, 1000), "See `trust_alpha`."),
            .number("population.degree_within", \.sim.population.degreeWithin, .closed(0, 1000),
                    "Mean existing connections inside the user's topic block (stochastic block model)."),
            .number("population.degree_across", \.sim.population.degreeAcross, .closed(0, 1000),
                    "Mean existing connections across topic blocks."),
            .integer("population.candidate_pool", \.sim.population.candidatePool, 1...10_000,
                     "Size of each user's pool of pairing candidates."),
            .number("population.pool_same_topic_share", \.sim.population.poolSameTopicShare, unitInterval,
                    "Share of the pool drawn from the user's own topic block."),
            .number("population.trait_estimate_noise", \.sim.population.traitEstimateNoise, unitInterval,
                    "Noise (sd) of the system's estimates of a user's traits (agents see estimates, never the truth)."),
            fromModelField,

            // emotion
            .integer("emotion.dimension", \.sim.emotion.dimension, 1...4096, "Dimension of the emotion state."),
            .number("emotion.reversion_per_day", \.sim.emotion.reversionPerDay, .aboveUpTo(0, 100),
                    "Ornstein-Uhlenbeck mean-reversion rate theta, per day."),
            .number("emotion.stationary_sd", \.sim.emotion.stationarySD, .aboveUpTo(0, 10),
                    "Stationary standard deviation of each coordinate (sigma / sqrt(2 theta))."),
            .number("emotion.trait_loading", \.sim.emotion.traitLoading, .closed(0, 10), "How strongly traits move the emotional set point."),
            .number("emotion.distress_bias", \.sim.emotion.distressBias, .closed(-10, 10),
                    "Set point along the distress direction: distress_bias + neuroticism_loading * (neuroticism - 0.5)."),
            .number("emotion.neuroticism_loading", \.sim.emotion.neuroticismLoading, .closed(-10, 10), "See `distress_bias`."),
            .number("emotion.distress_gain", \.sim.emotion.distressGain, .aboveUpTo(0, 100), "distress = logistic(distress_gain * (d . x))."),
            .number("emotion.distress_threshold", \.sim.emotion.distressThreshold, .open(0, 1), "A user is distressed when distress exceeds this."),
            .number("emotion.observation_noise", \.sim.emotion.observationNoise, .closed(0, 10),
                    "Noise (sd) added to each coordinate of the emotion vector the system observes (0: the emotion subsystem's estimate is observed as is; pulse metrics and candidate/event features are always noisy)."),

            // sessions
            .numbers("sessions.hour_weights", \.sim.sessions.hourWeights, count: 24, meaning: "hours 0 to 23",
                     element: .closed(0, 1000), positiveSum: true,
                     "Relative arrival intensity per hour of day, 0 to 23; normalised to mean 1."),
            .numbers("sessions.weekday_weights", \.sim.sessions.weekdayWeights, count: 7, meaning: "Monday to Sunday",
                     element: .closed(0, 1000), positiveSum: true,
                     "Relative arrival intensity per weekday, Monday first; normalised to mean 1."),
            .number("sessions.max_days", \.sim.sessions.maxDays, .aboveUpTo(0, 3650), "A run is truncated after this many simulated days."),

            // pairing
            .integer("pairing.candidates_shown", \.sim.pairing.candidatesShown, 1...64, "K: pairing candidates an agent sees per decision."),
            .integer("pairing.daily_exposure_budget", \.sim.pairing.dailyExposureBudget, 1...1000,
                     "B: a user can be suggested to at most this many others per day (congestion)."),
            .number("pairing.match_threshold", \.sim.pairing.matchThreshold, .open(0, 1),
                    "A pairing counts as accurate when its true resonance is at or above this."),
            .number("pairing.resonance_bias", \.sim.pairing.resonanceBias, weight,
                    "True resonance = logistic(bias + similarity * cos + complementarity * comp + mood * mean mood)."),
            .number("pairing.resonance_similarity", \.sim.pairing.resonanceSimilarity, weight, "See `resonance_bias`."),
            .number("pairing.resonance_complementarity", \.sim.pairing.resonanceComplementarity, weight, "See `resonance_bias`."),
            .number("pairing.resonance_mood", \.sim.pairing.resonanceMood, weight, "See `resonance_bias`."),
            .number("pairing.accept_bias", \.sim.pairing.acceptBias, weight,
                    "Each side accepts with logistic(accept_bias + accept_resonance (rho - 0.5) - fatigue_effect fatigue "
                        + "- boredom_effect boredom + trust_effect (trust - 0.5))."),
            .number("pairing.accept_resonance", \.sim.pairing.acceptResonance, effect, "See `accept_bias`."),
            .number("pairing.fatigue_effect", \.sim.pairing.fatigueEffect, effect, "See `accept_bias`."),
            .number("pairing.boredom_effect", \.sim.pairing.boredomEffect, effect, "See `accept_bias`."),
            .number("pairing.trust_effect", \.sim.pairing.trustEffect, effect, "See `accept_bias`."),
            .number("pairing.realized_noise", \.sim.pairing.realizedNoise, .closed(0, 1),
                    "Noise (sd) of the realized resonance around the true one."),
            .number("pairing.estimate_noise", \.sim.pairing.estimateNoise, .closed(0, 2),
                    "Noise (sd) of the system's similarity estimates."),

            // hives
            .integer("hives.events_shown", \.sim.hives.eventsShown, 0...32, "E: open events an agent sees per decision (0: no hive actions)."),
            .number("hives.events_per_week_per_1000", \.sim.hives.eventsPerWeekPer1000, .closed(0, 10_000),
                    "New events per simulated week, per 1,000 users."),
            .number("hives.capacity_mean", \.sim.hives.capacityMean, .closed(1, 100_000), "Mean capacity of an event."),
            .number("hives.attend_bias", \.sim.hives.attendBias, weight,
                    "Attendance = logistic(attend_bias + attend_match (match - 0.5) - crowding crowd - fatigue_effect fatigue)."),
            .number("hives.attend_match", \.sim.hives.attendMatch, weight, "See `attend_bias`."),
            .number("hives.crowding", \.sim.hives.crowding, effect, "See `attend_bias`."),
            .number("hives.fatigue_effect", \.sim.hives.fatigueEffect, effect, "See `attend_bias`."),

            // interventions
            tonesField,
            .number("interventions.accept_bias", \.sim.interventions.acceptBias, weight,
                    "A distressed user accepts with logistic(accept_bias + tone_fit fit + trust_effect (trust - 0.5) "
                        + "- fatigue_effect fatigue)."),
            .number("interventions.tone_fit", \.sim.interventions.toneFit, weight, "See `accept_bias`."),
            .number("interventions.trust_effect", \.sim.interventions.trustEffect, effect, "See `accept_bias`."),
            .number("interventions.fatigue_effect", \.sim.interventions.fatigueEffect, effect, "See `accept_bias`."),
            .number("interventions.relief", \.sim.interventions.relief, unitInterval,
                    "Share of the distress projection removed by an accepted intervention."),
            .number("interventions.false_positive_fatigue", \.sim.interventions.falsePositiveFatigue, unitInterval,
                    "Fatigue added by an intervention to a user who is not distressed (a false positive)."),
            .number("interventions.false_positive_trust", \.sim.interventions.falsePositiveTrust, unitInterval,
                    "Trust removed by a false positive."),

            // churn
            .number("churn.daily_base", \.sim.churn.dailyBase, .open(0, 1),
                    "Base daily churn hazard; hazard = logistic(logit(daily_base) + fatigue f + distress d "
                        + "+ ignored_distress i - trust (t - 0.5))."),
            .number("churn.fatigue", \.sim.churn.fatigue, effect, "See `daily_base`."),
            .number("churn.distress", \.sim.churn.distress, effect, "See `daily_base`."),
            .number("churn.ignored_distress", \.sim.churn.ignoredDistress, effect,
                    "See `daily_base`; applies when distress is left without an intervention."),
            .number("churn.trust", \.sim.churn.trust, effect, "See `daily_base`."),
            .number("churn.opt_out_daily_base", \.sim.churn.optOutDailyBase, .open(0, 1),
                    "Base daily opt-out hazard; hazard = logistic(logit(base) + opt_out_false_positive pressure), pressure "
                        + "counting recent false positives (halving each day)."),
            .number("churn.opt_out_false_positive", \.sim.churn.optOutFalsePositive, effect, "See `opt_out_daily_base`."),
            .number("churn.fatigue_half_life_days", \.sim.churn.fatigueHalfLifeDays, .aboveUpTo(0, 365), "Half-life (days) of fatigue."),
            .number("churn.boredom_half_life_days", \.sim.churn.boredomHalfLifeDays, .aboveUpTo(0, 365), "Half-life (days) of boredom."),
            .number("churn.fatigue_per_action", \.sim.churn.fatiguePerAction, unitInterval,
                    "Fatigue added by any delivered suggestion (times 1 - fatigue)."),

            // discount
            .number("discount.per_day", \.sim.discount.perDay, .aboveUpTo(0, 1),
                    "gamma per simulated day: a signal arriving D days after its decision counts gamma^D, and a user's next decision d days later is discounted by gamma^d (the semi-Markov discount of `user_return` and of PPO's returns)."),
            .number("discount.churn_penalty", \.sim.discount.churnPenalty, .closed(-100, 100),
                    "Added to a journey's return when the user churns, discounted to the time of leaving (0: the lost future rewards are the penalty)."),
            .number("discount.opt_out_penalty", \.sim.discount.optOutPenalty, .closed(-100, 100),
                    "Added to a journey's return when the user opts out, discounted to the time of leaving."),

            // rewards
            .number("rewards.engagement_weight", \.sim.rewards.engagementWeight, unitInterval,
                    "Weight of the engagement signal in the episode reward."),
            .number("rewards.resonance_weight", \.sim.rewards.resonanceWeight, unitInterval, "Weight of the resonance signal."),
            .number("rewards.explicit_weight", \.sim.rewards.explicitWeight, unitInterval, "Weight of explicit feedback."),
            .optionalNumber("rewards.shift_at_day", \.sim.rewards.shiftAtDay, .closed(0, 3650),
                            "Simulated day at which the reward weights change to the `shifted_*` weights (for `adaptation_hours`); null: never."),
            .number("rewards.shifted_engagement_weight", \.sim.rewards.shiftedEngagementWeight, unitInterval, "Weight of engagement after the shift."),
            .number("rewards.shifted_resonance_weight", \.sim.rewards.shiftedResonanceWeight, unitInterval, "Weight of resonance after the shift."),
            .number("rewards.shifted_explicit_weight", \.sim.rewards.shiftedExplicitWeight, unitInterval, "Weight of explicit feedback after the shift."),
            .number("rewards.success_threshold", \.sim.rewards.successThreshold, .closed(-1, 1),
                    "An episode with reward >= this is a success."),
            .number("rewards.failure_threshold", \.sim.rewards.failureThreshold, .closed(-1, 1),
                    "An episode with reward <= this is a failure; in between it is neutral."),
            .number("rewards.explicit_probability", \.sim.rewards.explicitProbability, unitInterval,
                    "Probability that a user leaves explicit feedback."),
            .number("rewards.inconsistency", \.sim.rewards.inconsistency, unitInterval,
                    "Probability that explicit feedback contradicts the truth."),
            .number("rewards.engagement_latency_seconds", \.sim.rewards.engagementLatencySeconds, .closed(0, 1_000_000),
                    "Mean latency of the engagement signal, in seconds."),
            .number("rewards.resonance_latency_hours", \.sim.rewards.resonanceLatencyHours, .closed(0, 8760),
                    "Mean latency of the resonance signal, in hours."),
            .number("rewards.explicit_latency_days", \.sim.rewards.explicitLatencyDays, .closed(0, 365),
                    "Mean latency of explicit feedback, in days."),

            // training
            .integer("training.episodes", \.training.episodes, 1...100_000_000, "Decisions (training episodes) each agent trains for."),
            .integer("training.curve_window", \.training.curveWindow, 1...100_000_000, "Decisions per point of the learning curve."),
            .flag("training.honour_opt_out", \.training.honourOptOut,
                  "When a user opts out during training, remove their decisions from the training data of every agent that can forget (the bandits: their ridge statistics are rebuilt without them) and never use them again; PPO drops their decisions not yet trained from its updates (updates already made stay); the report counts them."),

            .number("training.dispute_probability", \.training.disputeProbability, unitInterval,
                    "Probability that a user disputes a reward signal of a training decision (the blueprint's feedback loop); see `dispute_bad_outcome`."),
            .number("training.dispute_bad_outcome", \.training.disputeBadOutcome, unitInterval,
                    "How much a bad outcome raises it: a signal of value v in [-1, 1] is disputed with probability `dispute_probability + dispute_bad_outcome * max(0, -v)`, clipped to 1."),
            .flag("training.honour_disputes", \.training.honourDisputes,
                  "Exclude disputed signals from training: the learner never receives them (its target for that decision lacks their contribution). The report counts the signals disputed either way."),

            // evaluation
            .integer("evaluation.episodes", \.evaluation.episodes, 1...100_000_000,
                     "Held-out decisions each agent is evaluated on (fresh seeds, learning frozen)."),
            .flag("evaluation.whole_horizon", \.evaluation.wholeHorizon,
                  "Evaluate until the evaluation world ends (`sessions.max_days`, or no active user left); `episodes` is then only an upper bound. Long-term metrics need it: a policy that keeps more users makes more decisions a day, so under a decision budget its evaluation would cover fewer days than another's."),
            .integer("evaluation.bootstrap_samples", \.evaluation.eval.bootstrapSamples, 50...100_000, "Bootstrap resamples per metric."),
            .number("evaluation.confidence", \.evaluation.eval.confidence, .open(0.5, 1), "Two-sided confidence level of every interval."),
            .number("evaluation.retention_days", \.evaluation.eval.retentionDays, .aboveUpTo(0, 365),
                    "Length (days) of the retention window of `retention_7d`."),
            .number("evaluation.adaptation_window_hours", \.evaluation.eval.adaptationWindowHours, .closed(0.25, 8760),
                    "Window (simulated hours) of `adaptation_hours`."),
            .number("evaluation.adaptation_tolerance", \.evaluation.eval.adaptationTolerance, .aboveUpTo(0, 1),
                    "`adaptation_hours`: recovered when a window's mean reward is within this share of the new plateau."),
            .integer("evaluation.detector_burn_in", \.evaluation.eval.detectorBurnIn, 0...100_000_000,
                     "Evaluation decisions before the anomaly detectors start (the world settling from its fresh start: statistical process control's phase I)."),
            .flag("evaluation.detectors", \.evaluation.eval.detectorsOn,
                  "Run the anomaly detectors over every agent's evaluation (as `run --detect`): a shift of the mean reward signal, drift of the action shares and of each group's positive-signal rate, outlier users for review; alarms in `anomalies/<agent>.jsonl`."),

            // safety
            .choice("safety.fallback", \.safety.fallback,
                    "What decides while a breaker is open: `no_action` (nothing is suggested), or `no_intervention` (the agent decides with every intervention masked out). The acting policy sees the restricted mask, so the logged propensities stay true."),
            .integer("safety.chart_every", \.safety.chartEvery, 1...10_000_000, "Decisions per point of the breaker-state chart (`breakers.svg`)."),
            breakersField,

            // logging
            .flag("logging.episodes", \.logging.episodes,
                  "Write the evaluation episodes as JSONL (`training_episodes` and `reward_signals` schema)."),
            .flag("logging.explanations", \.logging.explanations,
                  "Write a TrainingExplanation for every evaluation decision (as `run --explain`): the user's context in words and numbers, the action and the features behind it (exact attributions of the bandits' linear models, integrated gradients of PPO's actor), the model's expected outcome, the actual outcome per signal, and the model adjustment; `explanations/<agent>.jsonl`, read by `optima-gym explain`."),
        ]
        let rules: [CrossRule<Scenario>] = [
            CrossRule(keys: ["rewards.engagement_weight", "rewards.resonance_weight", "rewards.explicit_weight"],
                      doc: "`rewards.engagement_weight + rewards.resonance_weight + rewards.explicit_weight` must be 1 (within 1e-6).") { s in
                let r = s.sim.rewards
                let sum = r.engagementWeight + r.resonanceWeight + r.explicitWeight
                return abs(sum - 1) <= 1e-6 ? nil
                    : "engagement_weight + resonance_weight + explicit_weight must sum to 1, got "
                        + "\(formatNumber(r.engagementWeight)) + \(formatNumber(r.resonanceWeight)) + \(formatNumber(r.explicitWeight)) = \(formatNumber(sum))"
            },
            CrossRule(keys: ["rewards.shifted_engagement_weight", "rewards.shifted_resonance_weight", "rewards.shifted_explicit_weight"],
                      doc: "The `rewards.shifted_*_weight`s must sum to 1 (within 1e-6).") { s in
                let r = s.sim.rewards
                let sum = r.shiftedEngagementWeight + r.shiftedResonanceWeight + r.shiftedExplicitWeight
                return abs(sum - 1) <= 1e-6 ? nil
                    : "shifted_engagement_weight + shifted_resonance_weight + shifted_explicit_weight must sum to 1, got \(formatNumber(sum))"
            },
            CrossRule(keys: ["rewards.success_threshold", "rewards.failure_threshold"],
                      doc: "`rewards.success_threshold` must be greater than `rewards.failure_threshold`.") { s in
                let r = s.sim.rewards
                return r.successThreshold > r.failureThreshold ? nil
                    : "success_threshold (\(formatNumber(r.successThreshold))) must be greater than failure_threshold (\(formatNumber(r.failureThreshold)))"
            },
            CrossRule(keys: ["population.groups"],
                      doc: "The `share`s of `population.groups` must sum to 1 (within 1e-6).") { s in
                let groups = s.sim.population.groups
                let sum = groups.reduce(0) { $0 + $1.share }
                return abs(sum - 1) <= 1e-6 ? nil
                    : "group shares must sum to 1, got " + groups.map { "\($0.name) \(formatNumber($0.share))" }.joined(separator: " + ")
                        + " = \(formatNumber(sum))"
            },
            CrossRule(keys: ["population.from_model", "population.groups"],
                      doc: "With `population.from_model.group_column`, the column's number of levels must equal the number of `population.groups`.") { s in
                guard let m = s.sim.population.fromModel, let levels = m.groupLevels else { return nil }
                let g = s.sim.population.groups.count
                return levels == g ? nil
                    : "from_model.group_column '\(m.groupColumn ?? "")' has \(levels) levels but population.groups has \(g) groups"
            },
            CrossRule(keys: ["pairing.candidates_shown", "population.candidate_pool"],
                      doc: "`pairing.candidates_shown` must be at most `population.candidate_pool`.") { s in
                s.sim.pairing.candidatesShown <= s.sim.population.candidatePool ? nil
                    : "candidates_shown (\(s.sim.pairing.candidatesShown)) must be at most population.candidate_pool (\(s.sim.population.candidatePool))"
            },
            CrossRule(keys: ["population.candidate_pool", "population.size"],
                      doc: "`population.candidate_pool` must be less than `population.size` (candidates are other users).") { s in
                s.sim.population.candidatePool < s.sim.population.size ? nil
                    : "candidate_pool (\(s.sim.population.candidatePool)) must be less than population.size (\(s.sim.population.size))"
            },
            CrossRule(keys: ["training.curve_window", "training.episodes"],
                      doc: "`training.curve_window` must be at most `training.episodes`.") { s in
                s.training.curveWindow <= s.training.episodes ? nil
                    : "curve_window (\(s.training.curveWindow)) must be at most training.episodes (\(s.training.episodes))"
            },
            CrossRule(keys: ["evaluation.retention_days", "sessions.max_days"],
                      doc: "`evaluation.retention_days` must be less than `sessions.max_days`.") { s in
                s.evaluation.eval.retentionDays < s.sim.sessions.maxDays ? nil
                    : "retention_days (\(formatNumber(s.evaluation.eval.retentionDays))) must be less than sessions.max_days "
                        + "(\(formatNumber(s.sim.sessions.maxDays)))"
            },
            CrossRule(keys: ["population.size", "training.episodes", "evaluation.episodes"],
                      doc: "The run's estimated memory (`Scenario.estimatedMemoryBytes`: every agent's worlds, training rewards and evaluation records) must stay under 12 GiB.") { s in
                let bytes = s.estimatedMemoryBytes
                return bytes <= Scenario.memoryLimitBytes ? nil
                    : "this scenario needs about \(bytes / (1 << 20)) MiB of memory (limit \(Scenario.memoryLimitBytes >> 20) MiB); reduce population.size, population.persona_dimension, emotion.dimension, training.episodes or evaluation.episodes"
            },
        ]
        return Schema(fields: fields, rules: rules, sections: sectionDocs)
    }
    // swiftlint:enable function_body_length

    static var seedField: Field<Scenario> {
        Field(key: "seed", type: "integer", allowed: "[0, 18446744073709551615] or null", doc:
                "Root seed of the run; `--seed` overrides it. Without either, a fresh seed is drawn and reported.",
              defaultText: { $0.seed.map(String.init) ?? "none" },
              read: { node, keyPath, root, context in
                  if node.isNull { root.seed = nil; return }
                  switch YAMLValues.uint64(node) {
                  case let .problem(message): context.error(node.location ?? .start, keyPath, message)
                  case let .value(value): root.seed = value
                  }
              },
              sample: { _ in "42" })
    }
}

/// ASCII classification without Foundation's locale-dependent character sets.
enum CharacterSetASCII {
    static func alnum(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s)
    }
}
