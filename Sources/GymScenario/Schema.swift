import Yams

// The declarative machinery behind the scenario format: a `Schema` is a table of `Field`s (one per key:
// its path, type, default, allowed range, meaning and how to store it) plus `CrossRule`s between keys.
// The validator walks YAML with the table and `ScenarioSchema.markdownReference()` prints the same table,
// so the documentation cannot drift from what is accepted.

/// State shared while one file is read: the diagnostics, and where each key was given.
struct ReadContext {
    var sink: DiagnosticSink
    /// Full key path -> location of its value, for every key present in the file.
    var locations: [String: SourceLocation] = [:]
    /// Full key paths whose value was rejected (cross-key rules involving them are skipped).
    var failed: Set<String> = []
    /// Agent names referenced by gate rules, checked once all agents are known.
    var gateAgentReferences: [(name: String, keyPath: String, location: SourceLocation)] = []
    /// 0 for the scenario being loaded; 1 for a transfer source (whose own `transfer` is not followed).
    var depth = 0

    init(sink: DiagnosticSink) { self.sink = sink }

    mutating func error(_ location: SourceLocation, _ keyPath: String, _ message: String) {
        sink.error(at: location, keyPath, message)
    }
}

/// An interval of allowed numbers, open or closed at each end, possibly unbounded.
struct Bounds: Sendable {
    var lower: Double?
    var lowerOpen = false
    var upper: Double?
    var upperOpen = false

    /// [a, b]
    static func closed(_ a: Double, _ b: Double) -> Bounds { Bounds(lower: a, upper: b) }
    /// (a, b)
    static func open(_ a: Double, _ b: Double) -> Bounds { Bounds(lower: a, lowerOpen: true, upper: b, upperOpen: true) }
    /// (a, b]
    static func aboveUpTo(_ a: Double, _ b: Double) -> Bounds { Bounds(lower: a, lowerOpen: true, upper: b) }
    /// [a, b)
    static func fromBelow(_ a: Double, _ b: Double) -> Bounds { Bounds(lower: a, upper: b, upperOpen: true) }
    /// Any finite number.
    static let any = Bounds()

    func contains(_ x: Double) -> Bool {
        if let a = lower, lowerOpen ? !(x > a) : !(x >= a) { return false }
        if let b = upper, upperOpen ? !(x < b) : !(x <= b) { return false }
        return true
    }

    /// `[0, 1]`, `(0, 1)`, `> 0`, `any number`.
    var text: String {
        switch (lower, upper) {
        case let (a?, b?): return "\(lowerOpen ? "(" : "[")\(formatNumber(a)), \(formatNumber(b))\(upperOpen ? ")" : "]")"
        case let (a?, nil): return "\(lowerOpen ? ">" : ">=") \(formatNumber(a))"
        case let (nil, b?): return "\(upperOpen ? "<" : "<=") \(formatNumber(b))"
        case (nil, nil): return "any number"
        }
    }

    /// `must be in [0, 1]` / `must be > 0`.
    var requirement: String {
        lower != nil && upper != nil ? "must be in \(text)" : "must be \(text)"
    }
}

/// One key of a schema.
struct Field<Root> {
    /// Dotted path relative to the schema's root (`pairing.candidates_shown`, `share`).
    let key: String
    /// For the docs: `integer`, `number`, `list of 24 numbers`, ...
    let type: String
    /// For the docs: the allowed values.
    let allowed: String
    /// For the docs: what the key means.
    let doc: String
    /// A required key has no default; leaving it out is an error.
    var isRequired = false
    /// For the docs: the default, read from a default-constructed root.
    let defaultText: (Root) -> String
    /// Validates `node` and stores its value into the root; reports problems under `keyPath`.
    let read: (_ node: Node, _ keyPath: String, _ root: inout Root, _ context: inout ReadContext) -> Void
    /// A valid YAML value different from the default (tests use it to check each key reaches its own property).
    var sample: ((Root) -> String?)? = nil
    /// Extra markdown printed after the table of the key's section (structures such as groups or agents).
    var details: (() -> String)? = nil

    var components: [Substring] { key.split(separator: ".") }

