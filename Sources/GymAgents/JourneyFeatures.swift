import GymCore
import GymLinalg

/// Builds per-action feature vectors phi(s, a) from the observation, reading it only through the
/// environment's published layout (segment and family names), never through simulator internals.
///
/// Families and their features:
/// - `no_action`: the context block c = [1, stress, heart rate, hrv, hour sin/cos, days since last
///   session, recent load, suggestions received in the last day and week, acceptances in the last
///   week, active connections, pending matches].
/// - `suggest_pairing` slot k: c, the slot's candidate features, similarity^2 and similarity x complementarity.
/// - `recommend_hive` slot k: c, the slot's event features, match^2.
/// - `intervention` tone t: onehot(t) (x) [1, stress, stress^2, five trait estimates], recent load,
///   days since last session.
/// - any other family: c and a one-hot of the action within the family.
public struct JourneyFeatures: Sendable {
    public let layout: ObservationLayout
    public let actions: ActionLayout
    /// Feature dimension per family.
    public let dimensions: [Int]
    let contextIdx: [Int]   // -1 = constant 1
    let stressIdx: Int, loadIdx: Int, sinceIdx: Int
    let profile: ObservationSegment?
    let familyKind: [Kind]
    enum Kind: Sendable { case context, pairing(ObservationSegment), hive(ObservationSegment), intervention(Int), other(Int) }

    public init(layout: ObservationLayout, actions: ActionLayout) {
        self.layout = layout
        self.actions = actions
        func idx(_ seg: String, _ f: String) -> Int { layout.segment(seg)?.index(named: f) ?? -2 }
        var ctx = [-1]
        for (s, f) in [("pulse", "stress"), ("pulse", "heart_rate"), ("pulse", "hrv"), ("time", "hour_sin"), ("time", "hour_cos"),
                       ("user", "days_since_last"), ("user", "recent_load"), ("user", "suggestions_day"), ("user", "suggestions_week"),
                       ("user", "acceptances_week"), ("social", "active_connections"), ("social", "pending_matches")] {
            let i = idx(s, f)
            if i >= 0 { ctx.append(i) }
        }
        contextIdx = ctx
        stressIdx = idx("pulse", "stress")
        loadIdx = idx("user", "recent_load")
        sinceIdx = idx("user", "days_since_last")
        profile = layout.segment("profile")
        var kinds: [Kind] = []
        var dims: [Int] = []
        for fam in actions.families {
            switch fam.name {
            case "no_action":
                kinds.append(.context); dims.append(ctx.count)
            case "suggest_pairing":
                if let s = fam.slotSegment.flatMap({ layout.segment($0) }) {
                    kinds.append(.pairing(s)); dims.append(ctx.count + s.width + 2)
                } else { kinds.append(.other(fam.range.count)); dims.append(ctx.count + fam.range.count) }
            case "recommend_hive":
                if let s = fam.slotSegment.flatMap({ layout.segment($0) }) {
                    kinds.append(.hive(s)); dims.append(ctx.count + s.width + 1)
                } else { kinds.append(.other(fam.range.count)); dims.append(ctx.count + fam.range.count) }
            case "intervention":
                let per = 3 + (profile?.width ?? 0)
                kinds.append(.intervention(fam.range.count)); dims.append(fam.range.count * per + 2)
            default:
                kinds.append(.other(fam.range.count)); dims.append(ctx.count + fam.range.count)
            }
        }
        familyKind = kinds
        dimensions = dims
    }

