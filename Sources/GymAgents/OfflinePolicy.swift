import Foundation
import GymCore
import GymLinalg
import GymRandom

/// A policy learnt offline, as deployed: one network scoring every action (CQL's Q values or
/// BC's logits) and the best-scoring allowed action taken (ties: the lowest index), as d3rlpy's
/// `predict`. It neither explores nor learns; its propensity is 1.
public final class OfflinePolicy: Policy, ActionDistribution {
    /// "cql" or "bc".
    public let kind: String
    public let net: MLP
    public var name: String { kind }
    public var isUpperBound: Bool { false }
    public var learning = false
    /// The observation's feature names (explanations name the inputs by them; nil: x0, x1, ...).
    public var inputNames: [String]?

    public init(kind: String, net: MLP) { self.kind = kind; self.net = net }

    /// An untrained network (orthogonal initialisation from `seed`), 256-256 relu.
    public convenience init(kind: String, inputs: Int, actions: Int, seed: SeedTree, hidden: [Int] = [256, 256]) {
        let net = MLP(shape: MLPShape(inputs: inputs, hidden: hidden, outputs: actions, activation: .relu))
        net.initializeOrthogonal(gains: [Double](repeating: 2.0.squareRoot(), count: hidden.count) + [0.01], stream: seed.child("init").stream(.taus2))
        self.init(kind: kind, net: net)
    }

    /// The index of the best allowed action (-1 when none is allowed).
    public func greedy(observation: [Double], mask: [Bool]) -> Int {
        let v = net.forward(observation)
        var best = -1
        for a in 0..<v.count where (mask.isEmpty || mask[a]) && (best < 0 || v[a] > v[best]) { best = a }
        return best
    }

    public func act(observation: [Double], mask: [Bool], decision: Int, truth: HiddenTruth?) -> ActionChoice {
        ActionChoice(action: max(0, greedy(observation: observation, mask: mask)), propensity: 1)
    }

    public func observe(_ feedback: [Feedback]) {}

    public func actionProbabilities(observation: [Double], mask: [Bool], into out: inout [Double]) {
        let best = greedy(observation: observation, mask: mask)
        for a in 0..<out.count { out[a] = a == best ? 1 : 0 }
    }

    /// The deployed policies of trained learners (a copy of their current weights).
    public static func of(_ cql: DiscreteCQL) -> OfflinePolicy {
        let n = MLP(shape: cql.q.shape)
        n.parameters = cql.q.parameters
        return OfflinePolicy(kind: "cql", net: n)
    }

    public static func of(_ bc: BehaviourCloning) -> OfflinePolicy {
        let n = MLP(shape: bc.net.shape)
        n.parameters = bc.net.parameters
        return OfflinePolicy(kind: "bc", net: n)
    }
}

/// What a checkpoint of an offline policy holds beside the common fields: the network and the
/// settings it was trained with (the CQL or BC config, as JSON object).
public struct OfflineNetwork: Codable, Equatable, Sendable {
    public var shape: MLPShape
    public var parameters: [Double]
    public var cql: CQLConfig?
    public var bc: BCConfig?
    /// Gradient steps taken.
    public var steps: Int
    public init(shape: MLPShape, parameters: [Double], cql: CQLConfig? = nil, bc: BCConfig? = nil, steps: Int) {
        self.shape = shape; self.parameters = parameters; self.cql = cql; self.bc = bc; self.steps = steps
    }

    /// Why this network cannot be used for a world with `inputs` features and `actions` actions
    /// (nil when it can).
    public func problem(inputs: Int, actions: Int) -> String? {
        guard (1...1_000_000).contains(shape.inputs), (1...1_000_000).contains(shape.outputs), (1...16).contains(shape.hidden.count),
              shape.hidden.allSatisfy({ (1...4096).contains($0) }) else {
            return "offline.shape is not a valid network shape"
        }
        guard shape.activation == .relu else { return "offline.shape.activation must be relu, got \(shape.activation.rawValue)" }
        guard parameters.count == shape.parameterCount else {
            return "offline.parameters has \(parameters.count) numbers but the shape \(shape.widths.map(String.init).joined(separator: "-")) needs \(shape.parameterCount)"
        }
        if let bad = parameters.firstIndex(where: { !$0.isFinite }) { return "offline.parameters[\(bad)] is not finite" }
        guard shape.inputs == inputs, shape.outputs == actions else {
            return "the network takes \(shape.inputs) features and scores \(shape.outputs) actions; this world has \(inputs) and \(actions)"
        }
        return nil
    }
}

extension OfflinePolicy: Explaining {
    /// Integrated gradients of the action's score (CQL's Q value, BC's logit) over the observation,
    /// from observation 0. The expected outcome is the Q value (CQL) or the probability that the
    /// logged behaviour takes the action (BC). An offline policy does not learn from the decisions
    /// it takes, so its adjustment is 0.
    public func explain(observation o: [Double], mask: [Bool], action a: Int, propensity: Double) -> ActionExplanation {
        let x0 = [Double](repeating: 0, count: o.count)
        let ig = net.integratedGradients(o, baseline: x0, output: a)
        let names = inputNames ?? (0..<o.count).map { "x\($0)" }
        let attributions = (0..<o.count).map { FeatureAttribution(name: names[$0], value: o[$0], baseline: 0, attribution: ig.attributions[$0]) }
        let expected: Double, meaning: String
        if kind == "bc" {
            let v = net.forward(o)
            let mx = (0..<v.count).filter { mask.isEmpty || mask[$0] }.map { v[$0] }.max() ?? 0
            var total = 0.0
            for j in 0..<v.count where mask.isEmpty || mask[j] { total += exp(v[j] - mx) }
            expected = exp(v[a] - mx) / total
            meaning = "the probability that the logged behaviour takes this action (BC's softmax over the allowed actions)"
        } else {
            expected = ig.score
            meaning = "the Q value: expected discounted return of the user's journey after this action (as CQL learnt it offline)"
        }
        return ActionExplanation(method: "integrated gradients of the action's \(kind == "bc" ? "logit" : "Q value") (midpoint rule, \(ig.steps) steps)",
                                 score: ig.score, baselineScore: ig.baselineScore, baselineMeaning: "observation 0",
                                 attributions: attributions, completenessError: ig.completenessError, steps: ig.steps,
                                 expectedOutcome: expected, expectedMeaning: meaning, probability: propensity,
                                 adjustmentBase: 0, adjustmentSlope: 0, adjustmentTarget: .reward,
                                 adjustmentMeaning: "none: an offline policy does not learn from the decisions it takes")
    }
}
