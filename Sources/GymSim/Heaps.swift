/// A binary min-heap of (time, key) pairs ordered by time, then key: deterministic tie-breaking.
struct TimedHeap {
    private(set) var times: [Double] = []
    private(set) var keys: [Int] = []
    var count: Int { times.count }
    var isEmpty: Bool { times.isEmpty }
    var minTime: Double { times[0] }
    var minKey: Int { keys[0] }

    mutating func removeAll() { times.removeAll(keepingCapacity: true); keys.removeAll(keepingCapacity: true) }

    @inline(__always) private func less(_ i: Int, _ j: Int) -> Bool {
        times[i] < times[j] || (times[i] == times[j] && keys[i] < keys[j])
    }

    mutating func push(_ t: Double, _ k: Int) {
        times.append(t); keys.append(k)
        var i = times.count - 1
        while i > 0 {
            let p = (i - 1) >> 1
            if less(i, p) { times.swapAt(i, p); keys.swapAt(i, p); i = p } else { break }
        }
    }

    @discardableResult
    mutating func pop() -> (time: Double, key: Int) {
        let top = (times[0], keys[0])
        let lastT = times.removeLast(), lastK = keys.removeLast()
        if !times.isEmpty {
            times[0] = lastT; keys[0] = lastK
            var i = 0
            let n = times.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n && less(l, m) { m = l }
                if r < n && less(r, m) { m = r }
                if m == i { break }
                times.swapAt(i, m); keys.swapAt(i, m); i = m
            }
        }
        return top
    }
}
