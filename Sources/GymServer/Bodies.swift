import Foundation
import GymStore

// Response bodies, in the blueprint's data model (section 5), keys in snake_case.

struct ModelBody: Encodable {
    var id: String, modelType: String, agent: String, runId: String, scenario: String, seed: String
    var trainingDate: String, isActive: Bool, aliases: [String], parentId: String?, performanceMetrics: String
    init(_ m: ModelEntry) {
        id = m.id; modelType = m.modelType; agent = m.agent; runId = m.runID; scenario = m.scenario; seed = m.seed
        trainingDate = m.trainingDate; isActive = m.active; aliases = m.aliases; parentId = m.parentID; performanceMetrics = m.performanceMetrics
    }
}

struct ModelList: Encodable { var models: [ModelBody] }

struct MetricBody: Encodable {
    var runId: String, agent: String, name: String
    var value: Double?, ciLow: Double?, ciHigh: Double?, n: Int, note: String?
    init(runId: String, _ m: RunImport.Metric) {
        self.runId = runId; agent = m.agent; name = m.name
        func finite(_ x: Double?) -> Double? { x.flatMap { $0.isFinite ? $0 : nil } }
        value = finite(m.value); ciLow = finite(m.ciLow); ciHigh = finite(m.ciHigh); n = m.n; note = m.note
    }
}

struct ModelMetrics: Encodable {
    var modelId: String, agent: String, modelType: String
    var metrics: [MetricBody]
}

struct EpisodeBody: Encodable {
    var runId: String, episodeId: String, userId: String, actionTaken: String, outcome: String
    var rewardScore: Double, timestamp: String, modelVersion: String, propensity: Double?, journeyStep: Int?
    var contextSnapshot: String
    init(runId: String, _ e: RunImport.Episode) {
        self.runId = runId; episodeId = e.episodeID; userId = e.userID; actionTaken = e.actionTaken; outcome = e.outcome
        rewardScore = e.rewardScore.isFinite ? e.rewardScore : 0; timestamp = e.timestamp; modelVersion = e.modelVersion
        propensity = e.propensity.flatMap { $0.isFinite ? $0 : nil }; journeyStep = e.journeyStep; contextSnapshot = e.contextSnapshot
    }
}

struct UserEpisodes: Encodable {
    var userId: String
    var episodes: [EpisodeBody]
}
