//! SARIF 2.1.0 for GitHub code scanning and other viewers. A small model of the parts we write:
//! `$schema` and `version` come from the model, so they cannot be forgotten.
//!
//! - one result per failing (`kind: fail`) or unknown (`kind: open`, level `none` as SARIF requires
//!   for non-fail kinds) account and rule; passes are not results;
//! - located at the snapshot file (repository-relative URI) and the line of the offending object;
//! - `partialFingerprints.primaryLocationLineHash` hashes rule, account, link and resource — never a
//!   line number or time — so re-collecting the same problem keeps the same alert;
//! - unreadable inputs and snapshot `errors` are `toolExecutionNotifications`, and any input error
//!   sets `executionSuccessful: false` so an upload does not close alerts it could not check.
use crate::engine::{RuleMeta, Severity};
use crate::findings::{Finding, Level, RunResult, Verdict};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    automation_details: Option<AutomationDetails>,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult>,
    properties: RunProperties<'a>,
}

/// The run's property bag: the benchmark whose reference patterns decided the results.
#[derive(Serialize)]
struct RunProperties<'a> {
    benchmark: &'a str,
}

#[derive(Serialize)]
struct AutomationDetails {
    id: String,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: String,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    precision: &'static str,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    kind: &'static str,
    level: &'static str,
    message: Text,
    locations: Vec<ResultLocation>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: BTreeMap<&'static str, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultLocation {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<ToolNotification>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolNotification {
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<NotificationLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationLocation {
    physical_location: NotificationPhysical,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationPhysical {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

fn level_for(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// A repository-relative URI: `/` separators, no `./`, an absolute path made relative to the
/// working directory when it lies below it, and bytes outside RFC 3986's unreserved set escaped.
pub fn relative_uri(path: &str) -> String {
    let mut p = path.replace('\\', "/");
    if p.starts_with('/') {
        if let Ok(cwd) = std::env::current_dir() {
            let cwd = cwd.to_string_lossy().replace('\\', "/");
            if let Some(rest) = p.strip_prefix(&format!("{}/", cwd.trim_end_matches('/'))) {
                p = rest.to_string();
            }
        }
    }
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
    }
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Stable across runs and collections: what the problem is, not where the line happens to be.
fn fingerprint(f: &Finding) -> String {
    let key = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        f.rule_id,
        f.account_id,
        f.link.as_deref().unwrap_or(""),
        f.resource.as_deref().unwrap_or("")
    );
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{hex}:1")
}

fn rule_help(r: &RuleMeta) -> Help {
    let mut markdown = format!("**{}** ({})\n\n{}\n", r.title, r.id, r.description);
    if !r.recommended_action.is_empty() {
        markdown.push_str(&format!(
            "\n**Recommended action:** {}\n",
            r.recommended_action
        ));
    }
    if !r.remediation.is_empty() {
        markdown.push_str(&format!("\n## Remediation\n\n{}\n", r.remediation));
    }
    if !r.frameworks.is_empty() {
        markdown.push_str("\n**Frameworks:** ");
        let list: Vec<String> = r
            .frameworks
            .iter()
            .map(|(k, v)| format!("{k} {}", v.join(", ")))
            .collect();
        markdown.push_str(&list.join("; "));
        markdown.push('\n');
    }
    if !r.related_resources.is_empty() {
        markdown.push_str("\n**References:**\n");
        for rr in &r.related_resources {
            markdown.push_str(&format!("- {}\n", rr.reference));
        }
    }
    let mut text = format!("{}\n\n{}", r.title, r.description);
    if !r.recommended_action.is_empty() {
        text.push_str(&format!("\n\nRecommended action: {}", r.recommended_action));
    }
    if !r.remediation.is_empty() {
        text.push_str(&format!("\n\nRemediation:\n{}", r.remediation));
    }
    Help { text, markdown }
}

fn rule(r: &RuleMeta) -> Rule<'_> {
    let mut tags = vec!["security".to_string(), "aws".to_string()];
    for (framework, controls) in &r.frameworks {
        for c in controls {
            tags.push(format!("{framework}/{c}"));
        }
    }
    Rule {
        id: &r.id,
        name: r
            .title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut cs = w.chars();
                cs.next()
                    .map(|f| f.to_uppercase().collect::<String>() + cs.as_str())
                    .unwrap_or_default()
            })
            .collect(),
        short_description: Text {
            text: r.title.clone(),
        },
        full_description: Text {
            text: if r.description.is_empty() {
                r.title.clone()
            } else {
                r.description.clone()
            },
        },
        help_uri: r.related_resources.first().map(|rr| rr.reference.as_str()),
        help: rule_help(r),
        default_configuration: Configuration {
            level: level_for(r.severity),
        },
        properties: RuleProperties {
            tags,
            security_severity: r.severity.security_severity(),
            precision: "very-high",
            problem_severity: match level_for(r.severity) {
                "error" => "error",
                "warning" => "warning",
                _ => "recommendation",
            },
        },
    }
}

