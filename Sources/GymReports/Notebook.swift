import Foundation

public struct NotebookCell: Sendable {
    public var markdown: Bool
    public var source: String
}

/// Jupyter notebooks (nbformat 4.5) that reload a report's CSVs with pandas and redraw its charts.
/// `reportPath` is the report directory as the notebook should open it: relative to the
/// notebook's own directory (Jupyter runs a notebook with its directory as the working directory).
public enum Notebook {
    static func md(_ s: String) -> NotebookCell { NotebookCell(markdown: true, source: s) }
    static func code(_ s: String) -> NotebookCell { NotebookCell(markdown: false, source: s) }

    /// nbformat 4.5 JSON with deterministic cell ids.
    public static func render(_ cells: [NotebookCell]) -> String {
        func lines(_ s: String) -> JSON {
            let parts = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            return .array(parts.enumerated().map { i, l in .string(i < parts.count - 1 ? l + "\n" : l) })
        }
        let cs: [JSON] = cells.enumerated().map { i, c in
            var kv: [(String, JSON)] = [("cell_type", .string(c.markdown ? "markdown" : "code")), ("id", .string("cell-\(i)")), ("metadata", .object([]))]
            if !c.markdown { kv += [("execution_count", .null), ("outputs", .array([]))] }
            kv.append(("source", lines(c.source)))
            return .object(kv)
        }
        return JSON.object([
            ("cells", .array(cs)),
            ("metadata", .object([
                ("kernelspec", .object([("display_name", .string("Python 3")), ("language", .string("python")), ("name", .string("python3"))])),
                ("language_info", .object([("name", .string("python"))])),
            ])),
            ("nbformat", .int(4)), ("nbformat_minor", .int(5)),
        ]).render() + "\n"
    }

    static func header(_ reportPath: String) -> NotebookCell {
        code("""
        from pathlib import Path
        import pandas as pd
        import matplotlib.pyplot as plt
        %matplotlib inline
        # The report directory, relative to this notebook's directory (Jupyter's working directory).
        REPORT = Path(\(JSON.escape(reportPath)))
        assert REPORT.is_dir(), f"report directory not found: {REPORT.resolve()} (run the notebook from its own directory)"
        """)
    }

    public static func run(name: String, reportPath: String) -> [NotebookCell] {
        [
            md("""
            # Run report: \(name)

            This notebook reloads an `optima-gym run` report from its CSV files and redraws its charts.
            `report.md` in the same directory is the rendered report; the numbers here are the same.
            """),
            header(reportPath),
            md("""
            ## Metrics

            `metrics.csv` has one row per agent and metric: the point value, the interval (`ci_low`,
            `ci_high`, a bootstrap over users at the scenario's `evaluation.confidence`, 95% by default), the blueprint's target
            and whether it is met. The table below puts agents side by side.
            """),
            code("""
            metrics = pd.read_csv(REPORT / "metrics.csv")
            metrics.pivot(index="metric", columns="agent", values="value")
            """),
            md("""
            ## Learning curves

            `learning_curve.csv` has one row per agent and training window: the windowed mean reward with its
            interval at the same level. The chart draws the mean as a line and the interval as a band, one colour per agent.
            """),
            code("""
            curve = pd.read_csv(REPORT / "learning_curve.csv")
            fig, ax = plt.subplots(figsize=(8, 4.5))
            for agent, g in curve.groupby("agent", sort=False):
                ax.plot(g["episodes"], g["mean_reward"], label=agent)
                ax.fill_between(g["episodes"], g["ci_low"], g["ci_high"], alpha=0.2)
            ax.set_xlabel("training decisions")
            ax.set_ylabel("windowed mean reward (band: interval)")
            ax.set_title("Learning curves")
            ax.legend()
            plt.show()
            """),
            md("""
            ## Intervals per metric

            Each metric's value and interval per agent, as horizontal error bars (metrics without a value in
            this run are left out).
            """),
            code("""
            m = metrics.dropna(subset=["value"])
            for metric, g in m.groupby("metric", sort=False):
                fig, ax = plt.subplots(figsize=(6, 0.5 + 0.4 * len(g)))
                low = (g["value"] - g["ci_low"]).clip(lower=0).fillna(0)
                high = (g["ci_high"] - g["value"]).clip(lower=0).fillna(0)
                ax.errorbar(g["value"], range(len(g)), xerr=[low, high], fmt="o")
                ax.set_yticks(range(len(g)))
                ax.set_yticklabels(g["agent"])
                ax.set_xlabel(f"{metric} (interval)")
                ax.set_title(metric)
                plt.show()
            """),
        ]
    }

    public static func sweep(name: String, reportPath: String) -> [NotebookCell] {
        [
            md("""
            # Sweep report: \(name)

            This notebook reloads an `optima-gym sweep` report from its CSV files and redraws its charts.
            `report.md` in the same directory is the rendered report.
            """),
            header(reportPath),
            md("""
            ## Cells

            `cells.csv` has one row per cell × agent × metric. A cell is one parameter setting run with one
            seed. The columns are `cell`, `setting` and `seed`, one column per swept parameter, then
            `agent`, `metric`, `value`, `ci_low` / `ci_high` (the run's own interval), `count` and
            `gate_passed` (whether the scenario's release gate passed for that cell).
            """),
            code("""
            cells = pd.read_csv(REPORT / "cells.csv")
            params = list(cells.columns[3:cells.columns.get_loc("agent")])
            print("parameters:", params, "| cells:", cells["cell"].nunique(), "| agents:", list(cells["agent"].unique()))
            cells.head(12)
            """),
            md("""
            ## Settings

            `settings.csv` has, per setting × agent × metric, the mean over the setting's seeds with a
            t-interval over the seeds (clipped to the metric's range). With one seed the run's own interval is shown instead. The table
            below shows mean reward per setting and agent.
            """),
            code("""
            settings = pd.read_csv(REPORT / "settings.csv")
            settings[settings["metric"] == "mean_reward"].pivot_table(index=["setting"] + params, columns="agent", values="mean")
            """),
            md("""
            ## Metric against parameter

            `parameter_effects.csv` has, for each ranked metric, numeric parameter, parameter value and agent,
            the mean over every cell with that value (the other parameters and the seeds pooled) with the
            t-interval over those cells that the report's SVG charts draw: the same numbers, not recomputed.
            """),
            code("""
            effects = pd.read_csv(REPORT / "parameter_effects.csv")
            for (metric, p), g in effects.groupby(["metric", "parameter"], sort=False):
                fig, ax = plt.subplots(figsize=(7, 4))
                for agent, a in g.groupby("agent", sort=False):
                    a = a.sort_values("value")
                    ax.plot(a["value"], a["mean"], marker="o", label=agent)
                    ax.fill_between(a["value"], a["ci_low"], a["ci_high"], alpha=0.2)
                ax.set_xlabel(p)
                ax.set_ylabel(f"{metric} (band: t-interval over cells)")
                ax.set_title(f"{metric} against {p}")
                ax.legend()
                plt.show()
            """),
            md("""
            ## Gate

            How many cells of each setting passed the scenario's release gate.
            """),
            code("""
            gate = cells.drop_duplicates("cell").groupby(["setting"] + params)["gate_passed"].agg(["sum", "count"])
            gate.rename(columns={"sum": "cells passing", "count": "cells"})
            """),
        ]
    }
}
