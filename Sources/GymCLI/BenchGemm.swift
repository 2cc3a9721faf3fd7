import ArgumentParser
import Foundation
import GymAgents
import GymLinalg
import GymRandom

struct BenchGemm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Matrix-product backends at the networks' sizes: one dense layer's forward and backward (three gemm calls) per backend, in double (dgemm) and float (sgemm), width x width weights, batch rows; prints a markdown table of GFLOP/s.",
        discussion: "Backends: swift (plain loops), gslcblas (GSL's reference CBLAS), openblas (loaded at run time, one thread). Build with -c release."
    )

    @Option(help: "Layer widths to measure (comma-separated).")
    var widths: String = "64,128,256"

    @Option(help: "Batch sizes to measure (comma-separated).")
    var batches: String = "64,128,256,512,1024"

    @Option(help: "Minimum seconds per measurement.")
    var seconds: Double = 0.2

    func parse(_ s: String, _ flag: String) throws -> [Int] {
        let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 8192 }) else {
            throw ValidationError("\(flag) must be comma-separated integers in 1...8192, got '\(s)'")
        }
        return parts.map { $0! }
    }

    func validate() throws {
        _ = try parse(widths, "--widths"); _ = try parse(batches, "--batches")
        guard seconds > 0 && seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60], got \(seconds)") }
    }

    func run() throws {
        let ws = try parse(widths, "--widths"), bs = try parse(batches, "--batches")
        var backends: [GemmBackend] = [SwiftGemm()]
        if let g = CBLASGemm.gslCBLAS { backends.append(g) }
        if let o = CBLASGemm.openBLAS { backends.append(o) } else { printError("note: OpenBLAS is not installed; skipped") }
        let s = RandomStream(seed: 1)
        print("| width | batch | " + backends.map { "\($0.name) f64 | \($0.name) f32" }.joined(separator: " | ") + " |")
        print("|---|---|" + backends.map { _ in "---|---" }.joined(separator: "|") + "|")
        for w in ws {
            for b in bs {
                let x = (0..<(b * w)).map { _ in s.standardNormal() }
                let W = (0..<(w * w)).map { _ in s.standardNormal() }
                let dz = (0..<(b * w)).map { _ in s.standardNormal() }
                var cells: [String] = []
                for backend in backends {
                    cells.append(String(format: "%.2f", BenchGemm.layerGFLOPs(backend, Double.self, x, W, dz, w: w, b: b, seconds: seconds)))
                    cells.append(String(format: "%.2f", BenchGemm.layerGFLOPs(backend, Float.self, x.map(Float.init), W.map(Float.init),
                                                                             dz.map(Float.init), w: w, b: b, seconds: seconds)))
                }
                print("| \(w) | \(b) | " + cells.joined(separator: " | ") + " |")
                fflush(stdout)
            }
        }
    }

    /// GFLOP/s of one dense layer's forward and backward: Y = X W^T; dW += dZ^T X; dX = dZ W.
    static func layerGFLOPs<T: NetScalar>(_ backend: GemmBackend, _: T.Type, _ x: [T], _ W: [T], _ dz: [T],
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
