import Foundation

/// One logged step of a trajectory (a user's journey): the state it was taken in (a discrete
/// state id), the action, its reward, and the logging policy's probability of that action.
public struct TrajectoryStep: Sendable, Equatable {
    public var state: Int
    public var action: Int
    public var reward: Double
    public var propensity: Double
    public init(state: Int, action: Int, reward: Double, propensity: Double) {
        self.state = state; self.action = action; self.reward = reward; self.propensity = propensity
    }
}

/// The sequential (journey-level) off-policy estimators of issue 14, over trajectories whose
/// steps are in order (step t is `steps[t]`). The target policy gives pi(a | state, step).
/// Every estimator discounts step t by gamma^t.
///
/// Notation: w_t = pi(a_t | s_t, t) / mu_t (mu_t the logged propensity), W_{0:t} = prod_{k<=t} w_k,
/// W = W_{0:T-1} for the whole trajectory, G = sum_t gamma^t r_t, n trajectories.
///
/// - `tis` (trajectory-wise importance sampling; Precup, Sutton & Singh 2000):
///   V = (1/n) sum_i W_i G_i.
/// - `sntis` (self-normalised): V = sum_i W_i G_i / sum_i W_i.
/// - `pdis` (per-decision IS; Precup, Sutton & Singh 2000): V = (1/n) sum_i sum_t gamma^t W_{i,0:t} r_{i,t}.
/// - `snpdis` (self-normalised per step): V = sum_t gamma^t sum_i W_{i,0:t} r_{i,t} / sum_i W_{i,0:t}
///   (SCOPE-RL's definition for trajectories of equal length). A trajectory that has ended stays
///   in an absorbing state with reward 0 and its final weight: it counts in the later steps'
///   denominators, so that on-policy logs give the mean return.
/// - `dr` (per-decision doubly robust; Jiang & Li 2016, Thomas & Brunskill 2016):
///   V = (1/n) sum_i sum_t gamma^t [ W_{i,0:t} (r_{i,t} - Q_t(s_{i,t}, a_{i,t})) + W_{i,0:t-1} V_t(s_{i,t}) ],
///   with W_{0:-1} = 1 and V_t(s) = sum_a pi(a | s, t) Q_t(s, a). Unbiased for any Q that does not
///   depend on the data it is applied to.
/// - `fqe` (fitted Q evaluation, the direct method; Le, Voloshin & Yue 2019): V = (1/n) sum_i V_0(s_{i,0})
///   with Q from `TabularFQE`.
public enum SequentialOPE {
    public enum Estimator: String, CaseIterable, Sendable {
        case tis, sntis, pdis, snpdis, dr, fqe
    }

    /// pi(a | state, step) into `out` (one probability per action).
    public typealias Policy = (_ state: Int, _ step: Int, _ out: inout [Double]) -> Void

    /// Point estimates of every estimator. `q` is Q_t(s, a) for `dr` and `fqe` (nil: they are NaN).
    public static func estimate(_ trajectories: [[TrajectoryStep]], actions: Int, target: Policy, gamma: Double,
                                q: TabularQ? = nil) -> [Estimator: Double] {
        let n = Double(trajectories.count)
        guard n > 0 else { return Dictionary(uniqueKeysWithValues: Estimator.allCases.map { ($0, Double.nan) }) }
        let horizon = trajectories.map(\.count).max() ?? 0
        var pi = [Double](repeating: 0, count: actions)
        var tis = 0.0, sntisNum = 0.0, sntisDen = 0.0, pdis = 0.0, dr = 0.0, fqe = 0.0
        var stepNum = [Double](repeating: 0, count: horizon), stepDen = [Double](repeating: 0, count: horizon)
        for traj in trajectories {
            var cumulative = 1.0, discount = 1.0, g = 0.0
            for (t, s) in traj.enumerated() {
                target(s.state, t, &pi)
                let previous = cumulative
                cumulative *= pi[s.action] / s.propensity
                g += discount * s.reward
                pdis += discount * cumulative * s.reward
                stepNum[t] += cumulative * s.reward
                stepDen[t] += cumulative
                if let q {
                    var v = 0.0
                    for a in 0..<actions { v += pi[a] * q.value(step: t, state: s.state, action: a) }
                    dr += discount * (cumulative * (s.reward - q.value(step: t, state: s.state, action: s.action)) + previous * v)
                    if t == 0 { fqe += v }
                }
                discount *= gamma
            }
            for t in traj.count..<horizon { stepDen[t] += cumulative }
            tis += cumulative * g
            sntisNum += cumulative * g
            sntisDen += cumulative
        }
        var snpdis = 0.0, discount = 1.0
        for t in 0..<horizon {
            if stepDen[t] > 0 { snpdis += discount * stepNum[t] / stepDen[t] }
            discount *= gamma
        }
        return [.tis: tis / n, .sntis: sntisDen > 0 ? sntisNum / sntisDen : .nan, .pdis: pdis / n, .snpdis: snpdis,
                .dr: q == nil ? .nan : dr / n, .fqe: q == nil ? .nan : fqe / n]
    }
}

