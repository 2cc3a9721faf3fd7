import ArgumentParser
import Foundation
import GymRunner

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a report to other formats.",
        subcommands: [ExportNotebookCommand.self]
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
