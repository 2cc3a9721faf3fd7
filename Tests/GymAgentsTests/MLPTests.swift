import XCTest
import GymLinalg
import GymRandom
@testable import GymAgents

final class VectorMathTests: XCTestCase {
    func testExpAndTanhMatchLibm() {
        var x = -30.0
        var worstExp = 0.0, worstTanh = 0.0
        while x <= 30 {
            let v = SIMD4<Double>(x, x / 3, -x / 7, x * 1e-6)
            let e = VectorMath.exp(v), t = VectorMath.tanh(v)
            for i in 0..<4 {
                worstExp = max(worstExp, abs(e[i] - Foundation.exp(v[i])) / Foundation.exp(v[i]))
                worstTanh = max(worstTanh, abs(t[i] - Foundation.tanh(v[i])))
            }
            x += 0.0137
        }
        XCTAssertLessThan(worstExp, 4e-16, "relative error of exp")
        XCTAssertLessThan(worstTanh, 4e-16, "absolute error of tanh")
        // The C kernel, as dispatched (AVX2 here) and its baseline build, gives the Swift code's bits
        // exactly, including inputs beyond the exp clamp (|2x| > 700).
        var a = (0..<1001).map { Double($0 - 500) * 0.0371 } + [-400, -351, 351, 400, 1e6, -1e6, 0, -0.0]
        var b = a, c = a
        a.withUnsafeMutableBufferPointer { VectorMath.tanh($0.baseAddress!, count: $0.count) }
        b.withUnsafeMutableBufferPointer { VectorMath.tanhSwift($0.baseAddress!, count: $0.count) }
        c.withUnsafeMutableBufferPointer { VectorMath.tanhBaseline($0.baseAddress!, count: $0.count) }
        XCTAssertEqual(a.map { $0.bitPattern }, b.map { $0.bitPattern })
        XCTAssertEqual(c.map { $0.bitPattern }, b.map { $0.bitPattern })
        XCTAssertEqual(VectorMath.tanh(SIMD4(repeating: 800))[0], 1)
        XCTAssertEqual(VectorMath.tanh(SIMD4(repeating: -800))[0], -1)
    }
}

final class GemmTests: XCTestCase {
    func backends() -> [GemmBackend] {
        var b: [GemmBackend] = [SwiftGemm()]
        if let o = CBLASGemm.openBLAS { b.append(o) }
        if let g = CBLASGemm.gslCBLAS { b.append(g) }
        return b
    }

    func testEveryBackendAgreesWithTheNaiveProduct() {
        let s = RandomStream(seed: 1)
        let m = 7, n = 5, k = 9
        let a = (0..<(m * k)).map { _ in s.standardNormal() }   // m x k, or k x m when transposed
        let b = (0..<(k * n)).map { _ in s.standardNormal() }   // k x n, or n x k when transposed
        let c0 = (0..<(m * n)).map { _ in s.standardNormal() }
        for (ta, tb) in [(Transpose.none, Transpose.none), (.transpose, .none), (.none, .transpose), (.transpose, .transpose)] {
            var want = c0
            for i in 0..<m { for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let av = ta == .none ? a[i * k + p] : a[p * m + i]
                    let bv = tb == .none ? b[p * n + j] : b[j * k + p]
                    acc += av * bv
                }
                want[i * n + j] = 0.5 * acc + 2 * c0[i * n + j]
            } }
            for backend in backends() {
                var c = c0
                a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                    backend.dgemm(ta, tb, m: m, n: n, k: k, alpha: 0.5, ap.baseAddress!, lda: ta == .none ? k : m,
                                  bp.baseAddress!, ldb: tb == .none ? n : k, beta: 2, cp.baseAddress!, ldc: n)
                } } }
                for i in 0..<(m * n) { XCTAssertEqual(c[i], want[i], accuracy: 1e-12, "\(backend.name) \(ta) \(tb)") }
            }
        }
        XCTAssertNotNil(CBLASGemm.gslCBLAS, "GSL's CBLAS is linked")
    }
}

