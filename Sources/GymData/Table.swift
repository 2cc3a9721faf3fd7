import Foundation

/// What a column of a real table is to the persona pipeline.
public enum ColumnRole: String, Sendable, Codable, CaseIterable {
    /// Modelled by the Gaussian mixture.
    case numeric
    /// Modelled by per-component frequencies.
    case categorical
    /// A categorical column that, with the other quasi-identifiers, could single people out:
    /// modelled like `categorical`, and group patterns over these columns are k-anonymised.
    case quasiIdentifier = "quasi_identifier"
    /// Identifies a row or a person: dropped (never modelled, never copied).
    case identifier
    /// The privacy unit: rows with the same value belong to one user, whose contribution is
    /// bounded. Dropped after that.
    case user
}

/// One column's role and why it has it.
public struct ColumnSchema: Sendable, Equatable, Codable {
    public var name: String
    public var role: ColumnRole
    /// "inferred: ..." or "configured".
    public var reason: String
}

/// A table ready for fitting: numeric columns as doubles, categorical columns as codes into their
/// sorted levels, and the user of every row.
public struct DataTable: Sendable {
    public var file: String
    public var schema: [ColumnSchema]
    public var numericNames: [String]
    /// numeric[j][i]: column j, row i.
    public var numeric: [[Double]]
    public var categoricalNames: [String]
    /// categorical[j][i]: the level index of row i in column j.
    public var categorical: [[Int]]
    /// The sorted distinct values of each categorical column.
    public var levels: [[String]]
    /// Names of the quasi-identifier columns (a subset of `categoricalNames`).
    public var quasiIdentifiers: [String]
    /// The user index of every row (rows without a user column: one user per row).
    public var user: [Int]
    public var userCount: Int
    /// The line of every row in the file.
    public var lines: [Int]

    public var rowCount: Int { lines.count }

    /// Infers the schema of `csv` (overridden by `roles`) and converts the values.
    ///
    /// Inference: the unnamed first column is an identifier (a row index). A column whose every
    /// value reads as a number is numeric; otherwise it is categorical, unless it has more than
    /// max(50, rows / 2) distinct values, which makes it an identifier. Errors (with the line and
    /// column): a role for a column the file lacks, a non-numeric, empty, NaN or infinite value in
    /// a numeric column, no numeric and no categorical column left.
    public static func build(_ csv: CSVText, file: String, roles: [String: ColumnRole] = [:]) throws -> DataTable {
        let n = csv.rows.count
        for name in roles.keys.sorted() where !csv.header.contains(name) {
            let near = csv.header.min { editDistance($0, name) < editDistance($1, name) }
            let hint = near.map { editDistance($0, name) <= max(2, name.count / 3) ? " (did you mean '\($0)'?)" : "" } ?? ""
            throw DataError(file: file, line: csv.lines.first.map { $0 - 1 }, column: name,
                            message: "the configuration names this column but the file has no such column\(hint)")
        }
        var schema: [ColumnSchema] = []
        for (j, name) in csv.header.enumerated() {
            if let r = roles[name] { schema.append(ColumnSchema(name: name, role: r, reason: "configured")); continue }
            if name.isEmpty && j == 0 { schema.append(ColumnSchema(name: name, role: .identifier, reason: "inferred: unnamed first column (a row index)")); continue }
            var allNumeric = true
            var distinct = Set<String>()
            for row in csv.rows {
                let v = row[j]
                if allNumeric && Double(v.trimmingCharacters(in: .whitespaces)) == nil { allNumeric = false }
                if distinct.count <= max(50, n / 2) { distinct.insert(v) }
            }
            if allNumeric {
                schema.append(ColumnSchema(name: name, role: .numeric, reason: "inferred: every value is a number"))
            } else if distinct.count > max(50, n / 2) {
                schema.append(ColumnSchema(name: name, role: .identifier, reason: "inferred: more than \(max(50, n / 2)) distinct text values"))
            } else {
                schema.append(ColumnSchema(name: name, role: .categorical, reason: "inferred: \(distinct.count) distinct text values"))
            }
        }
        var table = DataTable(file: file, schema: schema, numericNames: [], numeric: [], categoricalNames: [], categorical: [],
                              levels: [], quasiIdentifiers: [], user: [], userCount: 0, lines: csv.lines)
        var userColumn: Int?
        for (j, col) in schema.enumerated() {
            switch col.role {
            case .numeric:
                var values = [Double](repeating: 0, count: n)
                for i in 0..<n {
                    let raw = csv.rows[i][j]
                    let t = raw.trimmingCharacters(in: .whitespaces)
                    if t.isEmpty { throw DataError(file: file, line: csv.lines[i], column: col.name, message: "missing value in a numeric column") }
                    guard let v = Double(t) else {
                        throw DataError(file: file, line: csv.lines[i], column: col.name, message: "'\(raw)' is not a number (the column is numeric)")
                    }
                    guard v.isFinite else {
                        throw DataError(file: file, line: csv.lines[i], column: col.name, message: "'\(raw)': NaN and infinite values are not allowed")
                    }
                    values[i] = v
                }
                table.numericNames.append(col.name)
                table.numeric.append(values)
            case .categorical, .quasiIdentifier:
                let lv = Array(Set(csv.rows.map { $0[j] })).sorted()
                let index = Dictionary(uniqueKeysWithValues: lv.enumerated().map { ($1, $0) })
                table.categoricalNames.append(col.name)
                table.categorical.append(csv.rows.map { index[$0[j]]! })
                table.levels.append(lv)
                if col.role == .quasiIdentifier { table.quasiIdentifiers.append(col.name) }
            case .user:
                if let u = userColumn {
                    throw DataError(file: file, column: col.name, message: "a second user column (the first is '\(schema[u].name)')")
                }
                userColumn = j
            case .identifier:
                break
            }
        }
        if let u = userColumn {
            var ids: [String: Int] = [:]
            table.user = csv.rows.map { row in
                if let k = ids[row[u]] { return k }
                ids[row[u]] = ids.count
                return ids.count - 1
            }
            table.userCount = ids.count
        } else {
            table.user = Array(0..<n)
            table.userCount = n
        }
        if table.numericNames.isEmpty && table.categoricalNames.isEmpty {
            throw DataError(file: file, message: "no numeric or categorical column to model (every column is an identifier or the user)")
        }
        return table
    }
}

/// Levenshtein distance (for did-you-mean hints).
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count), cur = prev
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[y.count]
}
