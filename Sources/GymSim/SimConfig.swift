import GymRandom
/// Configuration of the journey simulator. Every field has the default documented in
/// `scenarios/README.md`; GymScenario fills it from YAML and validates ranges.
public struct SimConfig: Sendable, Equatable {
    public var population = PopulationConfig()
    public var emotion = EmotionConfig()
    public var sessions = SessionConfig()
    public var pairing = PairingConfig()
    public var hives = HiveConfig()
    public var interventions = InterventionConfig()
    public var churn = ChurnConfig()
    public var rewards = RewardConfig()
    public var discount = DiscountConfig()
    public init() {}
}

/// Trait order everywhere: openness, conscientiousness, extraversion, agreeableness, neuroticism.
public let traitNames = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]

public struct GroupConfig: Sendable, Equatable {
    public var name: String
    public var share: Double
    /// Beta(alpha_i, beta_i) for each OCEAN trait.
    public var traitAlpha: [Double]
    public var traitBeta: [Double]
    public init(name: String, share: Double, traitAlpha: [Double] = [5, 5, 5, 5, 5], traitBeta: [Double] = [5, 5, 5, 5, 5]) {
        self.name = name; self.share = share; self.traitAlpha = traitAlpha; self.traitBeta = traitBeta
    }
}

public struct PopulationConfig: Sendable, Equatable {
    public var size = 1000
    public var topics = 16
    /// Dirichlet concentration of each topic in a user's interests.
    public var interestConcentration = 0.4
    public var groups: [GroupConfig] = [
        GroupConfig(name: "A", share: 0.5, traitAlpha: [5, 5, 5, 5, 4], traitBeta: [5, 5, 5, 5, 6]),
        GroupConfig(name: "B", share: 0.3, traitAlpha: [6, 5, 4, 5, 5], traitBeta: [4, 5, 6, 5, 5]),
        GroupConfig(name: "C", share: 0.2, traitAlpha: [4, 6, 6, 5, 5], traitBeta: [6, 4, 4, 5, 5]),
    ]
    public var personaDimension = 512
    /// Standard deviation of the noise added to W z before normalising.
    public var personaNoise = 0.1
    /// Sessions per day: Gamma with this mean and shape.
    public var activityMean = 1.5
    public var activityShape = 2.0
    /// Chronotype: preferred hour ~ Normal(mean, sd) mod 24, and how strongly it modulates arrivals (0..1).
    public var chronotypeMeanHour = 19.0
    public var chronotypeSDHours = 3.0
    public var chronotypeAmplitude = 0.5
    /// Initial trust ~ Beta(alpha, beta).
    public var trustAlpha = 8.0
    public var trustBeta = 2.0
    /// Social graph (stochastic block model by dominant topic): mean existing connections
    /// inside the user's topic block and across blocks.
    public var degreeWithin = 4.0
    public var degreeAcross = 1.0
    /// Size of each user's pairing candidate pool, and the share drawn from the same topic block.
    public var candidatePool = 32
    public var poolSameTopicShare = 0.6
    /// Noise (sd) of the system's estimates of a user's traits.
    public var traitEstimateNoise = 0.1
    /// Personas shaped by a model fitted to real data (`population.from_model`); nil: the
    /// built-in priors alone.
    public var fromModel: PersonaSourceRef? = nil
    public init() {}
}

/// Latent persona descriptions from outside the simulator, such as a persona model fitted to
/// real data (GymSynth): each draw gives one user's latent vector z, and optionally the level
/// that decides the user's group.
public protocol LatentPersonaSource: Sendable {
    var latentDimension: Int { get }
    /// Draws one persona into `z` (latentDimension values) from `stream`; returns the group
    /// level, or nil to draw the group from the configured shares.
    func draw(_ stream: RandomStream, into z: UnsafeMutablePointer<Double>) -> Int?
}

