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

/// The precision the network computes in. Parameters, gradients and the optimiser state stay in
/// Double either way ("master weights"); `float` runs the forward and backward passes (the matrix
/// products and the activation) in single precision on a Float copy of the parameters, and
/// converts at the network's inputs and outputs. `docs/blas.md` has the measurements that decide
/// between them.
public enum NetPrecision: String, Sendable, Codable, CaseIterable {
    case double, float
}

/// Floating-point types the networks can compute in.
public protocol NetScalar: BinaryFloatingPoint {
    static func gemm(_ backend: GemmBackend, _ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                     _ a: UnsafePointer<Self>, lda: Int, _ b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, _ c: UnsafeMutablePointer<Self>, ldc: Int)
    static func tanh(_ p: UnsafeMutablePointer<Self>, count: Int)
    /// dx[i] *= 1 - h[i]^2.
    static func tanhGradient(_ dx: UnsafeMutablePointer<Self>, _ h: UnsafePointer<Self>, count: Int)
    /// p[i] = max(p[i], 0) (a negative value becomes 0).
    static func relu(_ p: UnsafeMutablePointer<Self>, count: Int)
    /// dx[i] = 0 where h[i] <= 0.
    static func reluGradient(_ dx: UnsafeMutablePointer<Self>, _ h: UnsafePointer<Self>, count: Int)
    /// gb[j] += sum over rows of dz[r * cols + j].
    static func addColumnSums(_ gb: UnsafeMutablePointer<Self>, _ dz: UnsafePointer<Self>, rows: Int, cols: Int)
}

extension Double: NetScalar {
    @inline(__always)
    public static func gemm(_ backend: GemmBackend, _ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                            _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, _ c: UnsafeMutablePointer<Double>, ldc: Int) {
        backend.dgemm(ta, tb, m: m, n: n, k: k, alpha: 1, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
    }
    @inline(__always)
    public static func tanh(_ p: UnsafeMutablePointer<Double>, count: Int) { VectorMath.tanh(p, count: count) }
    @inline(__always)
    public static func tanhGradient(_ dx: UnsafeMutablePointer<Double>, _ h: UnsafePointer<Double>, count: Int) {
        for i in 0..<count { dx[i] *= 1 - h[i] * h[i] }
    }
    @inline(__always)
    public static func relu(_ p: UnsafeMutablePointer<Double>, count: Int) { for i in 0..<count where p[i] < 0 { p[i] = 0 } }
    @inline(__always)
    public static func reluGradient(_ dx: UnsafeMutablePointer<Double>, _ h: UnsafePointer<Double>, count: Int) {
        for i in 0..<count where h[i] <= 0 { dx[i] = 0 }
    }
    @inline(__always)
    public static func addColumnSums(_ gb: UnsafeMutablePointer<Double>, _ dz: UnsafePointer<Double>, rows: Int, cols: Int) {
        for r in 0..<rows { for j in 0..<cols { gb[j] += dz[r * cols + j] } }
    }
}

extension Float: NetScalar {
    @inline(__always)
    public static func gemm(_ backend: GemmBackend, _ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                            _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        backend.sgemm(ta, tb, m: m, n: n, k: k, alpha: 1, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
    }
    @inline(__always)
    public static func tanh(_ p: UnsafeMutablePointer<Float>, count: Int) { VectorMath.tanh(p, count: count) }
    @inline(__always)
    public static func tanhGradient(_ dx: UnsafeMutablePointer<Float>, _ h: UnsafePointer<Float>, count: Int) {
        VectorMath.tanhGradient(dx, h, count: count)
    }
    @inline(__always)
    public static func relu(_ p: UnsafeMutablePointer<Float>, count: Int) { VectorMath.relu(p, count: count) }
    @inline(__always)
    public static func reluGradient(_ dx: UnsafeMutablePointer<Float>, _ h: UnsafePointer<Float>, count: Int) {
        VectorMath.reluGradient(dx, h, count: count)
    }
    @inline(__always)
    public static func addColumnSums(_ gb: UnsafeMutablePointer<Float>, _ dz: UnsafePointer<Float>, rows: Int, cols: Int) {
        VectorMath.addColumnSums(gb, dz, rows: rows, cols: cols)
    }
}

/// Activations and deltas of every layer for up to `capacity` rows, in one precision.
final class Workspace<T: NetScalar> {
    let widths: [Int]
    private(set) var capacity = 0
    private(set) var acts: [UnsafeMutablePointer<T>] = []
    private(set) var deltas: [UnsafeMutablePointer<T>] = []
    init(widths: [Int]) { self.widths = widths }

    func ensure(_ batch: Int) {
        guard batch > capacity else { return }
        release()
        let cap = max(batch, capacity * 2)
        acts = widths.map { w in
            let p = UnsafeMutablePointer<T>.allocate(capacity: cap * w); p.initialize(repeating: 0, count: cap * w); return p
        }
        deltas = widths.map { w in
            let p = UnsafeMutablePointer<T>.allocate(capacity: cap * w); p.initialize(repeating: 0, count: cap * w); return p
        }
        capacity = cap
    }

