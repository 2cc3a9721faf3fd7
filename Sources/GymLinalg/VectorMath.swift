/// Vectorisable elementwise functions (libm's scalar `tanh` would cost as much as the matrix
/// products of a small MLP). Pure arithmetic, so results are the same on every machine.
public enum VectorMath {
    /// exp(x) for four lanes: range reduction x = n ln2 + r, |r| <= ln2 / 2, a degree-12 Taylor
    /// polynomial for e^r (truncation error below 2e-17 relative), and 2^n built from its bits.
    @inline(__always)
    public static func exp(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let xc = x.clamped(lowerBound: SIMD4(repeating: -700), upperBound: SIMD4(repeating: 700))
        let n = (xc * 1.4426950408889634).rounded(.toNearestOrEven)
        let r = xc - n * 0.6931471803691238 - n * 1.9082149292705877e-10
        // Horner: sum_{i=0}^{12} r^i / i!
        var p = SIMD4<Double>(repeating: 1.0 / 479001600.0)
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        let bits = (SIMD4<Int64>(n, rounding: .towardZero) &+ 1023) &<< 52
        let scale = unsafeBitCast(bits, to: SIMD4<Double>.self)
        return p * scale
    }

    /// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); absolute error about 2e-16.
    @inline(__always)
    public static func tanh(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let ax = x.replacing(with: -x, where: x .< 0)
        let e = exp(2 * ax)
        let t = 1 - 2 / (e + 1)
        return t.replacing(with: -t, where: x .< 0)
    }

    /// In-place tanh over a buffer.
    public static func tanh(_ p: UnsafeMutablePointer<Double>, count: Int) {
        var i = 0
        while i + 4 <= count {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Double>.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: tanh(v), as: SIMD4<Double>.self)
            i += 4
        }
        if i < count {
            var v = SIMD4<Double>(repeating: 0)
            for j in 0..<(count - i) { v[j] = p[i + j] }
            let t = tanh(v)
            for j in 0..<(count - i) { p[i + j] = t[j] }
        }
    }
}

