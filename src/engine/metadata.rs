//! OPA-style `# METADATA` blocks. regorus skips them, so we read them ourselves; the files stay
//! valid for OPA and other Rego tools, which read the same blocks.
use crate::findings::{Reference, RelatedResource, RemediateNames, RuleMeta, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The `custom:` part of a rule's METADATA.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Custom {
    id: String,
    severity: String,
    #[serde(default)]
    recommended_action: Option<String>,
    #[serde(default)]
    remediation: Option<String>,
    #[serde(default)]
    frameworks: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    references: Vec<ReferenceBlock>,
    #[serde(default)]
    remediate: Option<RemediateNames>,
}

/// One entry of `custom.references`: a reference pattern and the benchmarks that prescribe it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceBlock {
    pattern: String,
    benchmarks: Vec<String>,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Block {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    related_resources: Vec<RelatedResource>,
    #[serde(default)]
    custom: Option<serde_json::Value>,
}

/// A METADATA block that is not what a rule needs: `line` is 1-based, in the `.rego` file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: METADATA: {message}")]
pub struct MetadataError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// The package name declared in a Rego source, if any.
pub fn package_of(source: &str) -> Option<String> {
    source.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix("package ")?;
        Some(rest.split('#').next().unwrap_or(rest).trim().to_string())
    })
}

/// Characters YAML takes as line breaks that `str::lines` does not (a CR not followed by LF, and
/// YAML 1.1's NEL, LS and PS).
const YAML_BREAKS: [char; 4] = ['\r', '\u{85}', '\u{2028}', '\u{2029}'];

/// The rule described by the package-scoped METADATA block of `source`, if it declares `custom.id`.
/// Blocks on Rego rules, and package blocks without an id (libraries), describe no rule.
pub fn parse_rule(path: &str, source: &str) -> Result<Option<RuleMeta>, MetadataError> {
    let lines: Vec<&str> = source.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "# METADATA" {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut yaml = String::new();
        i += 1;
        while i < lines.len() && lines[i].trim_start().starts_with('#') {
            let l = lines[i].trim_start().trim_start_matches('#');
            // One space after `#` belongs to the comment marker, the rest is YAML indentation.
            let l = l.strip_prefix(' ').unwrap_or(l);
            // A comment is one line of the file, so one line of YAML: a lone CR (or NEL, LS, PS)
            // inside it would break the YAML line, and a parse error would name a line past the
            // block (found by the `metadata_parse` fuzz target).
            if l.contains(YAML_BREAKS) {
                yaml.push_str(&l.replace(YAML_BREAKS, " "));
            } else {
                yaml.push_str(l);
            }
            yaml.push('\n');
            i += 1;
        }
        let next = lines[i..].iter().map(|l| l.trim()).find(|l| !l.is_empty());
        let Some(next) = next else { break };
        if !next.starts_with("package ") {
            continue;
        }
        let err = |message: String| MetadataError {
            path: path.to_string(),
            line: start,
            message,
        };
        let value = regorus::Value::from_yaml_str(&yaml).map_err(|e| {
            let (message, yaml_line) = yaml_problem(&e.to_string());
            MetadataError {
                path: path.to_string(),
                // YAML line 1 is the line after `# METADATA`.
                line: yaml_line.map_or(start, |l| start + l),
                message: format!("not valid YAML: {message}"),
            }
        })?;
        let json = value.to_json_str().map_err(|e| err(e.to_string()))?;
        let block: Block =
            serde_json::from_str(&json).map_err(|e| err(one_line(&e.to_string())))?;
        let Some(custom) = block.custom else {
            return Ok(None);
        };
        if custom.get("id").is_none() {
            return Ok(None);
        }
        let custom: Custom = serde_json::from_value(custom)
            .map_err(|e| err(format!("custom: {}", one_line(&e.to_string()))))?;
        // A rule id names the rule in every format (SARIF ruleId, ASFF GeneratorId, the text
        // report's columns, `--rule`): letters, digits, `.`, `_` and `-`, so no id can break a
        // line or a column, or hide a character.
        let id_ok = custom.id.len() <= 64
            && custom.id.starts_with(|c: char| c.is_ascii_alphanumeric())
            && custom
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !id_ok {
            return Err(err(format!(
                "custom.id {:?} is not a rule id (letters, digits, '.', '_' and '-', at most 64, starting with a letter or digit)",
                custom.id
            )));
        }
        let severity: Severity = custom.severity.parse().map_err(err)?;
        let title = block
            .title
            .ok_or_else(|| err("a rule needs a title".into()))?;
        let references = references(custom.references).map_err(err)?;
        let package = package_of(source).unwrap_or_default();
        return Ok(Some(RuleMeta {
            id: custom.id,
            title,
            description: block.description.unwrap_or_default().trim().to_string(),
            severity,
            recommended_action: custom
                .recommended_action
                .unwrap_or_default()
                .trim()
                .to_string(),
            remediation: custom.remediation.unwrap_or_default().trim().to_string(),
            frameworks: custom.frameworks,
            references,
            related_resources: block.related_resources,
            remediate: custom.remediate,
            package,
            source: path.to_string(),
        }));
    }
    Ok(None)
}

