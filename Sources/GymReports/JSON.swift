/// A small JSON value with deterministic rendering: object keys keep insertion order, numbers use
/// Swift's shortest round-trip representation, non-finite numbers become null.
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case int(Int)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.render() == b.render() }

    public static func num(_ x: Double?) -> JSON { x.map { $0.isFinite ? .number($0) : .null } ?? .null }

    public func render(indent: Int = 0, pretty: Bool = true) -> String {
        var out = ""
        write(into: &out, indent: indent, pretty: pretty)
        return out
    }

    public static func escape(_ s: String) -> String {
        var r = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\r": r += "\\r"
            case "\t": r += "\\t"
            default:
                if u.value < 0x20 { r += String(format: "\\u%04x", u.value) } else { r.unicodeScalars.append(u) }
            }
        }
        return r + "\""
    }

    func write(into out: inout String, indent: Int, pretty: Bool) {
        let nl = pretty ? "\n" : ""
        let pad = pretty ? String(repeating: "  ", count: indent + 1) : ""
        let close = pretty ? String(repeating: "  ", count: indent) : ""
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let x):
            if !x.isFinite { out += "null" }
            else if x == x.rounded() && abs(x) < 1e15 { out += String(Int(x)) }
            else { out += "\(x)" }
        case .string(let s): out += JSON.escape(s)
        case .array(let xs):
            if xs.isEmpty { out += "[]"; return }
            out += "[" + nl
            for (i, x) in xs.enumerated() {
                out += pad
                x.write(into: &out, indent: indent + 1, pretty: pretty)
                out += (i < xs.count - 1 ? "," : "") + nl
            }
            out += close + "]"
        case .object(let kv):
            if kv.isEmpty { out += "{}"; return }
            out += "{" + nl
            for (i, (k, v)) in kv.enumerated() {
                out += pad + JSON.escape(k) + (pretty ? ": " : ":")
                v.write(into: &out, indent: indent + 1, pretty: pretty)
                out += (i < kv.count - 1 ? "," : "") + nl
            }
            out += close + "}"
        }
    }
}

import Foundation