/// A time-indexed tabular Q: Q_t(s, a) for steps 0..<horizon (0 beyond).
public struct TabularQ: Sendable, Equatable {
    public let horizon: Int, states: Int, actions: Int
    /// horizon x states x actions.
    public var values: [Double]
    /// Cells no logged transition visited (their Q is the value of the cell's continuation under
    /// the target policy with reward 0: they are reported, not hidden).
    public var emptyCells: Int = 0

    public init(horizon: Int, states: Int, actions: Int) {
        self.horizon = horizon; self.states = states; self.actions = actions
        values = [Double](repeating: 0, count: max(0, horizon * states * actions))
    }

    @inline(__always)
    public func value(step t: Int, state s: Int, action a: Int) -> Double {
        guard t < horizon, s >= 0, s < states, a >= 0, a < actions else { return 0 }
        return values[(t * states + s) * actions + a]
    }
}

/// Tabular, time-indexed fitted Q evaluation: the certainty-equivalence estimate. Backwards from
/// the last step, Q_t(s, a) is the mean over logged transitions (t, s, a, r, s') of
/// r + gamma V_{t+1}(s'), with V_{t+1}(s') = sum_a' pi(a' | s', t+1) Q_{t+1}(s', a') and 0 after a
/// trajectory's last step.
public enum TabularFQE {
    /// One transition: at `step`, in `state`, `action` gave `reward` and led to `next` (nil: the
    /// trajectory ended). `weight` counts it (1 for a logged row).
    public struct Transition: Sendable {
        public var step: Int, state: Int, action: Int, reward: Double, next: Int?, weight: Double
        public init(step: Int, state: Int, action: Int, reward: Double, next: Int?, weight: Double = 1) {
            self.step = step; self.state = state; self.action = action; self.reward = reward; self.next = next; self.weight = weight
        }
    }

    /// The transitions of trajectories (each step to the next one's state).
    public static func transitions(_ trajectories: [[TrajectoryStep]]) -> [Transition] {
        var out: [Transition] = []
        for traj in trajectories {
            for (t, s) in traj.enumerated() {
                out.append(Transition(step: t, state: s.state, action: s.action, reward: s.reward, next: t + 1 < traj.count ? traj[t + 1].state : nil))
            }
        }
        return out
    }

    public static func fit(_ transitions: [Transition], horizon: Int, states: Int, actions: Int, target: SequentialOPE.Policy, gamma: Double) -> TabularQ {
        var q = TabularQ(horizon: horizon, states: states, actions: actions)
        var byStep = [[Transition]](repeating: [], count: horizon)
        for x in transitions where x.step >= 0 && x.step < horizon { byStep[x.step].append(x) }
        var pi = [Double](repeating: 0, count: actions)
        var vNext = [Double](repeating: 0, count: states)
        for t in stride(from: horizon - 1, through: 0, by: -1) {
            var sum = [Double](repeating: 0, count: states * actions), weight = sum
            for x in byStep[t] where x.state >= 0 && x.state < states && x.action >= 0 && x.action < actions {
                let next = x.next.map { $0 >= 0 && $0 < states ? vNext[$0] : 0 } ?? 0
                sum[x.state * actions + x.action] += x.weight * (x.reward + gamma * next)
                weight[x.state * actions + x.action] += x.weight
            }
            for c in 0..<(states * actions) {
                if weight[c] > 0 { q.values[t * states * actions + c] = sum[c] / weight[c] } else { q.emptyCells += 1 }
            }
            for s in 0..<states {
                target(s, t, &pi)
                var v = 0.0
                for a in 0..<actions { v += pi[a] * q.values[(t * states + s) * actions + a] }
                vNext[s] = v
            }
        }
        return q
    }
}
