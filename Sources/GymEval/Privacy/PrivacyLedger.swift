import Foundation
import GymData
import GymCore

/// The privacy budget of one dataset and every release made from it, kept as a JSON file (by
/// default next to the data: `<data>.privacy-ledger.json`).
///
/// Releases compose through RDP: the spent epsilon is the (epsilon, delta) conversion of the sum
/// of every release's RDP curve at the budget's delta, which is never more than the sum of the
/// releases' own epsilons. A release that would take the spent epsilon past the budget is refused
/// and nothing is written.
public struct PrivacyLedger: Codable, Equatable, Sendable {
    public static let format = "optima-gym-privacy-ledger"
    public static let currentVersion = 1

    public struct Budget: Codable, Equatable, Sendable {
        public var epsilon: Double
        public var delta: Double
        public init(epsilon: Double, delta: Double) { self.epsilon = epsilon; self.delta = delta }
    }

    public struct Release: Codable, Equatable, Sendable {
        /// 1, 2, ... in the order the releases were made.
        public var id: Int
        /// What was released (e.g. "synth fit: model.json").
        public var what: String
        /// When (ISO 8601, UTC).
        public var time: String
        /// The mechanisms applied to the data.
        public var events: [PrivacyEvent]
        /// This release's own epsilon at the budget's delta.
        public var epsilon: Double
        /// The spent epsilon of the whole ledger after this release.
        public var spentAfter: Double
    }

    public var format: String
    public var version: Int
    /// A name for the dataset (the data file's name by default).
    public var dataset: String
    public var budget: Budget
    public var releases: [Release]

    public init(dataset: String, budget: Budget) {
        format = PrivacyLedger.format
        version = PrivacyLedger.currentVersion
        self.dataset = dataset
        self.budget = budget
        releases = []
    }

    /// Epsilon spent by `events` together with every recorded release, at the budget's delta.
    public func spent(adding events: [PrivacyEvent] = []) -> Double {
        var acc = RDPAccountant()
        for r in releases { for e in r.events { acc.compose(e) } }
        for e in events { acc.compose(e) }
        return acc.epsilon(delta: budget.delta).epsilon
    }

    public var spentEpsilon: Double { releases.isEmpty ? 0 : spent() }
    public var remainingEpsilon: Double { max(0, budget.epsilon - spentEpsilon) }

    /// Records a release, or throws `.budgetExceeded` (and changes nothing) when it does not fit.
    public mutating func record(what: String, events: [PrivacyEvent], time: Date = Date(), path: String) throws {
        let after = spent(adding: events)
        guard after <= budget.epsilon * (1 + 1e-9) else {
            throw PrivacyLedgerError.budgetExceeded(path: path, dataset: dataset, budget: budget.epsilon,
                                                   spent: spentEpsilon, wouldSpend: after)
        }
        var own = RDPAccountant()
        for e in events { own.compose(e) }
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        releases.append(Release(id: releases.count + 1, what: what, time: f.string(from: time), events: events,
                                epsilon: own.epsilon(delta: budget.delta).epsilon, spentAfter: after))
    }

    /// The default ledger path for a data file.
    public static func defaultPath(forData data: String) -> String { data + ".privacy-ledger.json" }

    /// Reads a ledger; nil when the file does not exist.
    public static func load(path: String) throws -> PrivacyLedger? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PrivacyLedgerError.unreadable(path: path, reason: error.localizedDescription)
        }
        let ledger: PrivacyLedger
        do { ledger = try JSONDecoder().decode(PrivacyLedger.self, from: data) } catch {
            throw PrivacyLedgerError.corrupt(path: path, reason: describeDecodingError(error))
        }
        guard ledger.format == PrivacyLedger.format else {
            throw PrivacyLedgerError.corrupt(path: path, reason: "format is '\(ledger.format)', expected '\(PrivacyLedger.format)'")
        }
        guard ledger.version == PrivacyLedger.currentVersion else {
            throw PrivacyLedgerError.corrupt(path: path, reason: "version \(ledger.version) is not supported (this build reads version \(PrivacyLedger.currentVersion))")
        }
        guard ledger.budget.epsilon > 0, ledger.budget.delta > 0, ledger.budget.delta < 1 else {
            throw PrivacyLedgerError.corrupt(path: path, reason: "budget must have epsilon > 0 and delta in (0, 1), got epsilon \(ledger.budget.epsilon), delta \(ledger.budget.delta)")
        }
        return ledger
    }

    /// Writes the ledger atomically (temporary file, then rename).
    public func save(path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try AtomicFile.write(Array(try enc.encode(self)), to: URL(fileURLWithPath: path)) } catch let e as OutputError {
            let reason: String
            switch e { case .cannotCreate(_, let r), .io(_, let r): reason = r }
            throw PrivacyLedgerError.unwritable(path: path, reason: reason)
        }
    }
}

public enum PrivacyLedgerError: ClassifiedError, Equatable {
    public var failureKind: FailureKind {
        if case .unwritable = self { return .ioError }
        return .badInput
    }
    case unreadable(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case budgetExceeded(path: String, dataset: String, budget: Double, spent: Double, wouldSpend: Double)
    case budgetMismatch(path: String, recorded: PrivacyLedger.Budget, requested: PrivacyLedger.Budget)

    public var description: String {
        switch self {
        case .unreadable(let p, let r): return "\(p): error: cannot read the privacy ledger: \(r)"
        case .corrupt(let p, let r): return "\(p): error: not a valid privacy ledger: \(r)"
        case .unwritable(let p, let r): return "\(p): error: cannot write the privacy ledger: \(r)"
        case .budgetExceeded(let p, let d, let b, let s, let w):
            return String(format: "%@: error: privacy budget exceeded for '%@': budget epsilon %.4g, already spent %.4g, this release would bring it to %.4g; nothing was written",
                          p as NSString, d as NSString, b, s, w)
        case .budgetMismatch(let p, let r, let q):
            return "\(p): error: the ledger's budget is epsilon \(r.epsilon), delta \(r.delta); this run asks for epsilon \(q.epsilon), delta \(q.delta) (a budget is fixed when the ledger is created)"
        }
    }
}

/// A decoding error in words: the key path and what was wrong.
public func describeDecodingError(_ error: Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func path(_ ctx: DecodingError.Context) -> String {
        let p = ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? "top level" : p
    }
    switch e {
    case .dataCorrupted(let c): return "\(path(c)): \(c.debugDescription)"
    case .keyNotFound(let k, let c): return "\(path(c)): missing key '\(k.stringValue)'"
    case .typeMismatch(_, let c): return "\(path(c)): \(c.debugDescription)"
    case .valueNotFound(_, let c): return "\(path(c)): \(c.debugDescription)"
    @unknown default: return "\(error)"
    }
}
