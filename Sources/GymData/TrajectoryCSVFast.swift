import Foundation

extension LogImport {
    /// The common case of `trajectoryCSV` read straight from the bytes: no quotes, no spaces
    /// around numbers, plain digits for integers. It keeps no text per field, so a log of
    /// millions of rows reads in seconds and in little more memory than its numbers. It returns
    /// nil at the first thing it does not handle (or that is wrong); the general reader then
    /// reads the file and reports the problem with its line and column. Both give the same log.
    static func trajectoryCSVFast(path: String, actions: Int?, limits: DataLimits) -> TrajectoryLog? {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { return nil }
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> TrajectoryLog? in
            let b = raw.bindMemory(to: UInt8.self)
            let count = b.count
            guard count > 0, memchr(b.baseAddress!, 0x22, count) == nil, memchr(b.baseAddress!, 0, count) == nil else { return nil }
            var pos = 0
            var lineNumber = 0
            var fields: [(Int, Int)] = []
            /// The next line's fields as byte ranges (false at the end of the file).
            func nextLine() -> Bool {
                guard pos < count else { return false }
                var end = pos
                if let p = memchr(b.baseAddress! + pos, 10, count - pos) { end = b.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self)) } else { end = count }
                lineNumber += 1
                var stop = end
                if stop > pos && b[stop - 1] == 13 { stop -= 1 }
                fields.removeAll(keepingCapacity: true)
                var start = pos
                var i = pos
                while i < stop {
                    if b[i] == 44 { fields.append((start, i)); start = i + 1 }
                    i += 1
                }
                fields.append((start, stop))
                pos = end + 1
                return true
            }
            func text(_ f: (Int, Int)) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[f.0..<f.1]), as: UTF8.self) }
            func integer(_ f: (Int, Int)) -> Int? {
                guard f.1 > f.0, f.1 - f.0 <= 18 else { return nil }
                var v = 0
                for i in f.0..<f.1 {
                    let c = b[i]
                    guard c >= 48, c <= 57 else { return nil }
                    v = v * 10 + Int(c - 48)
                }
                return v
            }
            var buffer = [CChar](repeating: 0, count: 64)
            func number(_ f: (Int, Int)) -> Double? {
                let len = f.1 - f.0
                guard len > 0, len < 64 else { return nil }
                for i in f.0..<f.1 where b[i] <= 32 { return nil }
                return buffer.withUnsafeMutableBufferPointer { buf -> Double? in
                    for k in 0..<len { buf[k] = CChar(bitPattern: b[f.0 + k]) }
                    buf[len] = 0
                    var endp: UnsafeMutablePointer<CChar>? = nil
                    let x = strtod(buf.baseAddress!, &endp)
                    guard let endp, buf.baseAddress!.distance(to: endp) == len, x.isFinite else { return nil }
                    return x
                }
            }
            guard nextLine() else { return nil }
            let header = fields.map { text($0) }
            guard Set(header).count == header.count, !header.contains("") else { return nil }
            guard let jt = header.firstIndex(of: "trajectory_id"), let jn = header.firstIndex(of: "step"), let ja = header.firstIndex(of: "action"),
                  let jr = header.firstIndex(of: "reward"), let jp = header.firstIndex(of: "propensity") else { return nil }
            let js = header.firstIndex(of: "state"), je = header.firstIndex(of: "elapsed_seconds"), jx = header.firstIndex(of: "terminal")
            let fixedColumns = header.indices.filter { trajectoryFixedColumns.contains(header[$0]) }
            let special = Set([jt, jn, ja, jr, jp] + [js, je, jx].compactMap { $0 } + fixedColumns)
            let contextColumns = header.indices.filter { !special.contains($0) }
            var rows = TrajectoryRows(file: path)
            var action: [Int32] = [], reward: [Double] = [], pscore: [Double] = [], context: [Double] = []
            var fixed = [[String]](repeating: [], count: fixedColumns.count)
            var ids: [String] = []
            var idIndex: [String: Int] = [:]
            var rowTrajectory: [Int32] = []
            var previous: (Int, Int)? = nil
            var previousIndex = 0
            let maxA = min(actions ?? limits.maxActions, limits.maxActions)
            while nextLine() {
                if fields.count == 1 && fields[0].0 == fields[0].1 { continue }   // a blank line
                guard fields.count == header.count else { return nil }
                let f = fields[jt]
                guard f.1 > f.0 else { return nil }
                var k: Int
                if let p = previous, p.1 - p.0 == f.1 - f.0, memcmp(b.baseAddress! + p.0, b.baseAddress! + f.0, f.1 - f.0) == 0 {
                    k = previousIndex
                } else {
                    let id = text(f)
                    guard id == id.trimmingCharacters(in: .whitespaces) else { return nil }
                    if let e = idIndex[id] { k = e } else { k = ids.count; idIndex[id] = k; ids.append(id) }
                }
                previous = f; previousIndex = k
                guard let step = integer(fields[jn]), step < 100_000_000, let a = integer(fields[ja]), a < maxA,
                      let r = number(fields[jr]), let p = number(fields[jp]), p > 0, p <= 1 else { return nil }
                if let js {
                    guard let s = integer(fields[js]), s < limits.maxStates else { return nil }
                    rows.state.append(Int32(s))
                }
                if let je {
                    guard let e = number(fields[je]), e >= 0 else { return nil }
                    rows.elapsed.append(e)
                }
                if let jx {
                    guard let x = terminalValue(text(fields[jx])) else { return nil }
                    rows.terminal.append(x)
                }
                for j in contextColumns {
                    guard let x = number(fields[j]) else { return nil }
                    context.append(x)
                }
                for (c, j) in fixedColumns.enumerated() { fixed[c].append(text(fields[j])) }
                rowTrajectory.append(Int32(k))
                rows.step.append(step); rows.line.append(lineNumber)
                action.append(Int32(a)); reward.append(r); pscore.append(p)
            }
            guard !reward.isEmpty else { return nil }
            rows.trajectory = rowTrajectory; rows.names = ids
            rows.fixed = fixedColumns.enumerated().map { (header[$0.element], fixed[$0.offset]) }
            let K = actions ?? (Int(action.max()!) + 1)
            let log = LoggedBandit(actions: K, positions: 1, action: action, position: [Int32](repeating: 0, count: reward.count), reward: reward,
                                   pscore: pscore, context: context, contextDimension: contextColumns.count, source: path)
            return try? rows.ordered(log)
        }
    }
}
