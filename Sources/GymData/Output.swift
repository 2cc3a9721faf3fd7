import Foundation
import GymCore

/// An output that cannot be written: refused before any work because it would destroy something
/// or has no directory (exit 73), or failed part-way (exit 74). Nothing that existed before is
/// ever removed or overwritten by a failure.
public enum OutputError: ClassifiedError, Equatable {
    /// The path cannot be used as an output: it is a directory, an existing file, an input...
    case cannotCreate(path: String, reason: String)
    /// Writing, flushing or renaming failed.
    case io(path: String, reason: String)

    public var failureKind: FailureKind {
        switch self {
        case .cannotCreate: return .cannotCreateOutput
        case .io: return .ioError
        }
    }

    public var description: String {
        switch self {
        case let .cannotCreate(p, r): return "\(p): error: cannot create the output: \(r)"
        case let .io(p, r): return "\(p): error: \(r)"
        }
    }
}

/// Names of temporary files and directories, `.tmp-<pid>@<host>~<n>~<name>`, and the sweep of
/// stale ones. A temporary is stale when its host is this host and its process no longer exists:
/// one left by a process on another host (a shared filesystem on a cluster) is never touched,
/// since that process may still be writing.
public enum TempName {
    public static let prefix = ".tmp-"
    nonisolated(unsafe) static var counter = 0
    static let lock = NSLock()

    /// This machine's host name (`gethostname`), with characters that would break the name's
    /// parsing replaced.
    public static let host: String = {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "localhost" }
        let h = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let clean = String(h.map { $0 == "~" || $0 == "/" || $0 == "@" ? "_" : $0 })
        return clean.isEmpty ? "localhost" : clean
    }()

    /// A fresh temporary path beside `destination` (same directory, so a rename is atomic).
    public static func beside(_ destination: URL) -> URL {
        lock.lock(); counter += 1; let n = counter; lock.unlock()
        return destination.deletingLastPathComponent()
            .appendingPathComponent("\(prefix)\(getpid())@\(host)~\(n)~\(destination.lastPathComponent)")
    }

    /// (pid, host) of a temporary name, nil for any other name.
    public static func parse(_ name: String) -> (pid: Int32, host: String)? {
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let at = rest.firstIndex(of: "@"), let pid = Int32(rest[..<at]), pid > 0 else { return nil }
        let afterAt = rest[rest.index(after: at)...]
        guard let tilde = afterAt.firstIndex(of: "~") else { return nil }
        return (pid, String(afterAt[..<tilde]))
    }

    /// Whether a temporary of this name was left by a process of this host that has ended.
    public static func isStale(_ name: String) -> Bool {
        guard let (pid, h) = parse(name), h == host else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Removes the stale temporaries in `directory` (files and directories); returns their names.
    @discardableResult
    public static func removeStale(in directory: URL) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var removed: [String] = []
        for name in names.sorted() where isStale(name) {
            if (try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))) != nil { removed.append(name) }
        }
        return removed
    }
}

/// Checks made before any work, so that a command never destroys what it did not create.
public enum OutputGuard {
    /// File status following symlinks, nil when the path does not exist.
    static func status(_ path: String) -> stat? {
        var st = stat()
        return stat(path, &st) == 0 ? st : nil
    }

    static func isDirectory(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFDIR }
    static func isRegular(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFREG }

    /// The absolute path with symlinks resolved; for a path that does not exist, its directory
    /// resolved and the last component kept.
    public static func resolved(_ path: String) -> String {
        let abs = URL(fileURLWithPath: path).standardizedFileURL
        if let r = realpath(abs.path, nil) { defer { free(r) }; return String(cString: r) }
        let parent = abs.deletingLastPathComponent().path
        if let r = realpath(parent, nil) {
            defer { free(r) }
            return URL(fileURLWithPath: String(cString: r)).appendingPathComponent(abs.lastPathComponent).path
        }
        return abs.path
    }

    /// Whether two paths name the same file: the same device and inode when both exist (symlinks
    /// and hard links included), else the same resolved path.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        if let x = status(a), let y = status(b) { return x.st_dev == y.st_dev && x.st_ino == y.st_ino }
        return resolved(a) == resolved(b)
    }

    /// Refuses an output file that would destroy something, before any work: a directory (or a
    /// symlink to one), an existing file unless `overwrite`, anything that is not a regular file,
    /// a path that is one of `inputs` (symlinks followed), or a missing directory. `flag` names
    /// the option in the message. `-` (standard output) is always accepted.
    public static func checkFile(_ path: String, flag: String, inputs: [(flag: String, path: String)] = [], overwrite: Bool = false) throws {
        if path == "-" { return }
        guard !path.isEmpty else { throw OutputError.cannotCreate(path: path, reason: "\(flag) is empty") }
        for input in inputs where sameFile(path, input.path) {
            throw OutputError.cannotCreate(path: path, reason: "\(flag) is the same file as the input \(input.flag) \(input.path); writing it would destroy the input (nothing was done)")
        }
        if let st = status(path) {
            if isDirectory(st) {
                throw OutputError.cannotCreate(path: path, reason: "\(flag) is an existing directory; give the path of a file to create (nothing was done)")
            }
            guard isRegular(st) else {
                throw OutputError.cannotCreate(path: path, reason: "\(flag) exists and is not a regular file (nothing was done)")
            }
            if !overwrite {
                throw OutputError.cannotCreate(path: path, reason: "\(flag) exists; remove it, choose another path, or add --force to replace it (nothing was done)")
            }
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard let d = status(dir), isDirectory(d) else {
            throw OutputError.cannotCreate(path: path, reason: "the directory '\(dir)' does not exist")
        }
    }

    /// Creates a directory (and its parents), or an `OutputError` naming it.
    public static func makeDirectory(_ url: URL) throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw OutputError.cannotCreate(path: url.path, reason: "cannot create the directory: \((error as NSError).localizedDescription)")
        }
    }

    /// Refuses an output directory that exists and is not empty (or is a file), before any work.
    public static func checkDirectory(_ path: String, flag: String) throws {
        guard !path.isEmpty else { throw OutputError.cannotCreate(path: path, reason: "\(flag) is empty") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return }
        guard isDir.boolValue else {
            throw OutputError.cannotCreate(path: path, reason: "\(flag) is an existing file, not a directory (nothing was done)")
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]
        if !contents.isEmpty {
            throw OutputError.cannotCreate(path: path, reason: "\(flag) is a directory that is not empty; choose another (nothing was done)")
        }
    }
}

