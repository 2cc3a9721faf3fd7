import Foundation
import GymCore

/// Settings of the anomaly detectors run over an evaluation's decision stream.
public struct DetectorConfig: Sendable, Equatable, Codable {
    public var rewardShift = MeanShiftCUSUM.Config()
    public var actionDrift = ActionShareDrift.Config()
    public var groupDrift = GroupOutcomeDrift.Config()
    /// Robust z-score above which a user is an outlier, and the decisions a user needs to count.
    public var outlierThreshold = 3.5
    public var outlierMinDecisions = 5
    /// Decisions before monitoring starts (statistical process control's phase I: the world
    /// settles from its fresh start; nothing is fed to the detectors before it).
    public var burnInDecisions = 0
    public init() {}
}

/// The detectors together, fed what a deployed system sees as it happens:
/// - each decision's action (action-share drift) at the moment it is taken;
/// - each reward signal as it arrives (`Feedback`, possibly hours or days after its decision):
///   its contribution (weight x value) feeds the mean-shift CUSUM, and whether it is positive
///   feeds the drift of the positive-signal rate of the deciding user's group;
/// - at the end, per user, the mean signal contribution and the share of interventions among
///   the user's decisions, screened for outliers by robust z-scores.
/// Alarms carry the index of the decision at which they were raised. Nothing is fed before
/// `burnInDecisions`.
public struct DetectorSuite: Sendable {
    public let config: DetectorConfig
    var reward: MeanShiftCUSUM
    var actions: ActionShareDrift
    var groups: GroupOutcomeDrift
    let labels: [String]
    /// Per decision so far: the deciding user's group and id, and whether it was an intervention.
    var episodeGroup: [Int32] = [], episodeUser: [Int32] = []
    var userDecisions: [Int: Int] = [:], userInterventions: [Int: Int] = [:]
    var userSignal: [Int: (sum: Double, count: Int)] = [:]
    public private(set) var alarms: [DetectorAlarm] = []

    public init(config: DetectorConfig, actionLabels: [String], groupNames: [String]) {
        self.config = config
        labels = actionLabels
        reward = MeanShiftCUSUM(name: "reward_shift", config: config.rewardShift)
        actions = ActionShareDrift(actions: actionLabels.count, config: config.actionDrift)
        groups = GroupOutcomeDrift(groups: groupNames, config: config.groupDrift)
    }

    /// Decision `index` (0-based, in stream order) took `action` for `user` of `group`; `feedback`
    /// are the signals that arrived with this step (of this or earlier decisions).
    public mutating func observe(decision index: Int, action: Int, user: Int, group: Int, isIntervention: Bool, feedback: [Feedback]) {
        episodeGroup.append(Int32(group)); episodeUser.append(Int32(user))
        guard index >= config.burnInDecisions else { return }
        userDecisions[user, default: 0] += 1
        if isIntervention { userInterventions[user, default: 0] += 1 }
        let names = labels
        if let a = actions.add(action: action, decision: index, label: { names[$0] }) { alarms.append(a) }
        for f in feedback where f.episode >= 0 && f.episode < episodeGroup.count {
            let c = f.contribution
            if let a = reward.add(c, decision: index) { alarms.append(a) }
            alarms += groups.add(group: Int(episodeGroup[f.episode]), success: c > 0, decision: index)
            let u = Int(episodeUser[f.episode])
            let s = userSignal[u, default: (0, 0)]
            userSignal[u] = (s.sum + c, s.count + 1)
        }
    }

    /// The outlier screen at the end (decision index `last`): users with at least
    /// `outlierMinDecisions` decisions whose mean signal contribution or intervention share has a
    /// robust z-score beyond the threshold. Returns every alarm, in the order raised.
    public mutating func finish(lastDecision last: Int, userName: (Int) -> String = { "user \($0)" }) -> [DetectorAlarm] {
        let users = userDecisions.keys.filter { userDecisions[$0]! >= config.outlierMinDecisions }.sorted()
        guard users.count >= 3 else { return alarms }
        let signal = users.map { u in userSignal[u].map { $0.sum / Double(max(1, $0.count)) } ?? 0 }
        let share = users.map { Double(userInterventions[$0] ?? 0) / Double(userDecisions[$0]!) }
        for (what, values) in [("mean signal contribution", signal), ("intervention share", share)] {
            let z = RobustZ.scores(values)
            for (i, u) in users.enumerated() where abs(z[i]) > config.outlierThreshold {
                alarms.append(DetectorAlarm(detector: "outlier_user", decision: last, statistic: z[i], threshold: config.outlierThreshold,
                                            reason: String(format: "%@: %@ %.4g over %d decisions, robust z %.1f", userName(u) as NSString, what as NSString,
                                                           values[i], userDecisions[u]!, z[i])))
            }
        }
        return alarms
    }
}