    private func release() {
        for p in acts { p.deallocate() }
        for p in deltas { p.deallocate() }
        acts = []; deltas = []
    }
    deinit { release() }

    /// Forward pass of `batch` rows already in `acts[0]`; the output is left in `acts.last`.
    @inline(__always)
    func forward(_ p: UnsafePointer<T>, batch: Int, weightOffset: [Int], biasOffset: [Int],
                 activation: Activation, gemm: GemmBackend) {
        let layers = widths.count - 1
        for l in 0..<layers {
            let nin = widths[l], nout = widths[l + 1]
            let o = acts[l + 1]
            let b = p + biasOffset[l]
            for r in 0..<batch { (o + r * nout).update(from: b, count: nout) }
            T.gemm(gemm, .none, .transpose, m: batch, n: nout, k: nin, acts[l], lda: nin,
                   p + weightOffset[l], ldb: nin, beta: 1, o, ldc: nout)
            if l < layers - 1 {
                switch activation {
                case .tanh: T.tanh(o, count: batch * nout)
                case .relu: T.relu(o, count: batch * nout)
                }
            }
        }
    }

    /// Backward pass for `batch` rows with dLoss/dOutput already in `deltas.last`; adds
    /// dLoss/dParameters into `g`.
    @inline(__always)
    func backward(_ p: UnsafePointer<T>, _ g: UnsafeMutablePointer<T>, batch: Int, weightOffset: [Int], biasOffset: [Int],
                  activation: Activation, gemm: GemmBackend) {
        let layers = widths.count - 1
        for l in stride(from: layers - 1, through: 0, by: -1) {
            let nin = widths[l], nout = widths[l + 1]
            let dz = deltas[l + 1]
            // dW += dZ^T X ; db += sum over rows of dZ.
            T.gemm(gemm, .transpose, .none, m: nout, n: nin, k: batch, dz, lda: nout, acts[l], ldb: nin,
                   beta: 1, g + weightOffset[l], ldc: nin)
            T.addColumnSums(g + biasOffset[l], dz, rows: batch, cols: nout)
            guard l > 0 else { return }
            // dX = dZ W, then through the activation of layer l.
            let dx = deltas[l], h = acts[l]
            T.gemm(gemm, .none, .none, m: batch, n: nin, k: nout, dz, lda: nout, p + weightOffset[l], ldb: nin,
                   beta: 0, dx, ldc: nin)
            switch activation {
            case .tanh: T.tanhGradient(dx, h, count: batch * nin)
            case .relu: T.reluGradient(dx, h, count: batch * nin)
            }
        }
    }
}

/// A multilayer perceptron with hand-written backpropagation.
///
/// Parameters live in one flat Double array, layer by layer: W (out x in, row-major) then b (out).
/// Gradients use the same layout, so Adam and gradient clipping work on flat vectors. Batches are
/// row-major (batch x width). Matrix products go through a `GemmBackend`. With
/// `precision: .float` the passes run in single precision (see `NetPrecision`).
public final class MLP {
    public let shape: MLPShape
    public let precision: NetPrecision
    /// The parameters (Double in both precisions). Any change is picked up by the next pass.
    public var parameters: [Double] { didSet { floatStale = true } }
    public var gradients: [Double]
    let gemm: GemmBackend
    let weightOffset: [Int], biasOffset: [Int]
    /// `shape.widths`, computed once (the passes read it on every call).
    let widths: [Int]
    let ws: Workspace<Double>
    // Single precision: the parameter copy, its gradient scratch, and the passes' workspace.
    var floatParameters: [Float] = [], floatGradients: [Float] = []
    var floatStale = true
    let wsF: Workspace<Float>
    public private(set) var lastBatch = 0

    public init(shape: MLPShape, gemm: GemmBackend = Gemm.preferred, precision: NetPrecision = .double) {
        self.shape = shape
        self.gemm = gemm
        self.precision = precision
        let w = shape.widths
        widths = w
        var wo: [Int] = [], bo: [Int] = []
        var off = 0
        for l in 0..<(w.count - 1) {
            wo.append(off); off += w[l + 1] * w[l]
            bo.append(off); off += w[l + 1]
        }
        weightOffset = wo; biasOffset = bo
        parameters = [Double](repeating: 0, count: off)
        gradients = [Double](repeating: 0, count: off)
        ws = Workspace(widths: w)
        wsF = Workspace(widths: w)
        if precision == .float {
            floatParameters = [Float](repeating: 0, count: off)
            floatGradients = [Float](repeating: 0, count: off)
        }
    }

    public var layerCount: Int { widths.count - 1 }

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

    func syncFloatParametersIfNeeded() { syncFloatParameters() }

    private func syncFloatParameters() {
        guard floatStale else { return }
        parameters.withUnsafeBufferPointer { p in
            floatParameters.withUnsafeMutableBufferPointer { f in for i in 0..<p.count { f[i] = Float(p[i]) } }
        }
        floatStale = false
    }

