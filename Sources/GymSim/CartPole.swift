import Foundation
import GymCore
import GymRandom

/// CartPole-v1 with exactly Gymnasium's equations and constants (classic_control/cartpole.py:
/// Euler integration, tau 0.02 s, force 10 N, pole half-length 0.5 m, masses 1.0 and 0.1 kg,
/// gravity 9.8). Reward 1 per step including the last; terminated when |x| > 2.4 or
/// |theta| > 12 degrees; truncated at 500 steps (the TimeLimit of CartPole-v1). Reset draws the
/// four state variables uniformly from [-0.05, 0.05].
///
/// It exists to check the PPO implementation against a public reference result.
public final class CartPole: Environment, EpisodeResettable {
    public static let gravity = 9.8, massCart = 1.0, massPole = 0.1
    public static let totalMass = massPole + massCart
    public static let length = 0.5
    public static let poleMassLength = massPole * length
    public static let forceMag = 10.0, tau = 0.02
    public static let thetaThreshold = 12 * 2 * Double.pi / 360
    public static let xThreshold = 2.4
    public static let maxSteps = 500

    public let observationLayout = ObservationLayout(segments: [ObservationSegment(name: "state", offset: 0, features: ["x", "x_dot", "theta", "theta_dot"])])
    public let actionLayout = ActionLayout(families: [ActionFamily(name: "push", range: 0..<2, labels: ["left", "right"])])
    public private(set) var observation: [Double] = [0, 0, 0, 0]
    public let actionMask = [true, true]
    public private(set) var decisionIndex = 0
    public var hiddenTruth: HiddenTruth? { nil }
    /// Steps in the current episode.
    public private(set) var elapsed = 0
    var stream: RandomStream?

    public init() {}

    public func reset(seed: SeedTree) {
        stream = seed.stream()
        decisionIndex = 0
        resetState()
    }

    public func resetEpisode() { resetState() }

    /// Starts a new episode with the same stream (auto-reset in a vector of environments).
    public func resetState() {
        guard let s = stream else { preconditionFailure("reset(seed:) first") }
        for i in 0..<4 { observation[i] = -0.05 + 0.1 * s.uniform() }
        elapsed = 0
    }

    /// Sets the physical state (tests compare trajectories with Gymnasium's).
    func setState(_ state: [Double]) { observation = state; elapsed = 0 }

    public func step(_ choice: ActionChoice) -> StepResult {
        var x = observation[0], xDot = observation[1], theta = observation[2], thetaDot = observation[3]
        let force = choice.action == 1 ? CartPole.forceMag : -CartPole.forceMag
        let cosT = cos(theta), sinT = sin(theta)
        let temp = (force + CartPole.poleMassLength * thetaDot * thetaDot * sinT) / CartPole.totalMass
        let thetaAcc = (CartPole.gravity * sinT - cosT * temp)
            / (CartPole.length * (4.0 / 3.0 - CartPole.massPole * cosT * cosT / CartPole.totalMass))
        let xAcc = temp - CartPole.poleMassLength * thetaAcc * cosT / CartPole.totalMass
        x += CartPole.tau * xDot
        xDot += CartPole.tau * xAcc
        theta += CartPole.tau * thetaDot
        thetaDot += CartPole.tau * thetaAcc
        observation[0] = x; observation[1] = xDot; observation[2] = theta; observation[3] = thetaDot
        elapsed += 1
        decisionIndex += 1
        let terminated = x < -CartPole.xThreshold || x > CartPole.xThreshold
            || theta < -CartPole.thetaThreshold || theta > CartPole.thetaThreshold
        let truncated = !terminated && elapsed >= CartPole.maxSteps
        return StepResult(reward: 1, terminated: terminated, truncated: truncated, executedAction: choice.action)
    }
}