fn result(f: &Finding, rules: &[RuleMeta]) -> Option<SarifResult> {
    if f.verdict == Verdict::Pass {
        return None;
    }
    // GitHub requires a physical location; a finding that could not be placed is still reported,
    // at line 1 of the first snapshot of its account if nothing better is known.
    let loc = f.location.as_ref()?;
    let rule_index = rules.iter().position(|r| r.id == f.rule_id)?;
    let severity = rules[rule_index].severity;
    let (kind, level) = match f.verdict {
        Verdict::Fail => ("fail", level_for(severity)),
        _ => ("open", "none"),
    };
    let mut message = f.message.clone();
    if f.verdict == Verdict::Unknown {
        message = format!("Could not be verified: {message}");
    }
    let logical_locations = f
        .resource
        .iter()
        .map(|r| LogicalLocation {
            name: r.rsplit(['/', ':']).next().unwrap_or(r).to_string(),
            fully_qualified_name: r.clone(),
            kind: "resource",
        })
        .collect();
    let mut properties = BTreeMap::new();
    properties.insert("account_id", serde_json::Value::from(f.account_id.clone()));
    properties.insert("region", serde_json::Value::from(loc.region.clone()));
    properties.insert("verdict", serde_json::Value::from(f.verdict.as_str()));
    if let Some(link) = &f.link {
        properties.insert("link", serde_json::Value::from(link.clone()));
    }
    properties.insert("pointer", serde_json::Value::from(loc.pointer.clone()));
    Some(SarifResult {
        rule_id: f.rule_id.clone(),
        rule_index,
        kind,
        level,
        message: Text { text: message },
        locations: vec![ResultLocation {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: relative_uri(&loc.path),
                },
                region: Region {
                    start_line: loc.line.max(1),
                },
            },
            logical_locations,
        }],
        partial_fingerprints: BTreeMap::from([("primaryLocationLineHash", fingerprint(f))]),
        properties,
    })
}

pub fn render(run: &RunResult, category: Option<&str>) -> Vec<u8> {
    let notifications = run
        .notifications
        .iter()
        .map(|n| ToolNotification {
            level: match n.level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Note => "note",
            },
            message: Text {
                text: n.message.clone(),
            },
            locations: n
                .path
                .iter()
                .map(|p| NotificationLocation {
                    physical_location: NotificationPhysical {
                        artifact_location: ArtifactLocation {
                            uri: relative_uri(p),
                        },
                        region: n.line.map(|l| Region {
                            start_line: l.max(1),
                        }),
                    },
                })
                .collect(),
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "cwl-audit",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: run.rules.iter().map(rule).collect(),
                },
            },
            automation_details: category.map(|c| AutomationDetails { id: c.to_string() }),
            properties: RunProperties {
                benchmark: &run.benchmark,
            },
            invocations: vec![Invocation {
                execution_successful: !run.has_errors(),
                tool_execution_notifications: notifications,
            }],
            results: run
                .findings
                .iter()
                .filter_map(|f| result(f, &run.rules))
                .collect(),
        }],
    };
    let mut bytes = serde_json::to_vec_pretty(&log).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::relative_uri;

    #[test]
    fn uris_are_relative_and_escaped() {
        assert_eq!(
            relative_uri("./snapshots/1/us-east-1.json"),
            "snapshots/1/us-east-1.json"
        );
        assert_eq!(relative_uri("a b/ü.json"), "a%20b/%C3%BC.json");
        let abs = std::env::current_dir().unwrap().join("x/y.json");
        assert_eq!(relative_uri(&abs.to_string_lossy()), "x/y.json");
    }
}
