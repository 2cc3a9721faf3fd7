import Foundation
import GymCore
import GymRandom

let secondsPerDay = 86_400.0
let secondsPerHour = 3_600.0

/// Mutable state of one user during a run (hidden from agents).
struct UserState {
    var active = true
    var optedOut = false
    var leftAt = -1.0
    var firstSession = -1.0
    var lastSession = -1.0
    var lastEmotionTime = 0.0
    var distress = 0.0
    var observedStress = 0.3
    var trust = 0.8
    var fatigue = 0.0
    var fatigueTime = 0.0
    var boredomPair = 0.0, boredomHive = 0.0, boredomIntervention = 0.0
    var boredomTime = 0.0
    var falsePositivePressure = 0.0
    var ignoredDistress = 0.0
    var connections: Int32 = 0
    var pending = 0.0, pendingTime = 0.0
    var load = 0.0, loadTime = 0.0
    var ringPos: Int32 = 0
    var arrivalNorm = 1.0
    /// Decisions taken for this user so far (the next decision's journey step).
    var decisions: Int32 = 0
    /// Next slot of the user's ring of recent touches (`touchTime` / `touchAccepted`).
    var touchPos: Int32 = 0
}

/// A hive event: a group event with a topic, a capacity and a start time.
struct HiveEvent {
    var topic: [Double]
    var capacity: Int
    var registered: Int
    var start: Double
}

/// The journey world: a synthetic population whose sessions arrive as non-homogeneous Poisson
/// processes; each arrival is a decision point. See DESIGN.md, "The world the simulator models".
public final class JourneyWorld: Environment, HiddenTruth {
    public let config: SimConfig
    public let observationLayout: ObservationLayout
    public let actionLayout: ActionLayout
    /// Probabilities, signals and their expectations: shared by `step` and the oracle's view.
    public let responses: ResponseModel
    /// The GSL generator of every stream of the world (the scenario's `generator:`).
    public var generator: GeneratorKind = .mt19937
    /// Record every decision and signal (needed for metrics and logs; off in the benchmark).
    public var recording = true
    /// `contextSnapshot()` includes the observation vector and the allowed actions.
    public var snapshotObservations = false
    public internal(set) var records = RunRecords()
    /// The record of the last decision stepped, whether or not `recording` is on.
    public internal(set) var lastEpisode = EpisodeRecord(index: -1, user: -1, group: 0, time: 0, action: 0, kind: .noAction, propensity: 1)
    public internal(set) var population: Population = Population.empty

    // Layout bookkeeping.
    let K: Int, E: Int, tones: Int, Dm: Int
    let segEmotion: Int, segRecent: Int, segPulse: Int, segTime: Int, segSocial: Int, segProfile: Int
    let segUser: Int, segCand: Int, segEvent: Int
    static let candWidth = 6, eventWidth = 4, recentLength = 10, recentWidth = 5

    // Fixed world structure (seeded at reset).
    var distressDirection: [Double] = []
    var emotion: [Double] = []
    var emotionMean: [Double] = []
    var users: [UserState] = []
    /// Hot per-user state of the candidate filter, kept compact: exposures today (-1: inactive user)
    /// and the day they were counted on.
    var exposureCount: [Int32] = []
    var exposureDay: [Int32] = []
    var recent: [Int8] = []
    /// Per user, the times of the last `touchSlots` suggestions the user received (any action on
    /// their session, or being suggested to someone else) and whether each was accepted; -1: empty.
    var touchTime: [Double] = []
    var touchAccepted: [Bool] = []
    static let touchSlots = 32
    /// Journeys that ended during the current step.
    var journeyEndBuffer: [JourneyEnd] = []
    /// The current decision's place in its user's journey.
    public internal(set) var decisionContext = DecisionContext(user: -1, journeyStep: 0, time: 0, elapsed: 0)
    var events: [HiveEvent] = []
    var openEvents: [Int] = []

    // Streams.
    var sArrival: RandomStream!, sEmotion: RandomStream!, sResponse: RandomStream!
    var sObserve: RandomStream!, sDaily: RandomStream!, sEvents: RandomStream!, sCands: RandomStream!

