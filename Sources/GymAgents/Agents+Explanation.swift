import Foundation
import GymCore
import GymLinalg

extension JourneyFeatures {
    /// The names of phi(s, a)'s entries for family `f`, in the order `features` writes them.
    public func featureNames(family f: Int, action: Int) -> [String] {
        let ctx = contextIdx.map { $0 < 0 ? "intercept" : layout.name(of: $0) }
        switch familyKind[f] {
        case .context:
            return ctx
        case .pairing(let s):
            let v = s.features.map { "candidate.\($0)" }
            return ctx + v + ["\(v[0])^2", "\(v[0]) x \(v.count > 1 ? v[1] : v[0])"]
        case .hive(let s):
            let v = s.features.map { "event.\($0)" }
            return ctx + v + ["\(v[0])^2"]
        case .intervention(let count):
            let fam = actions.families[f]
            var out: [String] = []
            for t in 0..<count {
                let tone = "tone=\(fam.labels[t])"
                out += ["\(tone): intercept", "\(tone): stress", "\(tone): stress^2"]
                if let p = profile { out += p.features.map { "\(tone): profile.\($0)" } }
            }
            return out + ["user.recent_load", "user.days_since_last"]
        case .other(let count):
            let fam = actions.families[f]
            return ctx + (0..<count).map { "action=\(fam.labels[$0])" }
        }
    }
}

extension EpsilonGreedyAgent: Explaining {
    /// Exact attributions of a linear model: the predicted reward w . phi(s, a) is the sum of
    /// w_i phi_i, from the baseline phi = 0 (score 0), summed in the order the prediction sums.
    /// The adjustment: the ridge refit with this decision's row and reward y,
    /// w' = (A + phi phi^T)^-1 (b + y phi), changes the score by phi . w' - phi . w.
    public func explain(observation o: [Double], mask: [Bool], action a: Int, propensity: Double) -> ActionExplanation {
        var phi = [Double](repeating: 0, count: maxDim)
        let f = phi.withUnsafeMutableBufferPointer { features.features(o, action: a, into: $0) }
        let d = features.dimensions[f]
        phi = Array(phi[0..<d])
        let w = models[f].weights
        let names = features.featureNames(family: f, action: a)
        var attributions: [FeatureAttribution] = []
        var score = 0.0
        for i in 0..<d {
            let c = w[i] * phi[i]
            score += c
            attributions.append(FeatureAttribution(name: names[i], value: phi[i], baseline: 0, attribution: c))
        }
        // A' = A + phi phi^T; u = A'^-1 phi, v = A'^-1 b: score' = phi . v + y phi . u.
        var a2 = models[f].a
        for i in 0..<d { for j in 0..<d { a2[i * d + j] += phi[i] * phi[j] } }
        var base = 0.0, slope = 0.0
        if let u = Cholesky.solve(a2, phi, n: d), let v = Cholesky.solve(a2, models[f].b, n: d) {
            for i in 0..<d { base += phi[i] * v[i]; slope += phi[i] * u[i] }
            base -= score
        }
        return ActionExplanation(method: "exact: w_i x phi_i of the linear model (ridge regression of the \(features.actions.families[f].name) family)",
                                 score: score, baselineScore: 0, baselineMeaning: "all features 0",
                                 attributions: attributions, completenessError: 0, steps: 0,
                                 expectedOutcome: score, expectedMeaning: "predicted reward of the action",
                                 probability: propensity, adjustmentBase: base, adjustmentSlope: slope, adjustmentTarget: .reward,
                                 adjustmentMeaning: "change of the action's predicted reward after a ridge refit with this decision's features and reward")
    }
}

