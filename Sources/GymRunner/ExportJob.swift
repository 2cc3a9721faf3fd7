import Foundation
import GymData
import GymReports

/// `export notebook`: a notebook for a run or sweep report, written atomically.
public enum ExportJob {
    /// Writes `<outDirectory>/<name>.ipynb` (name: the report directory's name) and returns its
    /// path and cell count. The notebook opens the report by its path relative to the notebook.
    public static func notebook(report: String, outDirectory: String, name: String?, overwrite: Bool) throws -> (path: String, cells: Int) {
        let dir = URL(fileURLWithPath: report).standardized
        let fm = FileManager.default
        func has(_ f: String) -> Bool { fm.fileExists(atPath: dir.appendingPathComponent(f).path) }
        let isSweep = has("cells.csv") && has("settings.csv") && has("sweep.json")
        guard isSweep || (has("metrics.csv") && has("learning_curve.csv")) else {
            throw DataError(file: dir.path, message: "not a report directory (a run report has metrics.csv and learning_curve.csv; a sweep report has sweep.json, cells.csv and settings.csv)")
        }
        let stem = (name ?? dir.lastPathComponent).replacingOccurrences(of: "/", with: "_")
        let outDir = URL(fileURLWithPath: outDirectory).standardized
        let dest = outDir.appendingPathComponent("\(stem).ipynb")
        try OutputGuard.makeDirectory(outDir)
        try OutputGuard.checkFile(dest.path, flag: "the notebook (--out, --name)", overwrite: overwrite)
        let rel = relativePath(from: URL(fileURLWithPath: OutputGuard.resolved(outDir.path)), to: URL(fileURLWithPath: OutputGuard.resolved(dir.path)))
        let cells = isSweep ? Notebook.sweep(name: dir.lastPathComponent, reportPath: rel) : Notebook.run(name: dir.lastPathComponent, reportPath: rel)
        try AtomicFile.write(Notebook.render(cells), to: dest, overwrite: overwrite)
        return (dest.path, cells.count)
    }

    /// The path of `target` as seen from directory `base` (both absolute), e.g. `../reports/x`.
    public static func relativePath(from base: URL, to target: URL) -> String {
        let b = base.standardized.pathComponents, t = target.standardized.pathComponents
        var i = 0
        while i < b.count && i < t.count && b[i] == t[i] { i += 1 }
        let parts = Array(repeating: "..", count: b.count - i) + t[i...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