/// `population.from_model` as the scenario names it (a persona model file and an optional group
/// column), and the persona source it becomes once bound. The scenario parser records the file;
/// GymRunner binds the source (GymSynth's model adapter) before any world is built. Identity
/// (`id`: the file and a hash of its content) decides equality.
public struct PersonaSourceRef: Sendable, Equatable {
    public let id: String
    /// The model file, resolved against the scenario's folder.
    public let path: String
    public let groupColumn: String?
    /// Levels of the group column (checked against the number of groups).
    public let groupLevels: Int?
    public var source: (any LatentPersonaSource)?
    /// Real data in the model's schema to compare the simulated population with (`real:`), resolved
    /// against the scenario's folder; nil: none named.
    public var realPath: String?
    public init(id: String, path: String, groupColumn: String?, groupLevels: Int?, source: (any LatentPersonaSource)? = nil) {
        self.id = id; self.path = path; self.groupColumn = groupColumn; self.groupLevels = groupLevels; self.source = source
    }
    public static func == (a: PersonaSourceRef, b: PersonaSourceRef) -> Bool { a.id == b.id && a.realPath == b.realPath }
}

public struct EmotionConfig: Sendable, Equatable {
    public var dimension = 128
    /// Ornstein-Uhlenbeck mean reversion rate theta, per day.
    public var reversionPerDay = 0.5
    /// Stationary standard deviation of each coordinate: sigma / sqrt(2 theta).
    public var stationarySD = 0.3
    /// How strongly traits move the emotional set point.
    public var traitLoading = 0.3
    /// Set point along the distress direction: bias + neuroticismLoading * (neuroticism - 0.5).
    public var distressBias = -0.45
    public var neuroticismLoading = 0.8
    /// distress = logistic(gain * (d . x)).
    public var distressGain = 5.0
    /// A user is distressed when distress exceeds this.
    public var distressThreshold = 0.5
    /// Noise (sd) on the emotion vector the system observes. The 128-D vector stands for the
    /// emotion subsystem's estimate, observed as is by default; a positive value adds independent
    /// Gaussian noise per coordinate (128 more Gaussian draws per decision). Pulse metrics and
    /// candidate and event features are always noisy.
    public var observationNoise = 0.0
    public init() {}
}

public struct SessionConfig: Sendable, Equatable {
    /// Relative arrival intensity per hour of day (0-23); normalised to mean 1.
    public var hourWeights: [Double] = [0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 0.9, 1.1, 1.0, 0.9, 1.0,
                                        1.2, 1.1, 1.0, 1.0, 1.1, 1.3, 1.6, 1.9, 2.0, 1.8, 1.3, 0.7]
    /// Relative arrival intensity per weekday, Monday first; normalised to mean 1.
    public var weekdayWeights: [Double] = [0.9, 0.9, 0.95, 1.0, 1.1, 1.15, 1.0]
    /// A run is truncated after this many simulated days.
    public var maxDays = 120.0
    public init() {}
}

public struct PairingConfig: Sendable, Equatable {
    /// K: candidates shown per decision.
    public var candidatesShown = 5
    /// B: a user can be suggested to at most this many others per day.
    public var dailyExposureBudget = 3
    /// A pairing counts as accurate when its true resonance is at or above this.
    public var matchThreshold = 0.5
    /// True resonance = logistic(bias + similarity * cos + complementarity * comp + mood * mean mood).
    public var resonanceBias = -0.2
    public var resonanceSimilarity = 3.0
    public var resonanceComplementarity = 1.5
    public var resonanceMood = 0.8
    /// Each side accepts with logistic(acceptBias + acceptResonance (rho - 0.5) - fatigueEffect fatigue
    /// - boredomEffect boredom + trustEffect (trust - 0.5)).
    public var acceptBias = 0.6
    public var acceptResonance = 4.0
    public var fatigueEffect = 2.5
    public var boredomEffect = 0.5
    public var trustEffect = 1.0
    /// Noise (sd) of the realized resonance around the true one.
    public var realizedNoise = 0.08
    /// Noise (sd) of the system's similarity estimates.
    public var estimateNoise = 0.15
    public init() {}
}

public struct HiveConfig: Sendable, Equatable {
    /// E: open events shown per decision.
    public var eventsShown = 3
    /// New events per simulated week, per 1,000 users.
    public var eventsPerWeekPer1000 = 20.0
    public var capacityMean = 12.0
    /// Attendance = logistic(attendBias + attendMatch (match - 0.5) - crowding crowd - fatigueEffect fatigue).
    public var attendBias = -0.3
    public var attendMatch = 5.0
    public var crowding = 2.0
    public var fatigueEffect = 1.5
    public init() {}
}

public struct ToneConfig: Sendable, Equatable {
    public var name: String
    /// Loadings on the five traits: fit = 2 * loadings . (traits - 0.5).
    public var traitLoadings: [Double]
    public init(name: String, traitLoadings: [Double]) { self.name = name; self.traitLoadings = traitLoadings }
}