/// `custom.references`, checked (known benchmarks, each in one entry, a pattern for each) and
/// ordered by the newest benchmark of each entry, so the default's group comes first.
fn references(blocks: Vec<ReferenceBlock>) -> Result<Vec<Reference>, String> {
    let mut seen: Vec<&str> = Vec::new();
    for b in &blocks {
        if b.pattern.trim().is_empty() {
            return Err("custom.references: an entry has an empty pattern".into());
        }
        if b.benchmarks.is_empty() {
            return Err(format!(
                "custom.references: the entry with pattern {} names no benchmarks",
                b.pattern
            ));
        }
        for id in &b.benchmarks {
            if crate::findings::benchmark::find(id).is_none() {
                return Err(format!(
                    "custom.references: unknown benchmark \"{id}\" (known: {})",
                    crate::findings::benchmark::ids()
                ));
            }
            if seen.contains(&id.as_str()) {
                return Err(format!(
                    "custom.references: benchmark {id} is in two entries; each benchmark prescribes one pattern"
                ));
            }
            seen.push(id);
        }
    }
    let mut out: Vec<Reference> = blocks
        .into_iter()
        .map(|b| {
            let mut benchmarks = b.benchmarks;
            benchmarks.sort_by_key(|id| crate::findings::benchmark::rank(id));
            Reference {
                pattern: b.pattern.trim().to_string(),
                benchmarks,
                source: b.source.unwrap_or_default().trim().to_string(),
            }
        })
        .collect();
    out.sort_by_key(|r| {
        r.benchmarks
            .first()
            .map(|id| crate::findings::benchmark::rank(id))
    });
    Ok(out)
}

/// The YAML parser's message without its positions, and the (1-based) YAML line it names first.
/// The parser says "... at line L column C, while parsing ... at line L2 column C2"; the file line
/// is what a reader needs, so the positions are turned into it by the caller.
fn yaml_problem(text: &str) -> (String, Option<usize>) {
    let text = one_line(text);
    let text = text.strip_prefix("Failed to parse YAML: ").unwrap_or(&text);
    let line = text.split(" at line ").nth(1).and_then(|rest| {
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse::<usize>().ok())
    });
    let message = text
        .split(" at line ")
        .next()
        .unwrap_or(text)
        .trim()
        .to_string();
    (message, line)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"# METADATA
# title: Root usage alarm
# description: |
#   An alarm fires
#   when root is used.
# related_resources:
#   - ref: https://example.com/rule
# custom:
#   id: CWL-014
#   severity: high
#   recommended_action: Create the alarm.
#   frameworks:
#     cis-aws-foundations: ["4.3"]
package checks.x

