import Foundation

/// Whether a gemm operand is used as stored or transposed.
public enum Transpose: Sendable { case none, transpose }

/// A dense general matrix multiply, C = alpha op(A) op(B) + beta C, row-major, leading dimensions
/// equal to the stored row lengths.
public protocol GemmBackend: Sendable {
    var name: String { get }
    func dgemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Double,
               _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
               beta: Double, _ c: UnsafeMutablePointer<Double>, ldc: Int)
    /// The same product in single precision.
    func sgemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float,
               _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
               beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int)
}

/// Plain Swift loops, ordered so that the innermost loop runs along contiguous memory.
public struct SwiftGemm: GemmBackend {
    public let name = "swift"
    public init() {}

    public func dgemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Double,
                      _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
                      beta: Double, _ c: UnsafeMutablePointer<Double>, ldc: Int) {
        SwiftGemm.gemm(ta, tb, m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
    }

    public func sgemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                      _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        SwiftGemm.gemm(ta, tb, m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
    }

    @inline(__always)
    static func gemm<T: BinaryFloatingPoint>(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: T,
                                            _ a: UnsafePointer<T>, lda: Int, _ b: UnsafePointer<T>, ldb: Int,
                                            beta: T, _ c: UnsafeMutablePointer<T>, ldc: Int) {
        for i in 0..<m {
            let ci = c + i * ldc
            if beta == 0 { for j in 0..<n { ci[j] = 0 } } else if beta != 1 { for j in 0..<n { ci[j] *= beta } }
        }
        switch (ta, tb) {
        case (.none, .none):
            // C[i,:] += alpha A[i,p] B[p,:]
            for i in 0..<m {
                let ci = c + i * ldc
                for p in 0..<k {
                    let s = alpha * a[i * lda + p]
                    if s == 0 { continue }
                    let bp = b + p * ldb
                    for j in 0..<n { ci[j] += s * bp[j] }
                }
            }
        case (.transpose, .none):
            // C[i,:] += alpha A[p,i] B[p,:]
            for p in 0..<k {
                let ap = a + p * lda, bp = b + p * ldb
                for i in 0..<m {
                    let s = alpha * ap[i]
                    if s == 0 { continue }
                    let ci = c + i * ldc
                    for j in 0..<n { ci[j] += s * bp[j] }
                }
            }
        case (.none, .transpose):
            // C[i,j] += alpha dot(A[i,:], B[j,:]), with four partial sums.
            for i in 0..<m {
                let ai = a + i * lda, ci = c + i * ldc
                for j in 0..<n {
                    let bj = b + j * ldb
                    var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
                    var p = 0
                    while p + 4 <= k {
                        s0 += ai[p] * bj[p]; s1 += ai[p + 1] * bj[p + 1]
                        s2 += ai[p + 2] * bj[p + 2]; s3 += ai[p + 3] * bj[p + 3]
                        p += 4
                    }
                    while p < k { s0 += ai[p] * bj[p]; p += 1 }
                    ci[j] += alpha * ((s0 + s1) + (s2 + s3))
                }
            }
        case (.transpose, .transpose):
            for i in 0..<m {
                let ci = c + i * ldc
                for j in 0..<n {
                    var s: T = 0
                    for p in 0..<k { s += a[p * lda + i] * b[j * ldb + p] }
                    ci[j] += alpha * s
                }
            }
        }
    }
}

/// A CBLAS `cblas_dgemm` reached through a function pointer: GSL's reference CBLAS (linked with
/// GSL), or OpenBLAS loaded at run time with dlopen (so that its symbols never clash with
/// libgslcblas). OpenBLAS is pinned to one thread.
public final class CBLASGemm: GemmBackend, @unchecked Sendable {
    public typealias DgemmFn = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Double,
                                                UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32,
                                                Double, UnsafeMutablePointer<Double>?, Int32) -> Void
    public typealias SgemmFn = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                                UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
                                                Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    public let name: String
    let fn: DgemmFn
    let sfn: SgemmFn

    init(name: String, fn: @escaping DgemmFn, sfn: @escaping SgemmFn) { self.name = name; self.fn = fn; self.sfn = sfn }

    static let rowMajor: Int32 = 101, noTrans: Int32 = 111, trans: Int32 = 112

    public func dgemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Double,
                      _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
                      beta: Double, _ c: UnsafeMutablePointer<Double>, ldc: Int) {
        fn(CBLASGemm.rowMajor, ta == .none ? CBLASGemm.noTrans : CBLASGemm.trans, tb == .none ? CBLASGemm.noTrans : CBLASGemm.trans,
           Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public func sgemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                      _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        sfn(CBLASGemm.rowMajor, ta == .none ? CBLASGemm.noTrans : CBLASGemm.trans, tb == .none ? CBLASGemm.noTrans : CBLASGemm.trans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// OpenBLAS from the system (Debian's libopenblas0 / libopenblas-dev), or nil when absent.
    public static let openBLAS: CBLASGemm? = {
        // One thread, decided before the library starts its thread pool (a pool of idle threads
        // would spin on the other core).
        setenv("OPENBLAS_NUM_THREADS", "1", 1)
        for lib in ["libopenblas.so.0", "libopenblas.so", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"] {
            guard let h = dlopen(lib, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let sym = dlsym(h, "cblas_dgemm"), let ssym = dlsym(h, "cblas_sgemm") else { continue }
            if let setThreads = dlsym(h, "openblas_set_num_threads") {
                typealias SetFn = @convention(c) (Int32) -> Void
                unsafeBitCast(setThreads, to: SetFn.self)(1)
            }
            return CBLASGemm(name: "openblas", fn: unsafeBitCast(sym, to: DgemmFn.self), sfn: unsafeBitCast(ssym, to: SgemmFn.self))
        }
        return nil
    }()

    /// GSL's own CBLAS (libgslcblas), looked up in the process (it is linked through CGSL).
    public static let gslCBLAS: CBLASGemm? = {
        guard let h = dlopen("libgslcblas.so.0", RTLD_NOW | RTLD_LOCAL) ?? dlopen(nil, RTLD_NOW),
              let sym = dlsym(h, "cblas_dgemm"), let ssym = dlsym(h, "cblas_sgemm") else { return nil }
        return CBLASGemm(name: "gslcblas", fn: unsafeBitCast(sym, to: DgemmFn.self), sfn: unsafeBitCast(ssym, to: SgemmFn.self))
    }()
}

public enum Gemm {
    /// The backend the networks use by default (see `docs/blas.md` for the measurements).
    public static var preferred: GemmBackend { CBLASGemm.openBLAS ?? SwiftGemm() }
}