    /// The same field, required (no default).
    func required() -> Field {
        var copy = self
        copy.isRequired = true
        return copy
    }

    /// The same field with extra markdown after its section's table.
    func withDetails(_ details: @escaping () -> String) -> Field {
        var copy = self
        copy.details = details
        return copy
    }
}

/// A check across several keys, run after the keys themselves were read.
struct CrossRule<Root> {
    /// Keys involved (relative paths). The first one present in the file is blamed in the message.
    let keys: [String]
    /// For the docs.
    let doc: String
    /// nil if the rule holds, else the message.
    let check: (Root) -> String?
}

/// A table of fields and rules for one kind of mapping (the whole scenario, a population group, ...).
struct Schema<Root> {
    var fields: [Field<Root>]
    var rules: [CrossRule<Root>] = []
    /// Docs of intermediate mappings (`population` -> "Who the users are"), in display order.
    var sections: [(key: String, doc: String)] = []

    private static func join(_ prefix: String, _ path: String) -> String {
        prefix.isEmpty ? path : (path.isEmpty ? prefix : prefix + "." + path)
    }

    /// Reads a mapping node (null counts as an empty mapping) into `root`: every key validated,
    /// unknown keys reported with suggestions, required keys checked, then the cross-key rules.
    /// `prefix` is the full key path of the mapping itself, for messages.
    func read(_ node: Node, into root: inout Root, prefix: String, context: inout ReadContext, fallback: SourceLocation) {
        let here = node.location ?? fallback
        guard case let .mapping(mapping) = node else {
            if node.isNull {
                checkRequired(level: [], given: [], prefix: prefix, at: here, context: &context)
            } else {
                context.error(here, prefix, "expected a mapping of keys, got \(node.shortDescription)")
                context.failed.insert(prefix)
            }
            return
        }
        var given = Set<String>()
        readLevel(mapping, level: [], into: &root, prefix: prefix, given: &given, context: &context, at: here)
        for rule in rules {
            let paths = rule.keys.map { Self.join(prefix, $0) }
            if paths.contains(where: { context.failed.contains($0) }) { continue }
            guard let message = rule.check(root) else { continue }
            let blamed = paths.first { context.locations[$0] != nil }
            context.error(blamed.flatMap { context.locations[$0] } ?? here, blamed ?? paths.first ?? prefix, message)
        }
    }

    private func readLevel(_ mapping: Node.Mapping, level: [Substring], into root: inout Root, prefix: String,
                           given: inout Set<String>, context: inout ReadContext, at here: SourceLocation) {
        for (keyNode, value) in mapping {
            let keyLocation = keyNode.location ?? here
            guard case let .scalar(scalar) = keyNode, !keyNode.isNull else {
                context.error(keyLocation, Self.join(prefix, level.joined(separator: ".")),
                              "keys must be plain names, got \(keyNode.shortDescription)")
                continue
            }
            let key = scalar.string
            let path = level + [Substring(key)]
            let relative = path.joined(separator: ".")
            let full = Self.join(prefix, relative)
            if let field = fields.first(where: { $0.components == path }) {
                given.insert(relative)
                context.locations[full] = value.location ?? keyLocation
                let before = context.sink.count
                field.read(value, full, &root, &context)
                if context.sink.count > before { context.failed.insert(full) }
            } else if fields.contains(where: { $0.components.count > path.count && Array($0.components.prefix(path.count)) == path }) {
                switch value {
                case let .mapping(inner):
                    readLevel(inner, level: path, into: &root, prefix: prefix, given: &given, context: &context,
                              at: value.location ?? keyLocation)
                default:
                    if value.isNull { break }
                    context.error(value.location ?? keyLocation, full, "expected a mapping of keys, got \(value.shortDescription)")
                }
            } else {
                context.error(keyLocation, full, unknownKeyMessage(key, level: level))
            }
        }
        checkRequired(level: level, given: given, prefix: prefix, at: here, context: &context)
    }

