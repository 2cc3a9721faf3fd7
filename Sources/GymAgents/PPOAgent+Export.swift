import Foundation

/// A frozen PPO policy as plain arrays, for exporters (ONNX): observation and mask in, the
/// action probabilities the agent acts by when evaluating out.
///
/// probabilities = (1 - epsilon) * maskedSoftmax(logits) + epsilon * mask / |mask|, where
/// - x = clip((observation - mean) * scale, -clip, clip) when observations are normalised, else the observation;
/// - with a shared action head, each action's feature row is the affine map features = x M + c
///   (M is observationDimension x (actions * featureDimension), row-major), and the actor scores
///   each row; otherwise the actor maps x to all logits at once;
/// - the actor is an MLP: hidden layers with `activation`, a linear output; layer l's weights are
///   widths[l+1] x widths[l] row-major, followed by its biases (MLP's parameter layout).
public struct ExportablePolicy: Sendable {
    public struct Normalization: Sendable { public var mean: [Double], scale: [Double], clip: Double }
    public struct AffineFeatures: Sendable { public var matrix: [Double], offset: [Double], featureDimension: Int }
    public var observationDimension: Int
    public var actionCount: Int
    public var normalization: Normalization?
    public var features: AffineFeatures?
    public var actor: MLPShape
    public var parameters: [Double]
    public var epsilon: Double
    /// The best-scoring allowed action with probability 1 (ties: the lowest index) instead of the
    /// softmax: the offline policies (CQL's Q values, BC's logits), as they act.
    public var greedy = false
}

public struct ExportError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

extension OfflinePolicy {
    /// The network as the policy acts: the best allowed action by its scores.
    public func exportablePolicy() -> ExportablePolicy {
        ExportablePolicy(observationDimension: net.shape.inputs, actionCount: net.shape.outputs, normalization: nil, features: nil,
                         actor: net.shape, parameters: net.parameters, epsilon: 0, greedy: true)
    }
}

extension PPOAgent {
    /// The policy as it acts with learning off. Throws when the action features are not an affine
    /// map of the observation (checked on random observations), which the export needs.
    public func exportablePolicy() throws -> ExportablePolicy {
        let D = observationLayout.dimension, A = actionCount
        var norm: ExportablePolicy.Normalization?
        if config.normalizeObservations {
            // As `normalize`: (o - mean) / sqrt(var + 1e-8), var = M2 / count (1 before two observations).
            let scale = (0..<D).map { i in 1 / ((obsCount > 1 ? obsM2[i] / obsCount : 1) + 1e-8).squareRoot() }
            norm = .init(mean: obsMean, scale: scale, clip: 10)
        }
        var feats: ExportablePolicy.AffineFeatures?
        if let f = ppo.featurizer {
            let F = f.featureDimension, W = A * F
            func phi(_ o: [Double]) -> [Double] {
                var out = [Double](repeating: 0, count: W)
                o.withUnsafeBufferPointer { ob in out.withUnsafeMutableBufferPointer { f.features(ob.baseAddress!, into: $0.baseAddress!) } }
                return out
            }
            let c = phi([Double](repeating: 0, count: D))
            var m = [Double](repeating: 0, count: D * W)
            for i in 0..<D {
                var e = [Double](repeating: 0, count: D)
                e[i] = 1
                let v = phi(e)
                for j in 0..<W { m[i * W + j] = v[j] - c[j] }
            }
            // Affine? Compare with the featurizer on a few fixed pseudo-random observations.
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for _ in 0..<8 {
                let o = (0..<D).map { _ -> Double in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return Double(state >> 11) / Double(1 << 53) * 6 - 3
                }
                let want = phi(o)
                for j in 0..<W {
                    var got = c[j]
                    for i in 0..<D where m[i * W + j] != 0 { got += o[i] * m[i * W + j] }
                    guard abs(got - want[j]) <= 1e-9 * max(1, abs(want[j])) else {
                        throw ExportError(message: "the policy's action features are not an affine map of the observation (feature \(j % F) of action \(j / F)), which the export needs")
                    }
                }
            }
            feats = .init(matrix: m, offset: c, featureDimension: F)
        }
        return ExportablePolicy(observationDimension: D, actionCount: A, normalization: norm, features: feats,
                                actor: ppo.actor.shape, parameters: ppo.actor.parameters, epsilon: config.evaluationEpsilon)
    }

    /// The probabilities the agent draws its action from when evaluating (learning off), for a raw
    /// observation and mask: what an exported policy must reproduce.
    public func evaluationProbabilities(_ raw: [Double], mask: [Bool]) -> [Double] {
        precondition(!learning, "evaluationProbabilities needs learning off")
        normalize(raw)
        var p = [Double](repeating: 0, count: actionCount)
        normalized.withUnsafeBufferPointer { ob in mask.withUnsafeBufferPointer { mb in p.withUnsafeMutableBufferPointer { pb in
            ppo.policy(ob.baseAddress!, mb.baseAddress!, batch: 1, epsilon: config.evaluationEpsilon, into: pb.baseAddress!)
        } } }
        return p
    }
}
