import Foundation
import GymData
import GymSynth
import Yams

/// The settings of `synth fit` as a YAML file (`--config`): column roles and bounds, the privacy
/// unit and budget, the mixture's size. Flags given on the command line take precedence.
///
/// ```yaml
/// columns:                       # roles; names may use * as a wildcard
///   "user-item_affinity_*": identifier
///   user_feature_0: quasi_identifier
/// user_column: null              # the privacy unit (null: every row is a user)
/// bounds: {age: [0, 120]}        # public bounds of numeric columns
/// epsilon: 1.0
/// delta: 1.0e-5
/// components: null               # null: chosen by BIC among 1..max_components
/// max_components: 4
/// iterations: 8
/// max_rows_per_user: 1
/// ledger: null                   # null: <data>.privacy-ledger.json
/// ```
public struct SynthFitFile: Sendable, Equatable {
    /// (name or pattern, role) in file order.
    public var columns: [(String, ColumnRole)] = []
    public var userColumn: String = ""
    public var bounds: [String: [Double]] = [:]
    public var epsilon = 1.0
    public var delta = 1e-5
    public var components: Double? = nil
    public var maxComponents = 4
    public var iterations = 8
    public var maxRowsPerUser = 1
    public var ledger: String = ""
    public init() {}

    public static func == (a: SynthFitFile, b: SynthFitFile) -> Bool {
        a.columns.map { "\($0.0)=\($0.1.rawValue)" } == b.columns.map { "\($0.0)=\($0.1.rawValue)" } && a.userColumn == b.userColumn
            && a.bounds == b.bounds && a.epsilon == b.epsilon && a.delta == b.delta && a.components == b.components
            && a.maxComponents == b.maxComponents && a.iterations == b.iterations && a.maxRowsPerUser == b.maxRowsPerUser && a.ledger == b.ledger
    }

    static var schema: Schema<SynthFitFile> {
        Schema(fields: [
            Field(key: "columns", type: "mapping", allowed: "column name (or pattern with *) -> numeric, categorical, quasi_identifier, identifier or user",
                  doc: "Roles that override the inferred schema.", defaultText: { _ in "inferred" }, read: readColumns),
            Field.text("user_column", \.userColumn, allowed: "a column name, or null", "The column that identifies users (the privacy unit).",
                       defaultText: { _ in "null (every row is a user)" }, allowNull: true),
            Field(key: "bounds", type: "mapping", allowed: "column name -> [low, high], finite, low < high",
                  doc: "Public bounds of numeric columns.", defaultText: { _ in "the data's range (not private)" }, read: readBounds),
            .number("epsilon", \.epsilon, .aboveUpTo(0, 1000), "Epsilon the fit spends."),
            .number("delta", \.delta, .open(0, 1), "Delta of the guarantee."),
            .optionalNumber("components", \.components, .closed(1, 64), "Mixture components; null: chosen by BIC."),
            .integer("max_components", \.maxComponents, 1...64, "Largest k tried by the BIC selection."),
            .integer("iterations", \.iterations, 1...1000, "EM iterations per candidate (each a noisy release)."),
            .integer("max_rows_per_user", \.maxRowsPerUser, 1...1_000_000, "Rows kept per user."),
            Field.text("ledger", \.ledger, allowed: "a path, or null", "The privacy ledger (relative to this file).",
                       defaultText: { _ in "null (<data>.privacy-ledger.json)" }, allowNull: true),
        ])
    }

    static func readColumns(_ node: Node, _ keyPath: String, _ root: inout SynthFitFile, _ context: inout ReadContext) {
        let here = node.location ?? .start
        guard case let .mapping(mapping) = node else {
            context.error(here, keyPath, "expected a mapping of column name to role, got \(node.shortDescription)")
            return
        }
        var out: [(String, ColumnRole)] = []
        for (k, v) in mapping {
            guard case let .value(name) = YAMLValues.string(k), !name.isEmpty else {
                context.error(k.location ?? here, keyPath, "column names must be non-empty strings"); continue
            }
            let loc = v.location ?? k.location ?? here
            let options = ColumnRole.allCases.map(\.rawValue)
            guard case let .value(r) = YAMLValues.string(v), let role = ColumnRole(rawValue: r) else {
                var got = v.shortDescription
                if case let .value(text) = YAMLValues.string(v) { got = text }
                let hint = Suggestions.closest(to: got, among: options).map { " (did you mean '\($0)'?)" } ?? ""
                context.error(loc, "\(keyPath).\(name)", "must be one of \(options.joined(separator: ", ")), got '\(got)'\(hint)")
                continue
            }
            out.append((name, role))
        }
        root.columns = out
    }

    static func readBounds(_ node: Node, _ keyPath: String, _ root: inout SynthFitFile, _ context: inout ReadContext) {
        let here = node.location ?? .start
        guard case let .mapping(mapping) = node else {
            context.error(here, keyPath, "expected a mapping of column name to [low, high], got \(node.shortDescription)")
            return
        }
        for (k, v) in mapping {
            guard case let .value(name) = YAMLValues.string(k), !name.isEmpty else { continue }
            let loc = v.location ?? here
            guard case let .sequence(seq) = v, seq.count == 2,
                  let lo = readNumber(seq[0], "\(keyPath).\(name)[0]", .any, &context),
                  let hi = readNumber(seq[1], "\(keyPath).\(name)[1]", .any, &context) else {
                context.error(loc, "\(keyPath).\(name)", "expected [low, high]"); continue
            }
            guard lo < hi else { context.error(loc, "\(keyPath).\(name)", "low (\(formatNumber(lo))) must be below high (\(formatNumber(hi)))"); continue }
            root.bounds[name] = [lo, hi]
        }
    }
}

public enum SynthConfigLoader {
    /// Reads and validates a `synth fit` configuration; throws `ScenarioError` with every problem.
    public static func load(path: String) throws -> SynthFitFile {
        let (root, sink) = try ScenarioLoader.compose(ScenarioLoader.readFile(path), file: path)
        var context = ReadContext(sink: sink)
        var file = SynthFitFile()
        guard case .mapping = root else {
            context.error(root.location ?? .start, "", "the top level must be a mapping (columns, bounds, epsilon, ...), got \(root.shortDescription)")
            throw ScenarioError(diagnostics: context.sink.sorted)
        }
        SynthFitFile.schema.read(root, into: &file, prefix: "", context: &context, fallback: .start)
        guard context.sink.count == 0 else { throw ScenarioError(diagnostics: context.sink.sorted) }
        if !file.ledger.isEmpty && !file.ledger.hasPrefix("/") {
            file.ledger = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(file.ledger).path
        }
        return file
    }
}
