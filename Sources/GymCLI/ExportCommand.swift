import ArgumentParser
import Foundation
import GymRunner

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a report to a notebook, or a policy to ONNX.",
        subcommands: [ExportNotebookCommand.self, ExportONNXCommand.self]
    )
}

struct ExportNotebookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Write a Jupyter notebook (nbformat 4) that loads a run or sweep report's CSVs with pandas, redraws its charts with matplotlib and explains each table.",
        discussion: "REPORT_DIR is a run report (metrics.csv, learning_curve.csv) or a sweep report (cells.csv, settings.csv). Writes <out>/<name>.ipynb, by default notebooks-export/<report directory name>.ipynb, atomically; an existing notebook is replaced only with --force. The notebook opens the report by its path relative to the notebook's directory, so the two can be moved together."
    )

    @Argument(help: "The report directory.")
    var report: String

    @Option(help: "Directory for the notebook.")
    var out: String = "notebooks-export"

    @Option(help: "Notebook name (default: the report directory's name).")
    var name: String?

    @OptionGroup var force: ForceOption

    func run() throws {
        let r = try ExportJob.notebook(report: report, outDirectory: out, name: name, overwrite: force.force)
        print("notebook: \(r.path) (\(r.cells) cells)")
    }
}

struct ExportONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onnx",
        abstract: "Write a checkpoint's policy network (ppo, cql or bc) as a standard ONNX graph: observation and mask in, action probabilities out.",
        discussion: """
            The graph (opset 17) takes `observation` (float, batch x features) and `mask` (bool, batch x actions) and gives `probabilities` (float, batch x actions): the probabilities the agent draws from when evaluating, with the observation normalisation, the shared action head's features, the actor network, the masked softmax and the evaluation's exploration epsilon. A cql or bc checkpoint (from train-offline) acts greedily: its graph gives probability 1 to the best-scoring allowed action (ties: the lowest index). --record N also runs the checkpoint on the scenario's evaluation world for N decisions and writes each observation, mask and the Swift network's probabilities as JSON Lines, to check another runtime against (scripts/onnx-test.sh does, with ONNX Runtime). Files are written atomically; existing ones are replaced only with --force.
            """
    )

    @Argument(help: "A ppo checkpoint (checkpoints/ppo.json of a run report), or a cql or bc one (checkpoint.json of train-offline).")
    var checkpoint: String

    @Option(help: "The scenario the checkpoint was trained for (its world's observation and action layout).")
    var scenario: String

    @Option(help: "The ONNX file to write.")
    var out: String

    @Option(help: "Decisions to record on the evaluation world (0: none).")
    var record: Int = 0

    @Option(name: .customLong("record-out"), help: "The JSON Lines file of recorded observations, masks and probabilities (default: OUT with .jsonl).")
    var recordOut: String?

    @OptionGroup var seed: SeedOption
    @OptionGroup var force: ForceOption

    func validate() throws {
        guard (0...1_000_000).contains(record) else { throw ValidationError("--record must be in [0, 1000000], got \(record)") }
        if out.isEmpty { throw ValidationError("--out must not be empty") }
    }

    func run() throws {
        let recordPath = record > 0 ? (recordOut ?? ((out as NSString).deletingPathExtension + ".jsonl")) : nil
        let r = try ExportJob.onnx(checkpoint: checkpoint, scenario: scenario, out: out, record: record, recordOut: recordPath,
                                   seed: seed.seed ?? 1, overwrite: force.force)
        print("onnx: \(r.path) (\(r.bytes) bytes; observation \(r.observationDimension) features, \(r.actions) actions)")
        if let recordPath { print("recorded: \(recordPath) (\(r.recorded) decisions)") }
    }
}
