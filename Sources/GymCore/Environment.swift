import Foundation
import GymRandom

/// The kind of a delayed reward signal (blueprint `reward_signals.signal_type`).
public enum SignalKind: Int, Sendable, CaseIterable, Codable {
    case engagement = 0, resonance = 1, explicitFeedback = 2
    public var name: String {
        switch self {
        case .engagement: return "engagement"
        case .resonance: return "resonance"
        case .explicitFeedback: return "explicit_feedback"
        }
    }
}

/// A reward signal that has arrived: it belongs to the decision `episode` (the blueprint's
/// training episode), and contributes `weight * value` to that episode's reward.
public struct Feedback: Sendable, Equatable {
    public var episode: Int
    public var kind: SignalKind
    public var value: Double
    public var weight: Double
    public var confidence: Double
    /// Seconds from the decision to this signal's arrival (for the semi-Markov discount).
    public var latency: Double
    public init(episode: Int, kind: SignalKind, value: Double, weight: Double, confidence: Double, latency: Double = 0) {
        self.episode = episode; self.kind = kind; self.value = value; self.weight = weight; self.confidence = confidence
        self.latency = latency
    }
    public var contribution: Double { weight * value }
    /// The contribution discounted to the decision's time: gamma^(latency in days) * weight * value.
    @inline(__always) public func discountedContribution(perDay gamma: Double) -> Double {
        gamma == 1 ? weight * value : pow(gamma, latency / 86_400) * weight * value
    }
}

/// Where a decision sits in its user's journey: a user's successive decisions, from the first
/// session to churn or opt-out (terminated) or the end of the horizon (truncated), are one episode.
public struct DecisionContext: Sendable, Equatable {
    /// The user (an index in the world).
    public var user: Int
    /// 0 at the user's first decision, then 1, 2, ...
    public var journeyStep: Int
    /// Simulated seconds since the run's start.
    public var time: Double
    /// Simulated seconds since the user's previous decision (0 at the first).
    public var elapsed: Double
    public init(user: Int, journeyStep: Int, time: Double, elapsed: Double) {
        self.user = user; self.journeyStep = journeyStep; self.time = time; self.elapsed = elapsed
    }
}

/// A journey that ended: the user churned, or opted out, at `time`.
public struct JourneyEnd: Sendable, Equatable {
    public var user: Int
    public var time: Double
    public var optedOut: Bool
    public init(user: Int, time: Double, optedOut: Bool) { self.user = user; self.time = time; self.optedOut = optedOut }
}

/// A policy that learns over journeys: it is told where each decision sits in its user's
/// journey, when journeys end, and when the open ones are cut.
public protocol JourneyAware: AnyObject {
    /// Called just before `act`, with the decision's place in its user's journey.
    func willAct(in context: DecisionContext)
    /// Journeys that ended (churn or opt-out) since the previous step.
    func journeysEnded(_ ends: [JourneyEnd])
    /// Every open journey is cut at `time` (the world's horizon, or the end of a phase): truncated,
    /// not terminated. Later decisions start new journeys.
    func truncateJourneys(at time: Double)
}

/// What a policy returns for one decision.
public struct ActionChoice: Sendable, Equatable {
    public var action: Int
    /// The acting policy's probability of `action` given the observation (logged for off-policy evaluation).
    public var propensity: Double
    /// Predicted resonance in [0, 1] when the action suggests a pairing.
    public var predictedResonance: Double?
    public init(action: Int, propensity: Double, predictedResonance: Double? = nil) {
        self.action = action; self.propensity = propensity; self.predictedResonance = predictedResonance
    }
}

/// The result of `Environment.step`.
///
/// Terminology: the blueprint calls one decision and its outcome a *training episode*; a Gym-style
/// run from `reset` to `terminated`/`truncated` spans many of them.
public struct StepResult: Sendable {
    /// Sum of the weighted contributions of the signals that arrived during this step.
    public var reward: Double
    /// The world ended (no active user is left).
    public var terminated: Bool
    /// The run was cut by a time limit; learners bootstrap from the value here.
    public var truncated: Bool
    /// Signals that arrived during this step, for any earlier decision.
    public var feedback: [Feedback]
    /// The action the environment applied (nil: it does not say), so that a checker can verify
    /// that no masked action is ever executed.
    public var executedAction: Int?
    /// Journeys that ended (churn, opt-out) during this step.
    public var endedJourneys: [JourneyEnd]
    public init(reward: Double = 0, terminated: Bool = false, truncated: Bool = false, feedback: [Feedback] = [], executedAction: Int? = nil,
                endedJourneys: [JourneyEnd] = []) {
        self.reward = reward; self.terminated = terminated; self.truncated = truncated; self.feedback = feedback
        self.executedAction = executedAction; self.endedJourneys = endedJourneys
    }
}

