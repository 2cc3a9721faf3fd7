import Foundation
import GymGate
import Yams

/// Reads scenario files: YAML -> a validated `Scenario`, or a `ScenarioError` listing every problem
/// with its file, line, column and key path.
///
/// Nothing here traps on bad input: unreadable files, binary data, invalid UTF-8, YAML syntax
/// errors, wrong types and out-of-range values all become diagnostics.
public enum ScenarioLoader {
    /// Files above this size are refused before parsing (a scenario is a few kilobytes).
    static let maximumFileSize = 16 << 20

    /// Reads and validates the scenario file at `path`. Throws `ScenarioError`.
    public static func load(path: String) throws -> Scenario {
        try parse(data: readFile(path), file: path)
    }

    /// Validates scenario text; `file` names it in diagnostics and gives the default scenario name.
    public static func parse(text: String, file: String) throws -> Scenario {
        try parse(data: Array(text.utf8), file: file)
    }

    /// Validates raw bytes (which must be UTF-8 text); `file` names them in diagnostics.
    public static func parse(data: [UInt8], file: String) throws -> Scenario {
        try parse(data: data, file: file, depth: 0)
    }

    static func parse(data: [UInt8], file: String, depth: Int) throws -> Scenario {
        let (root, sink) = try compose(data, file: file)
        var context = ReadContext(sink: sink)
        context.depth = depth
        var scenario = Scenario(name: defaultName(for: file))
        guard case .mapping = root else {
            context.error(root.location ?? .start, "",
                          "the top level of a scenario must be a mapping of keys (name, seed, population, ...), got \(root.shortDescription)")
            throw ScenarioError(diagnostics: context.sink.sorted)
        }
        ScenarioSchema.scenario.read(root, into: &scenario, prefix: "", context: &context, fallback: .start)
        // When the agent list itself is wrong, checking gate rules against it would only add noise.
        if !context.failed.contains("agents") { checkAgentReferences(known: scenario.agents.map(\.name), &context) }
        guard context.sink.count == 0 else { throw ScenarioError(diagnostics: context.sink.sorted) }
        return scenario
    }

    /// Gate rules from a YAML file that holds either a top-level `gate:` list (e.g. a scenario) or a bare
    /// list of rules. `knownAgents` nil = don't check agent names. Other keys of a scenario file are not
    /// validated here. Throws `ScenarioError`, also when the file holds no rule at all.
    public static func loadGateRules(path: String, knownAgents: [String]?) throws -> [GateRule] {
        try loadGateFile(path: path, knownAgents: knownAgents).rules
    }

    /// A gate file: its `gate:` rules and its optional `watch:` section (how `gate --watch` judges
    /// the champion). A bare list of rules is a file without `watch:`.
    public static func loadGateFile(path: String, knownAgents: [String]? = nil) throws -> (rules: [GateRule], watch: GateWatch?) {
        let (root, sink) = try compose(readFile(path), file: path)
        var context = ReadContext(sink: sink)
        let list: Node
        let keyPath: String
        var watch: GateWatch?
        switch root {
        case .sequence:
            list = root; keyPath = "gate"
        case let .mapping(mapping):
            guard let gate = mapping["gate"] else {
                context.error(root.location ?? .start, "", "no `gate:` list in this file")
                throw ScenarioError(diagnostics: context.sink.sorted)
            }
            list = gate; keyPath = "gate"
            if let w = mapping["watch"] {
                var settings = GateWatch()
                ScenarioSchema.gateWatchSchema.read(w, into: &settings, prefix: "watch", context: &context, fallback: w.location ?? .start)
                watch = settings
            }
        default:
            context.error(root.location ?? .start, "",
                          "expected a list of gate rules or a mapping with a `gate:` list, got \(root.shortDescription)")
            throw ScenarioError(diagnostics: context.sink.sorted)
        }
        let rules = ScenarioSchema.readGateRules(list, keyPath, &context)
        if let knownAgents { checkAgentReferences(known: knownAgents, &context) }
        if let rules, rules.isEmpty, context.sink.count == 0 {
            context.error(list.location ?? root.location ?? .start, keyPath, "the file holds no gate rules")
        }
        guard context.sink.count == 0, let rules else { throw ScenarioError(diagnostics: context.sink.sorted) }
        return (rules, watch)
    }

    // MARK: - Steps

    /// The default scenario name: the file name without its extension, reduced to the characters `name` allows.
    static func defaultName(for file: String) -> String {
        let base = (file as NSString).lastPathComponent
        let stem = base.contains(".") ? String(base[..<(base.lastIndex(of: ".") ?? base.endIndex)]) : base
        var name = String(String.UnicodeScalarView(stem.unicodeScalars.map { scalar -> Unicode.Scalar in
            scalar.isASCII && (CharacterSetASCII.alnum(scalar) || "_-.".unicodeScalars.contains(scalar)) ? scalar : "_"
        }).prefix(64))
        while let first = name.unicodeScalars.first, !CharacterSetASCII.alnum(first) { name.removeFirst() }
        return name.isEmpty ? "scenario" : name
    }