    private func checkRequired(level: [Substring], given: Set<String>, prefix: String, at here: SourceLocation,
                               context: inout ReadContext) {
        for field in fields where field.isRequired && Array(field.components.dropLast()) == level && !given.contains(field.key) {
            let full = Self.join(prefix, field.key)
            context.error(here, full, "missing required key '\(field.components.last.map(String.init) ?? field.key)'")
            context.failed.insert(full)
        }
    }

    /// Keys valid directly inside the mapping at `level`, in table order.
    func keys(at level: [Substring]) -> [String] {
        var seen = Set<Substring>(), out: [String] = []
        for field in fields where field.components.count > level.count && Array(field.components.prefix(level.count)) == level {
            let next = field.components[level.count]
            if seen.insert(next).inserted { out.append(String(next)) }
        }
        return out
    }

    private func unknownKeyMessage(_ key: String, level: [Substring]) -> String {
        if key == "<<" { return "YAML merge keys ('<<') are not supported; write the keys out" }
        let valid = keys(at: level)
        if let near = Suggestions.closest(to: key, among: valid) {
            return "unknown key (did you mean '\(near)'?)"
        }
        // The key may exist, but in another section (`candidates_shown` under `population`).
        let wanted = Suggestions.normalized(key)
        if let elsewhere = fields.first(where: { $0.components.last.map { String($0) } == wanted }) {
            return "unknown key here (did you mean '\(elsewhere.key)'?)"
        }
        return "unknown key; valid keys here: " + valid.joined(separator: ", ")
    }
}

// MARK: - Field constructors

extension Field {
    static func integer(_ key: String, _ path: WritableKeyPath<Root, Int>, _ range: ClosedRange<Int>, _ doc: String) -> Field {
        Field(key: key, type: "integer", allowed: "[\(range.lowerBound), \(range.upperBound)]", doc: doc,
              defaultText: { String($0[keyPath: path]) },
              read: { node, keyPath, root, context in
                  switch YAMLValues.integer(node) {
                  case let .problem(message): context.error(node.location ?? .start, keyPath, message)
                  case let .value(value):
                      guard range.contains(value) else {
                          context.error(node.location ?? .start, keyPath,
                                        "must be in [\(range.lowerBound), \(range.upperBound)], got \(node.plainText ?? String(value))")
                          return
                      }
                      root[keyPath: path] = value
                  }
              },
              sample: { root in
                  let d = root[keyPath: path]
                  return range.contains(d + 1) ? String(d + 1) : (range.contains(d - 1) ? String(d - 1) : nil)
              })
    }

    static func number(_ key: String, _ path: WritableKeyPath<Root, Double>, _ bounds: Bounds, _ doc: String) -> Field {
        Field(key: key, type: "number", allowed: bounds.text, doc: doc,
              defaultText: { formatNumber($0[keyPath: path]) },
              read: { node, keyPath, root, context in
                  if let value = readNumber(node, keyPath, bounds, &context) { root[keyPath: path] = value }
              },
              sample: { root in sampleNumber(root[keyPath: path], bounds) })
    }

    /// A number that may be left out (or set to null): nil then.
    static func optionalNumber(_ key: String, _ path: WritableKeyPath<Root, Double?>, _ bounds: Bounds, _ doc: String) -> Field {
        Field(key: key, type: "number", allowed: bounds.text, doc: doc,
              defaultText: { $0[keyPath: path].map(formatNumber) ?? "none" },
              read: { node, keyPath, root, context in
                  if node.isNull { root[keyPath: path] = nil; return }
                  if let value = readNumber(node, keyPath, bounds, &context) { root[keyPath: path] = value }
              },
              sample: { root in sampleNumber(root[keyPath: path] ?? 0.5, bounds) })
    }

    static func flag(_ key: String, _ path: WritableKeyPath<Root, Bool>, _ doc: String) -> Field {
        Field(key: key, type: "boolean", allowed: "true, false", doc: doc,
              defaultText: { String($0[keyPath: path]) },
              read: { node, keyPath, root, context in
                  switch YAMLValues.bool(node) {
                  case let .problem(message): context.error(node.location ?? .start, keyPath, message)
                  case let .value(value): root[keyPath: path] = value
                  }
              },
              sample: { String(!$0[keyPath: path]) })
    }