    /// Writes phi(obs, action) into `out` (capacity >= dimensions[family]); returns the family index.
    @discardableResult
    public func features(_ o: [Double], action: Int, into out: UnsafeMutableBufferPointer<Double>) -> Int {
        let f = actions.family(of: action)
        let within = action - actions.families[f].range.lowerBound
        var n = 0
        @inline(__always) func put(_ x: Double) { out[n] = x; n += 1 }
        func context() { for i in contextIdx { put(i < 0 ? 1 : o[i]) } }
        switch familyKind[f] {
        case .context:
            context()
        case .pairing(let s):
            context()
            let base = s.offset + within * s.width
            for j in 0..<s.width { put(o[base + j]) }
            put(o[base] * o[base]); put(o[base] * o[base + 1])
        case .hive(let s):
            context()
            let base = s.offset + within * s.width
            for j in 0..<s.width { put(o[base + j]) }
            put(o[base] * o[base])
        case .intervention(let count):
            let stress = stressIdx >= 0 ? o[stressIdx] : 0
            let per = 3 + (profile?.width ?? 0)
            for i in 0..<(count * per) { out[i] = 0 }
            let b = within * per
            out[b] = 1; out[b + 1] = stress; out[b + 2] = stress * stress
            if let p = profile { for j in 0..<p.width { out[b + 3 + j] = o[p.offset + j] } }
            n = count * per
            put(loadIdx >= 0 ? o[loadIdx] : 0); put(sinceIdx >= 0 ? o[sinceIdx] : 0)
        case .other(let count):
            context()
            for j in 0..<count { put(j == within ? 1 : 0) }
        }
        return f
    }
}

/// Predicts the resonance (in [0, 1]) of a suggested pairing from the candidate's observed
/// features, by ridge regression on the resonance signals that have arrived. Every agent that
/// suggests pairings owns one, so that `resonance_rmse` can be measured.
public struct ResonancePredictor: Sendable {
    var model: RidgeRegressionBox
    let segment: ObservationSegment?
    let stressIdx: Int
    let pairingRange: Range<Int>?
    var pendingFeatures: [Int: [Double]] = [:]
    var sinceRefit = 0
    public static let dimension = 7

    public init(layout: ObservationLayout, actions: ActionLayout) {
        model = RidgeRegressionBox(dimension: ResonancePredictor.dimension, lambda: 1)
        segment = layout.segment("candidates")
        stressIdx = layout.segment("pulse")?.index(named: "stress") ?? -1
        pairingRange = actions.familyIndex("suggest_pairing").map { actions.families[$0].range }
    }

    func features(_ o: [Double], action: Int) -> [Double]? {
        guard let s = segment, let r = pairingRange, r.contains(action) else { return nil }
        let base = s.offset + (action - r.lowerBound) * s.width
        let sim = o[base], comp = s.width > 1 ? o[base + 1] : 0, cs = s.width > 2 ? o[base + 2] : 0
        let st = stressIdx >= 0 ? o[stressIdx] : 0
        return [1, sim, comp, cs, st, sim * comp, sim * sim]
    }

    /// Prediction for a pairing action (nil for other actions), clamped to [0, 1]. Allocation-free.
    public func predict(_ o: [Double], action: Int) -> Double? {
        guard let s = segment, let r = pairingRange, r.contains(action) else { return nil }
        if model.ridge.observations == 0 { return 0.5 }
        let base = s.offset + (action - r.lowerBound) * s.width
        let sim = o[base], comp = s.width > 1 ? o[base + 1] : 0, cs = s.width > 2 ? o[base + 2] : 0
        let st = stressIdx >= 0 ? o[stressIdx] : 0
        let w = model.ridge.weights
        let p = w[0] + w[1] * sim + w[2] * comp + w[3] * cs + w[4] * st + w[5] * sim * comp + w[6] * sim * sim
        return min(1, max(0, p))
    }

    /// The fitted weights and how many signals they learnt from (for checkpoints).
    public var state: (weights: [Double], observations: Int) { (model.ridge.weights, model.ridge.observations) }

    /// Restores fitted weights (from a checkpoint).
    public mutating func restore(weights: [Double], observations: Int) {
        guard weights.count == ResonancePredictor.dimension else { return }
        model.ridge.restore(weights: weights, observations: observations)
    }

    /// Remembers the features of a suggested pairing until its resonance signal arrives.
    public mutating func record(_ o: [Double], action: Int, episode: Int) {
        guard let x = features(o, action: action) else { return }
        pendingFeatures[episode] = x
    }

