import XCTest
import GymLinalg
import GymRandom
@testable import GymAgents

/// The single-precision path: its kernels against references, and a float network against the
/// same network in double.
final class FloatPrecisionTests: XCTestCase {
    /// The float tanh kernel: absolute error against libm's double tanh below 3e-7 (a few float
    /// ulps of 1) over [-20, 20], odd, saturating to exactly +-1, and the AVX2 and baseline builds
    /// give the same bits.
    func testFloatTanhKernel() {
        var xs: [Float] = (0..<40001).map { Float($0 - 20000) * 0.001 } + [-1e6, 1e6, 45, -45, 0, -0.0, 1e-30]
        let reference = xs.map { Foundation.tanh(Double($0)) }
        var base = xs
        xs.withUnsafeMutableBufferPointer { VectorMath.tanh($0.baseAddress!, count: $0.count) }
        base.withUnsafeMutableBufferPointer { VectorMath.tanhBaseline($0.baseAddress!, count: $0.count) }
        var worst = 0.0
        for i in xs.indices { worst = max(worst, abs(Double(xs[i]) - reference[i])) }
        XCTAssertLessThan(worst, 3e-7, "absolute error of the float tanh")
        XCTAssertEqual(xs.map(\.bitPattern), base.map(\.bitPattern), "AVX2 and baseline builds differ")
        XCTAssertEqual(xs[40001], -1); XCTAssertEqual(xs[40002], 1)
        for i in 0..<20000 { XCTAssertEqual(xs[i], -xs[40000 - i]) }
    }

    /// Every backend's sgemm against the naive product in double, all four transpose cases.
    func testSgemmAgreesWithTheNaiveProduct() {
        var backends: [GemmBackend] = [SwiftGemm()]
        if let o = CBLASGemm.openBLAS { backends.append(o) }
        if let g = CBLASGemm.gslCBLAS { backends.append(g) }
        let s = RandomStream(seed: 2)
        let m = 6, n = 7, k = 33
        let a = (0..<(m * k)).map { _ in Float(s.standardNormal()) }
        let b = (0..<(k * n)).map { _ in Float(s.standardNormal()) }
        let c0 = (0..<(m * n)).map { _ in Float(s.standardNormal()) }
        for (ta, tb) in [(Transpose.none, Transpose.none), (.transpose, .none), (.none, .transpose), (.transpose, .transpose)] {
            var want = [Double](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    acc += Double(ta == .none ? a[i * k + p] : a[p * m + i]) * Double(tb == .none ? b[p * n + j] : b[j * k + p])
                }
                want[i * n + j] = 0.5 * acc + 2 * Double(c0[i * n + j])
            } }
            for backend in backends {
                var c = c0
                a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                    backend.sgemm(ta, tb, m: m, n: n, k: k, alpha: 0.5, ap.baseAddress!, lda: ta == .none ? k : m,
                                  bp.baseAddress!, ldb: tb == .none ? n : k, beta: 2, cp.baseAddress!, ldc: n)
                } } }
                // 33 products of unit normals: float rounding leaves errors of order 1e-6.
                for i in 0..<(m * n) { XCTAssertEqual(Double(c[i]), want[i], accuracy: 2e-5, "\(backend.name) \(ta) \(tb)") }
            }
        }
    }

    /// A float network computes what the same network computes in double, to float's precision:
    /// outputs within 1e-5 relative to their scale, every gradient within 1e-4 of the largest.
    func testFloatNetworkMatchesDouble() {
        for activation in Activation.allCases {
            let shape = MLPShape(inputs: 6, hidden: [64, 64], outputs: 3, activation: activation)
            let d = MLP(shape: shape, precision: .double), f = MLP(shape: shape, precision: .float)
            let s = RandomStream(seed: 3)
            let g = 2.0.squareRoot()
            d.initializeOrthogonal(gains: [g, g, 1], stream: s)
            for i in d.parameters.indices { d.parameters[i] += 0.05 * s.standardNormal() }
            f.parameters = d.parameters
            let batch = 37
            let x = (0..<(batch * 6)).map { _ in s.standardNormal() }
            let r = (0..<(batch * 3)).map { _ in s.standardNormal() }
            let yd = x.withUnsafeBufferPointer { Array(d.forward($0.baseAddress!, batch: batch)) }
            let yf = x.withUnsafeBufferPointer { Array(f.forward($0.baseAddress!, batch: batch)) }
            let scale = yd.map(abs).max()!
            for i in yd.indices { XCTAssertEqual(yf[i], yd[i], accuracy: 1e-5 * scale, "\(activation) output \(i)") }
            d.zeroGradients(); f.zeroGradients()
            r.withUnsafeBufferPointer { d.backward($0.baseAddress!); f.backward($0.baseAddress!) }
            let gscale = d.gradients.map(abs).max()!
            for i in d.gradients.indices {
                XCTAssertEqual(f.gradients[i], d.gradients[i], accuracy: 1e-4 * gscale, "\(activation) gradient \(i)")
            }
            // backward adds into the gradients, as in double.
            r.withUnsafeBufferPointer { f.backward($0.baseAddress!) }
            for i in stride(from: 0, to: d.gradients.count, by: 97) {
                XCTAssertEqual(f.gradients[i], 2 * d.gradients[i], accuracy: 2e-4 * gscale)
            }
            // A change to the parameters reaches the float copy.
            f.parameters[f.parameters.count - 1] += 1   // the last output bias
            let yf2 = x.withUnsafeBufferPointer { Array(f.forward($0.baseAddress!, batch: batch)) }
            XCTAssertEqual(yf2[2] - yf[2], 1, accuracy: 1e-5)
        }
    }

    /// The vectorised Adam kernel gives the bits of the textbook scalar loop.
    func testAdamKernelMatchesScalarLoop() {
        let s = RandomStream(seed: 4)
        let n = 1003
        var p = (0..<n).map { _ in s.standardNormal() }
        var pRef = p
        var adam = Adam(count: n)
        var mRef = [Double](repeating: 0, count: n), vRef = mRef
        for t in 1...5 {
            let g = (0..<n).map { _ in s.standardNormal() * 0.1 }
            adam.step(&p, g, lr: 0.003)
            let c1 = 1 - pow(0.9, Double(t)), c2 = 1 - pow(0.999, Double(t))
            let stepSize = 0.003 / c1
            for i in 0..<n {
                mRef[i] = 0.9 * mRef[i] + (1 - 0.9) * g[i]
                vRef[i] = 0.999 * vRef[i] + (1 - 0.999) * g[i] * g[i]
                pRef[i] -= stepSize * mRef[i] / ((vRef[i] / c2).squareRoot() + 1e-5)
            }
        }
        XCTAssertEqual(p.map(\.bitPattern), pRef.map(\.bitPattern))
        XCTAssertEqual(adam.m.map(\.bitPattern), mRef.map(\.bitPattern))
    }
}
