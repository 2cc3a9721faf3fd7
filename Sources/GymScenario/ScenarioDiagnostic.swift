import GymCore
/// One problem found in a scenario file, printed like a compiler error:
///
/// ```
/// scenarios/x.yaml:14:12: error: population.groups.B.share: must be in [0, 1], got 1.4
///     share: 1.4
///            ^
/// ```
///
/// `line` and `column` are 1-based; the column counts Unicode scalars, as libyaml does. A diagnostic
/// that has no place in the file (the file cannot be read at all) has `line == 0` and `column == 0`
/// and prints as `path: error: message`.
public struct ScenarioDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    /// Dotted key path of the offending key (`pairing.daily_exposure_budget`, `agents[2].epsilon_greedy.epsilon_end`),
    /// empty when the problem is not tied to a key (syntax errors, unreadable files).
    public let keyPath: String
    public let message: String
    /// The text of line `line`, when it is worth showing (nil for unreadable or binary input).
    public let sourceLine: String?

    public init(file: String, line: Int, column: Int, keyPath: String, message: String, sourceLine: String?) {
        self.file = file; self.line = line; self.column = column
        self.keyPath = keyPath; self.message = message; self.sourceLine = sourceLine
    }

    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(max(column, 1))" : file
        let key = keyPath.isEmpty ? "" : "\(keyPath): "
        var text = "\(place): error: \(key)\(message)"
        if let source = sourceLine, line > 0 {
            let (shown, shownColumn) = Self.excerpt(of: source, around: column)
            text += "\n" + shown + "\n" + Self.caretLine(under: shownColumn, in: shown)
        }
        return text
    }

    /// Very long lines are cut to a window around the column (marked with `...`).
    static func excerpt(of source: String, around column: Int, width: Int = 120) -> (String, Int) {
        let scalars = Array(source.unicodeScalars)
        guard scalars.count > width else { return (source, column) }
        let start = min(max(0, column - 1 - width / 2), scalars.count - width)
        var shown = String(String.UnicodeScalarView(scalars[start..<(start + width)]))
        var shownColumn = column - start
        if start > 0 { shown = "..." + shown; shownColumn += 3 }
        if start + width < scalars.count { shown += "..." }
        return (shown, shownColumn)
    }

    /// Spaces up to `column` (tabs kept as tabs so the caret lines up however tabs are shown), then `^`.
    static func caretLine(under column: Int, in source: String) -> String {
        var pad = ""
        for scalar in source.unicodeScalars.prefix(max(column - 1, 0)) {
            pad.unicodeScalars.append(scalar == "\t" ? "\t" : " ")
        }
        let missing = max(column - 1, 0) - pad.unicodeScalars.count
        if missing > 0 { pad += String(repeating: " ", count: missing) }
        return pad + "^"
    }
}

/// Everything wrong with one scenario file (or gate file), every problem and not just the first.
public struct ScenarioError: BadInputError, Sendable, Equatable {
    /// Sorted by line, then column.
    public let diagnostics: [ScenarioDiagnostic]
    public init(diagnostics: [ScenarioDiagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// A 1-based place in the source text.
struct SourceLocation: Equatable, Hashable {
    var line: Int
    var column: Int
    static let start = SourceLocation(line: 1, column: 1)
}

/// Collects the diagnostics of one file, with the file's lines at hand for the source excerpts.
struct DiagnosticSink {
    let file: String
    private let lines: [Substring]
    private(set) var diagnostics: [ScenarioDiagnostic] = []

    init(file: String, text: String) {
        self.file = file
        // Line breaks as libyaml counts them: "\n", "\r\n", a lone "\r", NEL, LS and PS.
        self.lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    }

    var count: Int { diagnostics.count }

    func sourceLine(_ line: Int) -> String? {
        guard line >= 1, line <= lines.count else { return nil }
        return String(lines[line - 1])
    }

    mutating func error(at location: SourceLocation, _ keyPath: String, _ message: String, showSource: Bool = true) {
        diagnostics.append(ScenarioDiagnostic(
            file: file, line: location.line, column: location.column, keyPath: keyPath, message: message,
            sourceLine: showSource ? sourceLine(location.line) : nil))
    }

    /// The diagnostics in source order (stable for diagnostics at the same place).
    var sorted: [ScenarioDiagnostic] {
        diagnostics.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }
}