/// Writes one small file atomically: a temporary file beside it, then a rename. With
/// `overwrite: false` an existing file is never replaced (link(2) fails instead).
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to url: URL, overwrite: Bool = true) throws {
        let tmp = TempName.beside(url)
        // Written in place under our own temporary name (FileManager.createFile would write
        // through a second, Foundation-named temporary that a kill -9 could leave behind).
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw OutputError.cannotCreate(path: url.path, reason: "cannot create a file in '\(url.deletingLastPathComponent().path)': \(String(cString: strerror(errno)))")
        }
        var done = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; return false }
                done += n
            }
            return true
        }
        let reason = ok ? "" : String(cString: strerror(errno))
        close(fd)
        guard ok else {
            unlink(tmp.path)
            throw OutputError.cannotCreate(path: url.path, reason: "cannot write '\(tmp.path)': \(reason)")
        }
        try place(tmp, at: url, overwrite: overwrite)
    }

    public static func write(_ text: String, to url: URL, overwrite: Bool = true) throws {
        try write(Array(text.utf8), to: url, overwrite: overwrite)
    }

    /// Moves a finished temporary file into place (removing the temporary on failure). rename(2)
    /// replaces a file and fails on a directory; link(2) fails when anything exists there.
    static func place(_ tmp: URL, at url: URL, overwrite: Bool) throws {
        if overwrite {
            if rename(tmp.path, url.path) != 0 {
                let e = String(cString: strerror(errno))
                unlink(tmp.path)
                throw OutputError.io(path: url.path, reason: "cannot move the finished file into place: \(e)")
            }
        } else {
            if link(tmp.path, url.path) != 0 {
                let code = errno
                unlink(tmp.path)
                if code == EEXIST { throw OutputError.cannotCreate(path: url.path, reason: "it appeared while this command ran; nothing was replaced") }
                throw OutputError.io(path: url.path, reason: "cannot move the finished file into place: \(String(cString: strerror(code)))")
            }
            unlink(tmp.path)
        }
    }
}

/// Writes a set of files as one unit: everything goes to a hidden temporary directory beside the
/// destination, renamed into place at the end. A failure part-way leaves no partial report, and
/// stale temporaries of killed processes on this host are removed first.
public final class AtomicDirectory {
    public let destination: URL
    let temporary: URL
    var committed = false
    public private(set) var files: [String] = []

    /// The temporary directory, for writers that fill it themselves before `commit()`.
    public var temporaryURL: URL { temporary }

    public init(destination: URL, flag: String = "--out") throws {
        self.destination = destination
        try OutputGuard.checkDirectory(destination.path, flag: flag)
        let fm = FileManager.default
        let parent = destination.deletingLastPathComponent()
        do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw OutputError.cannotCreate(path: parent.path, reason: "cannot create the directory: \((error as NSError).localizedDescription)")
        }
        TempName.removeStale(in: parent)
        temporary = TempName.beside(destination)
        do { try fm.createDirectory(at: temporary, withIntermediateDirectories: false) } catch {
            throw OutputError.cannotCreate(path: destination.path, reason: "cannot create a directory in '\(parent.path)': \((error as NSError).localizedDescription)")
        }
    }

    public func write(_ relative: String, _ text: String) throws {
        try write(relative, bytes: Array(text.utf8))
    }

    public func write(_ relative: String, bytes: [UInt8]) throws {
        let url = temporary.appendingPathComponent(relative)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        } catch {
            throw OutputError.io(path: destination.appendingPathComponent(relative).path, reason: "cannot write: \((error as NSError).localizedDescription)")
        }
        files.append(relative)
    }

    /// Moves the finished directory into place. rename(2) replaces an empty directory and fails
    /// on a non-empty one, so a report that appeared meanwhile is never overwritten.
    public func commit() throws {
        if rename(temporary.path, destination.path) != 0 {
            let msg = String(cString: strerror(errno))
            throw OutputError.io(path: destination.path, reason: "cannot move the report into place: \(msg)")
        }
        committed = true
    }

    deinit {
        if !committed { try? FileManager.default.removeItem(at: temporary) }
    }
}
