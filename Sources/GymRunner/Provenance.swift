import Foundation
import GymAgents

/// Where a run's models come from, recorded in each checkpoint's lineage, and the checkpoint
/// training continues from (`run --from`).
public struct Provenance: Sendable {
    /// SHA-256 of the scenario file's text.
    public var scenarioSHA256 = ""
    public var personaModel: PersonaModelLineage?
    /// Overrides the default description of the training data.
    public var trainingData: String?
    /// `run --from`: the checkpoint whose agent kind continues training from it.
    public var resume: (id: String, modelType: String, data: Data)?
    public init() {}
    var parent: (id: String, decisions: Int)?
    var parentID: String? { parent?.id }
    var parentDecisions: Int { parent?.decisions ?? 0 }
}