    /// Learns from arrived resonance signals (value v in [-1, 1] -> (v + 1) / 2).
    public mutating func observe(_ feedback: [Feedback]) {
        for f in feedback where f.kind == .resonance {
            guard let x = pendingFeatures.removeValue(forKey: f.episode) else { continue }
            x.withUnsafeBufferPointer {
                model.ridge.addDesign($0)
                model.ridge.addTarget($0, (f.value + 1) / 2)
            }
            sinceRefit += 1
            if sinceRefit >= 50 { model.ridge.refit(); sinceRefit = 0 }
        }
        // Pairings whose resonance never comes (declined) are forgotten after a while.
        if pendingFeatures.count > 50_000 {
            let cutoff = (pendingFeatures.keys.max() ?? 0) - 40_000
            pendingFeatures = pendingFeatures.filter { $0.key >= cutoff }
        }
    }
}

/// Value box so the predictor can be a struct with a mutating ridge model inside.
struct RidgeRegressionBox: Sendable {
    var ridge: RidgeRegression
    init(dimension: Int, lambda: Double) { ridge = RidgeRegression(dimension: dimension, lambda: lambda) }
}

/// Per-action feature rows for PPO's shared action head on the journey world (read through the
/// published layout only). Each action's row is [context (pulse, time, user, social, profile),
/// one-hot of its family, its slot's features (candidate or event, zero-padded), one-hot of its
/// index within a family without slots (the intervention tone)]. Actions of one family share the
/// actor's weights, so what is learnt about one candidate slot applies to every slot.
public struct JourneyActionFeaturizer: ActionFeaturizer {
    public let featureDimension: Int
    public let actionCount: Int
    let contextIdx: [Int]
    let familyOf: [Int]
    let familyCount: Int
    let slotBase: [Int]        // observation offset of the action's slot, or -1
    let slotWidth: [Int]
    let labelIndex: [Int]      // index within a slot-less family with several actions, or -1
    let maxSlotWidth: Int, maxLabels: Int

    public init(layout: ObservationLayout, actions: ActionLayout) {
        var ctx: [Int] = []
        for (s, f) in [("pulse", "stress"), ("pulse", "heart_rate"), ("pulse", "hrv"), ("time", "hour_sin"), ("time", "hour_cos"),
                       ("time", "weekday_sin"), ("time", "weekday_cos"), ("user", "days_since_last"), ("user", "recent_load"),
                       ("user", "suggestions_day"), ("user", "suggestions_week"), ("user", "acceptances_week"),
                       ("social", "active_connections"), ("social", "pending_matches")] {
            if let i = layout.segment(s)?.index(named: f) { ctx.append(i) }
        }
        if let p = layout.segment("profile") { for j in 0..<p.width { ctx.append(p.index(feature: j)) } }
        contextIdx = ctx
        var fam: [Int] = [], base: [Int] = [], width: [Int] = [], label: [Int] = []
        var maxW = 0, maxL = 0
        for (fi, f) in actions.families.enumerated() {
            let seg = f.slotSegment.flatMap { layout.segment($0) }
            for (k, _) in f.range.enumerated() {
                fam.append(fi)
                if let seg {
                    base.append(seg.offset + k * seg.width); width.append(seg.width); label.append(-1)
                    maxW = max(maxW, seg.width)
                } else {
                    base.append(-1); width.append(0)
                    label.append(f.range.count > 1 ? k : -1)
                    if f.range.count > 1 { maxL = max(maxL, f.range.count) }
                }
            }
        }
        familyOf = fam; slotBase = base; slotWidth = width; labelIndex = label
        familyCount = actions.families.count
        maxSlotWidth = maxW; maxLabels = maxL
        actionCount = actions.count
        featureDimension = ctx.count + familyCount + maxW + maxL
    }

    public func features(_ o: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let F = featureDimension
        for a in 0..<actionCount {
            let row = out + a * F
            var n = 0
            for i in contextIdx { row[n] = o[i]; n += 1 }
            for f in 0..<familyCount { row[n] = f == familyOf[a] ? 1 : 0; n += 1 }
            for j in 0..<maxSlotWidth { row[n] = j < slotWidth[a] ? o[slotBase[a] + j] : 0; n += 1 }
            for j in 0..<maxLabels { row[n] = j == labelIndex[a] ? 1 : 0; n += 1 }
        }
    }
}
