import ArgumentParser
import Foundation
import GymAgents
import GymCore
import GymLinalg
import GymRandom
import GymSim

struct BenchPPOCartPole: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo-cartpole",
        abstract: "Train PPO on CartPole-v1 with CleanRL's ppo.py settings on one thread; print steps/s and the mean return of the last 20 episodes.",
        discussion: "Settings: 4 environments x 128 steps, learning rate 2.5e-4 linearly annealed, 4 minibatches x 4 epochs, gamma 0.99, lambda 0.95, clip 0.2, entropy 0.01, value 0.5, max grad norm 0.5, a 64-64 tanh network. Seeds: env/<i>, agent.init, agent.shuffle, agent.sample under the root seed. Build with -c release."
    )

    @Option(help: "Total environment steps.")
    var steps: Int = 500_000

    @Option(help: "Root seed.")
    var seed: UInt64 = 1

    @Option(help: "Matrix-product backend: openblas, gslcblas or swift (default: openblas when installed, else swift).")
    var gemm: String?

    @Option(help: "Precision of the networks' forward and backward passes: double or float (parameters and Adam stay in double; see docs/blas.md).")
    var precision: String = "float"

    @Option(help: "Write the per-update learning curve (CSV) to this file.")
    var curve: String?

    func validate() throws {
        guard steps >= 512 else { throw ValidationError("--steps must be at least 512 (one rollout of 4 x 128), got \(steps)") }
        if let curve {
            let dir = URL(fileURLWithPath: curve).deletingLastPathComponent().path
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("--curve: directory '\(dir)' does not exist")
            }
        }
        guard NetPrecision(rawValue: precision) != nil else {
            throw ValidationError("--precision must be double or float, got '\(precision)'")
        }
        if let g = gemm, !["openblas", "gslcblas", "swift"].contains(g) {
            throw ValidationError("--gemm must be openblas, gslcblas or swift, got '\(g)'")
        }
    }

    static func backend(_ name: String?) throws -> GemmBackend {
        switch name {
        case nil: return Gemm.preferred
        case "swift": return SwiftGemm()
        case "gslcblas":
            guard let g = CBLASGemm.gslCBLAS else { throw ValidationError("GSL's CBLAS is not available") }
            return g
        default:
            guard let o = CBLASGemm.openBLAS else { throw ValidationError("OpenBLAS is not installed (apt-get install libopenblas0)") }
            return o
        }
    }

    func run() throws {
        let backend = try BenchPPOCartPole.backend(gemm)
        var cfg = PPOConfig()
        cfg.totalSteps = steps
        cfg.precision = NetPrecision(rawValue: precision)
        let result = try trainCartPole(config: cfg, seed: seed, gemm: backend)
        if let curve {
            var csv = "iteration,global_step,learning_rate,mean_return,episodes,policy_loss,value_loss,entropy,approx_kl,clip_fraction,explained_variance\n"
            for s in result.updates {
                csv += "\(s.iteration),\(s.globalStep),\(s.learningRate),\(s.meanEpisodeReturn.isFinite ? "\(s.meanEpisodeReturn)" : ""),\(s.episodes),\(s.policyLoss),\(s.valueLoss),\(s.entropy),\(s.approxKL),\(s.clipFraction),\(s.explainedVariance.isFinite ? "\(s.explainedVariance)" : "")\n"
            }
            try csv.write(toFile: curve, atomically: true, encoding: .utf8)
        }
        print(String(format: "%.0f steps/s (PPO, CartPole-v1, CleanRL settings, %d steps, 1 thread, gemm %@, %@ precision, %.2f s)",
                     Double(result.steps) / result.seconds, result.steps, backend.name as NSString, precision as NSString, result.seconds))
        print(String(format: "mean return %.1f (last 20 episodes; %d episodes in all; seed %llu)", result.lastMeanReturn, result.episodes, seed))
    }
}

struct CartPoleResult {
    var steps: Int
    var seconds: Double
    var updates: [PPOUpdateStats]
    var episodeReturns: [Double]
    var lastMeanReturn: Double { let l = episodeReturns.suffix(20); return l.isEmpty ? .nan : l.reduce(0, +) / Double(l.count) }
    var episodes: Int { episodeReturns.count }
}

/// Trains PPO on `config.numEnvs` CartPoles and records every finished episode's return.
func trainCartPole(config: PPOConfig, seed: UInt64, gemm: GemmBackend) throws -> CartPoleResult {
    let root = SeedTree(root: seed)
    let envs: [CartPole] = (0..<config.numEnvs).map { i in
        let e = CartPole()
        e.reset(seed: root.child("env", i))
        return e
    }
    let ppo = PPO(config: config, obsDim: 4, actDim: 2, initStream: root.child("agent.init").stream(),
                  shuffle: root.child("agent.shuffle").stream(), sampler: root.child("agent.sample").stream(), gemm: gemm)
    var updates: [PPOUpdateStats] = []
    var returns: [Double] = []
    let t0 = DispatchTime.now().uptimeNanoseconds
    ppo.train(envs: envs, onEpisode: { returns.append($0) }) { updates.append($0) }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    return CartPoleResult(steps: ppo.globalStep, seconds: seconds, updates: updates, episodeReturns: returns)
}
