import Foundation
import GymLinalg
import GymRandom

/// Hidden-layer activation.
public enum Activation: String, Sendable, Codable, CaseIterable {
    case tanh, relu
}

/// The shape of a multilayer perceptron: inputs -> hidden... -> outputs, linear output layer.
public struct MLPShape: Sendable, Equatable, Codable {
    public var inputs: Int
    public var hidden: [Int]
    public var outputs: Int
    public var activation: Activation
    public init(inputs: Int, hidden: [Int], outputs: Int, activation: Activation) {
        self.inputs = inputs; self.hidden = hidden; self.outputs = outputs; self.activation = activation
    }
    /// Widths of every layer including input and output.
    public var widths: [Int] { [inputs] + hidden + [outputs] }
    /// Number of parameters (weights and biases).
    public var parameterCount: Int {
        let w = widths
        return (0..<(w.count - 1)).reduce(0) { $0 + w[$1 + 1] * w[$1] + w[$1 + 1] }
    }
}

/// A multilayer perceptron in Double precision with hand-written backpropagation.
///
/// Parameters live in one flat array, layer by layer: W (out x in, row-major) then b (out).
/// Gradients use the same layout, so Adam and gradient clipping work on flat vectors. Batches are
/// row-major (batch x width). Matrix products go through a `GemmBackend`.
public final class MLP {
    public let shape: MLPShape
    public var parameters: [Double]
    public var gradients: [Double]
    let gemm: GemmBackend
    let weightOffset: [Int], biasOffset: [Int]
    /// Activations per layer for the last forward batch (layer 0 is the input copy).
    var acts: [[Double]] = []
    var deltas: [[Double]] = []
    var batchCapacity = 0
    public private(set) var lastBatch = 0

    public init(shape: MLPShape, gemm: GemmBackend = Gemm.preferred) {
        self.shape = shape
        self.gemm = gemm
        let w = shape.widths
        var wo: [Int] = [], bo: [Int] = []
        var off = 0
        for l in 0..<(w.count - 1) {
            wo.append(off); off += w[l + 1] * w[l]
            bo.append(off); off += w[l + 1]
        }
        weightOffset = wo; biasOffset = bo
        parameters = [Double](repeating: 0, count: off)
        gradients = [Double](repeating: 0, count: off)
    }

    public var layerCount: Int { shape.widths.count - 1 }

    /// Orthogonal initialisation (Saxe et al. 2014), as CleanRL's `layer_init`: each weight matrix
    /// is `gain` times a (semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix,
    /// biases are `bias`. `gains` has one entry per layer.
    public func initializeOrthogonal(gains: [Double], bias: Double = 0, stream: RandomStream) {
        precondition(gains.count == layerCount)
        let w = shape.widths
        for l in 0..<layerCount {
            let rows = w[l + 1], cols = w[l]
            let q = MLP.orthogonal(rows: rows, cols: cols, stream: stream)
            for i in 0..<(rows * cols) { parameters[weightOffset[l] + i] = gains[l] * q[i] }
            for i in 0..<rows { parameters[biasOffset[l] + i] = bias }
        }
    }

    /// A rows x cols matrix with orthonormal rows (rows <= cols) or columns (rows > cols):
    /// modified Gram-Schmidt, twice, on a standard Gaussian matrix. Gram-Schmidt gives the Q of
    /// the QR decomposition with a positive diagonal of R, the convention of torch.nn.init.orthogonal_.
    static func orthogonal(rows: Int, cols: Int, stream: RandomStream) -> [Double] {
        let (n, d) = rows >= cols ? (cols, rows) : (rows, cols)   // n vectors of length d
        var v = [Double](repeating: 0, count: n * d)
        for i in 0..<(n * d) { v[i] = stream.standardNormal() }
        for i in 0..<n {
            for _ in 0..<2 {
                for j in 0..<i {
                    var dot = 0.0
                    for t in 0..<d { dot += v[i * d + t] * v[j * d + t] }
                    for t in 0..<d { v[i * d + t] -= dot * v[j * d + t] }
                }
            }
            var norm = 0.0
            for t in 0..<d { norm += v[i * d + t] * v[i * d + t] }
            norm = norm.squareRoot()
            for t in 0..<d { v[i * d + t] /= norm }
        }
        if rows >= cols {
            // Columns are the n = cols vectors: out[r][c] = v[c][r].
            var out = [Double](repeating: 0, count: rows * cols)
            for c in 0..<cols { for r in 0..<rows { out[r * cols + c] = v[c * d + r] } }
            return out
        }
        return v
    }

    func ensureCapacity(_ batch: Int) {
        guard batch > batchCapacity else { return }
        let w = shape.widths
        acts = w.map { [Double](repeating: 0, count: batch * $0) }
        deltas = w.map { [Double](repeating: 0, count: batch * $0) }
        batchCapacity = batch
    }

