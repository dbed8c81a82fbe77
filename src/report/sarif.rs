//! SARIF 2.1.0 for GitHub code scanning and other viewers. A small model of the parts we write:
//! `$schema` and `version` come from the model, so they cannot be forgotten.
//!
//! - one result per failing (`kind: fail`) or unknown (`kind: open`, level `none` as SARIF requires
//!   for non-fail kinds) account and rule; passes are not results;
//! - located at the snapshot file and the line of the offending object: a URI relative to
//!   `%SRCROOT%` (see [`super::uri`]), declared in `originalUriBaseIds`, or an absolute `file://`
//!   URI for a file outside the source root;
//! - `partialFingerprints.primaryLocationLineHash` hashes rule, account, link and resource — never a
//!   line number or time — so re-collecting the same problem keeps the same alert;
//! - unreadable inputs and snapshot `errors` are `toolExecutionNotifications`, and any input error
//!   sets `executionSuccessful: false` so an upload does not close alerts it could not check.
use super::uri::{SourceRoot, SRCROOT};
use crate::findings::{Finding, Level, RunResult, Verdict};
use crate::findings::{RuleMeta, Severity};
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
    original_uri_base_ids: BTreeMap<&'static str, BaseUri>,
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

/// Where `%SRCROOT%` is on the machine that wrote the log: viewers resolve relative URIs with it,
/// GitHub ignores it and takes them as repository-relative.
#[derive(Serialize)]
struct BaseUri {
    uri: String,
    description: Text,
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
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    /// `%SRCROOT%` for a relative URI; absent for a `file://` URI outside the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

impl ArtifactLocation {
    fn of(path: &str, root: &SourceRoot) -> ArtifactLocation {
        let l = root.locate(path);
        ArtifactLocation {
            uri: l.uri,
            uri_base_id: l.base,
        }
    }
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
    /// The directory cwl-audit ran in, as SARIF defines it. GitHub takes the checkout path from it
    /// when a location is an absolute `file://` URI (multitool rule GH1006 asks for it then).
    #[serde(skip_serializing_if = "Option::is_none")]
    working_directory: Option<BaseUri>,
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
        help_uri: r
            .related_resources
            .first()
            .map(|rr| rr.reference.as_str())
            .filter(|u| is_help_uri(u)),
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

/// A policy's METADATA `related_resources` ref is written as `helpUri` only when it is an http(s)
/// URI made of the characters RFC 3986 allows (a space makes the whole file invalid SARIF, error
/// SARIF1002); anything else stays in the rule's help text only.
fn is_help_uri(u: &str) -> bool {
    (u.starts_with("https://") || u.starts_with("http://"))
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c))
}

fn result(f: &Finding, rules: &[RuleMeta], root: &SourceRoot) -> Option<SarifResult> {
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
            name: crate::arn::short_name(r).to_string(),
            fully_qualified_name: r.clone(),
            kind: "resource",
        })
        .collect();
    let mut properties = BTreeMap::new();
    properties.insert("account_id", serde_json::Value::from(f.account_id.clone()));
    properties.insert("region", serde_json::Value::from(loc.region.clone()));
    properties.insert("verdict", serde_json::Value::from(f.verdict.as_str()));
    if let Some(link) = &f.link {
        properties.insert("link", serde_json::Value::from(link.as_str()));
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
                artifact_location: ArtifactLocation::of(&loc.path, root),
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

/// The working directory as SARIF's `invocations[].workingDirectory`.
fn working_directory() -> Option<SourceRoot> {
    std::env::current_dir()
        .ok()
        .map(|cwd| SourceRoot::new(&cwd))
}

/// A warning when a result would be located by an absolute `file://` URI outside the working
/// directory: GitHub code scanning takes the checkout path from `workingDirectory` and rejects
/// the whole upload for such a location (multitool rule GH1006), so this must not go unnoticed.
pub fn outside_checkout_warning(run: &RunResult, root: &SourceRoot) -> Option<String> {
    let cwd = working_directory()?.uri();
    let outside: Vec<&str> = run
        .findings
        .iter()
        .filter(|f| f.verdict != Verdict::Pass)
        .filter_map(|f| f.location.as_ref())
        .map(|l| l.path.as_str())
        .filter(|p| {
            let l = root.locate(p);
            l.base.is_none() && !l.uri.starts_with(&cwd)
        })
        .collect();
    let first = outside.first()?;
    Some(format!(
        "{} SARIF result(s) point at files outside the source root {} and the working directory \
         (e.g. {first}): GitHub code scanning rejects a log with such absolute file URIs; evaluate \
         snapshots inside the checkout or name their directory with --source-root",
        outside.len(),
        root.uri()
    ))
}

/// `automationDetails.id` for category `c`. GitHub reads the id's part before its last `/` as the
/// code-scanning category and the rest as the run: `prod` alone would be a run of the empty
/// category, so every set uploaded that way would replace the others' results and close their
/// alerts (and upload-sarif's own `category` input does not apply once the file has an id). So
/// the category always ends with `/`.
fn automation_id(c: &str) -> String {
    if c.ends_with('/') {
        c.to_string()
    } else {
        format!("{c}/")
    }
}

pub fn render(run: &RunResult, category: Option<&str>, root: &SourceRoot) -> Vec<u8> {
    let mut notifications: Vec<ToolNotification> = run
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
                        artifact_location: ArtifactLocation::of(p, root),
                        region: n.line.map(|l| Region {
                            start_line: l.max(1),
                        }),
                    },
                })
                .collect(),
        })
        .collect();
    if let Some(text) = outside_checkout_warning(run, root) {
        notifications.push(ToolNotification {
            level: "warning",
            message: Text { text },
            locations: Vec::new(),
        });
    }
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
            original_uri_base_ids: BTreeMap::from([(
                SRCROOT,
                BaseUri {
                    uri: root.uri(),
                    description: Text {
                        text: "The source root: the git work tree containing the snapshots, the current directory, or --source-root".into(),
                    },
                },
            )]),
            automation_details: category.map(|c| AutomationDetails {
                id: automation_id(c),
            }),
            properties: RunProperties {
                benchmark: &run.benchmark,
            },
            invocations: vec![Invocation {
                execution_successful: !run.has_errors(),
                working_directory: working_directory().map(|cwd| BaseUri {
                    uri: cwd.uri(),
                    description: Text {
                        text: "The directory cwl-audit ran in".into(),
                    },
                }),
                tool_execution_notifications: notifications,
            }],
            results: run
                .findings
                .iter()
                .filter_map(|f| result(f, &run.rules, root))
                .collect(),
        }],
    };
    let mut bytes = serde_json::to_vec_pretty(&log).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