    // Clock and queues.
    var arrivals = TimedHeap()
    var signalHeap = TimedHeap()
    var pendingSignals: [Feedback] = []
    var pendingFree: [Int] = []
    var now = 0.0
    var nextDay = secondsPerDay
    var nextWeek = 7 * secondsPerDay
    var dayIndex = 0
    var weekIndex = 0
    public internal(set) var decisionIndex = 0
    public internal(set) var currentUser = -1
    var ended = false
    var truncatedFlag = false

    // Current decision.
    public internal(set) var observation: [Double]
    public internal(set) var actionMask: [Bool]
    var candidates: [Int]
    var candidatePoolSlot: [Int]
    var shownEvents: [Int]
    var currentDistressed = false
    var feedbackBuffer: [Feedback] = []
    var stepReward = 0.0
    var hourNorm: [Double] = []
    var weekdayNorm: [Double] = []
    var maxHour = 1.0, maxWeekday = 1.0
    var poolScratch: [Int] = []

    public init(config: SimConfig) {
        self.config = config
        responses = ResponseModel(config: config)
        K = config.pairing.candidatesShown
        E = config.hives.eventsShown
        tones = config.interventions.tones.count
        Dm = config.emotion.dimension
        let layout = JourneyWorld.observationLayout(for: config)
        observationLayout = layout
        actionLayout = JourneyWorld.actionLayout(for: config)
        func offset(_ name: String) -> Int { layout.segments.first { $0.name == name }!.offset }
        segEmotion = offset("emotion"); segRecent = offset("recent_interactions"); segPulse = offset("pulse")
        segTime = offset("time"); segSocial = offset("social"); segProfile = offset("profile"); segUser = offset("user")
        segCand = offset("candidates"); segEvent = offset("events")
        observation = [Double](repeating: 0, count: observationLayout.dimension)
        actionMask = [Bool](repeating: false, count: actionLayout.count)
        candidates = [Int](repeating: -1, count: K)
        candidatePoolSlot = [Int](repeating: -1, count: K)
        shownEvents = [Int](repeating: -1, count: E)
    }

    /// The observation's segments for a configuration: the one place the layout is defined (the
    /// scenario validator's memory estimate reads its dimension from here).
    public static func observationLayout(for config: SimConfig) -> ObservationLayout {
        var segs: [ObservationSegment] = []
        var off = 0
        func add(_ name: String, slots: Int = 1, _ f: [String]) {
            let s = ObservationSegment(name: name, offset: off, slots: slots, features: f)
            segs.append(s); off += s.count
        }
        add("emotion", (0..<config.emotion.dimension).map { "e\($0)" })
        add("recent_interactions", slots: JourneyWorld.recentLength, ["no_action", "suggest_pairing", "recommend_hive", "intervention", "accepted"])
        add("pulse", ["heart_rate", "hrv", "stress"])
        add("time", ["hour_sin", "hour_cos", "weekday_sin", "weekday_cos", "week"])
        add("social", ["active_connections", "pending_matches"])
        add("profile", traitNames)
        add("user", ["days_since_last", "recent_load", "suggestions_day", "suggestions_week", "acceptances_week"])
        add("candidates", slots: config.pairing.candidatesShown,
            ["similarity", "complementarity", "candidate_stress", "candidate_exposure", "candidate_load", "available"])
        add("events", slots: config.hives.eventsShown, ["interest_match", "fill", "days_to_start", "available"])
        return ObservationLayout(segments: segs)
    }

    /// The action space for a configuration: no_action, K candidates, E events, the tones.
    public static func actionLayout(for config: SimConfig) -> ActionLayout {
        let K = config.pairing.candidatesShown, E = config.hives.eventsShown
        var fams: [ActionFamily] = [ActionFamily(name: "no_action", range: 0..<1, labels: ["none"])]
        var a = 1
        fams.append(ActionFamily(name: "suggest_pairing", range: a..<(a + K), slotSegment: "candidates", labels: (0..<K).map { "\($0)" }))
        a += K
        fams.append(ActionFamily(name: "recommend_hive", range: a..<(a + E), slotSegment: "events", labels: (0..<E).map { "\($0)" }))
        a += E
        fams.append(ActionFamily(name: "intervention", range: a..<(a + config.interventions.tones.count), labels: config.interventions.tones.map { $0.name }))
        return ActionLayout(families: fams)
    }

    public var hiddenTruth: HiddenTruth? { self }
    public var currentTime: Double { now }
    public var isDone: Bool { ended }
}
