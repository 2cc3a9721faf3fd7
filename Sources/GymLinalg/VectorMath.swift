import CKernels

/// Vectorisable elementwise functions (libm's scalar `tanh` would cost as much as the matrix
/// products of a small MLP). Plain arithmetic and bit operations only, no library calls, so the
/// loops vectorise and the results are the same on every machine.
public enum VectorMath {
    static let shifter = 6_755_399_441_055_744.0  // 1.5 * 2^52: adding it rounds to an integer in the low bits
    static let log2e = 1.4426950408889634
    static let ln2Hi = 0.6931471803691238, ln2Lo = 1.9082149292705877e-10
    /// 1/12!, 1/11!, ..., 1/1!, 1/0!: Horner's order for e^r (the C kernel uses the same constants).
    static let taylor: [Double] = [1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
                                   1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0]

    /// exp(x): range reduction x = n ln2 + r with |r| <= ln2 / 2 (n by the 1.5 * 2^52 shifter),
    /// a degree-12 Taylor polynomial for e^r (truncation error below 2e-17 relative), and 2^n
    /// built from its exponent bits. Inputs are clamped to [-700, 700].
    @inline(__always)
    public static func exp(_ x: Double) -> Double {
        let xc = x < -700 ? -700 : (x > 700 ? 700 : x)
        let t = xc * log2e + shifter
        let n = t - shifter
        let r = xc - n * ln2Hi - n * ln2Lo
        var p = taylor[0]
        for c in taylor.dropFirst() { p = p * r + c }
        let ni = Int64(bitPattern: t.bitPattern &- shifter.bitPattern)
        let scale = Double(bitPattern: UInt64(bitPattern: (ni &+ 1023) &<< 52))
        return p * scale
    }

    /// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); absolute error about 2e-16.
    @inline(__always)
    public static func tanh(_ x: Double) -> Double {
        let ax = x < 0 ? -x : x
        let t = 1 - 2 / (exp(2 * ax) + 1)
        return x < 0 ? -t : t
    }

    /// The same computation on four lanes, with SIMD operations only (same results as the scalar
    /// version, bit for bit).
    @inline(__always)
    public static func exp(_ x: SIMD4<Double>) -> SIMD4<Double> {
        var xc = x.replacing(with: -700, where: x .< -700)
        xc = xc.replacing(with: 700, where: xc .> 700)
        let t = xc * log2e + shifter
        let n = t - shifter
        let r = xc - n * ln2Hi - n * ln2Lo
        var p = SIMD4<Double>(repeating: taylor[0])
        for c in taylor.dropFirst() { p = p * r + c }
        let ni = unsafeBitCast(t, to: SIMD4<Int64>.self) &- Int64(bitPattern: shifter.bitPattern)
        let scale = unsafeBitCast((ni &+ 1023) &<< 52, to: SIMD4<Double>.self)
        return p * scale
    }

    @inline(__always)
    public static func tanh(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let neg = x .< 0
        let ax = x.replacing(with: -x, where: neg)
        let t = 1 - 2 / (exp(2 * ax) + 1)
        return t.replacing(with: -t, where: neg)
    }

    /// In-place tanh over a buffer: the C kernel (AVX2 when the CPU has it, same bits either way).
    public static func tanh(_ p: UnsafeMutablePointer<Double>, count: Int) {
        ck_tanh(p, count)
    }

    /// The C kernel's baseline (non-AVX2) build, whatever the CPU (for tests).
    public static func tanhBaseline(_ p: UnsafeMutablePointer<Double>, count: Int) { ck_tanh_baseline(p, count) }

    /// In-place tanh over a buffer of floats: the same algorithm in single precision (degree-7
    /// polynomial; AVX2 when the CPU has it, same bits either way).
    public static func tanh(_ p: UnsafeMutablePointer<Float>, count: Int) { ck_tanhf(p, count) }

    /// dx[i] *= 1 - h[i]^2 (tanh's derivative through its output), single precision.
    public static func tanhGradient(_ dx: UnsafeMutablePointer<Float>, _ h: UnsafePointer<Float>, count: Int) {
        ck_tanh_gradf(dx, h, count)
    }

    /// ReLU in place (negative values become 0), single precision.
    public static func relu(_ p: UnsafeMutablePointer<Float>, count: Int) { ck_reluf(p, count) }

    /// dx[i] = 0 where h[i] <= 0 (the ReLU's gradient), single precision.
    public static func reluGradient(_ dx: UnsafeMutablePointer<Float>, _ h: UnsafePointer<Float>, count: Int) { ck_relu_gradf(dx, h, count) }

    /// gb[j] += sum over rows r of dz[r * cols + j], single precision (rows summed in order).
    public static func addColumnSums(_ gb: UnsafeMutablePointer<Float>, _ dz: UnsafePointer<Float>, rows: Int, cols: Int) {
        ck_colsumf(gb, dz, rows, cols)
    }

    /// One Adam step over `count` parameters (see `GymAgents.Adam`); the same bits as the scalar
    /// loop, vectorised when the CPU has AVX2.
    public static func adamStep(_ p: UnsafeMutablePointer<Double>, _ g: UnsafePointer<Double>, _ m: UnsafeMutablePointer<Double>,
                                _ v: UnsafeMutablePointer<Double>, count: Int, beta1: Double, beta2: Double,
                                stepSize: Double, biasCorrection2: Double, eps: Double) {
        ck_adam(p, g, m, v, count, beta1, beta2, stepSize, biasCorrection2, eps)
    }

    /// Sum of squares with four interleaved partial sums (x[i] goes to sum i mod 4), added as
    /// (s0 + s1) + (s2 + s3): a fixed order, so the same bits on every CPU.
    public static func sumOfSquares(_ x: UnsafePointer<Double>, count: Int) -> Double { ck_sumsq(x, count) }

    /// The single-precision kernel's baseline build, whatever the CPU (for tests).
    public static func tanhBaseline(_ p: UnsafeMutablePointer<Float>, count: Int) { ck_tanhf_baseline(p, count) }

    /// In-place tanh with the Swift SIMD code (reference for the C kernel's tests).
    public static func tanhSwift(_ p: UnsafeMutablePointer<Double>, count: Int) {
        var i = 0
        while i + 4 <= count {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Double>.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: tanh(v), as: SIMD4<Double>.self)
            i += 4
        }
        while i < count { p[i] = tanh(p[i]); i += 1 }
    }
}
