import Foundation
import GymCore
import GymLinalg

/// One input's share of a model's score.
public struct FeatureAttribution: Sendable, Equatable {
    public var name: String
    /// The input's value, and the baseline's.
    public var value: Double
    public var baseline: Double
    public var attribution: Double
    public init(name: String, value: Double, baseline: Double, attribution: Double) {
        self.name = name; self.value = value; self.baseline = baseline; self.attribution = attribution
    }
}

/// Why a model scored the action it took: the score, its attribution to the inputs, what the model
/// expects, and how an update with the decision's outcome would move the score.
public struct ActionExplanation: Sendable {
    /// How the attributions were computed.
    public var method: String
    /// The model's score of the action taken (the bandit's predicted reward, PPO's logit), and the
    /// score at the baseline input. The attributions sum to `score - baselineScore`.
    public var score: Double
    public var baselineScore: Double
    public var baselineMeaning: String
    public var attributions: [FeatureAttribution]
    /// |sum of attributions - (score - baseline)| / |score - baseline| (0 for exact attributions);
    /// integration steps used (0: exact).
    public var completenessError: Double
    public var steps: Int
    /// The model's prediction of the outcome, and what it is.
    public var expectedOutcome: Double
    public var expectedMeaning: String
    /// The acting policy's probability of the action (the propensity).
    public var probability: Double
    /// The score's change after an update with this decision's outcome is
    /// `adjustmentBase + adjustmentSlope * y`, y being `adjustmentTarget`.
    public var adjustmentBase: Double
    public var adjustmentSlope: Double
    public var adjustmentTarget: AdjustmentTarget
    public var adjustmentMeaning: String

    public enum AdjustmentTarget: String, Sendable {
        /// y = the decision's reward (the bandit's regression target).
        case reward
        /// y = the decision's advantage (PPO's policy-gradient weight).
        case advantage
    }
}

/// A policy that can explain its choice on an observation (learning frozen).
public protocol Explaining: AnyObject {
    func explain(observation: [Double], mask: [Bool], action: Int, propensity: Double) -> ActionExplanation
}

extension MLP {
    /// The outputs and the gradients of output `j` with respect to the inputs, for `rows` input
    /// rows (rows x inputs, row-major), in double precision from the parameters (whatever the
    /// network's training precision): a forward pass keeping the activations, then
    /// backpropagation of e_j through the same layers, one matrix product a layer.
    public func inputGradients(_ x: [Double], rows: Int, output j: Int) -> (outputs: [Double], gradients: [Double]) {
        let w = widths, L = layerCount, nIn = w[0], nOut = w[L]
        precondition(x.count == rows * nIn && j < nOut)
        // Forward, keeping every layer's activations (rows x width, row-major).
        var acts: [[Double]] = [x]
        parameters.withUnsafeBufferPointer { p in
            for l in 0..<L {
                let ni = w[l], no = w[l + 1]
                var o = [Double](repeating: 0, count: rows * no)
                o.withUnsafeMutableBufferPointer { ob in
                    for r in 0..<rows { for k in 0..<no { ob[r * no + k] = p[biasOffset[l] + k] } }
                    acts[l].withUnsafeBufferPointer { ab in
                        Double.gemm(gemm, .none, .transpose, m: rows, n: no, k: ni, ab.baseAddress!, lda: ni,
                                    p.baseAddress! + weightOffset[l], ldb: ni, beta: 1, ob.baseAddress!, ldc: no)
                    }
                    if l < L - 1 {
                        switch shape.activation {
                        case .tanh: for t in 0..<(rows * no) { ob[t] = Foundation.tanh(ob[t]) }
                        case .relu: for t in 0..<(rows * no) where ob[t] < 0 { ob[t] = 0 }
                        }
                    }
                }
                acts.append(o)
            }
        }
        // Backward: G = dOut_j / d a_l for every row, from the output layer down.
        var g = [Double](repeating: 0, count: rows * nOut)
        for r in 0..<rows { g[r * nOut + j] = 1 }
        parameters.withUnsafeBufferPointer { p in
            for l in stride(from: L - 1, through: 0, by: -1) {
                let ni = w[l], no = w[l + 1]
                if l < L - 1 {
                    let a = acts[l + 1]
                    for t in 0..<(rows * no) {
                        g[t] *= shape.activation == .tanh ? 1 - a[t] * a[t] : (a[t] > 0 ? 1 : 0)
                    }
                }
                var down = [Double](repeating: 0, count: rows * ni)
                g.withUnsafeBufferPointer { gb in down.withUnsafeMutableBufferPointer { db in
                    Double.gemm(gemm, .none, .none, m: rows, n: ni, k: no, gb.baseAddress!, lda: no,
                                p.baseAddress! + weightOffset[l], ldb: ni, beta: 0, db.baseAddress!, ldc: ni)
                } }
                g = down
            }
        }
        return (acts[L], g)
    }

    /// Integrated gradients (Sundararajan et al. 2017) of output `j` at `x` from `baseline`: the
    /// path integral of the gradient along the straight line, by the midpoint rule. The number of
    /// steps doubles from `minSteps` (up to `maxSteps`) until the attributions' sum is within
    /// `tolerance` (relative) of F(x) - F(baseline), the completeness axiom.
    public func integratedGradients(_ x: [Double], baseline: [Double], output j: Int, minSteps: Int = 32, maxSteps: Int = 1024,
                                    tolerance: Double = 0.002)
        -> (attributions: [Double], score: Double, baselineScore: Double, completenessError: Double, steps: Int) {
        let n = x.count
        let ends = inputGradients(x + baseline, rows: 2, output: j).outputs
        let nOut = shape.outputs
        let fx = ends[j], f0 = ends[nOut + j]
        var steps = minSteps
        while true {
            var path = [Double](repeating: 0, count: steps * n)
            for k in 0..<steps {
                let alpha = (Double(k) + 0.5) / Double(steps)
                for i in 0..<n { path[k * n + i] = baseline[i] + alpha * (x[i] - baseline[i]) }
            }
            let g = inputGradients(path, rows: steps, output: j).gradients
            var ig = [Double](repeating: 0, count: n)
            for i in 0..<n where x[i] != baseline[i] {
                var s = 0.0
                for k in 0..<steps { s += g[k * n + i] }
                ig[i] = (x[i] - baseline[i]) * s / Double(steps)
            }
            let delta = fx - f0
            let err = abs(ig.reduce(0, +) - delta) / max(abs(delta), 1e-6)
            if err <= tolerance || steps >= maxSteps { return (ig, fx, f0, err, steps) }
            steps *= 2
        }
    }
}
