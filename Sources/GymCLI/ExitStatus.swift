import ArgumentParser
import Foundation
import GymCore

/// The one mapping from errors to exit codes (sysexits):
/// 0 ok / gate passed; 1 gate failed and nothing else; 64 bad flags; 65 bad input (every
/// `BadInputError`: scenarios, data files, models, checkpoints, ledgers); 70 internal error (any
/// error that says nothing of its kind); 73 an output cannot be created; 74 I/O error.
enum ExitStatus {
    static let gateFailed: Int32 = 1
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let software: Int32 = 70
    static let cannotCreate: Int32 = 73
    static let ioError: Int32 = 74

    static func code(for kind: FailureKind) -> Int32 {
        switch kind {
        case .badInput: return dataError
        case .cannotCreateOutput: return cannotCreate
        case .ioError: return ioError
        case .internalError: return software
        }
    }

    /// Errors the argument parser prints and maps itself: help, version, ValidationError (64), and
    /// its internal CommandError (thrown by the `HelpCommand` that `parseAsRoot` returns for
    /// `--help`).
    static func isArgumentParserExit(_ error: Error) -> Bool {
        error is CleanExit || error is ValidationError || error is ExitCode
            || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    /// What to print (nil: already printed) and the exit code.
    static func describe(_ error: Error) -> (message: String?, code: Int32) {
        if error is GateFailed { return (nil, gateFailed) }
        if let e = error as? AlreadyReported { return (nil, code(for: e.failureKind)) }
        if let e = error as? ClassifiedError { return (withErrorTag(e.description), code(for: e.failureKind)) }
        // Anything else is a bug: say so, in words (never a raw Foundation dump).
        let text = (error as NSError).domain == NSCocoaErrorDomain ? (error as NSError).localizedDescription : String(describing: error)
        return ("error: internal error: \(text) (please report it)", software)
    }

    /// Messages read `place: error: ...`; one without the tag gets `error: ` in front.
    static func withErrorTag(_ s: String) -> String {
        s.contains("error:") ? s : "error: " + s
    }
}
