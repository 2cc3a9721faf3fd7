import Foundation
import XCTest
import GymTestSupport

/// Runs the real `optima-gym` binary in a temporary directory.
class CLITestCase: XCTestCase {
    static var binary: URL {
        // The test runner sits in the build products directory, next to the executable.
        #if os(macOS)
        let products = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }!.bundleURL.deletingLastPathComponent()
        #else
        let products = Bundle.main.bundleURL
        #endif
        return products.appendingPathComponent("optima-gym")
    }

    struct Result { let code: Int32; let stdout: String; let stderr: String }

    @discardableResult
    func run(_ args: [String], cwd: URL? = nil, environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = CLITestCase.binary
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for k in ["JOB_COMPLETION_INDEX", "OPTIMA_SHARD_COUNT", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT"] { env[k] = nil }
        // Each test registers its runs in a store of its own, not in the repository's reports/.
        if let tmp { env["OPTIMA_GYM_STORE"] = tmp.appendingPathComponent("optima.sqlite").path }
        for (k, v) in environment { env[k] = v }
        p.environment = env
        p.currentDirectoryURL = cwd ?? repositoryRoot()
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(code: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("optima-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: CLITestCase.binary.path), "build the package first: \(CLITestCase.binary.path)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }
}
