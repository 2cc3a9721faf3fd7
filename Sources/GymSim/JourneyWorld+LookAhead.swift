import Foundation
import GymCore

/// The look-ahead reference's view of the hidden truth: the value of each allowed action now,
/// counting what it does to the user's next days.
///
/// For each allowed action the current user's hidden state (fatigue, boredom, trust, distress,
/// ignored distress, false-positive pressure) is copied and rolled forward in expectation over
/// `horizonDays`:
/// - the action's expected reward now and its expected effect on the state (the fatigue every
///   delivered suggestion adds, and a declined pairing's extra; trust from an accepted pairing,
///   an attended event or an accepted intervention; a false positive's fatigue, trust and
///   pressure; distress left without an intervention);
/// - then sessions every 1 / activity days, where a base policy takes the action of highest
///   expected reward among each family's best item now (the myopic oracle's choice) unless the user's fatigue is at or above a
///   ceiling, when it does nothing; every expected reward is discounted by gamma^days and weighted
///   by the probability that the user is still there;
/// - at each day boundary that probability is multiplied by one minus the day's churn and opt-out
///   hazards at the rolled-forward state.
/// The action's value is its reward now plus the best continuation over the base policies'
/// ceilings (a rollout policy-improvement step over several base heuristics, Bertsekas 2013,
/// "Rollout algorithms for discrete optimization").
///
/// What it does not copy: the other users (the candidates' acceptance and the events' crowding
/// stay as they are now), the emotion process (distress stays as it is, except for an accepted
/// intervention's relief, which it ignores), and the menu (the same candidates and events at every
/// future session). It is a reference, not the optimum.
extension JourneyWorld: LookAheadTruth {
    /// The user's hidden state as the roll-out changes it.
    struct RolloutState {
        var fatigue: Double, time: Double
        var boredom: (pair: Double, hive: Double, intervention: Double)
        var trust: Double, ignored: Double, pressure: Double
    }

    /// A menu item's fixed parts: a pairing's resonance and partner acceptance, an event's match
    /// and crowding, a tone's fit.
    struct MenuItem { var kind: ActionKind; var a: Double; var b: Double }

    /// Values of every action (masked: -infinity) for the current decision.
    public func lookAheadValues(into out: inout [Double], horizonDays: Double, fatigueCeilings: [Double]) {
        let u = currentUser, t = now
        if out.count != actionLayout.count { out = [Double](repeating: 0, count: actionLayout.count) }
        var immediate = [Double](repeating: 0, count: actionLayout.count)
        expectedRewards(into: &immediate, weightsAt: t)
        // The menu, fixed over the roll-out.
        var menu: [MenuItem?] = [MenuItem(kind: .noAction, a: 0, b: 0)]
        for k in 0..<K {
            guard candidates[k] >= 0 else { menu.append(nil); continue }
            let rho = trueResonance(u, slot: k)
            let (_, pv) = pairingAcceptProbability(u, slot: k, rho: rho, at: t)
            menu.append(MenuItem(kind: .suggestPairing, a: rho, b: pv))
        }
        for k in 0..<E {
            guard shownEvents[k] >= 0 else { menu.append(nil); continue }
            let (_, match, crowd) = attendProbability(u, event: shownEvents[k], at: t)
            menu.append(MenuItem(kind: .recommendHive, a: match, b: crowd))
        }
        for k in 0..<tones { menu.append(MenuItem(kind: .intervention, a: toneFit(u, tone: k), b: 0)) }
        let start = RolloutState(fatigue: fatigue(u, at: t), time: t,
                                 boredom: (boredom(u, .suggestPairing, at: t), boredom(u, .recommendHive, at: t), boredom(u, .intervention, at: t)),
                                 trust: users[u].trust, ignored: users[u].ignoredDistress, pressure: users[u].falsePositivePressure)
        let spacing = secondsPerDay / max(0.01, population.activity[u])
        // The base policies choose, at later sessions, among each family's best item now (the
        // candidate, event and tone of highest expected reward): fatigue, boredom and trust move
        // the items of one family together, so their order rarely changes over the roll-out.
        var bestOfFamily = [-1, -1, -1, -1]
        for a in 1..<menu.count {
            guard actionMask[a], let item = menu[a] else { continue }
            let f = item.kind.rawValue
            if bestOfFamily[f] < 0 || immediate[a] > immediate[bestOfFamily[f]] { bestOfFamily[f] = a }
        }
        let baseMenu = [menu[0]!] + bestOfFamily.filter { $0 > 0 }.map { menu[$0]! }
        for a in 0..<out.count {
            guard actionMask[a], let item = menu[a] else { out[a] = -.infinity; continue }
            var s = start
            _ = apply(item, to: &s, distressed: currentDistressed, distress: users[u].distress)
            var best = -Double.infinity
            for ceiling in fatigueCeilings {
                best = max(best, continuation(from: s, menu: baseMenu, ceiling: ceiling, spacing: spacing, origin: t,
                                              horizon: horizonDays * secondsPerDay, distress: users[u].distress))
            }
            out[a] = immediate[a] + best
        }
    }

