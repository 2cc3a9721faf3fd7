import Foundation
import XCTest
import GymData
import GymRandom
import GymTestSupport
@testable import GymEval

/// The trajectory-log estimators: SCOPE-RL's values on the same data, agreement with the
/// reference implementation `SequentialOPE.estimate`, thread independence, and the reader's
/// errors.
final class SequentialEngineTests: XCTestCase {
    func fixtureURL(_ name: String) -> URL { repositoryRoot().appendingPathComponent("Tests/GymEvalTests/Fixtures/\(name)") }

    /// The fixture's log with the evaluation policy per state and a per-row Q from a [t][s][a] table.
    func scopeFixture() throws -> (log: TrajectoryLog, target: TrajectoryTarget, meta: [String: Any]) {
        let log = try LogImport.trajectoryCSV(path: fixtureURL("scope_rl_0.2.1_sequential.csv").path, actions: nil)
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL("scope_rl_0.2.1_sequential.json"))) as! [String: Any]
        let pie = (meta["evaluation_policy"] as! [[Double]])
        let target = TrajectoryTarget(actions: pie[0].count, table: pie.flatMap { $0 }, byState: true, name: "pi_e")
        return (log, target, meta)
    }

    func stepQ(_ table: [[[Double]]], log: TrajectoryLog, target: TrajectoryTarget) -> StepQ {
        var q = StepQ(logged: [], value: [], model: "given")
        for i in 0..<log.count {
            for j in log.offsets[i]..<log.offsets[i + 1] {
                let t = j - log.offsets[i], s = Int(log.state[j])
                q.logged.append(table[t][s][Int(log.rows.action[j])])
                q.value.append((0..<target.actions).reduce(0) { $0 + target.table[s * target.actions + $1] * table[t][s][$1] })
            }
        }
        return q
    }

    /// SCOPE-RL 0.2.1 on the same log (Fixtures/scope_rl_sequential.py): TIS, SNTIS, PDIS and
    /// SNPDIS agree to 1e-9 relative; DR and the direct method agree given the exact Q; and our
    /// tabular FQE reproduces the numpy FQE's Q, so DR and FQE agree with SCOPE-RL's DR and DM
    /// given that Q. (SCOPE-RL adds 1e-10 to the self-normalising denominators.)
    func testAgreesWithSCOPERL() throws {
        let (log, target, meta) = try scopeFixture()
        XCTAssertEqual(log.count, meta["trajectories"] as? Int)
        XCTAssertEqual(log.horizon, meta["horizon"] as? Int)
        let ref = meta["scope_rl"] as! [String: Double]
        let gamma = meta["gamma"] as! Double
        let d = Discounting.perStep(gamma).factors(log)
        var o = SequentialOPE.Options(seed: SeedTree(root: 1))
        o.resamples = 0
        func check(_ q: StepQ, dr: String, dm: String) {
            let est = SequentialOPE.run(log, target: target, q: q, discount: d, options: o).estimates
            let v = Dictionary(uniqueKeysWithValues: est.map { ($0.estimator, $0.value) })
            for (e, key) in [(SequentialOPE.Estimator.tis, "tis"), (.sntis, "sntis"), (.pdis, "pdis"), (.snpdis, "snpdis"), (.dr, dr), (.fqe, dm)] {
                let mine = v[e]!, theirs = ref[key]!
                XCTAssertLessThan(abs(mine - theirs) / abs(theirs), 1e-9, "\(e.rawValue) \(mine) vs SCOPE-RL \(key) \(theirs)")
            }
        }
        check(stepQ(meta["exact_q"] as! [[[Double]]], log: log, target: target), dr: "dr_exact", dm: "dm_exact")
        let fitted = TabularFQE.fit(log, target: target, nextFactor: Discounting.perStep(gamma).nextFactors(log))
        let numpyQ = stepQ(meta["fqe_q"] as! [[[Double]]], log: log, target: target)
        for j in 0..<log.rows.count { XCTAssertEqual(fitted.logged[j], numpyQ.logged[j], accuracy: 1e-12) }
        check(fitted, dr: "dr_fqe", dm: "dm_fqe")
    }

    /// Variable-length trajectories with a semi-Markov discount: the engine's point estimates
    /// equal the reference implementation's (which discounts by step) once the per-row discount
    /// is the same; for gamma-per-day with one day between steps they coincide exactly.
    func testEngineMatchesReferenceAndIsThreadIndependent() throws {
        let s = SeedTree(root: 42).stream(.mt19937)
        let S = 3, A = 3, n = 700
        var csv = "trajectory_id,step,state,action,reward,propensity,elapsed_seconds\n"
        var trajectories: [[TrajectoryStep]] = []
        let mu = [[0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [1.0 / 3, 1.0 / 3, 1.0 / 3]]
        for i in 0..<n {
            let len = 1 + s.uniformInt(6)
            var traj: [TrajectoryStep] = []
            var state = s.uniformInt(S)
            for t in 0..<len {
                let u = s.uniform()
                let a = u < mu[state][0] ? 0 : (u < mu[state][0] + mu[state][1] ? 1 : 2)
                let r = Double(state) - Double(a) * 0.5 + s.uniform()
                traj.append(TrajectoryStep(state: state, action: a, reward: r, propensity: mu[state][a]))
                csv += "t\(i),\(t),\(state),\(a),\(r),\(mu[state][a]),\(Double(t) * 86_400)\n"
                state = (state + a + s.uniformInt(2)) % S
            }
            trajectories.append(traj)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("seq-\(UUID().uuidString).csv")
        try csv.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let log = try LogImport.trajectoryCSV(path: url.path, actions: A)
        XCTAssertEqual(log.count, n)
        let piTable = [0.2, 0.5, 0.3, 0.6, 0.1, 0.3, 0.1, 0.1, 0.8]
        let target = TrajectoryTarget(actions: A, table: piTable, byState: true, name: "pi")
        let gamma = 0.8
        let perDay = Discounting.perDay(gamma)
        let d = perDay.factors(log)
        let q = TabularFQE.fit(log, target: target, nextFactor: perDay.nextFactors(log))
        // The reference's Q from the same fit, as a table.
        let table = TabularFQE.fit(TabularFQE.transitions(trajectories), horizon: log.horizon, states: S, actions: A,
                                       target: { st, _, out in for a in 0..<A { out[a] = piTable[st * A + a] } }, gamma: gamma)
        let expected = SequentialOPE.estimate(trajectories, actions: A, target: { st, _, out in for a in 0..<A { out[a] = piTable[st * A + a] } },
                                              gamma: gamma, q: table)
        var o = SequentialOPE.Options(seed: SeedTree(root: 9))
        o.resamples = 200
        o.threads = 1
        let one = SequentialOPE.run(log, target: target, q: q, discount: d, options: o)
        o.threads = 2
        let two = SequentialOPE.run(log, target: target, q: q, discount: d, options: o)
        for e in one.estimates {
            XCTAssertEqual(e.value, expected[e.estimator]!, accuracy: 1e-12, e.estimator.rawValue)
            XCTAssertLessThan(e.ciLow, e.value, e.estimator.rawValue)
            XCTAssertGreaterThan(e.ciHigh, e.value, e.estimator.rawValue)
        }
        XCTAssertEqual(one.estimates.map { [$0.value, $0.ciLow, $0.ciHigh] }, two.estimates.map { [$0.value, $0.ciLow, $0.ciHigh] })
        XCTAssertEqual(one.diagnostics.ess, two.diagnostics.ess)
        // Diagnostics: step 0's weights are pi/mu of single decisions; every trajectory reaches it.
        XCTAssertEqual(one.diagnostics.reached[0], n)
        XCTAssertGreaterThan(one.diagnostics.ess[0], 0.5 * Double(n))
        XCTAssertLessThanOrEqual(one.diagnostics.ess[0], Double(n))
        // Clipping at 1.5 bounds every cumulative weight and changes the estimate.
        o.clip = 1.5
        let clipped = SequentialOPE.run(log, target: target, q: q, discount: d, options: o)
        XCTAssertLessThanOrEqual(clipped.diagnostics.maxWeight.max()!, 1.5)
        XCTAssertGreaterThan(clipped.diagnostics.clippedRows, 0)
        XCTAssertNotEqual(clipped.estimates[0].value, one.estimates[0].value)
    }

    /// A target that never takes a logged action gives zero weights: the share is 1 and SNTIS is
    /// undefined (NaN), not a division by zero passed off as a number.
    func testZeroWeightShare() throws {
        let (log, _, _) = try scopeFixture()
        let A = 3, S = log.states
        var table = [Double](repeating: 0, count: S * A)
        for s in 0..<S { table[s * A] = 1 }
        let target = TrajectoryTarget(actions: A, table: table, byState: true, name: "always 0")
        var o = SequentialOPE.Options(seed: SeedTree(root: 1)); o.resamples = 10
        let r = SequentialOPE.run(log, target: target, q: nil, discount: Discounting.perStep(0.9).factors(log), options: o)
        XCTAssertGreaterThan(r.diagnostics.zeroWeightShare, 0.95)
        XCTAssertLessThan(r.diagnostics.zeroWeightShare, 1.0)
    }

    func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("traj-\(UUID().uuidString).csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// Bad trajectory logs: each error names the line and the column.
    func testReaderErrorsNameLineAndColumn() throws {
        let header = "trajectory_id,step,action,reward,propensity,group,elapsed_seconds\n"
        let cases: [(String, Int, String, String)] = [
            ("a,0,1,1,0.5,g,0\na,2,0,1,0.5,g,10\n", 3, "step", "without step 1"),
            ("a,0,1,1,0.5,g,0\nb,0,1,1,0.5,g,0\na,0,0,1,0.5,g,10\n", 4, "step", "step 0 twice"),
            ("a,0,1,1,0,g,0\n", 2, "propensity", "(0, 1]"),
            ("a,0,1,1,1.5,g,0\n", 2, "propensity", "(0, 1]"),
            ("a,0,1,1,0.5,g,0\na,1,1,1,0.5,h,5\n", 3, "group", "differs"),
            ("a,0,1,1,0.5,g,10\na,1,1,1,0.5,g,5\n", 3, "elapsed_seconds", "never goes back"),
            ("a,x,1,1,0.5,g,0\n", 2, "step", "not a step"),
        ]
        for (body, line, column, text) in cases {
            let path = try write(header + body)
            XCTAssertThrowsError(try LogImport.trajectoryCSV(path: path, actions: nil), body) { e in
                guard let d = e as? DataError else { return XCTFail("\(e)") }
                XCTAssertEqual(d.line, line, "\(body): \(d)")
                XCTAssertEqual(d.column, column, "\(body): \(d)")
                XCTAssertTrue(d.message.contains(text), "\(body): \(d)")
            }
        }
        // Rows in any order are sorted into trajectories; times are made relative to step 0.
        let ok = try LogImport.trajectoryCSV(path: try write(header + "b,1,0,2,0.5,g,30\na,0,1,1,0.5,g,100\nb,0,1,3,0.25,g,10\n"), actions: nil)
        XCTAssertEqual(ok.ids, ["b", "a"])
        XCTAssertEqual(ok.offsets, [0, 2, 3])
        XCTAssertEqual(ok.rows.reward, [3, 2, 1])
        XCTAssertEqual(ok.elapsed, [0, 20, 0])
        XCTAssertEqual(ok.lines, [4, 2, 3])
    }

    /// The optional `terminal` column (offline RL): read in both CSV readers (the fast one and,
    /// with a quoted field, the general one), not a context feature, only on a last step.
    func testTerminalColumn() throws {
        let header = "trajectory_id,step,action,reward,propensity,terminal,x\n"
        for quoted in [false, true] {
            let id = quoted ? "\"b\"" : "b"
            let t = try LogImport.trajectoryCSV(path: try write(header + "\(id),1,0,2,0.5,1,0.3\na,0,1,1,0.5,false,0.1\n\(id),0,1,3,0.25,0,0.2\n"), actions: nil)
            XCTAssertEqual(t.ids, ["b", "a"], "quoted \(quoted)")
            XCTAssertEqual(t.terminal, [false, true, false], "quoted \(quoted)")
            XCTAssertEqual(t.rows.contextDimension, 1); XCTAssertEqual(t.rows.context, [0.2, 0.3, 0.1])
        }
        for (body, line, text) in [("a,0,1,1,0.5,1,0\na,1,1,1,0.5,0,0\n", 2, "only a trajectory's last step"),
                                   ("a,0,1,1,0.5,yes,0\n", 2, "not 0, 1, true or false")] {
            XCTAssertThrowsError(try LogImport.trajectoryCSV(path: try write(header + body), actions: nil), body) { e in
                guard let d = e as? DataError else { return XCTFail("\(e)") }
                XCTAssertEqual(d.line, line, "\(d)"); XCTAssertEqual(d.column, "terminal", "\(d)")
                XCTAssertTrue(d.message.contains(text), "\(d)")
            }
        }
        // JSONL journeys: `terminal` true/false/0/1, else an error naming the line.
        func row(_ user: String, _ step: Int, _ terminal: String) -> String {
            "{\"user_id\":\"\(user)\",\"journey_step\":\(step),\"elapsed_seconds\":3600,\"context_snapshot\":{\"observation\":[0.5,1],\"allowed_actions\":[0,1]},\"action_index\":1,\"propensity\":0.5,\"reward_score\":1,\"terminal\":\(terminal)}\n"
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("j-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try (row("u", 0, "false") + row("v", 0, "1") + row("u", 1, "true")).write(to: url, atomically: true, encoding: .utf8)
        let j = try LogImport.journeys(path: url.path, actions: 2)
        XCTAssertEqual(j.ids, ["u", "v"]); XCTAssertEqual(j.terminal, [false, true, true])
        try (row("u", 0, "true") + row("u", 1, "false")).write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LogImport.journeys(path: url.path, actions: 2)) { e in XCTAssertEqual((e as? DataError)?.line, 1, "\(e)") }
        try (row("u", 0, "\"no\"")).write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LogImport.journeys(path: url.path, actions: 2)) { e in XCTAssertEqual((e as? DataError)?.column, "terminal", "\(e)") }
    }
}

/// Linear FQE over numeric context.
final class LinearFQETests: XCTestCase {
    /// A log built in memory: `n` trajectories of `len` steps, context x in [0, 1), reward
    /// a linear function of (x, action), 2 actions with propensity 1/2.
    func makeLog(n: Int, len: Int, seed: UInt64, reward: (Double, Int) -> Double) -> TrajectoryLog {
        let s = SeedTree(root: seed).stream(.mt19937)
        var action: [Int32] = [], r: [Double] = [], ps: [Double] = [], ctx: [Double] = [], offsets = [0]
        for _ in 0..<n {
            for _ in 0..<len {
                let x = s.uniform(), a = s.uniformInt(2)
                action.append(Int32(a)); r.append(reward(x, a)); ps.append(0.5); ctx.append(x)
            }
            offsets.append(action.count)
        }
        let rows = LoggedBandit(actions: 2, positions: 1, action: action, position: [Int32](repeating: 0, count: action.count), reward: r,
                                pscore: ps, context: ctx, contextDimension: 1, source: "memory")
        return TrajectoryLog(rows: rows, offsets: offsets, ids: (0..<n).map { "t\($0)" })
    }

    /// At horizon 1 a reward linear in the context is in the function class: FQE's Q is exact
    /// on every row (the ridge penalty aside), so fqe equals the target's value on the sample.
    func testExactWhenTheRewardIsLinear() {
        let reward: (Double, Int) -> Double = { x, a in a == 0 ? 1 + 2 * x : 3 - x }
        let log = makeLog(n: 2000, len: 1, seed: 3, reward: reward)
        let table = (0..<log.rows.count).flatMap { _ in [0.3, 0.7] }
        let perRow = TrajectoryTarget(actions: 2, table: table, byState: false, name: "per row")
        let q = LinearFQE.fit(log, target: perRow, nextFactor: Discounting.perStep(0.9).nextFactors(log), lambda: 1e-9, seed: SeedTree(root: 1))
        var exact = 0.0
        for j in 0..<log.rows.count {
            let x = log.rows.context[j]
            XCTAssertEqual(q.logged[j], reward(x, Int(log.rows.action[j])), accuracy: 1e-5)
            exact += 0.3 * reward(x, 0) + 0.7 * reward(x, 1)
        }
        var o = SequentialOPE.Options(seed: SeedTree(root: 2)); o.resamples = 0
        let est = SequentialOPE.run(log, target: perRow, q: q, discount: Discounting.perStep(0.9).factors(log), options: o).estimates
        XCTAssertEqual(est.first { $0.estimator == .fqe }!.value, exact / Double(log.rows.count), accuracy: 1e-5)
    }

    /// Cross-fitting: Q on a trajectory's rows does not depend on that trajectory's rewards
    /// (it comes from the fit on the other fold), so changing them changes only other rows' Q.
    func testCrossFittedQIgnoresTheTrajectoryItIsAppliedTo() {
        var log = makeLog(n: 300, len: 4, seed: 5) { x, a in x * Double(a + 1) }
        let table = (0..<log.rows.count).flatMap { _ in [0.5, 0.5] }
        let target = TrajectoryTarget(actions: 2, table: table, byState: false, name: "uniform")
        let f = Discounting.perStep(0.9).nextFactors(log)
        let before = LinearFQE.fit(log, target: target, nextFactor: f, seed: SeedTree(root: 1))
        for j in log.offsets[7]..<log.offsets[8] { log.rows.reward[j] += 50 }
        let after = LinearFQE.fit(log, target: target, nextFactor: f, seed: SeedTree(root: 1))
        for j in log.offsets[7]..<log.offsets[8] { XCTAssertEqual(before.logged[j], after.logged[j]); XCTAssertEqual(before.value[j], after.value[j]) }
        let changed = (0..<log.rows.count).filter { before.logged[$0] != after.logged[$0] }.count
        XCTAssertGreaterThan(changed, log.rows.count / 4, "the other fold's rows see the change")
    }

    /// The directly solved fixed point (LSTD-Q) is the limit of fitted Q iteration: on a
    /// multi-step log with a non-linear reward and 3 context columns, iterating the per-action
    /// ridge regressions by hand from theta = 0 until they stop moving gives the same theta, and
    /// the blocked LU solves a system larger than one 64-column panel exactly.
    func testFixedPointIsTheLimitOfFittedQIteration() {
        let s = SeedTree(root: 9).stream(.mt19937)
        let n = 400, len = 5, A = 3, D = 3, P = D + 2, gamma = 0.8
        var action: [Int32] = [], r: [Double] = [], ctx: [Double] = [], offsets = [0], table: [Double] = []
        for _ in 0..<n {
            for _ in 0..<len {
                let x = (0..<D).map { _ in s.uniform() }, a = s.uniformInt(A)
                action.append(Int32(a)); r.append(sin(3 * x[0]) + Double(a) * x[1] * x[2]); ctx.append(contentsOf: x)
                let p0 = 0.2 + 0.5 * x[0]
                table.append(contentsOf: [p0, (1 - p0) / 2, (1 - p0) / 2])
            }
            offsets.append(action.count)
        }
        let rows = LoggedBandit(actions: A, positions: 1, action: action, position: [Int32](repeating: 0, count: action.count), reward: r,
                                pscore: [Double](repeating: 1.0 / 3, count: action.count), context: ctx, contextDimension: D, source: "memory")
        let log = TrajectoryLog(rows: rows, offsets: offsets, ids: (0..<n).map { "t\($0)" })
        let target = TrajectoryTarget(actions: A, table: table, byState: false, name: "t")
        let f = Discounting.perStep(gamma).nextFactors(log)
        // Features as LinearFQE builds them (one fold: every row is a training row).
        var mean = [Double](repeating: 0, count: D), sd = mean
        for j in 0..<log.rows.count { for d in 0..<D { mean[d] += ctx[j * D + d] / Double(log.rows.count) } }
        for j in 0..<log.rows.count { for d in 0..<D { sd[d] += pow(ctx[j * D + d] - mean[d], 2) / Double(log.rows.count) } }
        var phi: [Double] = []
        for j in 0..<log.rows.count {
            phi.append(1)
            for d in 0..<D { phi.append((ctx[j * D + d] - mean[d]) / sd[d].squareRoot()) }
            phi.append(Double(j % len) / Double(len))
        }
        var rowsOf = [[Int]](repeating: [], count: A), isLast = [Bool](repeating: false, count: log.rows.count)
        for j in 0..<log.rows.count { rowsOf[Int(action[j])].append(j); isLast[j] = j % len == len - 1 }
        let ridge = 0.01 * Double(log.rows.count)
        let solved = LinearFQE.fixedPoint(phi: phi, P: P, rowsOf: rowsOf, isLast: isLast, f: f, log: log, target: target, ridge: ridge)!
        // Fitted Q iteration by hand (normal equations solved by the same Cholesky helpers).
        var theta = [Double](repeating: 0, count: A * P)
        func q(_ j: Int, _ a: Int) -> Double { (0..<P).reduce(0) { $0 + theta[a * P + $1] * phi[j * P + $1] } }
        for _ in 0..<500 {
            var next = theta
            for a in 0..<A {
                var m = [Double](repeating: 0, count: P * P), rhs = [Double](repeating: 0, count: P)
                for j in rowsOf[a] {
                    var y = r[j]
                    if !isLast[j] { y += f[j] * (0..<A).reduce(0) { $0 + table[(j + 1) * A + $1] * q(j + 1, $1) } }
                    for u in 0..<P { rhs[u] += phi[j * P + u] * y; for v in 0...u { m[u * P + v] += phi[j * P + u] * phi[j * P + v] } }
                }
                for u in 0..<P { m[u * P + u] += ridge }
                let t = LinearFQE.choleskySolve(LinearFQE.choleskyFactor(m, P), rhs, P)
                for u in 0..<P { next[a * P + u] = t[u] }
            }
            theta = next
        }
        for i in 0..<(A * P) { XCTAssertEqual(solved[i], theta[i], accuracy: 1e-9 * max(1, abs(theta[i])), "theta[\(i)]") }
        // A 100 x 100 system (two panels): the blocked LU against a known solution.
        var m = [Double](repeating: 0, count: 100 * 100)
        for i in 0..<100 { for j in 0..<100 { m[i * 100 + j] = s.uniform() - 0.5 + (i == j ? 3 : 0) } }
        let xTrue = (0..<100).map { Double($0) / 10 - 5 }
        let b = (0..<100).map { i in (0..<100).reduce(0) { $0 + m[i * 100 + $1] * xTrue[$1] } }
        let x = LinearFQE.luSolve(&m, b, 100)!
        for i in 0..<100 { XCTAssertEqual(x[i], xTrue[i], accuracy: 1e-9) }
        var singular = [Double](repeating: 1, count: 9)
        XCTAssertNil(LinearFQE.luSolve(&singular, [1, 2, 3], 3))
    }
}
