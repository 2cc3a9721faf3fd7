import Foundation
import GymAgents
import GymData
import GymRandom

/// Fitted Q evaluation with a small neural network (Le, Voloshin & Yue 2019), the function class of
/// SCOPE-RL's default FQE (d3rlpy DiscreteFQE: one hidden layer of 100, a Q value per action,
/// mini-batches of 100, a target network copied every 100 steps).
///
/// Input per row: the one-hot state (a log with `state`) or the standardised context, plus
/// step / longest trajectory (the value of a finite-horizon journey depends on how far it has
/// gone). Each step draws `batch` rows uniformly, regresses Q(x_j, a_j) on
/// y_j = r_j + f_j sum_a pi(a | x_{j+1}) Q_target(x_{j+1}, a) (f_j the discount to the next row,
/// 0 at a trajectory's last row) with Adam, and copies the network into the target network every
/// `targetUpdate` steps. Unlike d3rlpy's FQE, which backs up the greedy action of a wrapped
/// network, the backup is the candidate's own distribution, so the estimate is for the candidate.
/// With `folds` >= 2 the trajectories are split (stream `ope.fqe.folds`, as linear FQE) and each
/// fold's rows are predicted by a network trained on the other folds, so that `dr` stays unbiased
/// whatever the fit. Single precision; deterministic for a seed.
public enum MLPFQE {
    public struct Settings: Sendable {
        public var hidden = 100
        public var steps = 10_000
        public var batch = 100
        public var learningRate = 1e-3
        public var targetUpdate = 100
        public var folds = 2
        public init() {}
        public var description: String {
            "MLP FQE (one hidden layer of \(hidden), relu; \(steps) steps of batch \(batch), Adam lr \(learningRate), target network every \(targetUpdate) steps\(folds >= 2 ? ", \(folds)-fold cross-fitted over trajectories" : ", fitted on all trajectories"))"
        }
    }

