import XCTest
import GymCore
import GymRandom
@testable import GymSim

final class CartPoleTests: XCTestCase {
    /// Reference trajectories from Gymnasium 1.4.0's CartPole-v1 (`env.unwrapped`, state set by
    /// hand, then stepped), printed with Python's repr.
    func testMatchesGymnasiumTrajectory() {
        let env = CartPole()
        env.reset(seed: SeedTree(root: 1))
        env.setState([0.01, -0.02, 0.03, 0.04])
        var last = StepResult()
        for a in [1, 0, 0, 1, 1, 1, 0, 1, 0, 0] { last = env.step(ActionChoice(action: a, propensity: 1)) }
        let want = [0.03293383706570074, -0.02379962460232901, 0.0054623041616948635, 0.12379799946559022]
        for i in 0..<4 { XCTAssertEqual(env.observation[i], want[i], accuracy: 1e-14) }
        XCTAssertFalse(last.terminated)
        // Always pushing right from rest terminates on the 9th step (the pole falls past 12 degrees).
        env.setState([0, 0, 0, 0])
        var n = 0
        repeat { last = env.step(ActionChoice(action: 1, propensity: 1)); n += 1 } while !last.terminated && n < 100
        XCTAssertEqual(n, 9)
        let end = [0.14065097203306187, 1.7603811257683097, -0.21518604988500967, -2.777886494012814]
        for i in 0..<4 { XCTAssertEqual(env.observation[i], end[i], accuracy: 1e-13) }
        XCTAssertEqual(last.reward, 1)
    }

    func testTruncatesAt500AndResetsInRange() {
        let env = CartPole()
        env.reset(seed: SeedTree(root: 2))
        for v in env.observation { XCTAssertTrue((-0.05...0.05).contains(v)) }
        // A balancing controller (push toward the pole's lean) survives until the time limit.
        var r = StepResult()
        var steps = 0
        repeat {
            let o = env.observation
            r = env.step(ActionChoice(action: o[2] + 0.5 * o[3] > 0 ? 1 : 0, propensity: 1))
            steps += 1
        } while !r.terminated && !r.truncated
        XCTAssertEqual(steps, 500)
        XCTAssertTrue(r.truncated)
        XCTAssertFalse(r.terminated)
        let problems = EnvironmentChecker.check({ CartPole() }, seed: SeedTree(root: 3), steps: 200, rewardRange: 0...1)
        XCTAssertEqual(problems, [])
    }
}
