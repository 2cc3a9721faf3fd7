import ArgumentParser
import Foundation
import GymRunner

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Print one user's decisions in a run as a human-readable record: every decision, why it was made and what came of it.",
        discussion: "Reads RUN/explanations/<agent>.jsonl, which `run --explain` (or `evaluate --explain`) writes. A run without explanations, an unknown agent or a user with no decision exits 65."
    )

    @Argument(help: "A run directory (reports/<scenario>/<run-id>).")
    var runDirectory: String

    @Option(help: "The user: their number in the run (the `user` field) or their user_id (the UUID of the episode logs).")
    var user: String

    @Option(help: "Only this agent's decisions (default: every agent with explanations).")
    var agent: String?

    func validate() throws {
        if user.isEmpty { throw ValidationError("--user must not be empty") }
    }

    func run() throws {
        print(try ExplainJob.render(run: runDirectory, user: user, agent: agent), terminator: "")
    }
}