    /// A string; `validate` returns a message for a bad value (nil when fine).
    static func text(_ key: String, _ path: WritableKeyPath<Root, String>, allowed: String, _ doc: String,
                     defaultText: ((Root) -> String)? = nil, allowNull: Bool = false, sample: String? = nil,
                     validate: @escaping (String) -> String? = { _ in nil }) -> Field {
        Field(key: key, type: "string", allowed: allowed, doc: doc,
              defaultText: defaultText ?? { root in root[keyPath: path].isEmpty ? "empty" : root[keyPath: path] },
              read: { node, keyPath, root, context in
                  if allowNull, node.isNull { root[keyPath: path] = ""; return }
                  switch YAMLValues.string(node) {
                  case let .problem(message): context.error(node.location ?? .start, keyPath, message)
                  case let .value(value):
                      if let message = validate(value) {
                          context.error(node.location ?? .start, keyPath, message)
                      } else {
                          root[keyPath: path] = value
                      }
                  }
              },
              sample: { _ in sample })
    }

    /// One of a fixed list of names, with a did-you-mean for near misses.
    static func choice(_ key: String, _ path: WritableKeyPath<Root, String>, options: @escaping () -> [String], _ doc: String) -> Field {
        Field(key: key, type: "string", allowed: options().map { "`\($0)`" }.joined(separator: ", "), doc: doc,
              defaultText: { $0[keyPath: path] },
              read: { node, keyPath, root, context in
                  if let value = readChoice(node, keyPath, options(), &context) { root[keyPath: path] = value }
              },
              sample: { root in options().first { $0 != root[keyPath: path] } })
    }

    /// An enum spelled by its raw values.
    static func choice<E: CaseIterable & RawRepresentable>(_ key: String, _ path: WritableKeyPath<Root, E>, _ doc: String) -> Field
        where E.RawValue == String {
        let options = E.allCases.map(\.rawValue)
        return Field(key: key, type: "string", allowed: options.map { "`\($0)`" }.joined(separator: ", "), doc: doc,
                     defaultText: { $0[keyPath: path].rawValue },
                     read: { node, keyPath, root, context in
                         if let value = readChoice(node, keyPath, options, &context), let e = E(rawValue: value) {
                             root[keyPath: path] = e
                         }
                     },
                     sample: { root in options.first { $0 != root[keyPath: path].rawValue } })
    }

    /// A list of exactly `count` numbers within `element`; optionally with a positive sum.
    static func numbers(_ key: String, _ path: WritableKeyPath<Root, [Double]>, count: Int, meaning: String,
                        element: Bounds, positiveSum: Bool = false, _ doc: String) -> Field {
        numbers(key, path, counts: count...count, meaning: meaning, element: element, positiveSum: positiveSum, doc)
    }

    /// A list of `counts` numbers within `element`; optionally with a positive sum.
    static func numbers(_ key: String, _ path: WritableKeyPath<Root, [Double]>, counts: ClosedRange<Int>, meaning: String,
                        element: Bounds, positiveSum: Bool = false, _ doc: String) -> Field {
        let sumText = positiveSum ? ", positive sum" : ""
        let countText = counts.count == 1 ? "\(counts.lowerBound)" : "\(counts.lowerBound) to \(counts.upperBound)"
        return Field(
            key: key, type: "list of \(countText) numbers", allowed: "each \(element.text)\(sumText)", doc: doc,
            defaultText: { formatNumbers($0[keyPath: path]) },
            read: { node, keyPath, root, context in
                let here = node.location ?? .start
                guard case let .sequence(sequence) = node else {
                    context.error(here, keyPath, "expected a list of \(countText) numbers (\(meaning)), got \(node.shortDescription)")
                    return
                }
                guard counts.contains(sequence.count) else {
                    let exactly = counts.count == 1 ? "exactly " : ""
                    context.error(here, keyPath, "expected a list of \(exactly)\(countText) numbers (\(meaning)), got \(sequence.count)")
                    return
                }
                var values: [Double] = []
                for (i, item) in sequence.enumerated() {
                    if let value = readNumber(item, "\(keyPath)[\(i)]", element, &context) { values.append(value) }
                }
                guard values.count == sequence.count else { return }
                if positiveSum, !(values.reduce(0, +) > 0) {
                    context.error(here, keyPath, "must have a positive sum, got \(formatNumber(values.reduce(0, +)))")
                    return
                }
                root[keyPath: path] = values
            },
            sample: { root in
                let values = root[keyPath: path].map { x in Double(sampleNumber(x, element) ?? formatNumber(x)) ?? x }
                return counts.contains(values.count) ? formatNumbers(values) : nil
            })
    }
}