    /// Forward pass of `batch` rows of `x` (batch x inputs). Returns the outputs (batch x outputs),
    /// valid until the next call. Keeps the activations for `backward`.
    @discardableResult
    public func forward(_ x: UnsafePointer<Double>, batch: Int) -> UnsafeBufferPointer<Double> {
        ensureCapacity(batch)
        lastBatch = batch
        let w = shape.widths
        acts[0].withUnsafeMutableBufferPointer { a0 in a0.baseAddress!.update(from: x, count: batch * w[0]) }
        parameters.withUnsafeBufferPointer { p in
            for l in 0..<layerCount {
                let nin = w[l], nout = w[l + 1]
                let input = acts[l]
                acts[l + 1].withUnsafeMutableBufferPointer { out in
                    let o = out.baseAddress!
                    let b = p.baseAddress! + biasOffset[l]
                    for r in 0..<batch { (o + r * nout).update(from: b, count: nout) }
                    input.withUnsafeBufferPointer { inp in
                        gemm.dgemm(.none, .transpose, m: batch, n: nout, k: nin, alpha: 1, inp.baseAddress!, lda: nin,
                                   p.baseAddress! + weightOffset[l], ldb: nin, beta: 1, o, ldc: nout)
                    }
                    if l < layerCount - 1 {
                        switch shape.activation {
                        case .tanh: VectorMath.tanh(o, count: batch * nout)
                        case .relu: for i in 0..<(batch * nout) where o[i] < 0 { o[i] = 0 }
                        }
                    }
                }
            }
        }
        return acts[layerCount].withUnsafeBufferPointer { UnsafeBufferPointer(start: $0.baseAddress!, count: batch * w.last!) }
    }

    /// Single-row convenience forward.
    public func forward(_ x: [Double]) -> [Double] {
        precondition(x.count == shape.inputs)
        return x.withUnsafeBufferPointer { Array(forward($0.baseAddress!, batch: 1)) }
    }

    public func zeroGradients() {
        gradients.withUnsafeMutableBufferPointer { g in g.update(repeating: 0) }
    }

    /// Backward pass for the last forward batch: `dOut` is dLoss/dOutput (batch x outputs).
    /// Adds dLoss/dParameters into `gradients`; returns nothing about the input.
    public func backward(_ dOut: UnsafePointer<Double>) {
        let batch = lastBatch
        let w = shape.widths
        let L = layerCount
        deltas[L].withUnsafeMutableBufferPointer { d in d.baseAddress!.update(from: dOut, count: batch * w[L]) }
        parameters.withUnsafeBufferPointer { p in
            gradients.withUnsafeMutableBufferPointer { g in
                for l in stride(from: L - 1, through: 0, by: -1) {
                    let nin = w[l], nout = w[l + 1]
                    let dz = deltas[l + 1]
                    dz.withUnsafeBufferPointer { dzp in
                        let dzb = dzp.baseAddress!
                        // dW += dZ^T X ; db += sum over rows of dZ.
                        acts[l].withUnsafeBufferPointer { xin in
                            gemm.dgemm(.transpose, .none, m: nout, n: nin, k: batch, alpha: 1, dzb, lda: nout,
                                       xin.baseAddress!, ldb: nin, beta: 1, g.baseAddress! + weightOffset[l], ldc: nin)
                        }
                        let gb = g.baseAddress! + biasOffset[l]
                        for r in 0..<batch { for j in 0..<nout { gb[j] += dzb[r * nout + j] } }
                        guard l > 0 else { return }
                        // dX = dZ W, then through the activation of layer l.
                        deltas[l].withUnsafeMutableBufferPointer { dxp in
                            let dx = dxp.baseAddress!
                            gemm.dgemm(.none, .none, m: batch, n: nin, k: nout, alpha: 1, dzb, lda: nout,
                                       p.baseAddress! + weightOffset[l], ldb: nin, beta: 0, dx, ldc: nin)
                            acts[l].withUnsafeBufferPointer { hp in
                                let h = hp.baseAddress!
                                switch shape.activation {
                                case .tanh: for i in 0..<(batch * nin) { dx[i] *= 1 - h[i] * h[i] }
                                case .relu: for i in 0..<(batch * nin) where h[i] <= 0 { dx[i] = 0 }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Adam (Kingma and Ba 2015) over a flat parameter vector; eps 1e-5 as CleanRL's PPO.
public struct Adam: Sendable {
    public var beta1 = 0.9, beta2 = 0.999, eps = 1e-5
    public private(set) var m: [Double], v: [Double]
    public private(set) var t = 0
    public init(count: Int) {
        m = [Double](repeating: 0, count: count)
        v = m
    }

    /// One step with learning rate `lr`: p -= lr * mhat / (sqrt(vhat) + eps).
    public mutating func step(_ params: inout [Double], _ grads: [Double], lr: Double) {
        t += 1
        let c1 = 1 - pow(beta1, Double(t)), c2 = 1 - pow(beta2, Double(t))
        let stepSize = lr / c1
        let b1 = beta1, b2 = beta2, e = eps
        m.withUnsafeMutableBufferPointer { mm in
            v.withUnsafeMutableBufferPointer { vv in
                params.withUnsafeMutableBufferPointer { p in
                    grads.withUnsafeBufferPointer { g in
                        for i in 0..<p.count {
                            mm[i] = b1 * mm[i] + (1 - b1) * g[i]
                            vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i]
                            p[i] -= stepSize * mm[i] / ((vv[i] / c2).squareRoot() + e)
                        }
                    }
                }
            }
        }
    }
}

/// Scales every gradient vector so that their joint L2 norm is at most `maxNorm` (as
/// torch.nn.utils.clip_grad_norm_); returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ grads: [UnsafeMutableBufferPointer<Double>], maxNorm: Double) -> Double {
    var ss = 0.0
    for g in grads { for x in g { ss += x * x } }
    let norm = ss.squareRoot()
    let coef = maxNorm / (norm + 1e-6)
    if coef < 1 { for g in grads { for i in g.indices { g[i] *= coef } } }
    return norm
}