public struct InterventionConfig: Sendable, Equatable {
    public var tones: [ToneConfig] = [
        ToneConfig(name: "supportive", traitLoadings: [0, 0, -0.5, 1, 1.5]),
        ToneConfig(name: "celebratory", traitLoadings: [0.3, 0, 1.5, 0.3, -1]),
        ToneConfig(name: "informational", traitLoadings: [1, 1.5, -0.3, 0, 0]),
        ToneConfig(name: "playful", traitLoadings: [1, -0.5, 1, 0, -0.5]),
    ]
    /// A distressed user accepts with logistic(acceptBias + toneFit fit + trustEffect (trust - 0.5) - fatigueEffect fatigue).
    public var acceptBias = 0.2
    public var toneFit = 3.0
    public var trustEffect = 1.0
    public var fatigueEffect = 1.5
    /// Share of the distress projection removed by an accepted intervention.
    public var relief = 0.6
    /// A false positive (intervention to a user who is not distressed) adds this fatigue and removes this trust.
    public var falsePositiveFatigue = 0.2
    public var falsePositiveTrust = 0.05
    public init() {}
}

public struct ChurnConfig: Sendable, Equatable {
    /// Daily churn hazard = logistic(logit(dailyBase) + fatigue * f + distress * d + ignoredDistress * i - trust * (t - 0.5)).
    public var dailyBase = 0.03
    public var fatigue = 2.0
    public var distress = 1.5
    public var ignoredDistress = 0.4
    public var trust = 2.0
    /// Daily opt-out hazard = logistic(logit(optOutDailyBase) + optOutFalsePositive * pressure), pressure
    /// counts recent false-positive interventions (decaying by half each day).
    public var optOutDailyBase = 0.0005
    public var optOutFalsePositive = 1.0
    /// Half-lives (days) of fatigue and boredom.
    public var fatigueHalfLifeDays = 1.5
    public var boredomHalfLifeDays = 2.0
    /// Fatigue added by any delivered suggestion (times 1 - fatigue).
    public var fatiguePerAction = 0.08
    public init() {}
}

/// Returns in simulated time (a semi-Markov discount): a signal that arrives D days after its
/// decision counts gamma^D, and a user's next decision, d days later, is discounted by gamma^d.
/// Churn and opt-out end a journey; their penalties (0 by default: the lost future rewards are the
/// penalty) are added at the time of leaving, discounted to it.
public struct DiscountConfig: Sendable, Equatable {
    public var perDay = 0.97
    public var churnPenalty = 0.0
    public var optOutPenalty = 0.0
    public init() {}
}

public struct RewardConfig: Sendable, Equatable {
    /// Weights of engagement, resonance and explicit feedback; they must sum to 1.
    public var engagementWeight = 0.3
    public var resonanceWeight = 0.4
    public var explicitWeight = 0.3
    /// reward >= successThreshold: success; reward <= failureThreshold: failure; else neutral.
    public var successThreshold = 0.15
    public var failureThreshold = -0.05
    /// Probability that a user leaves explicit feedback, and that it contradicts the truth.
    public var explicitProbability = 0.35
    public var inconsistency = 0.1
    /// Mean latencies: engagement in seconds, resonance in hours, explicit feedback in days.
    public var engagementLatencySeconds = 120.0
    public var resonanceLatencyHours = 6.0
    public var explicitLatencyDays = 2.0
    /// A change of the reward weights at a simulated time (days from the start), for measuring
    /// `adaptation_hours`; nil: the weights never change. The shifted weights must sum to 1.
    public var shiftAtDay: Double? = nil
    public var shiftedEngagementWeight = 0.1
    public var shiftedResonanceWeight = 0.3
    public var shiftedExplicitWeight = 0.6
    public init() {}
    public func weight(_ k: Int) -> Double { k == 0 ? engagementWeight : (k == 1 ? resonanceWeight : explicitWeight) }
    /// The weight of signal kind `k` for a decision taken at simulated second `t`.
    public func weight(_ k: Int, at t: Double) -> Double {
        if let d = shiftAtDay, t >= d * 86_400 {
            return k == 0 ? shiftedEngagementWeight : (k == 1 ? shiftedResonanceWeight : shiftedExplicitWeight)
        }
        return weight(k)
    }
}