    public static func fit(_ log: TrajectoryLog, target: TrajectoryTarget, nextFactor f: [Double], settings s: Settings = Settings(),
                           seed: SeedTree) -> StepQ {
        let n = log.rows.count, A = target.actions, D = log.rows.contextDimension
        let oneHot = log.states > 0
        let inputs = (oneHot ? log.states : D) + 1
        let H = Double(max(1, log.horizon))
        var mean = [Double](repeating: 0, count: D), sd = [Double](repeating: 1, count: D)
        if !oneHot && n > 0 {
            for j in 0..<n { for d in 0..<D { mean[d] += log.rows.context[j * D + d] } }
            for d in 0..<D { mean[d] /= Double(n); sd[d] = 0 }
            for j in 0..<n { for d in 0..<D { let z = log.rows.context[j * D + d] - mean[d]; sd[d] += z * z } }
            for d in 0..<D { sd[d] = (sd[d] / Double(n)).squareRoot(); if sd[d] < 1e-12 { sd[d] = 1 } }
        }
        var step = [Float](repeating: 0, count: n), isLast = [Bool](repeating: false, count: n), trajectory = [Int32](repeating: 0, count: n)
        for i in 0..<log.count {
            for j in log.offsets[i]..<log.offsets[i + 1] { step[j] = Float(Double(j - log.offsets[i]) / H); trajectory[j] = Int32(i) }
            if log.offsets[i + 1] > log.offsets[i] { isLast[log.offsets[i + 1] - 1] = true }
        }
        /// Writes row j's input into `out` (inputs numbers).
        func features(_ j: Int, _ out: UnsafeMutablePointer<Double>) {
            if oneHot {
                for u in 0..<(inputs - 1) { out[u] = 0 }
                out[Int(log.state[j])] = 1
            } else {
                for d in 0..<D { out[d] = (log.rows.context[j * D + d] - mean[d]) / sd[d] }
            }
            out[inputs - 1] = Double(step[j])
        }
        // Folds by trajectory.
        let k = s.folds >= 2 ? max(2, min(s.folds, log.count)) : 1
        var fold = [Int](repeating: 0, count: log.count)
        if k > 1 {
            var order = Array(0..<log.count)
            let shuffle = seed.child("ope.fqe.folds").stream(.taus2)
            for i in stride(from: log.count - 1, to: 0, by: -1) { order.swapAt(i, shuffle.uniformInt(i + 1)) }
            for (r, i) in order.enumerated() { fold[i] = r % k }
        }
        var out = StepQ(logged: [Double](repeating: 0, count: n), value: [Double](repeating: 0, count: n), model: s.description)
        let shape = MLPShape(inputs: inputs, hidden: [s.hidden], outputs: A, activation: .relu)
        var losses: [Double] = []
        for held in 0..<k {
            // Training rows: those of the other folds (all rows with one fold).
            var rows: [Int32] = []
            rows.reserveCapacity(k > 1 ? n - n / k + 1 : n)
            for j in 0..<n where k == 1 || fold[Int(trajectory[j])] != held { rows.append(Int32(j)) }
            let net = MLP(shape: shape, precision: .float), targetNet = MLP(shape: shape, precision: .float)
            let stream = seed.child("ope.fqe.mlp", held).stream(.taus2)
            net.initializeOrthogonal(gains: [Double(2).squareRoot(), 1], stream: stream)
            targetNet.parameters = net.parameters
            var adam = Adam(count: net.parameters.count)
            let B = s.batch
            var x = [Double](repeating: 0, count: B * inputs), xn = x
            var picked = [Int](repeating: 0, count: B), y = [Double](repeating: 0, count: B), grad = [Double](repeating: 0, count: B * A)
            var tail = 0.0, tailCount = 0
            for t in 0..<s.steps {
                guard !rows.isEmpty else { break }
                x.withUnsafeMutableBufferPointer { xb in
                    xn.withUnsafeMutableBufferPointer { nb in
                        for b in 0..<B {
                            let j = Int(rows[stream.uniformInt(rows.count)])
                            picked[b] = j
                            features(j, xb.baseAddress! + b * inputs)
                            if !isLast[j] { features(j + 1, nb.baseAddress! + b * inputs) } else { for u in 0..<inputs { nb[b * inputs + u] = 0 } }
                        }
                    }
                }
                let qn = xn.withUnsafeBufferPointer { targetNet.forward($0.baseAddress!, batch: B) }
                for b in 0..<B {
                    let j = picked[b]
                    var v = 0.0
                    if !isLast[j] && f[j] > 0 {
                        let key = target.key(log, row: j + 1)
                        for a in 0..<A { v += target.table[key * A + a] * qn[b * A + a] }
                    }
                    y[b] = log.rows.reward[j] + f[j] * v
                }
                let q = x.withUnsafeBufferPointer { net.forward($0.baseAddress!, batch: B) }
                var loss = 0.0
                for i in 0..<(B * A) { grad[i] = 0 }
                for b in 0..<B {
                    let a = Int(log.rows.action[picked[b]])
                    let e = q[b * A + a] - y[b]
                    loss += e * e
                    grad[b * A + a] = 2 * e / Double(B)
                }
                if t >= s.steps - s.steps / 10 { tail += loss / Double(B); tailCount += 1 }
                net.zeroGradients()
                grad.withUnsafeBufferPointer { net.backward($0.baseAddress!) }
                adam.step(&net.parameters, net.gradients, lr: s.learningRate)
                if (t + 1) % s.targetUpdate == 0 { targetNet.parameters = net.parameters }
            }
            losses.append(tail / Double(max(1, tailCount)))
            // Predict Q on every row of the held-out fold (every row with one fold), in chunks.
            let chunk = 4096
            var predictRows: [Int] = []
            predictRows.reserveCapacity(k > 1 ? n / k + 1 : n)
            for j in 0..<n where k == 1 || fold[Int(trajectory[j])] == held { predictRows.append(j) }
            var xc = [Double](repeating: 0, count: chunk * inputs)
            var start = 0
            while start < predictRows.count {
                let m = min(chunk, predictRows.count - start)
                xc.withUnsafeMutableBufferPointer { xb in for r in 0..<m { features(predictRows[start + r], xb.baseAddress! + r * inputs) } }
                let qc = xc.withUnsafeBufferPointer { net.forward($0.baseAddress!, batch: m) }
                for r in 0..<m {
                    let j = predictRows[start + r], key = target.key(log, row: j)
                    out.logged[j] = qc[r * A + Int(log.rows.action[j])]
                    var v = 0.0
                    for a in 0..<A { v += target.table[key * A + a] * qc[r * A + a] }
                    out.value[j] = v
                }
                start += m
            }
        }
        out.notes.append("mean squared TD error over the last 10% of steps: " + losses.map { String(format: "%.4g", $0) }.joined(separator: " and "))
        return out
    }
}