final class MLPGradientTests: XCTestCase {
    /// Loss = sum(out * R) for fixed R, so dLoss/dOut = R. Every parameter's backward gradient is
    /// compared with a central finite difference: relative error < 1e-6.
    func check(_ activation: Activation, gemm: GemmBackend) {
        let s = RandomStream(seed: 7)
        let shape = MLPShape(inputs: 5, hidden: [8, 6], outputs: 3, activation: activation)
        let net = MLP(shape: shape, gemm: gemm)
        net.initializeOrthogonal(gains: [Double(2).squareRoot(), Double(2).squareRoot(), 1], bias: 0, stream: s)
        for i in net.parameters.indices { net.parameters[i] += 0.1 * s.standardNormal() }   // non-zero biases too
        let batch = 4
        let x = (0..<(batch * 5)).map { _ in s.standardNormal() }
        let r = (0..<(batch * 3)).map { _ in s.standardNormal() }
        func loss() -> Double {
            let out = x.withUnsafeBufferPointer { Array(net.forward($0.baseAddress!, batch: batch)) }
            return zip(out, r).reduce(0) { $0 + $1.0 * $1.1 }
        }
        _ = loss()
        net.zeroGradients()
        r.withUnsafeBufferPointer { net.backward($0.baseAddress!) }
        let analytic = net.gradients
        var worst = 0.0
        for i in net.parameters.indices {
            let p = net.parameters[i], h = 1e-6 * max(1, abs(p))
            net.parameters[i] = p + h; let up = loss()
            net.parameters[i] = p - h; let down = loss()
            net.parameters[i] = p
            let numeric = (up - down) / (2 * h)
            let rel = abs(numeric - analytic[i]) / max(1e-8, abs(numeric) + abs(analytic[i]))
            worst = max(worst, rel)
        }
        XCTAssertLessThan(worst, 1e-6, "\(activation) via \(gemm.name): worst relative error \(worst)")
    }

    func testTanhGradients() { check(.tanh, gemm: SwiftGemm()) }
    func testReluGradients() { check(.relu, gemm: SwiftGemm()) }
    func testGradientsThroughOpenBLAS() throws {
        guard let o = CBLASGemm.openBLAS else { throw XCTSkip("OpenBLAS is not installed") }
        check(.tanh, gemm: o)
    }

    func testOrthogonalInitialisation() {
        let net = MLP(shape: MLPShape(inputs: 4, hidden: [64], outputs: 2, activation: .tanh))
        net.initializeOrthogonal(gains: [Double(2).squareRoot(), 0.01], stream: RandomStream(seed: 3))
        // First layer 64 x 4: orthonormal columns times sqrt(2): W^T W = 2 I.
        let W = Array(net.parameters[0..<(64 * 4)])
        for a in 0..<4 { for b in 0..<4 {
            var dot = 0.0
            for r in 0..<64 { dot += W[r * 4 + a] * W[r * 4 + b] }
            XCTAssertEqual(dot, a == b ? 2 : 0, accuracy: 1e-12)
        } }
        // Output layer 2 x 64: orthonormal rows times 0.01.
        let off = 64 * 4 + 64
        let V = Array(net.parameters[off..<(off + 128)])
        for a in 0..<2 { for b in 0..<2 {
            var dot = 0.0
            for c in 0..<64 { dot += V[a * 64 + c] * V[b * 64 + c] }
            XCTAssertEqual(dot, a == b ? 1e-4 : 0, accuracy: 1e-15)
        } }
        XCTAssertTrue(net.parameters[(64 * 4)..<(64 * 4 + 64)].allSatisfy { $0 == 0 }, "biases start at 0")
    }

    func testAdamMinimisesAQuadratic() {
        var p = [3.0, -2.0]
        var adam = Adam(count: 2)
        for _ in 0..<2000 {
            let g = [2 * (p[0] - 1), 2 * (p[1] + 1)]
            adam.step(&p, g, lr: 0.01)
        }
        XCTAssertEqual(p[0], 1, accuracy: 1e-3)
        XCTAssertEqual(p[1], -1, accuracy: 1e-3)
        // First step moves each parameter by lr (bias-corrected m / sqrt(v) = sign(g)).
        var q = [0.0]
        var a2 = Adam(count: 1)
        a2.step(&q, [5], lr: 0.1)
        XCTAssertEqual(q[0], -0.1, accuracy: 1e-6)
    }

    func testGradientClipping() {
        var a = [3.0, 0.0], b = [4.0]
        let norm = a.withUnsafeMutableBufferPointer { ap in b.withUnsafeMutableBufferPointer { bp in clipGradientNorm([ap, bp], maxNorm: 0.5) } }
        XCTAssertEqual(norm, 5, accuracy: 1e-12)
        XCTAssertEqual((a[0] * a[0] + b[0] * b[0]).squareRoot(), 0.5, accuracy: 1e-6)
    }
}
