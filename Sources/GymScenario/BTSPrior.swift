import Foundation
import GymData
import GymSynth
import Yams

/// The Beta prior of a Bernoulli TS policy per campaign, in the layout of the Open Bandit
/// Pipeline's `prior_bts.yaml`: `<campaign>: {alpha: [...], beta: [...]}`.
public enum BTSPrior {
    public static func load(path: String, campaign: String) throws -> (alpha: [Double], beta: [Double]) {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw DataError(file: path, message: "cannot read the prior: \((error as NSError).localizedDescription)")
        }
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw DataError(file: path, message: "not valid YAML: \(error)") }
        guard let map = root as? [String: Any] else { throw DataError(file: path, message: "expected a mapping of campaign to {alpha, beta}") }
        guard let c = map[campaign] as? [String: Any] else {
            throw DataError(file: path, column: campaign, message: "no such campaign (the file has \(map.keys.sorted().joined(separator: ", ")))")
        }
        func numbers(_ key: String) throws -> [Double] {
            guard let list = c[key] as? [Any] else { throw DataError(file: path, column: "\(campaign).\(key)", message: "missing list") }
            return try list.enumerated().map { i, v in
                let x = (v as? Double) ?? (v as? Int).map(Double.init)
                guard let x, x > 0, x.isFinite else { throw DataError(file: path, column: "\(campaign).\(key)[\(i)]", message: "must be a positive number, got \(v)") }
                return x
            }
        }
        let a = try numbers("alpha"), b = try numbers("beta")
        guard a.count == b.count, !a.isEmpty else {
            throw DataError(file: path, column: campaign, message: "alpha has \(a.count) values and beta \(b.count); they must match")
        }
        return (a, b)
    }
}
