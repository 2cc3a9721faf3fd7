import ArgumentParser
import Foundation
import GymStore

/// `models list|show|alias|history|rollback`: the model registry.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "The model registry: checkpoints under content-addressed ids, and aliases (champion, challenger, any name) with their history.",
        discussion: "Aliases replace stages, as MLflow recommends since 2.9. Every alias change is recorded with its reason; `gate --promote` and `gate --watch` move `champion` the same way.",
        subcommands: [ModelsList.self, ModelsShow.self, ModelsAlias.self, ModelsHistory.self, ModelsRollback.self]
    )
}

struct ModelsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Registered models, newest first (tab-separated).")

    @OptionGroup var store: StoreReadOption

    @Option(help: "At most this many models.")
    var limit: Int = 100

    func validate() throws {
        guard (1...1_000_000).contains(limit) else { throw ValidationError("--limit must be in [1, 1000000], got \(limit)") }
    }

    func run() throws {
        let s = try store.open()
        print(["checkpoint_id", "model_type", "agent", "run_id", "scenario", "seed", "active", "aliases"].joined(separator: "\t"))
        for m in try s.models(limit: limit) {
            print([m.id, m.modelType, m.agent, m.runID, m.scenario, m.seed, m.active ? "yes" : "no", m.aliases.joined(separator: ",")].joined(separator: "\t"))
        }
    }
}

struct ModelsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One model: type, lineage, aliases and metrics.")

    @Argument(help: "An alias, a checkpoint id or a unique prefix of one.")
    var model: String

    @OptionGroup var store: StoreReadOption

    func run() throws {
        let s = try store.open()
        let m = try s.model(model)
        print("model \(m.id)")
        print("  type \(m.modelType), agent \(m.agent), trained in run \(m.runID) (scenario \(m.scenario), seed \(m.seed))")
        print("  aliases: \(m.aliases.isEmpty ? "none" : m.aliases.joined(separator: ", "))\(m.active ? " (active: the champion)" : "")")
        if let p = m.parentID { print("  continued from \(p)") }
        print("  lineage: \(m.lineage)")
        print("  performance_metrics: \(m.performanceMetrics)")
    }
}

struct ModelsAlias: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias", abstract: "Point an alias at a model (creating or moving it), recording why.")

    @Argument(help: "The alias: letters, digits, '_' and '-' (e.g. champion, challenger).")
    var name: String

    @Argument(help: "The model: a checkpoint id, a unique prefix, or another alias.")
    var model: String

    @Option(help: "Why, recorded in the alias's history.")
    var reason: String = "set by hand (models alias)"

    @OptionGroup var store: StoreReadOption

    func run() throws {
        let s = try store.open()
        let e = try s.setAlias(name, to: model, reason: reason)
        if e.kind == "unchanged" { print("\(e.name) already names \(e.checkpointID ?? "-"): nothing recorded"); return }
        print("\(e.name) -> \(e.checkpointID ?? "-")\(e.previousID.map { " (was \($0))" } ?? "")")
    }
}

struct ModelsHistory: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Every change of an alias, oldest first, with its reason.")

    @Argument(help: "The alias.")
    var name: String

    @OptionGroup var store: StoreReadOption

    func run() throws {
        let s = try store.open()
        let events = try s.aliasHistory(name)
        if events.isEmpty { throw StoreError.notFound(path: s.path, what: "alias '\(name)' has no history") }
        print(["event", "at", "checkpoint_id", "previous_id", "run_id", "reason"].joined(separator: "\t"))
        for e in events {
            print([String(e.eventID), e.at, e.checkpointID ?? "-", e.previousID ?? "-", e.runID ?? "-", e.reason].joined(separator: "\t"))
        }
    }
}

struct ModelsRollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Move an alias back to the model it named before its latest change still standing (each rollback undoes one change), recording why.")

    @Argument(help: "The alias (e.g. champion).")
    var name: String

    @Option(help: "Why, recorded in the alias's history.")
    var reason: String = "rolled back by hand (models rollback)"

    @OptionGroup var store: StoreReadOption

    func run() throws {
        let s = try store.open()
        let e = try s.rollback(name, reason: reason)
        print("\(e.name) -> \(e.checkpointID ?? "-") (was \(e.previousID ?? "-"))")
    }
}
