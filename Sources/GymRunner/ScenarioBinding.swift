import Foundation
import GymData
import GymRandom
import GymScenario
import GymSim
import GymSynth

/// A persona model (from `synth fit`) as the simulator's persona source: each user's latent
/// vector is one draw from the model, and the group is the level of `groupColumn` when set.
public struct ModelPersonaSource: LatentPersonaSource {
    public let sampler: PersonaSampler
    public let groupColumn: String?
    let groupIndex: Int?
    public var groupLevels: Int? { groupIndex.map { sampler.model.categorical[$0].levels.count } }
    public var latentDimension: Int { sampler.model.latentDimension }

    public init(model: PersonaModel, groupColumn: String?) {
        sampler = PersonaSampler(model: model, seed: SeedTree(root: model.seed), dimension: 1)
        self.groupColumn = groupColumn
        groupIndex = groupColumn.flatMap { g in model.categorical.firstIndex { $0.name == g } }
    }

    public func draw(_ stream: RandomStream, into z: UnsafeMutablePointer<Double>) -> Int? {
        let m = sampler.model
        var values = [Double](repeating: 0, count: max(1, m.numeric.count))
        var codes = [Int](repeating: 0, count: max(1, m.categorical.count))
        values.withUnsafeMutableBufferPointer { v in codes.withUnsafeMutableBufferPointer { c in
            sampler.draw(stream: stream, values: v.baseAddress!, codes: c.baseAddress!, latent: z)
        } }
        return groupIndex.map { codes[$0] }
    }
}

/// Binds what a parsed scenario only names: the persona model of `population.from_model` (and of
/// the transfer source's population) becomes the simulator's persona source. Every runner entry
/// point binds its scenario before building a world; an unbound model stops the simulator.
public enum ScenarioBinding {
    public static func bind(_ scenario: Scenario) throws -> Scenario {
        var s = scenario
        s.sim = try bind(s.sim)
        if var t = s.transfer {
            t.sourceSim = try bind(t.sourceSim)
            s.transfer = t
        }
        return s
    }

    public static func bind(_ sim: SimConfig) throws -> SimConfig {
        guard var ref = sim.population.fromModel, ref.source == nil else { return sim }
        let model = try PersonaModel.load(path: ref.path)
        ref.source = ModelPersonaSource(model: model, groupColumn: ref.groupColumn)
        var out = sim
        out.population.fromModel = ref
        return out
    }

    /// Loads and binds a scenario file.
    public static func load(path: String) throws -> Scenario {
        try bind(try ScenarioLoader.load(path: path))
    }
}
