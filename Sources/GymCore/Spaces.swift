/// A named, contiguous block of the observation vector. A block can hold `slots` repeated
/// records of `width` features each (for example K pairing candidates x 5 features).
public struct ObservationSegment: Sendable, Equatable {
    public let name: String
    public let offset: Int
    public let slots: Int
    public let width: Int
    /// Feature names within one slot (count == width).
    public let features: [String]
    public var count: Int { slots * width }
    public init(name: String, offset: Int, slots: Int = 1, features: [String]) {
        self.name = name; self.offset = offset; self.slots = slots
        self.width = features.count; self.features = features
    }
    /// Index into the observation of feature `feature` of slot `slot`.
    public func index(slot: Int = 0, feature: Int) -> Int { offset + slot * width + feature }
    public func index(slot: Int = 0, named f: String) -> Int? {
        features.firstIndex(of: f).map { index(slot: slot, feature: $0) }
    }
}

/// The observation vector's layout: every segment, in order.
public struct ObservationLayout: Sendable, Equatable {
    public let segments: [ObservationSegment]
    public let dimension: Int
    public init(segments: [ObservationSegment]) {
        self.segments = segments
        self.dimension = segments.last.map { $0.offset + $0.count } ?? 0
    }
    public func segment(_ name: String) -> ObservationSegment? { segments.first { $0.name == name } }
    /// The name of observation entry `index`: `segment.feature`, or `segment[slot].feature` in a
    /// segment of several slots.
    public func name(of index: Int) -> String {
        guard let s = segments.first(where: { index >= $0.offset && index < $0.offset + $0.count }) else { return "x\(index)" }
        let slot = (index - s.offset) / max(1, s.width), j = (index - s.offset) % max(1, s.width)
        return s.slots > 1 ? "\(s.name)[\(slot)].\(s.features[j])" : "\(s.name).\(s.features[j])"
    }
}

/// A family of discrete actions (for example `suggest_pairing`, one action per candidate slot).
public struct ActionFamily: Sendable, Equatable {
    public let name: String
    public let range: Range<Int>
    /// The observation segment holding one slot of features per action of this family, if any.
    public let slotSegment: String?
    /// Names of the individual actions (for example tone names), count == range.count.
    public let labels: [String]
    public init(name: String, range: Range<Int>, slotSegment: String? = nil, labels: [String]) {
        self.name = name; self.range = range; self.slotSegment = slotSegment; self.labels = labels
    }
}

/// One discrete action space made of families, with a mask per decision.
public struct ActionLayout: Sendable, Equatable {
    public let families: [ActionFamily]
    public let count: Int
    private let familyOfAction: [Int]
    public init(families: [ActionFamily]) {
        self.families = families
        count = families.map { $0.range.upperBound }.max() ?? 0
        var f = [Int](repeating: -1, count: count)
        for (i, fam) in families.enumerated() { for a in fam.range { f[a] = i } }
        familyOfAction = f
    }
    public func family(of action: Int) -> Int { familyOfAction[action] }
    public func familyIndex(_ name: String) -> Int? { families.firstIndex { $0.name == name } }
    /// "suggest_pairing[2]" style label.
    public func label(of action: Int) -> String {
        let fam = families[familyOfAction[action]]
        if fam.range.count == 1 { return fam.name }
        return fam.name + ":" + fam.labels[action - fam.range.lowerBound]
    }
}