    /// Applies a menu item's expected effect to `s` and returns its expected reward.
    func apply(_ item: MenuItem, to s: inout RolloutState, distressed: Bool, distress: Double) -> Double {
        let m = responses, fpa = config.churn.fatiguePerAction
        func addFatigue(_ x: Double) { s.fatigue = min(1, s.fatigue + x * (1 - s.fatigue)) }
        var reward = 0.0
        switch item.kind {
        case .noAction:
            if distressed { s.ignored += 1 }
            return 0
        case .suggestPairing:
            let pu = m.acceptProbability(rho: item.a, fatigue: s.fatigue, boredom: s.boredom.pair, trust: s.trust)
            let p = pu * item.b
            reward = m.expectedPairingReward(rho: item.a, pAccept: p, at: s.time)
            addFatigue((1 - p) * fpa * 0.5)
            s.trust = min(1, max(0, s.trust + p * 0.04 * (item.a - 0.5)))
            s.boredom.pair += 1
        case .recommendHive:
            let p = m.attendProbability(match: item.a, fill: 0.7 + 0.3 * item.b, fatigue: s.fatigue, boredom: s.boredom.hive).p
            reward = m.expectedHiveReward(match: item.a, crowd: item.b, p: p, at: s.time)
            s.trust = min(1, max(0, s.trust + p * 0.03 * (ResponseModel.hiveResonanceMean(match: item.a, crowd: item.b) - 0.5)))
            s.boredom.hive += 1
        case .intervention:
            if distressed {
                let p = m.interventionAcceptProbability(fit: item.a, trust: s.trust, fatigue: s.fatigue, boredom: s.boredom.intervention)
                reward = m.expectedInterventionReward(distressed: true, fit: item.a, p: p, at: s.time)
                s.trust = min(1, s.trust + 0.03 * p)
            } else {
                reward = m.expectedInterventionReward(distressed: false, fit: item.a, p: 0, at: s.time)
                addFatigue(config.interventions.falsePositiveFatigue)
                s.trust = max(0, s.trust - config.interventions.falsePositiveTrust)
                s.pressure += 1
            }
            s.boredom.intervention += 1
        }
        addFatigue(fpa)
        return reward
    }

    /// Moves `s` to time `t`: fatigue and boredom decay.
    func decayState(_ s: inout RolloutState, to t: Double) {
        let days = (t - s.time) / secondsPerDay
        guard days > 0 else { return }
        s.fatigue *= exp(-days * M_LN2 / config.churn.fatigueHalfLifeDays)
        let b = exp(-days * M_LN2 / config.churn.boredomHalfLifeDays)
        s.boredom = (s.boredom.pair * b, s.boredom.hive * b, s.boredom.intervention * b)
        s.time = t
    }

    /// Expected discounted reward of the sessions after the current one, under the base policy
    /// with a fatigue ceiling, weighted by the probability the user is still there.
    func continuation(from start: RolloutState, menu: [MenuItem], ceiling: Double, spacing: Double, origin: Double,
                      horizon: Double, distress: Double) -> Double {
        var s = start
        let c = config.churn, g = config.discount.perDay
        let base = logit(c.dailyBase), obase = logit(c.optOutDailyBase)
        var alive = 1.0, total = 0.0
        let logG = log(g)
        var session = origin + spacing
        var day = nextDay
        while session <= origin + horizon {
            // Day boundaries before the session: the daily hazards at the state of that moment.
            while day <= session {
                decayState(&s, to: day)
                let optOut = logistic(obase + c.optOutFalsePositive * s.pressure)
                let churn = logistic(base + c.fatigue * s.fatigue + c.distress * distress + c.ignoredDistress * s.ignored
                                     - c.trust * (s.trust - 0.5))
                alive *= 1 - optOut - churn * (1 - optOut)
                s.pressure *= 0.5
                s.ignored *= 0.7
                day += secondsPerDay
            }
            decayState(&s, to: session)
            // The base policy: the menu's best expected reward, or nothing at the ceiling.
            var choice = 0
            if s.fatigue < ceiling {
                var bestValue = 0.0
                for (i, item) in menu.enumerated() where i > 0 {
                    var probe = s
                    let r = apply(item, to: &probe, distressed: currentDistressed, distress: distress)
                    if r > bestValue { bestValue = r; choice = i }
                }
            }
            let r = apply(menu[choice], to: &s, distressed: currentDistressed, distress: distress)
            total += alive * (g == 1 ? 1 : exp(logG * (session - origin) / secondsPerDay)) * r
            session += spacing
        }
        return total
    }
}
