import Foundation
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

/// The shared data directory (`shared/data`, beside the repository on the development machines):
/// $OPTIMA_SHARED_DATA, else the first `shared/data` found next to the repository or one of its
/// ancestors, else /work/shared/data. nil when none exists.
public func sharedDataDirectory(_ file: String = #filePath) -> URL? {
    var candidates: [URL] = []
    if let env = ProcessInfo.processInfo.environment["OPTIMA_SHARED_DATA"] { candidates.append(URL(fileURLWithPath: env)) }
    var dir = repositoryRoot(file)
    while dir.path != "/" {
        dir.deleteLastPathComponent()
        candidates.append(dir.appendingPathComponent("shared/data"))
    }
    candidates.append(URL(fileURLWithPath: "/work/shared/data"))
    return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("obd").path) }
}
