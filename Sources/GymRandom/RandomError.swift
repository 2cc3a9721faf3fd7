/// Errors from the random-number layer. They read well when printed.
public enum RandomError: Error, Equatable, CustomStringConvertible {
    case invalidParameter(distribution: String, parameter: String, value: String, requirement: String)
    case unknownGenerator(name: String, available: [String])
    case gsl(status: Int32, message: String, context: String)
    case generatorRangeTooSmall(name: String, range: UInt, available: [String])

    public var description: String {
        switch self {
        case let .invalidParameter(d, p, v, r):
            return "\(d): parameter \(p) must be \(r), got \(v)"
        case let .unknownGenerator(name, available):
            let hint = available.prefix(12).joined(separator: ", ")
            return "unknown GSL generator '\(name)' (known: \(hint), ...)"
        case let .generatorRangeTooSmall(name, range, available):
            let hint = available.prefix(12).joined(separator: ", ")
            return "GSL generator '\(name)' produces only \(range + 1) distinct values; use one with full 32-bit output (\(hint), ...)"
        case let .gsl(status, message, context):
            return "GSL error \(status) in \(context): \(message)"
        }
    }
}