# METADATA
# title: rule scope, ignored
decision := 1
"#;

    #[test]
    fn reads_package_block() {
        let m = parse_rule("p.rego", SRC).unwrap().unwrap();
        assert_eq!(m.id, "CWL-014");
        assert_eq!(m.severity, Severity::High);
        assert_eq!(m.description, "An alarm fires\nwhen root is used.");
        assert_eq!(m.package, "checks.x");
        assert_eq!(m.frameworks["cis-aws-foundations"], vec!["4.3"]);
        assert_eq!(m.related_resources[0].reference, "https://example.com/rule");
    }

    #[test]
    fn library_without_id_is_not_a_check() {
        let src = "# METADATA\n# title: lib\npackage lib.x\n";
        assert_eq!(parse_rule("l.rego", src).unwrap(), None);
        assert_eq!(parse_rule("l.rego", "package x\n").unwrap(), None);
    }

    #[test]
    fn bad_yaml_names_file_and_line() {
        let e = parse_rule(
            "bad.rego",
            "# METADATA\n# title: [unclosed\n# custom: {id: X}\npackage b\n",
        )
        .unwrap_err();
        // The YAML parser notices the unclosed sequence on the next line, file line 3.
        assert_eq!((e.path.as_str(), e.line), ("bad.rego", 3));
        assert!(e.message.contains("not valid YAML"), "{}", e.message);
        assert!(!e.message.contains(" at line "), "{}", e.message);
    }

    /// Fuzz regression (`metadata_parse`): lone CRs in a comment made YAML see more lines than the
    /// file has, and a parse error named a line past the end of the file.
    #[test]
    fn line_breaks_inside_a_comment_line_keep_error_lines_in_the_file() {
        for brk in ["\r\r", "\u{85}", "\u{2028}", "\u{2029}", "\r"] {
            let src = format!("# METADATA\n# title: [a{brk}{brk}b\npackage e\n");
            let e = parse_rule("cr.rego", &src).unwrap_err();
            assert!((2..=3).contains(&e.line), "{brk:?}: {e}");
        }
        // Still read as the one-line value it is.
        let src =
            "# METADATA\n# title: a\rb\n# custom:\n#   id: X-1\n#   severity: LOW\npackage b\n";
        assert_eq!(parse_rule("t.rego", src).unwrap().unwrap().title, "a b");
    }

    fn with_references(references: &str) -> Result<Option<RuleMeta>, MetadataError> {
        let src = format!("# METADATA\n# title: t\n# custom:\n#   id: X-1\n#   severity: LOW\n#   references:\n{references}package b\n");
        parse_rule("r.rego", &src)
    }

    #[test]
    fn references_are_ordered_newest_benchmark_first() {
        let m = with_references(
            "#     - pattern: '{ $.a = 1 }'\n#       benchmarks: [cis-v1.2, aws-security-hub]\n#     - pattern: '{ $.a = 1 || $.b = 2 }'\n#       benchmarks: [cis-v5.0, cis-v6.0]\n#       source: the benchmark\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(m.references[0].pattern, "{ $.a = 1 || $.b = 2 }");
        assert_eq!(m.references[0].benchmarks, ["cis-v6.0", "cis-v5.0"]);
        assert_eq!(m.references[0].source, "the benchmark");
        assert_eq!(
            m.reference_for("aws-security-hub")
                .map(|r| r.pattern.as_str()),
            Some("{ $.a = 1 }")
        );
        // A benchmark without an entry decides by the newest one.
        assert_eq!(
            m.reference_for("cis-v3.0").map(|r| r.pattern.as_str()),
            Some("{ $.a = 1 || $.b = 2 }")
        );
        assert!(!m.has_reference_for("cis-v3.0"));
    }

    #[test]
    fn unknown_or_repeated_benchmarks_are_errors() {
        let e = with_references("#     - pattern: '{ $.a = 1 }'\n#       benchmarks: [cis-v9.9]\n")
            .unwrap_err();
        assert!(
            e.message
                .contains("unknown benchmark \"cis-v9.9\" (known: cis-v6.0,"),
            "{e}"
        );
        let e = with_references(
            "#     - pattern: '{ $.a = 1 }'\n#       benchmarks: [cis-v1.2]\n#     - pattern: '{ $.b = 1 }'\n#       benchmarks: [cis-v1.2]\n",
        )
        .unwrap_err();
        assert!(
            e.message.contains("benchmark cis-v1.2 is in two entries"),
            "{e}"
        );
        let e = with_references("#     - pattern: '{ $.a = 1 }'\n#       benchmarks: []\n")
            .unwrap_err();
        assert!(e.message.contains("names no benchmarks"), "{e}");
    }

    #[test]
    fn bad_severity_is_an_error() {
        let src =
            "# METADATA\n# title: t\n# custom:\n#   id: X-1\n#   severity: urgent\npackage b\n";
        let e = parse_rule("s.rego", src).unwrap_err();
        assert!(e.message.contains("urgent"));
    }
}