    /// Reads a whole file, or throws a diagnostic naming the path.
    static func readFile(_ path: String) throws -> [UInt8] {
        func fail(_ message: String) -> ScenarioError {
            ScenarioError(diagnostics: [ScenarioDiagnostic(file: path, line: 0, column: 0, keyPath: "",
                                                           message: "cannot read file: \(message)", sourceLine: nil)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw fail("no such file") }
        guard !isDirectory.boolValue else { throw fail("it is a directory") }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
           size.intValue > maximumFileSize {
            throw fail("it is \(size.intValue) bytes; a scenario file may be at most \(maximumFileSize) bytes")
        }
        guard FileManager.default.isReadableFile(atPath: path), let data = FileManager.default.contents(atPath: path) else {
            throw fail("permission denied")
        }
        guard data.count <= maximumFileSize else {
            throw fail("it is \(data.count) bytes; a scenario file may be at most \(maximumFileSize) bytes")
        }
        return [UInt8](data)
    }

    /// Bytes -> the root YAML node, after the encoding checks. Empty files, syntax errors and the like throw.
    static func compose(_ data: [UInt8], file: String) throws -> (Node, DiagnosticSink) {
        if let problem = TextCheck.firstProblem(in: data) {
            throw ScenarioError(diagnostics: [ScenarioDiagnostic(
                file: file, line: problem.line, column: problem.column, keyPath: "", message: problem.message, sourceLine: nil)])
        }
        let text = String(decoding: data, as: UTF8.self)
        var sink = DiagnosticSink(file: file, text: text)
        let root: Node?
        do {
            // The encoding is passed explicitly: Yams' default reads an environment variable and prints.
            root = try Yams.compose(yaml: text, .default, .default, .utf8)
        } catch let error as YamlError {
            report(error, text: text, into: &sink)
            throw ScenarioError(diagnostics: sink.sorted)
        } catch {
            sink.error(at: .start, "", "cannot parse YAML: \(error)")
            throw ScenarioError(diagnostics: sink.sorted)
        }
        guard let root, !root.isNull else {
            sink.error(at: .start, "", "the file is empty; a scenario needs at least a mapping of keys, e.g. `name: my_scenario` "
                       + "(every other key has a default; see scenarios/README.md)", showSource: false)
            throw ScenarioError(diagnostics: sink.sorted)
        }
        return (root, sink)
    }

    /// Gate rules must name agents the scenario has.
    static func checkAgentReferences(known: [String], _ context: inout ReadContext) {
        for reference in context.gateAgentReferences where !known.contains(reference.name) && reference.name != "population"
            && reference.name != "ope" && !reference.name.hasPrefix("ope.") {
            let hint = Suggestions.closest(to: reference.name, among: known).map { "did you mean '\($0)'? " } ?? ""
            context.error(reference.location, reference.keyPath,
                          "unknown agent '\(reference.name)' (\(hint)agents here: \(known.joined(separator: ", ")))")
        }
        context.gateAgentReferences.removeAll()
    }

    // MARK: - YAML errors

    private static func report(_ error: YamlError, text: String, into sink: inout DiagnosticSink) {
        func location(_ mark: Mark) -> SourceLocation {
            SourceLocation(line: max(mark.line, 1), column: max(mark.column, 1))
        }
        func syntax(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) {
            var mark = mark
            var message = "YAML syntax error: \(problem)"
            if problem.hasPrefix("Maximum nesting level") {
                message = "YAML syntax error: nesting is too deep (more than 1000 levels)"
            } else if problem == "could not find expected ':'", let context, context.text.contains("simple key") {
                // libyaml notices the missing colon where the next token starts; the key is where it went wrong.
                mark = context.mark
                message = "YAML syntax error: could not find expected ':' after this key"
            } else if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            if let line = sink.sourceLine(mark.line), line.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                message += "; tabs cannot indent YAML, use spaces"
            }
            sink.error(at: location(mark), "", message)
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _):
            syntax(context, problem, mark)
        case let .composer(context, problem, mark, _):
            if problem.contains("another document") {
                sink.error(at: location(mark), "", "a scenario file holds a single YAML document, but another one starts here")
            } else {
                syntax(context, problem, mark)
            }
        case let .reader(problem, offset, _, yaml):
            // Characters before the problem give its line and column.
            var place = SourceLocation.start
            if let offset, offset >= 0, let end = yaml.index(yaml.startIndex, offsetBy: offset, limitedBy: yaml.endIndex) {
                let before = yaml[..<end]
                place.line = before.reduce(1) { $1 == "\n" || $1 == "\r\n" ? $0 + 1 : $0 }
                place.column = before.unicodeScalars.reversed().prefix { $0 != "\n" }.count + 1
            }
            sink.error(at: place, "", "cannot read the text: \(problem)", showSource: false)
        case let .duplicatedKeysInMapping(duplicates, context):
            reportDuplicates(duplicates, first: location(context.mark), text: text, into: &sink)
        default:
            sink.error(at: .start, "", "cannot parse YAML: \(error)")
        }
    }

    /// Yams stops at the first mapping with repeated keys and gives the place of the first occurrence of
    /// the first repeated key; the repetition is found by scanning the lines below at the same indentation.
    private static func reportDuplicates(_ keys: [String], first: SourceLocation, text: String, into sink: inout DiagnosticSink) {
        for (n, key) in keys.enumerated() {
            guard n == 0 else {
                sink.error(at: first, key, "duplicate key '\(key)' in the same mapping")
                continue
            }
            var line = first.line + 1
            var repeated: SourceLocation?
            while let source = sink.sourceLine(line) {
                let indent = source.unicodeScalars.prefix { $0 == " " }.count
                let rest = String(source.unicodeScalars.dropFirst(indent))
                let blankOrComment = rest.isEmpty || rest.hasPrefix("#")
                if !blankOrComment {
                    if indent < first.column - 1 { break }
                    if indent == first.column - 1, rest.hasPrefix(key) {
                        let after = rest.dropFirst(key.count).drop { $0 == " " }
                        if after.hasPrefix(":") { repeated = SourceLocation(line: line, column: first.column); break }
                    }
                }
                line += 1
            }
            if let repeated {
                sink.error(at: repeated, key, "duplicate key '\(key)' (first given at line \(first.line)); each key may appear once")
            } else {
                sink.error(at: first, key, "duplicate key '\(key)' in this mapping; each key may appear once")
            }
        }
    }
}
