import Foundation

/// A CSV file as text fields: the header and the data rows, each with the physical line it
/// starts on. RFC 4180: comma-separated, fields optionally in double quotes, `""` is a quote
/// inside a quoted field, quoted fields may hold commas and newlines; lines end in LF or CRLF.
/// Blank lines are skipped.
public struct CSVText: Sendable {
    public var header: [String]
    public var rows: [[String]]
    /// The line each row starts on.
    public var lines: [Int]

    /// Parses `path`. Errors: unreadable file, not UTF-8, no header, an unterminated quote (the
    /// line where the quoted field opened), text after a closing quote, a row whose field count
    /// differs from the header's, a repeated or empty column name.
    public static func read(path: String) throws -> CSVText {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DataError(file: path, message: "cannot read the file: \((error as NSError).localizedDescription)")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> CSVText {
        guard String(data: data, encoding: .utf8) != nil else {
            throw DataError(file: file, message: "not a UTF-8 text file")
        }
        if data.contains(0) { throw DataError(file: file, message: "not a text file (it contains NUL bytes)") }
        var records: [[String]] = []
        var recordLines: [Int] = []
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            let n = b.count
            var i = 0
            var line = 1
            var fields: [String] = []
            var field: [UInt8] = []
            var recordStart = 1
            var atFieldStart = true
            var sawAny = false   // the current record has content
            func endField() {
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
            }
            func endRecord() {
                endField()
                if !(fields.count == 1 && fields[0].isEmpty && !sawAny) {
                    records.append(fields)
                    recordLines.append(recordStart)
                }
                fields.removeAll(keepingCapacity: true)
                sawAny = false
            }
            while i < n {
                let c = b[i]
                if atFieldStart && c == UInt8(ascii: "\"") {
                    // Quoted field.
                    let openLine = line
                    sawAny = true
                    i += 1
                    var closed = false
                    while i < n {
                        let q = b[i]
                        if q == UInt8(ascii: "\"") {
                            if i + 1 < n && b[i + 1] == UInt8(ascii: "\"") { field.append(q); i += 2; continue }
                            closed = true; i += 1; break
                        }
                        if q == UInt8(ascii: "\n") { line += 1 }
                        field.append(q); i += 1
                    }
                    guard closed else {
                        throw DataError(file: file, line: openLine, message: "unbalanced quotes: the quoted field opened on this line is never closed")
                    }
                    // After the closing quote: a separator, a line end or the end of the file.
                    if i < n {
                        let nx = b[i]
                        let crlf = nx == UInt8(ascii: "\r") && i + 1 < n && b[i + 1] == UInt8(ascii: "\n")
                        if nx != UInt8(ascii: ","), nx != UInt8(ascii: "\n"), !crlf {
                            throw DataError(file: file, line: line, message: "unexpected text after a closing quote (a quote inside a quoted field must be doubled)")
                        }
                    }
                    atFieldStart = false
                    continue
                }
                switch c {
                case UInt8(ascii: ","):
                    endField(); atFieldStart = true; sawAny = true; i += 1
                case UInt8(ascii: "\n"):
                    endRecord(); line += 1; recordStart = line; atFieldStart = true; i += 1
                case UInt8(ascii: "\r") where i + 1 < n && b[i + 1] == UInt8(ascii: "\n"):
                    i += 1   // the LF ends the record
                case UInt8(ascii: "\""):
                    throw DataError(file: file, line: line, message: "a quote inside an unquoted field (quote the whole field and double the quote)")
                default:
                    field.append(c); sawAny = true; atFieldStart = false; i += 1
                }
            }
            if sawAny || !field.isEmpty || !fields.isEmpty { endRecord() }
        }
        guard let header = records.first else { throw DataError(file: file, message: "empty table: no header line") }
        var seen = Set<String>()
        for (j, name) in header.enumerated() {
            if name.isEmpty && j > 0 { throw DataError(file: file, line: recordLines[0], message: "column \(j + 1) has an empty name") }
            if !seen.insert(name).inserted { throw DataError(file: file, line: recordLines[0], column: name, message: "the column name appears twice") }
        }
        for (r, row) in records.enumerated().dropFirst() where row.count != header.count {
            throw DataError(file: file, line: recordLines[r],
                            message: "ragged row: \(row.count) field\(row.count == 1 ? "" : "s"), the header has \(header.count)")
        }
        guard records.count > 1 else { throw DataError(file: file, line: recordLines[0], message: "empty table: a header and no data rows") }
        return CSVText(header: header, rows: Array(records.dropFirst()), lines: Array(recordLines.dropFirst()))
    }
}

/// CSV output: a field is quoted when it holds a comma, a quote, CR or LF.
public enum CSVFormat {
    public static func escape(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
