import Foundation
import GymAgents
import GymLinalg

/// `bench gemm`: GFLOP/s of one dense layer's forward and backward on each backend.
public enum GemmBenchmark {
    /// The backends installed here: swift always, GSL's CBLAS and OpenBLAS when they load.
    public static var backends: [GemmBackend] {
        var b: [GemmBackend] = [SwiftGemm()]
        if let g = CBLASGemm.gslCBLAS { b.append(g) }
        if let o = CBLASGemm.openBLAS { b.append(o) }
        return b
    }

    /// GFLOP/s of one dense layer's forward and backward: Y = X W^T; dW += dZ^T X; dX = dZ W.
    public static func layerGFLOPs<T: NetScalar>(_ backend: GemmBackend, _: T.Type, _ x: [T], _ W: [T], _ dz: [T],
                                                w: Int, b: Int, seconds: Double) -> Double {
        var y = [T](repeating: 0, count: b * w), gW = [T](repeating: 0, count: w * w), dx = [T](repeating: 0, count: b * w)
        var reps = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        while elapsed < seconds {
            x.withUnsafeBufferPointer { xp in W.withUnsafeBufferPointer { wp in dz.withUnsafeBufferPointer { dp in
                y.withUnsafeMutableBufferPointer { yp in gW.withUnsafeMutableBufferPointer { gp in dx.withUnsafeMutableBufferPointer { dxp in
                    T.gemm(backend, .none, .transpose, m: b, n: w, k: w, xp.baseAddress!, lda: w, wp.baseAddress!, ldb: w, beta: 0, yp.baseAddress!, ldc: w)
                    T.gemm(backend, .transpose, .none, m: w, n: w, k: b, dp.baseAddress!, lda: w, xp.baseAddress!, ldb: w, beta: 1, gp.baseAddress!, ldc: w)
                    T.gemm(backend, .none, .none, m: b, n: w, k: w, dp.baseAddress!, lda: w, wp.baseAddress!, ldb: w, beta: 0, dxp.baseAddress!, ldc: w)
                } } }
            } } }
            reps += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        return 3.0 * 2 * Double(b * w * w) * Double(reps) / elapsed / 1e9
    }
}
