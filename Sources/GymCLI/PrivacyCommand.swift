import ArgumentParser
import Foundation
import GymEval

struct PrivacyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "privacy",
        abstract: "Differential-privacy accounting (RDP) for the Gaussian mechanism and DP-SGD's subsampled Gaussian.",
        subcommands: [PrivacyEpsilonCommand.self, PrivacySigmaCommand.self, PrivacyLedgerCommand.self]
    )
}

/// Flags shared by the accounting verbs.
struct MechanismOptions: ParsableArguments {
    @Option(help: "Number of releases (compositions) of the mechanism.")
    var steps: Int = 1

    @Option(name: .customLong("sampling-rate"), help: "Poisson sampling rate q in (0, 1] (1: every record in every release, no subsampling).")
    var samplingRate: Double = 1

    @Option(help: "The delta of the (epsilon, delta) guarantee, in (0, 1).")
    var delta: Double = 1e-5

    func check() throws {
        guard steps >= 1 && steps <= 1_000_000_000 else { throw ValidationError("--steps must be in [1, 1000000000], got \(steps)") }
        guard samplingRate > 0 && samplingRate <= 1 else { throw ValidationError("--sampling-rate must be in (0, 1], got \(samplingRate)") }
        guard delta > 0 && delta < 1 else { throw ValidationError("--delta must be in (0, 1), got \(delta)") }
    }

    func event(sigma: Double) -> PrivacyEvent {
        let step: PrivacyEvent = samplingRate >= 1 ? .gaussian(sigma: sigma) : .sampledGaussian(sigma: sigma, q: samplingRate)
        return steps == 1 ? step : .composed(step, times: steps)
    }

    var mechanismText: String {
        samplingRate >= 1 ? "Gaussian mechanism x \(steps)" : "Poisson-subsampled Gaussian (q = \(samplingRate)) x \(steps)"
    }
}

struct PrivacyEpsilonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epsilon",
        abstract: "Print the epsilon spent by --steps releases of the Gaussian mechanism with noise multiplier --sigma (Poisson-subsampled at --sampling-rate).",
        discussion: "RDP accounting over dp-accounting's default orders (1.25 ... 1024), converted with Balle et al. 2020, Theorem 21. The noise multiplier is the noise standard deviation over the L2 sensitivity. Output: 'epsilon E (delta D, order A, <mechanism>)'."
    )

    @Option(help: "Noise multiplier: noise standard deviation / L2 sensitivity (> 0).")
    var sigma: Double

    @OptionGroup var mechanism: MechanismOptions

    func validate() throws {
        guard sigma > 0 && sigma.isFinite else { throw ValidationError("--sigma must be a positive number, got \(sigma)") }
        try mechanism.check()
    }

    func run() throws {
        var acc = RDPAccountant()
        acc.compose(mechanism.event(sigma: sigma))
        let (eps, order) = acc.epsilon(delta: mechanism.delta)
        print("epsilon \(format(eps)) (delta \(mechanism.delta), order \(format(order)), sigma \(sigma), \(mechanism.mechanismText))")
    }
}

struct PrivacySigmaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigma",
        abstract: "Print the smallest noise multiplier for which --steps releases (Poisson-subsampled at --sampling-rate) spend at most --epsilon.",
        discussion: "Bisection on sigma to a relative precision of 1e-6 with the same RDP accounting as 'privacy epsilon'. Output: 'sigma S (epsilon E, delta D, <mechanism>)'."
    )

    @Option(help: "Target epsilon (> 0).")
    var epsilon: Double

    @OptionGroup var mechanism: MechanismOptions

    func validate() throws {
        guard epsilon > 0 && epsilon.isFinite else { throw ValidationError("--epsilon must be a positive number, got \(epsilon)") }
        try mechanism.check()
    }

    func run() throws {
        let sigma = RDPAccountant.calibrateSigma(epsilon: epsilon, delta: mechanism.delta, steps: mechanism.steps, q: mechanism.samplingRate)
        print("sigma \(format(sigma)) (epsilon \(epsilon), delta \(mechanism.delta), \(mechanism.mechanismText))")
    }
}

struct PrivacyLedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Show a dataset's privacy ledger: the budget, every release, the epsilon spent and what remains.",
        discussion: "The ledger is <data>.privacy-ledger.json next to the data file unless --ledger names it."
    )

    @Argument(help: "The data file whose ledger to show (or the ledger itself with --ledger).")
    var data: String?

    @Option(help: "Path of the ledger file.")
    var ledger: String?

    func validate() throws {
        guard data != nil || ledger != nil else { throw ValidationError("give a data file or --ledger FILE") }
    }

    func run() throws {
        let path = ledger ?? PrivacyLedger.defaultPath(forData: data!)
        guard let l = try PrivacyLedger.load(path: path) else {
            throw PrivacyLedgerError.unreadable(path: path, reason: "no privacy ledger (nothing has been released from this data)")
        }
        print("dataset \(l.dataset): budget epsilon \(format(l.budget.epsilon)), delta \(l.budget.delta)")
        for r in l.releases {
            print("  #\(r.id) \(r.time) \(r.what): epsilon \(format(r.epsilon)) (spent after: \(format(r.spentAfter)))")
        }
        print("spent \(format(l.spentEpsilon)), remaining \(format(l.remainingEpsilon))")
    }
}

/// Six significant digits.
private func format(_ x: Double) -> String { x.isFinite ? String(format: "%.6g", x) : "inf" }
