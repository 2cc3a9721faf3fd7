/// "Did you mean ...?" by edit distance.
enum Suggestions {
    /// `dailyExposureBudget`, `Daily-Exposure-Budget` and `daily exposure budget` all become
    /// `daily_exposure_budget`, so camelCase and kebab-case spellings find their snake_case key.
    static func normalized(_ key: String) -> String {
        var out = ""
        var previousWasLowerOrDigit = false
        for ch in key {
            if ch.isUppercase {
                if previousWasLowerOrDigit { out.append("_") }
                out += ch.lowercased()
                previousWasLowerOrDigit = false
            } else if ch == "-" || ch == " " {
                out.append("_")
                previousWasLowerOrDigit = false
            } else {
                out.append(ch)
                previousWasLowerOrDigit = ch.isLowercase || ch.isNumber
            }
        }
        return out
    }

    /// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), on Unicode scalars.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { table[i][0] = i }
        for j in 0...y.count { table[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var best = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    best = min(best, table[i - 2][j - 2] + 1)
                }
                table[i][j] = best
            }
        }
        return table[x.count][y.count]
    }

    /// The candidate closest to `word`, if it is close enough to be a plausible typo
    /// (at most a third of the word's length, between 1 and 3 edits). Ties go to the earlier candidate.
    static func closest(to word: String, among candidates: [String]) -> String? {
        // Very long input is not a typo of a key; skip the quadratic work.
        guard word.unicodeScalars.count <= 200 else { return nil }
        let target = normalized(word)
        let limit = max(1, min(3, target.unicodeScalars.count / 3))
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate != word {
            let d = distance(target, normalized(candidate))
            if d <= limit, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.candidate
    }

    /// ` (did you mean 'x'?)`, or the empty string.
    static func hint(for word: String, among candidates: [String]) -> String {
        closest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }
}
