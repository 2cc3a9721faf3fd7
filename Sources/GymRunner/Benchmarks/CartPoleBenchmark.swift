import Foundation
import GymAgents
import GymCore
import GymData
import GymLinalg
import GymRandom
import GymSim

/// `bench ppo-cartpole`: PPO on CartPole-v1 with CleanRL's ppo.py settings on one thread.
public enum CartPoleBenchmark {
    public struct Result: Sendable {
        public var steps: Int
        public var seconds: Double
        public var updates: [PPOUpdateStats]
        public var episodeReturns: [Double]
        public var lastMeanReturn: Double { let l = episodeReturns.suffix(20); return l.isEmpty ? .nan : l.reduce(0, +) / Double(l.count) }
        public var episodes: Int { episodeReturns.count }
    }

    public enum BackendError: Error, CustomStringConvertible {
        case unavailable(String)
        public var description: String { if case .unavailable(let s) = self { return s }; return "" }
    }

    /// The matrix-product backend by name: openblas, gslcblas, swift (nil: OpenBLAS when installed, else swift).
    public static func backend(_ name: String?) throws -> GemmBackend {
        switch name {
        case nil: return Gemm.preferred
        case "swift": return SwiftGemm()
        case "gslcblas":
            guard let g = CBLASGemm.gslCBLAS else { throw BackendError.unavailable("GSL's CBLAS is not available") }
            return g
        default:
            guard let o = CBLASGemm.openBLAS else { throw BackendError.unavailable("OpenBLAS is not installed (apt-get install libopenblas0)") }
            return o
        }
    }

    /// Trains PPO on `config.numEnvs` CartPoles and records every finished episode's return. With
    /// `curve`, the per-update statistics go to that CSV file (checked before any work).
    public static func train(config: PPOConfig, seed: UInt64, gemm: GemmBackend, curve: String? = nil, overwrite: Bool = false) throws -> Result {
        if let curve { try OutputGuard.checkFile(curve, flag: "--curve", overwrite: overwrite) }
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
        let r = Result(steps: ppo.globalStep, seconds: seconds, updates: updates, episodeReturns: returns)
        if let curve {
            var csv = "iteration,global_step,learning_rate,mean_return,episodes,policy_loss,value_loss,entropy,approx_kl,clip_fraction,explained_variance\n"
            for s in updates {
                csv += "\(s.iteration),\(s.globalStep),\(s.learningRate),\(s.meanEpisodeReturn.isFinite ? "\(s.meanEpisodeReturn)" : ""),\(s.episodes),\(s.policyLoss),\(s.valueLoss),\(s.entropy),\(s.approxKL),\(s.clipFraction),\(s.explainedVariance.isFinite ? "\(s.explainedVariance)" : "")\n"
            }
            try AtomicFile.write(csv, to: URL(fileURLWithPath: curve), overwrite: overwrite)
        }
        return r
    }
}
