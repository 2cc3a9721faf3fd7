import Foundation
import XCTest
import GymCore
import GymRandom
import GymSim

/// A small, fast world for tests (debug builds run numeric code 10-50x slower).
public func smallSimConfig(users: Int = 200) -> SimConfig {
    var c = SimConfig()
    c.population.size = users
    c.population.personaDimension = 64
    c.population.candidatePool = 16
    return c
}

/// Runs `steps` decisions of `policy` on `world` (reset with `seed`) and returns the records.
@discardableResult
public func drive(_ world: JourneyWorld, _ policy: Policy, seed: SeedTree, steps: Int,
                  check: ((Int, [Bool]) -> Void)? = nil) -> RunRecords {
    world.reset(seed: seed)
    var k = 0
    while k < steps && !world.isDone {
        let mask = world.actionMask
        let c = policy.act(observation: world.observation, mask: mask, decision: world.decisionIndex,
                           truth: policy.isUpperBound ? world.hiddenTruth : nil)
        check?(c.action, mask)
        let r = world.step(c)
        policy.observe(r.feedback)
        k += 1
    }
    return world.finish(surveySeed: seed.child("survey"))
}

/// A policy that always takes a fixed preference order of action families.
public final class FixedPolicy: Policy {
    public let name = "fixed"
    public let isUpperBound = false
    public var learning = false
    let choose: ([Bool]) -> Int
    public init(_ choose: @escaping ([Bool]) -> Int) { self.choose = choose }
    public func act(observation: [Double], mask: [Bool], decision: Int, truth: HiddenTruth?) -> ActionChoice {
        ActionChoice(action: choose(mask), propensity: 1)
    }
    public func observe(_ feedback: [Feedback]) {}
}

/// The repository root, found from a test file's path.
public func repositoryRoot(_ file: String = #filePath) -> URL {
    var url = URL(fileURLWithPath: file)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}

/// The Open Bandit Dataset sample in the repository's `data/obd` (`scripts/get-obd.sh` fetches
/// it; `scripts/test.sh` does so before the tests). When it is missing the test is skipped, unless
/// OPTIMA_REQUIRE_DATA=1 (set by scripts/test.sh, so CI), where a missing sample fails the test.
public func obdSample(_ file: String = #filePath, caller: StaticString = #filePath, line: UInt = #line) throws -> URL {
    let dir = repositoryRoot(file).appendingPathComponent("data/obd")
    if FileManager.default.fileExists(atPath: dir.appendingPathComponent("random/all/all.csv").path) { return dir }
    let message = "the OBD sample is missing from \(dir.path); run scripts/get-obd.sh"
    if ProcessInfo.processInfo.environment["OPTIMA_REQUIRE_DATA"] == "1" {
        XCTFail(message + " (OPTIMA_REQUIRE_DATA=1: data the tests need must be there)", file: caller, line: line)
        throw MissingTestData(message: message)
    }
    throw XCTSkip(message)
}

public struct MissingTestData: Error { public let message: String }