extension PPOAgent: Explaining {
    /// Integrated gradients of the action's logit over the actor's inputs: with the shared head,
    /// the action's feature row (the context and its slot, from the normalised observation) from
    /// the row of an average observation (normalised 0) with the same action; else the normalised
    /// observation from 0. The expected outcome is the critic's value of the state.
    /// The adjustment is first order: one SGD step of the learning rate on this decision's
    /// policy-gradient term A grad log pi(a|s) changes the logit by lr A (grad logit_a . grad log pi(a|s)).
    public func explain(observation raw: [Double], mask: [Bool], action a: Int, propensity: Double) -> ActionExplanation {
        let frozen = learning
        learning = false
        defer { learning = frozen }
        normalize(raw)
        let z = normalized
        let layout = observationLayout
        let x: [Double], x0: [Double], names: [String], output: Int
        if let f = ppo.featurizer as? JourneyActionFeaturizer {
            let F = f.featureDimension
            var rows = [Double](repeating: 0, count: actionCount * F), rows0 = rows
            z.withUnsafeBufferPointer { zb in rows.withUnsafeMutableBufferPointer { f.features(zb.baseAddress!, into: $0.baseAddress!) } }
            let zero = [Double](repeating: 0, count: z.count)
            zero.withUnsafeBufferPointer { zb in rows0.withUnsafeMutableBufferPointer { f.features(zb.baseAddress!, into: $0.baseAddress!) } }
            x = Array(rows[(a * F)..<((a + 1) * F)]); x0 = Array(rows0[(a * F)..<((a + 1) * F)])
            names = f.featureNames(layout: layout, actions: actionLayout, action: a)
            output = 0
        } else {
            x = z; x0 = [Double](repeating: 0, count: z.count)
            names = (0..<z.count).map { layout.name(of: $0) }
            output = a
        }
        let ig = ppo.actor.integratedGradients(x, baseline: x0, output: output)
        let attributions = (0..<x.count).map { FeatureAttribution(name: names[$0], value: x[$0], baseline: x0[$0], attribution: ig.attributions[$0]) }
        let value = ppo.critic.forward(z)[0]
        // grad_theta logit_a and grad_theta log softmax(a), from two backward passes of one forward.
        let A = ppo.actDim
        let logits: [Double] = z.withUnsafeBufferPointer { Array(ppo.actorLogits($0.baseAddress!, batch: 1)) }
        var p = [Double](repeating: 0, count: A)
        _ = logits.withUnsafeBufferPointer { l in mask.withUnsafeBufferPointer { m in p.withUnsafeMutableBufferPointer { pb in
            maskedSoftmax(l.baseAddress!, m.baseAddress!, A, pb.baseAddress!)
        } } }
        let shared = ppo.featurizer != nil
        func gradient(_ dLogits: [Double]) -> [Double] {
            ppo.actor.zeroGradients()
            // The shared head ran A rows of one output; the plain actor one row of A outputs.
            _ = z.withUnsafeBufferPointer { ppo.actorLogits($0.baseAddress!, batch: 1) }
            dLogits.withUnsafeBufferPointer { ppo.actor.backward($0.baseAddress!) }
            return ppo.actor.gradients
        }
        var onehot = [Double](repeating: 0, count: A)
        onehot[a] = 1
        let g1 = gradient(onehot)
        let g2 = gradient((0..<A).map { (mask[$0] ? 1 : 0) * (($0 == a ? 1 : 0) - p[$0]) })
        ppo.actor.zeroGradients()
        var dot = 0.0
        for i in g1.indices { dot += g1[i] * g2[i] }
        let lr = ppo.config.learningRate
        return ActionExplanation(method: "integrated gradients of the action's logit (midpoint rule, \(ig.steps) steps)",
                                 score: ig.score, baselineScore: ig.baselineScore,
                                 baselineMeaning: shared ? "the same action for an average user (normalised observation 0)" : "normalised observation 0 (an average user)",
                                 attributions: attributions, completenessError: ig.completenessError, steps: ig.steps,
                                 expectedOutcome: value,
                                 expectedMeaning: config.returns == .journey ? "the critic's value: expected discounted return of the user's journey from here" : "the critic's value: expected reward of the decision",
                                 probability: propensity, adjustmentBase: 0, adjustmentSlope: lr * dot, adjustmentTarget: .advantage,
                                 adjustmentMeaning: "first-order change of the action's logit after one policy-gradient step (learning rate \(lr)) on this decision with its advantage")
    }
}

extension JourneyActionFeaturizer {
    /// The names of action `a`'s feature row: the context, the family one-hot, its slot's
    /// features (zero padding named `slot.padding`), the label one-hot.
    public func featureNames(layout: ObservationLayout, actions: ActionLayout, action a: Int) -> [String] {
        var out = contextIdx.map { layout.name(of: $0) }
        out += actions.families.map { "family=\($0.name)" }
        let fam = actions.families[familyOf[a]]
        let seg = fam.slotSegment.flatMap { layout.segment($0) }
        for j in 0..<maxSlotWidth { out.append(seg.map { j < $0.width ? "slot.\($0.features[j])" : "slot.padding" } ?? "slot.\(j)") }
        for j in 0..<maxLabels { out.append("label=\(j)") }
        return out
    }
}
