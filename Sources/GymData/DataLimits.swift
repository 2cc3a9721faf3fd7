/// Limits on sizes that come from data, checked before anything of that size is allocated, so
/// that a typo in a log (an action of 3,000,000,000, a position of 50,000,000) is an error naming
/// its line instead of a crash or a machine out of memory. Every limit can be raised by a flag.
public struct DataLimits: Sendable, Equatable {
    /// Largest action space (actions are 0 ..< maxActions): `--max-actions`.
    public var maxActions: Int
    /// Largest number of slate positions (positions are 0 ..< maxPositions): `--max-positions`.
    public var maxPositions: Int
    /// Largest table of rows x actions (masks, a candidate's per-row probabilities): `--max-table-cells`.
    public var maxTableCells: Int
    /// Largest number of discrete states in a trajectory log (states are 0 ..< maxStates): `--max-states`.
    public var maxStates: Int = 1_000_000

    /// 10,000 actions, 100 positions, 500 million table cells (4 GB of doubles).
    public static let standard = DataLimits(maxActions: 10_000, maxPositions: 100, maxTableCells: 500_000_000)

    public init(maxActions: Int, maxPositions: Int, maxTableCells: Int) {
        self.maxActions = maxActions; self.maxPositions = maxPositions; self.maxTableCells = maxTableCells
    }

    /// Checks a count-like value read from a file: an integer in 0 ..< limit, or an error naming
    /// the place, the value and the flag that raises the limit.
    public func index(_ text: String, limit: Int, flag: String, what: String, file: String, line: Int?, column: String) throws -> Int {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let v = Int(t), v >= 0 else {
            // Digits only but too large for Int: still a range error, not a format error.
            if !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }) {
                throw DataError(file: file, line: line, column: column, message: "\(t) is above the limit of \(limit) \(what)s (raise it with \(flag))")
            }
            throw DataError(file: file, line: line, column: column, message: "'\(text)' is not a non-negative integer")
        }
        guard v < limit else {
            throw DataError(file: file, line: line, column: column, message: "\(v) is above the limit of \(limit) \(what)s (0..\(limit - 1); raise it with \(flag))")
        }
        return v
    }

    /// Checks a rows x actions table before it is allocated.
    public func checkTable(rows: Int, actions: Int, file: String, what: String) throws {
        let (cells, overflow) = rows.multipliedReportingOverflow(by: actions)
        guard !overflow, cells <= maxTableCells else {
            throw DataError(file: file, message: "\(what) would hold \(rows) rows x \(actions) actions, above the limit of \(maxTableCells) cells (raise it with --max-table-cells)")
        }
    }
}

import Foundation
