import GymAgents
import GymGate
import GymSim

extension ScenarioSchema {
    /// Markdown reference of every key: path, type, default, allowed range, meaning; then the
    /// structures (groups, tones, agents, gate rules) and the rules across keys.
    ///
    /// Generated from the same tables the validator uses; `scenarios/README.md` embeds it between
    /// `<!-- BEGIN KEYS ... -->` and `<!-- END KEYS -->` (a test keeps the two equal).
    public static func markdownReference() -> String {
        let schema = scenario
        let defaults = Scenario(name: "")
        var md = """
            Every key is optional; a key left out takes its default. Numbers may be written with `_`
            separators (`20_000`); integers must be whole numbers; booleans are `true` or `false`.
            Ranges: `[a, b]` includes both ends, `(a, b)` excludes them.

            ## Top level


            """
        let topLevel = schema.fields.filter { $0.components.count == 1 }
        md += markdownTable(schema, fields: topLevel, defaults: defaults)
        var trailing: [String] = []
        for section in schema.sections {
            let fields = schema.fields.filter { $0.components.first.map(String.init) == section.key }
            guard !fields.isEmpty else { continue }
            md += "\n## `\(section.key)`\n\n\(section.doc)\n\n"
            md += markdownTable(schema, fields: fields, defaults: defaults)
            for field in fields { if let details = field.details { md += "\n" + details() } }
        }
        for field in topLevel { if let details = field.details { trailing.append(details()) } }
        for text in trailing { md += "\n" + text }

        md += "\n## Rules across keys\n\n"
        let allRules = schema.rules.map(\.doc) + epsilonGreedySchema.rules.map { "`epsilon_greedy`: " + $0.doc }
            + ppoSchema.rules.map { "`ppo`: " + $0.doc }
            + gateRuleSchema.rules.map { "`gate`: " + $0.doc }
            + ["`interventions.tones`: tone names must be unique.", "`agents`: agent names must be unique; "
                + "a gate rule's `agent` must be one of the scenario's agents."]
        for doc in allRules { md += "- \(doc)\n" }
        return md
    }
}

/// One markdown table of `fields` (all of the schema's when nil), with defaults read from `defaults`.
func markdownTable<Root>(_ schema: Schema<Root>, fields: [Field<Root>]? = nil, defaults: Root, prefix: String = "") -> String {
    var md = "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n"
    for field in fields ?? schema.fields {
        let key = prefix.isEmpty ? field.key : prefix + "." + field.key
        let value = field.isRequired ? "required" : field.defaultText(defaults)
        md += "| `\(key)` | \(escapeCell(field.type)) | \(escapeCell(value)) | \(escapeCell(field.allowed)) | \(escapeCell(field.doc)) |\n"
    }
    return md
}

/// Table cells must not contain raw `|` or line breaks.
func escapeCell(_ text: String) -> String {
    text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
}
