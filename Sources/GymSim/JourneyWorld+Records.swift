import Foundation
import GymCore
import GymRandom

/// The end of a run: the trust survey and per-user outcomes.
extension JourneyWorld {
    // MARK: end of run

    /// Closes the run: the trust survey for every user who had a session, and per-user outcomes.
    public func finish(surveySeed: SeedTree) -> RunRecords {
        let s = surveySeed.stream(generator)
        var out = records
        out.users = []
        out.users.reserveCapacity(users.count)
        for u in 0..<users.count {
            let st = users[u]
            let raw = (1 + 4 * st.trust + s.gaussian(sd: 0.6)).rounded()
            let answer = raw.isFinite ? Int(min(5, max(1, raw))) : 1
            var o = UserOutcome(group: Int(population.group[u]),
                                firstSession: st.firstSession >= 0 ? st.firstSession : nil,
                                leftAt: st.active ? nil : st.leftAt, optedOut: st.optedOut,
                                trustSurvey: min(5, max(1, answer)))
            o.lastSession = st.lastSession >= 0 ? st.lastSession : nil
            out.users.append(o)
        }
        // The run covers up to the last decision or the last departure, whichever is later.
        out.duration = users.reduce(now) { st, u in u.active ? st : max(st, u.leftAt) }
        out.discountPerDay = config.discount.perDay
        out.churnPenalty = config.discount.churnPenalty
        out.optOutPenalty = config.discount.optOutPenalty
        return out
    }
}

extension JourneyWorld {
    /// Gaussian variates drawn so far by the world's dynamic streams (for the benchmark).
    public var gaussianDraws: Int {
        [sArrival, sEmotion, sResponse, sObserve, sDaily, sEvents, sCands].reduce(0) { $0 + ($1?.gaussianDraws ?? 0) }
    }
}