/// Shared by number fields: a finite number within `bounds`, or a diagnostic.
func readNumber(_ node: Node, _ keyPath: String, _ bounds: Bounds, _ context: inout ReadContext) -> Double? {
    switch YAMLValues.number(node) {
    case let .problem(message):
        context.error(node.location ?? .start, keyPath, message)
        return nil
    case let .value(value):
        guard bounds.contains(value) else {
            context.error(node.location ?? .start, keyPath, "\(bounds.requirement), got \(node.plainText ?? formatNumber(value))")
            return nil
        }
        return value
    }
}

/// Shared by choice fields: one of `options`, or a diagnostic with a suggestion.
func readChoice(_ node: Node, _ keyPath: String, _ options: [String], _ context: inout ReadContext) -> String? {
    switch YAMLValues.string(node) {
    case let .problem(message):
        context.error(node.location ?? .start, keyPath, message)
        return nil
    case let .value(value):
        guard options.contains(value) else {
            let hint = Suggestions.closest(to: value, among: options).map { "did you mean '\($0)'?" }
                ?? "expected one of: " + options.joined(separator: ", ")
            context.error(node.location ?? .start, keyPath, "unknown value '\(value)' (\(hint))")
            return nil
        }
        return value
    }
}

/// A value inside `bounds` that differs from `x` (for the tests' round trip of every key).
func sampleNumber(_ x: Double, _ bounds: Bounds) -> String? {
    var candidates = [x * 0.5, x + 0.01, x - 0.01, x + 1, x * 1.5]
    if let a = bounds.lower, let b = bounds.upper { candidates.append((a + b) / 2) }
    return candidates.first { $0 != x && bounds.contains($0) }.map { "\($0)" }
}

// MARK: - Test hook

extension Field {
    /// Reads one YAML value (`yaml`) with this field into `root`, as the loader would; returns the diagnostics.
    /// Used by the tests that check every key reaches its own property.
    func apply(yaml: String, to root: inout Root, keyPath: String? = nil) -> [ScenarioDiagnostic] {
        var context = ReadContext(sink: DiagnosticSink(file: "<sample>", text: yaml))
        do {
            guard let node = try Yams.compose(yaml: yaml, .default, .default, .utf8) else {
                context.error(.start, key, "empty sample")
                return context.sink.sorted
            }
            read(node, keyPath ?? key, &root, &context)
        } catch {
            context.error(.start, key, "sample does not parse: \(error)")
        }
        return context.sink.sorted
    }
}

extension Field {
    /// The same key on an outer root that holds this field's root at `path` (a settings table
    /// reused inside a larger one, e.g. epsilon_greedy's keys inside paced_bandit's).
    func lifted<Outer>(_ path: WritableKeyPath<Outer, Root>) -> Field<Outer> {
        let inner = self
        return Field<Outer>(key: key, type: type, allowed: allowed, doc: doc, isRequired: isRequired,
                            defaultText: { inner.defaultText($0[keyPath: path]) },
                            read: { node, keyPath, root, context in inner.read(node, keyPath, &root[keyPath: path], &context) },
                            sample: inner.sample.map { sample in { sample($0[keyPath: path]) } },
                            details: details)
    }
}

extension CrossRule {
    /// The same rule on an outer root that holds this rule's root at `path`.
    func lifted<Outer>(_ path: WritableKeyPath<Outer, Root>) -> CrossRule<Outer> {
        let inner = self
        return CrossRule<Outer>(keys: keys, doc: doc) { inner.check($0[keyPath: path]) }
    }
}
