import Foundation

/// A growable byte buffer with fast formatting of integers, doubles and strings.
public final class ByteBuffer {
    public private(set) var base: UnsafeMutablePointer<UInt8>
    public private(set) var capacity: Int
    public internal(set) var count = 0

    public init(capacity: Int = 1 << 16) {
        self.capacity = max(64, capacity)
        base = .allocate(capacity: self.capacity)
    }
    deinit { base.deallocate() }

    public func clear() { count = 0 }

    /// Makes room for `n` more bytes.
    @inline(__always) public func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    func grow(_ need: Int) {
        var c = capacity
        while c < need { c *= 2 }
        let nb = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        nb.update(from: base, count: count)
        base.deallocate()
        base = nb
        capacity = c
    }

    @inline(__always) public func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    public func write(_ s: String) {
        var s = s
        s.withUTF8 { u in
            reserve(u.count)
            (base + count).update(from: u.baseAddress!, count: u.count)
            count += u.count
        }
    }

    public func write(_ s: StaticString) {
        s.withUTF8Buffer { u in
            reserve(u.count)
            (base + count).update(from: u.baseAddress!, count: u.count)
            count += u.count
        }
    }

    public func write(_ i: Int) {
        reserve(21)
        var v = i.magnitude
        if i < 0 { base[count] = UInt8(ascii: "-"); count += 1 }
        var digits = 1
        var t = v
        while t >= 10 { t /= 10; digits += 1 }
        var k = count + digits - 1
        repeat { base[k] = UInt8(48 + v % 10); v /= 10; k -= 1 } while v > 0
        count += digits
    }

    /// The shortest decimal that reads back as the same double (the digits of Swift's
    /// `description`); callers keep NaN and infinities out of data files.
    public func write(_ x: Double) {
        reserve(40)
        // Double's TextOutputStreamable formats into a stack buffer and hands the ASCII bytes to
        // `_writeASCII`: no String per number.
        var sink = RawSink(base: base + count)
        x.write(to: &sink)
        count += sink.n
    }
}

/// Writes a file in constant memory: bytes gather in a 1 MiB buffer that is flushed to a
/// temporary file beside the destination; `commit()` renames it into place, so a reader never
/// sees a half-written file, and a writer dropped without `commit()` removes its temporary file.
/// The path `-` is standard output (streamed, nothing to rename).
public final class StreamWriter {
    public let path: String
    let tmpPath: String?
    let handle: FileHandle
    /// Write into this, then call `endRecord()`.
    public let buffer = ByteBuffer(capacity: (1 << 20) + (1 << 16))
    let limit = 1 << 20
    var committed = false
    public private(set) var bytesWritten = 0
    var failure: OutputError?
    let overwrite: Bool

    /// Opens a temporary file beside `path`. The path is checked first (`OutputGuard.checkFile`):
    /// a directory, an input, or an existing file without `overwrite` is refused.
    public init(path: String, flag: String = "--out", inputs: [(flag: String, path: String)] = [], overwrite: Bool = false) throws {
        self.path = path
        self.overwrite = overwrite
        if path == "-" {
            tmpPath = nil
            handle = FileHandle.standardOutput
            return
        }
        try OutputGuard.checkFile(path, flag: flag, inputs: inputs, overwrite: overwrite)
        let url = URL(fileURLWithPath: path)
        TempName.removeStale(in: url.deletingLastPathComponent())
        let tmp = TempName.beside(url).path
        guard FileManager.default.createFile(atPath: tmp, contents: nil), let h = FileHandle(forWritingAtPath: tmp) else {
            throw OutputError.cannotCreate(path: path, reason: "cannot create a file in '\(url.deletingLastPathComponent().path)'")
        }
        tmpPath = tmp
        handle = h
    }

    deinit {
        if !committed, let tmpPath {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: tmpPath)
        }
    }

    @inline(__always) public func byte(_ b: UInt8) { buffer.byte(b) }
    public func write(_ s: String) { buffer.write(s) }
    public func write(_ s: StaticString) { buffer.write(s) }
    public func write(_ i: Int) { buffer.write(i) }
    public func write(_ x: Double) { buffer.write(x) }

    /// Flushes a full buffer and reports a failed write; call after each record.
    @inline(__always) public func endRecord() throws {
        if buffer.count >= limit { flushBuffer() }
        if let failure { throw failure }
    }

    /// Writes another buffer's bytes (after what is buffered here).
    public func append(_ other: ByteBuffer) throws {
        flushBuffer()
        put(UnsafeRawBufferPointer(start: other.base, count: other.count))
        if let failure { throw failure }
    }

    func put(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if failure == nil {
            do { try handle.write(contentsOf: bytes) } catch {
                failure = OutputError.io(path: path, reason: "write failed: \((error as NSError).localizedDescription)")
            }
        }
        bytesWritten += bytes.count
    }

    func flushBuffer() {
        put(UnsafeRawBufferPointer(start: buffer.base, count: buffer.count))
        buffer.clear()
    }

    /// Flushes, closes and renames the file into place.
    public func commit() throws {
        flushBuffer()
        if let failure { throw failure }
        guard let tmpPath else { committed = true; return }
        do { try handle.close() } catch {
            throw OutputError.io(path: path, reason: "cannot close the file: \((error as NSError).localizedDescription)")
        }
        committed = true   // place() removes the temporary file on failure
        try AtomicFile.place(URL(fileURLWithPath: tmpPath), at: URL(fileURLWithPath: path), overwrite: overwrite)
    }

    /// Removes a file this writer committed (used when a later step of the same command fails,
    /// so that no output exists without what must accompany it).
    public func retract() {
        guard committed, tmpPath != nil else { return }
        unlink(path)
    }
}

/// Receives a formatted number's bytes (room is reserved beforehand).
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
