/// What kind of failure an error is. The command-line tool maps each kind to one exit code
/// (sysexits: 65 bad input, 70 internal, 73 cannot create an output, 74 I/O error); libraries only
/// say which kind they throw.
public enum FailureKind: Sendable, Equatable {
    /// A scenario, data file, model, checkpoint or ledger the user gave is wrong.
    case badInput
    /// An output cannot be created without destroying something, or its directory is missing.
    case cannotCreateOutput
    /// Reading or writing failed part-way (disk full, permissions changed, ...).
    case ioError
    /// A bug or an unexpected state.
    case internalError
}

/// An error that knows its failure kind and reads well when printed. The description is the
/// whole message, with its place first when it has one: `file:line: error: ...`.
public protocol ClassifiedError: Error, CustomStringConvertible {
    var failureKind: FailureKind { get }
}

/// Bad input (exit 65): every error type about a user's scenario, data, model, checkpoint or
/// ledger conforms to this one protocol.
public protocol BadInputError: ClassifiedError {}

extension BadInputError {
    public var failureKind: FailureKind { .badInput }
}
