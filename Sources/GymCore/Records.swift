/// Outcome label of a training episode (blueprint `training_episodes.outcome`).
public enum Outcome: Int, Sendable, Codable {
    case failure = -1, neutral = 0, success = 1
    public var name: String {
        switch self { case .failure: return "failure"; case .neutral: return "neutral"; case .success: return "success" }
    }
}

/// Family of an action in the journey world.
public enum ActionKind: Int, Sendable, Codable {
    case noAction = 0, suggestPairing = 1, recommendHive = 2, intervention = 3
}

/// One decision of a simulated run, with what the hidden truth says about it. Metrics are
/// computed from these; the episode log is rendered from them.
public struct EpisodeRecord: Sendable {
    public var index: Int
    public var user: Int
    public var group: Int
    /// Simulated seconds since the run's start.
    public var time: Double
    public var action: Int
    public var kind: ActionKind
    public var propensity: Double
    /// Final episode reward: the weighted sum of all its signals, in [-1, 1].
    public var reward: Double
    /// The same with each signal discounted to the decision's time: sum of gamma^(latency in days) w v.
    public var discountedReward: Double
    /// The decision's step in its user's journey (0 first) and the simulated seconds since the
    /// user's previous decision (0 at the first).
    public var journeyStep: Int
    public var elapsed: Double
    public var outcome: Outcome
    /// The user was distressed at the decision (hidden truth).
    public var distressed: Bool
    /// Pairings: true resonance at suggestion, whether both accepted, realized resonance, prediction.
    public var trueResonance: Double
    public var accepted: Bool
    public var realizedResonance: Double
    public var predictedResonance: Double
    /// Index of the first of this episode's signals in the run's signal list, and how many.
    public var firstSignal: Int
    public var signalCount: Int
    /// Ids for the log: the user's persona id and the other party (candidate user or event), -1 if none.
    public var target: Int

    public init(index: Int, user: Int, group: Int, time: Double, action: Int, kind: ActionKind,
                propensity: Double) {
        self.index = index; self.user = user; self.group = group; self.time = time
        self.action = action; self.kind = kind; self.propensity = propensity
        reward = 0; discountedReward = 0; journeyStep = 0; elapsed = 0; outcome = .neutral; distressed = false
        trueResonance = .nan; accepted = false; realizedResonance = .nan; predictedResonance = .nan
        firstSignal = 0; signalCount = 0; target = -1
    }
}

/// One reward signal as generated (delivered to learners only at `time + latency`).
public struct SignalRecord: Sendable {
    public var episode: Int
    public var kind: SignalKind
    public var value: Double
    /// Seconds from the action to the signal.
    public var latency: Double
    public var confidence: Double
    public init(episode: Int, kind: SignalKind, value: Double, latency: Double, confidence: Double) {
        self.episode = episode; self.kind = kind; self.value = value; self.latency = latency; self.confidence = confidence
    }
}

/// What happened to one user over a run.
public struct UserOutcome: Sendable {
    public var group: Int
    /// Simulated seconds of the first session, or nil if the user never arrived.
    public var firstSession: Double?
    /// Simulated seconds of the last session (nil if the user never arrived).
    public var lastSession: Double? = nil
    /// Simulated seconds when the user churned or opted out, or nil if still active.
    public var leftAt: Double?
    public var optedOut: Bool
    /// Answer to the 1-5 trust survey at the end of the run.
    public var trustSurvey: Int
    public init(group: Int, firstSession: Double?, leftAt: Double?, optedOut: Bool, trustSurvey: Int) {
        self.group = group; self.firstSession = firstSession; self.leftAt = leftAt
        self.optedOut = optedOut; self.trustSurvey = trustSurvey
    }
}

/// Everything a run produced that the evaluator needs.
public struct RunRecords: Sendable {
    public var episodes: [EpisodeRecord] = []
    public var signals: [SignalRecord] = []
    public var users: [UserOutcome] = []
    public var groupNames: [String] = []
    /// Simulated seconds covered by the run.
    public var duration: Double = 0
    /// The discount of returns: per simulated day, and the penalties added (discounted to the
    /// time of leaving) when a journey ends by churn or by opt-out.
    public var discountPerDay: Double = 1
    public var churnPenalty: Double = 0
    public var optOutPenalty: Double = 0
    public init() {}
}
