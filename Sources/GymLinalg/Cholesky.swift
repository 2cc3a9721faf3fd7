/// Dense symmetric positive-definite solves for the small systems of the bandit's ridge models
/// (dimension a few dozen). Plain Swift loops: at these sizes a BLAS call costs more than it saves.
public enum Cholesky {
    /// Solves A x = b for symmetric positive-definite A (row-major n x n). Returns nil when A is
    /// not positive definite.
    public static func solve(_ a: [Double], _ b: [Double], n: Int) -> [Double]? {
        precondition(a.count == n * n && b.count == n)
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        var y = b
        for i in 0..<n {
            var s = y[i]
            for k in 0..<i { s -= l[i * n + k] * y[k] }
            y[i] = s / l[i * n + i]
        }
        var x = y
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = x[i]
            for k in (i + 1)..<n where k < n { s -= l[k * n + i] * x[k] }
            x[i] = s / l[i * n + i]
        }
        return x
    }
}

/// Online ridge regression: keeps A = lambda I + sum x x^T and b = sum y x, refits on demand.
public struct RidgeRegression: Sendable {
    public let dimension: Int
    public let lambda: Double
    public private(set) var a: [Double]
    public private(set) var b: [Double]
    public private(set) var weights: [Double]
    public private(set) var observations = 0

    public init(dimension: Int, lambda: Double) {
        self.dimension = dimension
        self.lambda = lambda
        a = [Double](repeating: 0, count: dimension * dimension)
        for i in 0..<dimension { a[i * dimension + i] = lambda }
        b = [Double](repeating: 0, count: dimension)
        weights = [Double](repeating: 0, count: dimension)
    }

    /// Adds x x^T to the Gram matrix (the design row), without a target yet.
    public mutating func addDesign(_ x: UnsafeBufferPointer<Double>) {
        let d = dimension
        a.withUnsafeMutableBufferPointer { A in
            for i in 0..<d {
                let xi = x[i]
                if xi == 0 { continue }
                for j in 0..<d { A[i * d + j] += xi * x[j] }
            }
        }
        observations += 1
    }

    /// Adds y x to the moment vector (a target, or part of one, for a row already in the design).
    public mutating func addTarget(_ x: UnsafeBufferPointer<Double>, _ y: Double) {
        for i in 0..<dimension { b[i] += y * x[i] }
    }

    /// Restores fitted weights (from a checkpoint); `observations` > 0 marks the model as fitted.
    public mutating func restore(weights w: [Double], observations n: Int) {
        precondition(w.count == dimension)
        weights = w
        observations = n
    }

    /// Restores the whole state (Gram matrix, moment vector, weights), so that training can go on
    /// from a checkpoint. The caller has checked the sizes.
    public mutating func restore(gram: [Double], moments: [Double], weights w: [Double], observations n: Int) {
        precondition(gram.count == dimension * dimension && moments.count == dimension && w.count == dimension)
        a = gram; b = moments; weights = w; observations = n
    }

    /// Solves for the weights. Keeps the old weights if the system is singular.
    public mutating func refit() {
        if let w = Cholesky.solve(a, b, n: dimension) { weights = w }
    }

    @inline(__always)
    public func predict(_ x: UnsafeBufferPointer<Double>) -> Double {
        var s = 0.0
        for i in 0..<dimension { s += weights[i] * x[i] }
        return s
    }
}
