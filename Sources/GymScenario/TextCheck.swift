/// Byte-level checks run before the YAML parser sees the text, so that binary files and invalid
/// UTF-8 get a clear message with the offset of the first bad byte (and nothing downstream can trap).
enum TextCheck {
    struct Problem: Equatable {
        /// 0-based offset of the first bad byte.
        let offset: Int
        let line: Int
        let column: Int
        let message: String
    }

    /// The first byte that makes `bytes` unacceptable as YAML text, if any: invalid UTF-8, or a
    /// character YAML does not allow (control characters other than tab, line feed and carriage return).
    static func firstProblem(in bytes: [UInt8]) -> Problem? {
        var i = 0
        var line = 1, lineStart = 0
        func place(_ offset: Int) -> (line: Int, column: Int) {
            // Column in Unicode scalars, as libyaml counts: every byte that is not a continuation byte.
            var column = 1
            var j = lineStart
            while j < offset { if bytes[j] & 0xC0 != 0x80 { column += 1 }; j += 1 }
            return (line, column)
        }
        while i < bytes.count {
            let b0 = bytes[i]
            var scalar: UInt32
            var length: Int
            switch b0 {
            case 0x00...0x7F: scalar = UInt32(b0); length = 1
            case 0xC2...0xDF: scalar = UInt32(b0 & 0x1F); length = 2
            case 0xE0...0xEF: scalar = UInt32(b0 & 0x0F); length = 3
            case 0xF0...0xF4: scalar = UInt32(b0 & 0x07); length = 4
            default:
                let p = place(i)
                return Problem(offset: i, line: p.line, column: p.column, message: invalidUTF8(b0, i))
            }
            if length > 1 {
                guard i + length <= bytes.count else {
                    let p = place(i)
                    return Problem(offset: i, line: p.line, column: p.column,
                                   message: "the file is not valid UTF-8 text: it ends inside a multi-byte character starting at byte offset \(i)")
                }
                for k in 1..<length {
                    let b = bytes[i + k]
                    guard b & 0xC0 == 0x80 else {
                        let p = place(i)
                        return Problem(offset: i + k, line: p.line, column: p.column, message: invalidUTF8(b, i + k))
                    }
                    scalar = scalar << 6 | UInt32(b & 0x3F)
                }
                // Overlong forms, surrogates and values above U+10FFFF are not UTF-8.
                let minimum: UInt32 = length == 2 ? 0x80 : (length == 3 ? 0x800 : 0x10000)
                if scalar < minimum || (0xD800...0xDFFF).contains(scalar) || scalar > 0x10FFFF {
                    let p = place(i)
                    return Problem(offset: i, line: p.line, column: p.column, message: invalidUTF8(b0, i))
                }
            }
            if !isPrintable(scalar) {
                let p = place(i)
                let name = scalar == 0 ? "a NUL byte" : "the control character U+\(hex(scalar, width: 4))"
                return Problem(offset: i, line: p.line, column: p.column,
                               message: "the file contains \(name) at byte offset \(i); a scenario must be plain text "
                                + "(YAML allows no control characters besides tab and line breaks)")
            }
            // Line breaks as libyaml counts them: LF, CR LF (counted at the LF), a lone CR, NEL, LS, PS.
            let lineBreak = scalar == 0x0A || scalar == 0x85 || scalar == 0x2028 || scalar == 0x2029
                || (scalar == 0x0D && (i + 1 >= bytes.count || bytes[i + 1] != 0x0A))
            i += length
            if lineBreak { line += 1; lineStart = i }
        }
        return nil
    }

    /// YAML 1.2's printable set (c-printable).
    static func isPrintable(_ s: UInt32) -> Bool {
        switch s {
        case 0x09, 0x0A, 0x0D, 0x20...0x7E, 0x85, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    private static func invalidUTF8(_ byte: UInt8, _ offset: Int) -> String {
        "the file is not valid UTF-8 text: byte 0x\(hex(UInt32(byte), width: 2)) at byte offset \(offset) (is it a binary file?)"
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
