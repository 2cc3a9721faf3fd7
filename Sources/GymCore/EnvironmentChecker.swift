import GymRandom

/// Checks an environment the way Gymnasium's `check_env` does, plus what matters here:
/// the same seed gives the same trajectory, masked actions are never taken, rewards stay in range.
public enum EnvironmentChecker {
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
    }

    /// Runs `steps` decisions twice with the same seed, and reports every problem found: an
    /// observation of the wrong size or not finite, no allowed action, a masked action chosen by
    /// the policy (not stepped), a step that does not report the action it applied or applied a
    /// masked one, a signal or reward out of range, and different trajectories for the same seed.
    /// `choose` picks the action from the mask and a uniform draw (default: uniform over the
    /// allowed actions, drawn from the seed's `checker.policy` stream).
    public static func check(_ make: () -> Environment, seed: SeedTree, steps: Int,
                             rewardRange: ClosedRange<Double> = -1...1,
                             choose: ([Bool], RandomStream) -> Int = { mask, s in
                                 let allowed = mask.indices.filter { mask[$0] }
                                 return allowed[s.uniformInt(allowed.count)]
                             }) -> [Problem] {
        var problems: [Problem] = []
        func run() -> (hashes: [UInt64], actions: [Int]) {
            let env = make()
            env.reset(seed: seed)
            let policy = seed.child("checker.policy").stream()
            var hashes: [UInt64] = []
            var actions: [Int] = []
            let layout = env.observationLayout
            for _ in 0..<steps {
                let obs = env.observation, mask = env.actionMask
                if obs.count != layout.dimension {
                    problems.append(Problem(message: "observation has \(obs.count) values, layout says \(layout.dimension)"))
                    break
                }
                if let bad = obs.firstIndex(where: { !$0.isFinite }) {
                    problems.append(Problem(message: "observation[\(bad)] is not finite at decision \(env.decisionIndex)"))
                }
                let allowed = mask.indices.filter { mask[$0] }
                if allowed.isEmpty { problems.append(Problem(message: "no allowed action at decision \(env.decisionIndex)")); break }
                let a = choose(mask, policy)
                guard a >= 0 && a < mask.count && mask[a] else {
                    problems.append(Problem(message: "the policy chose masked or out-of-range action \(a) at decision \(env.decisionIndex) (not stepped)"))
                    break
                }
                var h: UInt64 = 0xcbf2_9ce4_8422_2325
                for v in obs { h = (h ^ v.bitPattern) &* 0x0000_0100_0000_01b3 }
                for m in mask { h = (h ^ (m ? 1 : 0)) &* 0x0000_0100_0000_01b3 }
                hashes.append(h)
                actions.append(a)
                let r = env.step(ActionChoice(action: a, propensity: 1 / Double(allowed.count)))
                if let done = r.executedAction {
                    if done < 0 || done >= mask.count || !mask[done] {
                        problems.append(Problem(message: "the environment executed masked action \(done) at decision \(env.decisionIndex - 1) (the policy chose \(a))"))
                    } else if done != a {
                        problems.append(Problem(message: "the environment executed action \(done) instead of \(a) at decision \(env.decisionIndex - 1)"))
                    }
                } else {
                    problems.append(Problem(message: "the environment does not report the action it executed (StepResult.executedAction), so masks cannot be checked"))
                    break
                }
                // The trajectory includes what the step delivered: rewards and signals.
                var hr: UInt64 = 0xcbf2_9ce4_8422_2325
                hr = (hr ^ r.reward.bitPattern) &* 0x0000_0100_0000_01b3
                for f in r.feedback {
                    for x in [Double(f.episode), Double(f.kind.rawValue), f.value, f.weight, f.confidence] {
                        hr = (hr ^ x.bitPattern) &* 0x0000_0100_0000_01b3
                    }
                }
                hashes.append(hr)
                for f in r.feedback where !rewardRange.contains(f.value) || !rewardRange.contains(f.contribution) {
                    problems.append(Problem(message: "signal \(f.kind.name) of episode \(f.episode) has value \(f.value), outside \(rewardRange)"))
                }
                if !r.reward.isFinite { problems.append(Problem(message: "step reward is not finite")) }
                if r.terminated || r.truncated { break }
            }
            return (hashes, actions)
        }
        let a = run(), b = run()
        if a.hashes != b.hashes || a.actions != b.actions {
            let first = zip(a.hashes, b.hashes).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.hashes.count, b.hashes.count)
            problems.append(Problem(message: "same seed gave different trajectories (first difference at decision \(first / 2))"))
        }
        return problems
    }
}