/// Privileged access to the hidden truth of the current decision. Only the oracle (an upper
/// bound, labelled as one) and evaluators may use it.
public protocol HiddenTruth: AnyObject {
    /// Expected episode reward of each action under the true response model (masked actions: -inf).
    func trueExpectedRewards(into out: inout [Double])
    /// True resonance of the pairing behind `action`, or nil when it is not a pairing.
    func trueResonance(action: Int) -> Double?
}

/// Hidden truth that also looks ahead: the value of each action now counting its expected effect
/// on the user's next `horizonDays` days, under the best of base policies that pause at the given
/// fatigue ceilings (JourneyWorld+LookAhead). Masked actions: -inf.
public protocol LookAheadTruth: HiddenTruth {
    func lookAheadValues(into out: inout [Double], horizonDays: Double, fatigueCeilings: [Double])
}

/// A Gymnasium-style environment with a masked discrete action space.
public protocol Environment: AnyObject {
    var observationLayout: ObservationLayout { get }
    var actionLayout: ActionLayout { get }
    /// Starts a new run: the same seed gives the same trajectory for the same actions.
    func reset(seed: SeedTree)
    /// The current observation (valid until the next `step`/`reset`).
    var observation: [Double] { get }
    /// The current action mask: `mask[a]` is true when `a` may be taken.
    var actionMask: [Bool] { get }
    /// Index of the current decision (its training-episode number), from 0.
    var decisionIndex: Int { get }
    /// Applies an allowed action. Taking a masked action is a programming error.
    func step(_ choice: ActionChoice) -> StepResult
    /// The hidden truth, for the oracle only.
    var hiddenTruth: HiddenTruth? { get }
    /// The current decision's place in its user's journey.
    var decisionContext: DecisionContext { get }
}

extension Environment {
    /// One journey per run by default (single-agent environments such as CartPole).
    public var decisionContext: DecisionContext {
        DecisionContext(user: 0, journeyStep: decisionIndex, time: Double(decisionIndex), elapsed: decisionIndex == 0 ? 0 : 1)
    }
}

/// A decision-making policy. Learning policies learn from `observe(_:)`; `learning = false`
/// freezes them (used for evaluation).
public protocol Policy: AnyObject {
    var name: String { get }
    /// Whether the policy reads hidden truth (reports label such agents as upper bounds).
    var isUpperBound: Bool { get }
    var learning: Bool { get set }
    func act(observation: [Double], mask: [Bool], decision: Int, truth: HiddenTruth?) -> ActionChoice
    func observe(_ feedback: [Feedback])
}

/// An environment that can start a new episode in place, continuing its random stream (the
/// auto-reset of a vector of environments).
public protocol EpisodeResettable: AnyObject {
    func resetEpisode()
}

/// How reports, charts and the console label an agent: its name, and for a reference that reads
/// hidden truth which kind of upper bound it is (the oracle is myopic; the look-ahead reference
/// counts the user's next days).
public func agentLabel(_ name: String, isUpperBound: Bool) -> String {
    guard isUpperBound else { return name }
    switch name {
    case "oracle": return "oracle (myopic upper bound)"
    case "lookahead": return "lookahead (look-ahead upper bound)"
    default: return "\(name) (upper bound)"
    }
}

/// A learner that honours opt-out: told which user each of its training decisions was for, it can
/// forget a user, removing every decision of theirs from its training data; signals for them that
/// arrive later are never used.
public protocol Forgetting: AnyObject {
    /// Start keeping what forgetting needs (from the next decision on).
    func enableForgetting()
    /// Decision `decision` (the index passed to `act`) was made for `user`.
    func attribute(decision: Int, to user: Int)
    /// Removes `user`'s decisions from the training data, now and for good.
    func forget(user: Int)
}
