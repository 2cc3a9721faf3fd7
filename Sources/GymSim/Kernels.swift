/// Small numeric kernels with independent partial sums, so the compiler can keep several
/// multiply-adds in flight (a single running sum is one long dependency chain). The summation
/// order is fixed, so results are deterministic.
@inline(__always)
func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
    var s0 = SIMD4<Double>(), s1 = SIMD4<Double>()
    var i = 0
    while i + 8 <= n {
        let a0 = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD4<Double>.self)
        let b0 = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD4<Double>.self)
        let a1 = UnsafeRawPointer(a + i + 4).loadUnaligned(as: SIMD4<Double>.self)
        let b1 = UnsafeRawPointer(b + i + 4).loadUnaligned(as: SIMD4<Double>.self)
        s0 += a0 * b0
        s1 += a1 * b1
        i += 8
    }
    var s = (s0 + s1).sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n {
        let a0 = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
        let b0 = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        let a1 = UnsafeRawPointer(a + i + 8).loadUnaligned(as: SIMD8<Float>.self)
        let b1 = UnsafeRawPointer(b + i + 8).loadUnaligned(as: SIMD8<Float>.self)
        s0 += a0 * b0
        s1 += a1 * b1
        i += 16
    }
    var s = (s0 + s1).sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}
