import Foundation
import GymData
import GymEval

/// A fitted persona distribution: a mixture whose components hold a diagonal Gaussian over the
/// numeric columns (in units scaled to [-1, 1] by the recorded bounds) and frequencies over each
/// categorical column's levels. Written as versioned JSON by `synth fit`, read by `synth generate`,
/// `synth augment`, `synth stats` and scenarios (`population.from_model`).
public struct PersonaModel: Codable, Equatable, Sendable {
    public static let format = "optima-gym-persona-model"
    public static let currentVersion = 1

    public struct NumericColumn: Codable, Equatable, Sendable {
        public var name: String
        /// Values are clipped to [low, high] and scaled to [-1, 1].
        public var low: Double
        public var high: Double
        /// "configured", or "data" when the bounds were read from the data (not private).
        public var boundsSource: String
    }

    public struct CategoricalColumn: Codable, Equatable, Sendable {
        public var name: String
        public var levels: [String]
        public var quasiIdentifier: Bool
    }

    public struct Component: Codable, Equatable, Sendable {
        public var weight: Double
        /// Per numeric column, in scaled units.
        public var mean: [Double]
        public var variance: [Double]
        /// Per categorical column, one probability per level.
        public var probabilities: [[Double]]
    }

    /// One candidate of the model selection.
    public struct Candidate: Codable, Equatable, Sendable {
        public var components: Int
        /// Noisy log-likelihood of the data (scaled units, per-row values clipped to +-clip).
        public var logLikelihood: Double
        public var parameters: Int
        public var bic: Double
    }

    /// What the fit spent and how contributions were bounded.
    public struct Privacy: Codable, Equatable, Sendable {
        public var epsilon: Double
        public var delta: Double
        /// Noise standard deviation over L2 sensitivity, for every release.
        public var noiseMultiplier: Double
        /// Gaussian-mechanism releases (EM iterations of every candidate, plus one noisy
        /// log-likelihood per candidate when k is chosen by BIC).
        public var releases: Int
        public var maxRowsPerUser: Int
        /// L2 sensitivity of one user's sufficient statistics: maxRowsPerUser * sqrt(1 + 2d + c).
        public var statisticsSensitivity: Double
        /// Per-row log-likelihoods are clipped to [-clip, clip] for the selection.
        public var logLikelihoodClip: Double
        public var users: Int
        public var rowsUsed: Int
        /// Rows dropped by the per-user cap.
        public var rowsDropped: Int
        /// Category levels come from the data unless configured: their names are not private.
        public var notes: [String]
    }

    public var format: String
    public var version: Int
    public var source: String
    public var numeric: [NumericColumn]
    public var categorical: [CategoricalColumn]
    public var components: [Component]
    public var selection: [Candidate]
    public var privacy: Privacy
    /// The seed of the fit (the noise and the initialisation).
    public var seed: UInt64

    /// Reads and validates a model file: errors name the file and what is wrong.
    public static func load(path: String) throws -> PersonaModel {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DataError(file: path, message: "cannot read the model: \((error as NSError).localizedDescription)")
        }
        // The format and version first, so that another version is reported as such.
        struct Header: Decodable { var format: String?; var version: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw DataError(file: path, message: "not a persona model: the file is not JSON (corrupt or truncated?)")
        }
        guard header.format == PersonaModel.format else {
            throw DataError(file: path, message: "not a persona model: format is '\(header.format ?? "missing")', expected '\(PersonaModel.format)'")
        }
        guard header.version == PersonaModel.currentVersion else {
            throw DataError(file: path, message: "model version \(header.version.map(String.init) ?? "missing") is not supported (this build reads version \(PersonaModel.currentVersion)); refit it with this build")
        }
        let m: PersonaModel
        do { m = try JSONDecoder().decode(PersonaModel.self, from: data) } catch {
            throw DataError(file: path, message: "corrupt persona model: \(describeDecodingError(error))")
        }
        if let problem = m.problem() { throw DataError(file: path, message: "invalid persona model: \(problem)") }
        return m
    }

    /// The first inconsistency, if any.
    public func problem() -> String? {
        if components.isEmpty { return "no components" }
        if numeric.isEmpty && categorical.isEmpty { return "no columns" }
        for (j, c) in numeric.enumerated() where !(c.low.isFinite && c.high.isFinite && c.low < c.high) {
            return "numeric[\(j)] '\(c.name)': bounds must be finite with low < high, got [\(c.low), \(c.high)]"
        }
        for (j, c) in categorical.enumerated() where c.levels.isEmpty { return "categorical[\(j)] '\(c.name)': no levels" }
        var total = 0.0
        for (k, comp) in components.enumerated() {
            if !(comp.weight >= 0 && comp.weight.isFinite) { return "components[\(k)].weight must be >= 0, got \(comp.weight)" }
            total += comp.weight
            if comp.mean.count != numeric.count || comp.variance.count != numeric.count {
                return "components[\(k)]: \(comp.mean.count) means and \(comp.variance.count) variances for \(numeric.count) numeric columns"
            }
            if comp.mean.contains(where: { !$0.isFinite }) { return "components[\(k)].mean is not finite" }
            if comp.variance.contains(where: { !($0 > 0 && $0.isFinite) }) { return "components[\(k)].variance must be positive" }
            if comp.probabilities.count != categorical.count { return "components[\(k)]: \(comp.probabilities.count) frequency tables for \(categorical.count) categorical columns" }
            for (c, p) in comp.probabilities.enumerated() {
                if p.count != categorical[c].levels.count { return "components[\(k)].probabilities[\(c)]: \(p.count) values for \(categorical[c].levels.count) levels" }
                if p.contains(where: { !($0 >= 0 && $0.isFinite) }) || abs(p.reduce(0, +) - 1) > 1e-6 {
                    return "components[\(k)].probabilities[\(c)] must be non-negative and sum to 1"
                }
            }
        }
        if !(total > 0) { return "component weights sum to \(total)" }
        return nil
    }

    /// Dimension of the latent vector z = [scaled numeric values, one-hot of every categorical column].
    public var latentDimension: Int { numeric.count + categorical.reduce(0) { $0 + $1.levels.count } }
}