    /// Forward pass of `batch` rows of `x` (batch x inputs). Returns the outputs (batch x outputs),
    /// valid until the next call. Keeps the activations for `backward`.
    @discardableResult
    public func forward(_ x: UnsafePointer<Double>, batch: Int) -> UnsafeBufferPointer<Double> {
        lastBatch = batch
        let w = widths
        let L = layerCount
        ws.ensure(batch)
        switch precision {
        case .double:
            ws.acts[0].update(from: x, count: batch * w[0])
            parameters.withUnsafeBufferPointer { p in
                ws.forward(p.baseAddress!, batch: batch, weightOffset: weightOffset, biasOffset: biasOffset,
                           activation: shape.activation, gemm: gemm)
            }
        case .float:
            syncFloatParameters()
            wsF.ensure(batch)
            let xf = wsF.acts[0]
            for i in 0..<(batch * w[0]) { xf[i] = Float(x[i]) }
            floatParameters.withUnsafeBufferPointer { p in
                wsF.forward(p.baseAddress!, batch: batch, weightOffset: weightOffset, biasOffset: biasOffset,
                            activation: shape.activation, gemm: gemm)
            }
            let of = wsF.acts[L], od = ws.acts[L]
            for i in 0..<(batch * w[L]) { od[i] = Double(of[i]) }
        }
        return UnsafeBufferPointer(start: ws.acts[L], count: batch * w[L])
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
        let w = widths
        let L = layerCount
        switch precision {
        case .double:
            ws.deltas[L].update(from: dOut, count: batch * w[L])
            parameters.withUnsafeBufferPointer { p in
                gradients.withUnsafeMutableBufferPointer { g in
                    ws.backward(p.baseAddress!, g.baseAddress!, batch: batch, weightOffset: weightOffset, biasOffset: biasOffset,
                                activation: shape.activation, gemm: gemm)
                }
            }
        case .float:
            let df = wsF.deltas[L]
            for i in 0..<(batch * w[L]) { df[i] = Float(dOut[i]) }
            floatParameters.withUnsafeBufferPointer { p in
                floatGradients.withUnsafeMutableBufferPointer { g in
                    g.update(repeating: 0)
                    wsF.backward(p.baseAddress!, g.baseAddress!, batch: batch, weightOffset: weightOffset, biasOffset: biasOffset,
                                 activation: shape.activation, gemm: gemm)
                }
            }
            floatGradients.withUnsafeBufferPointer { gf in
                gradients.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] += Double(gf[i]) } }
            }
        }
    }
}

extension MLP {
    /// Forward pass on single-precision inputs (precision `.float` only), without any conversion:
    /// returns the outputs (batch x outputs), valid until the next pass. Keeps the activations for
    /// `backwardFloat`.
    @discardableResult
    public func forwardFloat(_ x: UnsafePointer<Float>, batch: Int) -> UnsafeBufferPointer<Float> {
        precondition(precision == .float, "forwardFloat needs precision .float")
        lastBatch = batch
        syncFloatParametersIfNeeded()
        wsF.ensure(batch)
        let L = layerCount
        wsF.acts[0].update(from: x, count: batch * widths[0])
        floatParameters.withUnsafeBufferPointer { p in
            wsF.forward(p.baseAddress!, batch: batch, weightOffset: weightOffset, biasOffset: biasOffset, activation: shape.activation, gemm: gemm)
        }
        return UnsafeBufferPointer(start: wsF.acts[L], count: batch * widths[L])
    }

    /// Backward pass for the last `forwardFloat` batch with single-precision dLoss/dOutput; adds
    /// dLoss/dParameters into `gradients`.
    public func backwardFloat(_ dOut: UnsafePointer<Float>) {
        let batch = lastBatch, L = layerCount
        wsF.deltas[L].update(from: dOut, count: batch * widths[L])
        floatParameters.withUnsafeBufferPointer { p in
            floatGradients.withUnsafeMutableBufferPointer { g in
                g.update(repeating: 0)
                wsF.backward(p.baseAddress!, g.baseAddress!, batch: batch, weightOffset: weightOffset, biasOffset: biasOffset,
                             activation: shape.activation, gemm: gemm)
            }
        }
        floatGradients.withUnsafeBufferPointer { gf in
            gradients.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] += Double(gf[i]) } }
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
                        precondition(p.count == mm.count && g.count == mm.count)
                        VectorMath.adamStep(p.baseAddress!, g.baseAddress!, mm.baseAddress!, vv.baseAddress!, count: p.count,
                                            beta1: b1, beta2: b2, stepSize: stepSize, biasCorrection2: c2, eps: e)
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
    for g in grads where g.count > 0 { ss += VectorMath.sumOfSquares(g.baseAddress!, count: g.count) }
    let norm = ss.squareRoot()
    let coef = maxNorm / (norm + 1e-6)
    if coef < 1 { for g in grads { for i in g.indices { g[i] *= coef } } }
    return norm
}
