import Foundation
import GymCore

/// A problem in a data file, with its place: file, line (1-based, physical lines), and the column
/// when one is involved.
public struct DataError: BadInputError, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var column: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: String? = nil, message: String) {
        self.file = file; self.line = line; self.column = column; self.message = message
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { return "\(place): error: column '\(column)': \(message)" }
        return "\(place): error: \(message)"
    }
}
