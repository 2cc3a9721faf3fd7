import Foundation

/// Writes a file in constant memory: bytes gather in a 1 MiB buffer that is flushed to a
/// temporary file beside the destination; `commit()` renames it into place, so a reader never
/// sees a half-written file, and a writer dropped without `commit()` removes its temporary file.
public final class StreamWriter {
    public let path: String
    let tmpPath: String
    let handle: FileHandle
    let capacity = 1 << 20
    let buffer: UnsafeMutablePointer<UInt8>
    var count = 0
    var committed = false
    public private(set) var bytesWritten = 0
    /// The first write error (reported by `endRecord` or `commit`).
    var failure: DataError?

    public init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw DataError(file: path, message: "the directory '\(dir)' does not exist")
        }
        tmpPath = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: tmpPath, contents: nil), let h = FileHandle(forWritingAtPath: tmpPath) else {
            throw DataError(file: path, message: "cannot create a file in '\(dir)'")
        }
        handle = h
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        if !committed {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: tmpPath)
        }
        buffer.deallocate()
    }

    /// Makes room for `n` more bytes.
    @inline(__always) func reserve(_ n: Int) {
        if count + n > capacity { flushBuffer() }
    }

    @inline(__always) public func byte(_ b: UInt8) {
        reserve(1)
        buffer[count] = b
        count += 1
    }

    public func write(_ s: String) {
        var s = s
        s.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    public func write(_ s: StaticString) { s.withUTF8Buffer { bytes(UnsafeRawBufferPointer($0)) } }

    func bytes(_ p: UnsafeRawBufferPointer) {
        var rest = p
        while !rest.isEmpty {
            reserve(min(rest.count, capacity))
            let n = min(rest.count, capacity - count)
            (buffer + count).update(from: rest.baseAddress!.assumingMemoryBound(to: UInt8.self), count: n)
            count += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
    }

    public func write(_ i: Int) {
        reserve(21)
        var v = i.magnitude
        if i < 0 { buffer[count] = UInt8(ascii: "-"); count += 1 }
        var digits = 1
        var t = v
        while t >= 10 { t /= 10; digits += 1 }
        var k = count + digits - 1
        repeat { buffer[k] = UInt8(48 + v % 10); v /= 10; k -= 1 } while v > 0
        count += digits
    }

    /// The shortest decimal that reads back as the same double (the digits of Swift's
    /// `description`); callers keep NaN and infinities out of data files.
    public func write(_ x: Double) {
        reserve(40)
        // Double's TextOutputStreamable formats into a stack buffer and hands the ASCII bytes to
        // `_writeASCII`: no String per number.
        var sink = RawSink(base: buffer + count)
        x.write(to: &sink)
        count += sink.n
    }

    /// Reports a failed flush; call after each record.
    @inline(__always) public func endRecord() throws {
        if let failure { throw failure }
    }

    func flushBuffer() {
        guard count > 0 else { return }
        if failure == nil {
            do { try handle.write(contentsOf: UnsafeRawBufferPointer(start: buffer, count: count)) } catch {
                failure = DataError(file: path, message: "write failed: \((error as NSError).localizedDescription)")
            }
        }
        bytesWritten += count
        count = 0
    }

    /// Flushes, closes and renames the file into place.
    public func commit() throws {
        flushBuffer()
        if let failure { throw failure }
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try? FileManager.default.removeItem(atPath: path) }
        do { try FileManager.default.moveItem(atPath: tmpPath, toPath: path) } catch {
            throw DataError(file: path, message: "cannot move the finished file into place: \((error as NSError).localizedDescription)")
        }
        committed = true
    }
}

/// Receives a formatted number's bytes for `StreamWriter` (room is reserved beforehand).
struct RawSink: TextOutputStream {
    let base: UnsafeMutablePointer<UInt8>
    var n = 0
    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { u in (base + n).update(from: u.baseAddress!, count: u.count); n += u.count }
    }
    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        (base + n).update(from: buffer.baseAddress!, count: buffer.count)
        n += buffer.count
    }
}
