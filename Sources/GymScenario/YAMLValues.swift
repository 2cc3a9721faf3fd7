import Foundation
import Yams

/// The result of reading one typed value out of a YAML node: the value, or a message saying why not.
enum Parsed<Value> {
    case value(Value)
    case problem(String)
}

extension Node {
    /// Where the node starts in the file (Yams marks are 1-based, columns in Unicode scalars).
    var location: SourceLocation? { mark.map { SourceLocation(line: $0.line, column: $0.column) } }

    /// A plain (unquoted) scalar's text; nil for quoted scalars, block scalars, mappings and lists.
    var plainText: String? {
        guard case let .scalar(scalar) = self, scalar.style == .plain || scalar.style == .any else { return nil }
        return scalar.string
    }

    /// `~`, `null` or nothing at all.
    var isNull: Bool {
        guard let text = plainText else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// How the node reads in a message: `'abc'`, `a list`, `a mapping`, `nothing`.
    var shortDescription: String {
        switch self {
        case let .scalar(scalar):
            if isNull { return "nothing (null)" }
            let text = scalar.string
            let shown = text.unicodeScalars.count > 40 ? String(text.unicodeScalars.prefix(37)) + "..." : text
            let quoted = scalar.style == .plain || scalar.style == .any ? "" : "the quoted string "
            return "\(quoted)'\(Self.escapeForMessage(shown))'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// Control characters are shown escaped so that a message never prints raw terminal codes.
    private static func escapeForMessage(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Typed readers of scalar nodes. They never trap: any input gives a value or a problem.
enum YAMLValues {
    /// Text of a plain scalar with `_` digit separators removed (`20_000`), if it looks numeric.
    private static func numericText(_ node: Node) -> String? {
        guard let text = node.plainText else { return nil }
        // `_` may separate digits (`20_000`, `-1_000.5`), as in Swift; anything else is left for the caller to refuse.
        let numeric = text.unicodeScalars.allSatisfy { "0123456789_+-.eExX".unicodeScalars.contains($0) || ("a"..."f").contains($0) || ("A"..."F").contains($0) }
        guard text.contains("_"), numeric, text.unicodeScalars.contains(where: { ("0"..."9").contains($0) }) else { return text }
        return text.replacingOccurrences(of: "_", with: "")
    }

    private static func typeProblem(_ expected: String, _ node: Node) -> String {
        if case let .scalar(scalar) = node, scalar.style != .plain, scalar.style != .any,
           Double(scalar.string.trimmingCharacters(in: .whitespaces)) != nil || ["true", "false"].contains(scalar.string) {
            return "expected \(expected), got \(node.shortDescription) (remove the quotes)"
        }
        return "expected \(expected), got \(node.shortDescription)"
    }

    /// A finite floating-point number (`0.5`, `-3`, `1e-4`, `20_000`). `.inf` and `.nan` are refused.
    static func number(_ node: Node) -> Parsed<Double> {
        guard !node.isNull, let text = numericText(node) else { return .problem(typeProblem("a number", node)) }
        if [".inf", "+.inf", "-.inf", ".nan", "inf", "+inf", "-inf", "nan", "infinity", "-infinity"].contains(text.lowercased()) {
            return .problem("must be a finite number, got '\(text)'")
        }
        // Only decimal notation: Swift's Double(_:) would also take "nan", "inf" and hexadecimal floats.
        let numeric = text.unicodeScalars.allSatisfy { "0123456789+-.eE".unicodeScalars.contains($0) }
        guard numeric, let value = Double(text) else { return .problem(typeProblem("a number", node)) }
        guard value.isFinite else { return .problem("is too large, got '\(text)'") }
        return .value(value)
    }

    /// A whole number that fits in `Int` (`20000`, `20_000`, `2e4`). `1.5` is a type error.
    static func integer(_ node: Node) -> Parsed<Int> {
        guard !node.isNull, let text = numericText(node) else { return .problem(typeProblem("an integer", node)) }
        if let value = Int(text) { return .value(value) }
        guard case let .value(real) = number(node) else { return .problem(typeProblem("an integer", node)) }
        guard real == real.rounded() else { return .problem("expected an integer, got '\(text)'") }
        guard real >= -9.0e18, real <= 9.0e18 else { return .problem("is too large for an integer, got '\(text)'") }
        return .value(Int(real))
    }

    /// `true` or `false` (any capitalisation). YAML 1.1's `yes`/`no`/`on`/`off` are refused: they surprise people.
    static func bool(_ node: Node) -> Parsed<Bool> {
        guard let text = node.plainText, !node.isNull else { return .problem(typeProblem("true or false", node)) }
        switch text.lowercased() {
        case "true": return .value(true)
        case "false": return .value(false)
        default: return .problem("expected true or false, got '\(text)'")
        }
    }

    /// Any scalar's text (quoted or not); lists, mappings and null are refused.
    static func string(_ node: Node) -> Parsed<String> {
        guard case let .scalar(scalar) = node, !node.isNull else { return .problem(typeProblem("a string", node)) }
        return .value(scalar.string)
    }

    /// A seed: an integer in 0 ... 2^64 - 1 (decimal, `_` separators allowed, or `0x` hexadecimal).
    static func uint64(_ node: Node) -> Parsed<UInt64> {
        guard !node.isNull, let text = numericText(node) else { return .problem(typeProblem("a non-negative integer", node)) }
        if let value = UInt64(text) { return .value(value) }
        let lower = text.lowercased()
        if lower.hasPrefix("0x"), let value = UInt64(lower.dropFirst(2), radix: 16) { return .value(value) }
        if Int(text) != nil || (lower.hasPrefix("-") && lower.dropFirst().allSatisfy(\.isNumber)) {
            return .problem("must be a non-negative integer, got '\(text)'")
        }
        if text.allSatisfy(\.isNumber) {
            return .problem("must fit in 64 bits (at most \(UInt64.max)), got '\(text)'")
        }
        return .problem(typeProblem("a non-negative integer", node))
    }
}

/// Number formatting for messages and docs: whole numbers without a trailing `.0`.
func formatNumber(_ x: Double) -> String {
    if x.isFinite, x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
    return "\(x)"
}

func formatNumbers(_ xs: [Double]) -> String { "[" + xs.map(formatNumber).joined(separator: ", ") + "]" }
