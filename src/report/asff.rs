//! AWS Security Finding Format for Security Hub's `BatchImportFindings`. cwl-audit stays
//! read-only: it writes the requests, the AWS CLI sends them (README, "Sending findings to
//! Security Hub").
//!
//! Output: **one batch per line** (JSON Lines), each line a complete `BatchImportFindings` input,
//! `{"Findings": [...]}`. Security Hub takes at most 100 findings and 6 MB per call, 240 KB per
//! finding, and with the account's default product a call must come from the finding's account
//! and region (`AwsAccountId`, `ProductArn`). So findings are grouped by account and region, and
//! a group is split at 100 findings or 6 MB. One line is also one JSON document: a report of one
//! batch (up to 100 findings of one account) is the plain `{"Findings": [...]}` that
//! `aws securityhub batch-import-findings --cli-input-json file://FILE` reads, and a larger one is
//! read line by line, one call per line, with no splitting left to the user. Several files were
//! the alternative; a stream of lines pipes into a loop and needs no naming scheme.
//!
//! - `Id`: `cwl-audit/<partition>/<account>/<rule>`. The resource a CIS monitoring control is
//!   evaluated on is the account (Security Hub's own CloudWatch.1 findings name `AwsAccount`);
//!   the resource at the broken link is listed in `Resources` but is not part of the `Id`: it
//!   moves as the chain is repaired (a stopped trail today, a missing alarm tomorrow), and an
//!   `Id` that moved with it would leave the earlier FAILED finding active forever instead of
//!   updating it to PASSED.
//! - `Compliance.Status`: pass PASSED, fail FAILED, unknown **WARNING** (Security Hub's "some
//!   information is missing"), never PASSED: an unverified account is not compliant.
//! - `Severity.Label`: the rule's severity for fail and unknown, INFORMATIONAL for a pass (as
//!   Security Hub labels passed controls); `Severity.Original` is always the rule's.
//! - Times: `collected_at` of the snapshot (see [`super::interop`]): re-importing the same
//!   snapshots changes nothing, a new collection updates.
//! - Strings are cut to the documented maxima (Title 256, Description 1024, recommendation 512,
//!   product field values 2048 characters), so a long name from a snapshot cannot make Security
//!   Hub reject a finding, let alone a batch; everything is a JSON string value escaped by serde.
use super::interop::{self, Millis};
use crate::findings::RuleMeta;
use crate::findings::{Finding, RunResult, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: &str = "2018-10-08";
/// Security Hub's limits per `BatchImportFindings` call and per finding.
pub const MAX_BATCH_FINDINGS: usize = 100;
pub const MAX_BATCH_BYTES: usize = 6 * 1024 * 1024;
pub const MAX_FINDING_BYTES: usize = 240 * 1024;
/// Where a finding names no region at all (a snapshot always has one; this is for findings a
/// run manifest adds for accounts without snapshots).
const FALLBACK_REGION: &str = "us-east-1";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Batch<'a> {
    findings: &'a [AsffFinding],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffFinding {
    schema_version: &'static str,
    id: String,
    product_arn: String,
    product_name: &'static str,
    company_name: &'static str,
    generator_id: String,
    aws_account_id: String,
    types: Vec<&'static str>,
    first_observed_at: String,
    last_observed_at: String,
    created_at: String,
    updated_at: String,
    severity: Severity,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remediation: Option<Remediation>,
    product_fields: BTreeMap<&'static str, String>,
    resources: Vec<Resource>,
    compliance: Compliance,
    record_state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Severity {
    label: &'static str,
    original: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Remediation {
    recommendation: Recommendation,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Recommendation {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    #[serde(rename = "Type")]
    kind: &'static str,
    id: String,
    partition: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Compliance {
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_requirements: Vec<String>,
}

/// At most `max` characters of `s` (ASFF's limits count characters), cut on a character.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => {
            let keep = s[..i]
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(i, |(j, _)| j);
            format!("{}…", &s[..keep])
        }
    }
}

fn label(f: &Finding, rule: Option<&RuleMeta>) -> (&'static str, &'static str) {
    let original = rule.map_or("MEDIUM", |r| r.severity.as_str());
    match f.verdict {
        Verdict::Pass => ("INFORMATIONAL", original),
        _ => (original, original),
    }
}

/// The region Security Hub receives an account's findings in: one per account, whatever the
/// verdicts. A region that followed the broken link would move as the chain is repaired (no trail:
/// the first region; fixed: the trail's home), and the earlier FAILED finding would stay active in
/// the other regional Security Hub, never updated by the PASSED one. So: the partition's main
/// region (us-east-1, cn-north-1, us-gov-west-1) when the account was collected there, else its
/// first collected region, else where the finding points (accounts a run manifest adds without
/// snapshots).
fn region<'a>(f: &'a Finding, run: &'a RunResult) -> &'a str {
    let main = match interop::partition(f, run) {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => FALLBACK_REGION,
    };
    let collected = run.accounts.get(&f.account_id).map(|a| &a.collected_at);
    collected
        .and_then(|c| {
            c.contains_key(main)
                .then_some(main)
                .or_else(|| c.keys().next().map(String::as_str))
        })
        .or(f.region.as_deref())
        .or_else(|| f.location.as_ref().map(|l| l.region.as_str()))
        .filter(|r| crate::arn::is_region(r))
        .unwrap_or(FALLBACK_REGION)
}

fn finding(f: &Finding, run: &RunResult, now: Millis) -> AsffFinding {
    let rule = run.rules.iter().find(|r| r.id == f.rule_id);
    let partition = interop::partition(f, run).to_string();
    let region = region(f, run).to_string();
    let at = interop::format_rfc3339(interop::observed(f, run, now));
    let (label, original) = label(f, rule);
    let broken = f.verdict != Verdict::Pass;
    let mut resources = vec![Resource {
        kind: "AwsAccount",
        id: format!("AWS::::Account:{}", f.account_id),
        partition: partition.clone(),
        region: Some(region.clone()),
    }];
    // ASFF takes at most 32 resources; a chain has six links.
    for r in interop::resources(f, broken).into_iter().take(31) {
        resources.push(Resource {
            kind: interop::asff_type(&r.id),
            region: interop::arn_field(&r.id, 3)
                .filter(|s| crate::arn::is_region(s))
                .map(str::to_string),
            // An ARN is at most 2048 characters; a longer "ARN" is not one, and must not grow
            // the finding past Security Hub's 240 KB.
            id: cut(&r.id, 2048),
            partition: partition.clone(),
        });
    }
    let mut fields = BTreeMap::new();
    fields.insert("cwl-audit/verdict", f.verdict.as_str().to_string());
    fields.insert("cwl-audit/benchmark", cut(&run.benchmark, 2048));
    if let Some(link) = &f.link {
        fields.insert("cwl-audit/link", cut(link, 2048));
    }
    if let Some(l) = &f.location {
        fields.insert(
            "cwl-audit/location",
            cut(&format!("{}:{}", l.path, l.line), 2048),
        );
        fields.insert("cwl-audit/pointer", cut(&l.pointer, 2048));
    }
    let remediation = rule
        .filter(|r| !r.recommended_action.is_empty())
        .map(|r| Remediation {
            recommendation: Recommendation {
                text: cut(&r.recommended_action, 512),
                url: r
                    .related_resources
                    .first()
                    .map(|rr| rr.reference.clone())
                    .filter(|u| u.len() <= 2048),
            },
        });
    AsffFinding {
        schema_version: SCHEMA_VERSION,
        id: cut(&interop::finding_uid(f, &partition), 512),
        product_arn: crate::arn::build(
            &partition,
            "securityhub",
            &region,
            &f.account_id,
            &format!("product/{}/default", f.account_id),
        ),
        product_name: "cwl-audit",
        company_name: "cwl-audit",
        generator_id: cut(&f.rule_id, 512),
        aws_account_id: f.account_id.clone(),
        types: interop::types(rule),
        first_observed_at: at.clone(),
        last_observed_at: at.clone(),
        created_at: at.clone(),
        updated_at: at,
        severity: Severity { label, original },
        title: cut(rule.map_or(&f.rule_id, |r| &r.title), 256),
        description: cut(&interop::message(f), 1024),
        remediation,
        product_fields: fields,
        resources,
        compliance: Compliance {
            status: match f.verdict {
                Verdict::Pass => "PASSED",
                Verdict::Fail => "FAILED",
                Verdict::Unknown => "WARNING",
            },
            related_requirements: rule
                .map_or_else(Vec::new, interop::requirements)
                .into_iter()
                .take(32)
                .collect(),
        },
        record_state: "ACTIVE",
    }
}

/// The findings as batches: grouped by (account, ProductArn) in report order, each group split
/// at [`MAX_BATCH_FINDINGS`] findings or [`MAX_BATCH_BYTES`] bytes.
fn batches(run: &RunResult) -> Vec<Vec<AsffFinding>> {
    let now = interop::now();
    let mut groups: BTreeMap<(String, String), Vec<AsffFinding>> = BTreeMap::new();
    for f in &run.findings {
        let a = finding(f, run, now);
        groups
            .entry((a.aws_account_id.clone(), a.product_arn.clone()))
            .or_default()
            .push(a);
    }
    let mut out: Vec<Vec<AsffFinding>> = Vec::new();
    for (_, group) in groups {
        let mut batch: Vec<AsffFinding> = Vec::new();
        // `{"Findings":[` + `]}`, then each finding and its comma.
        let mut bytes = 14;
        for a in group {
            let size = compact(&a).map_or(0, |v| v.len()) + 1;
            if !batch.is_empty()
                && (batch.len() == MAX_BATCH_FINDINGS || bytes + size > MAX_BATCH_BYTES)
            {
                out.push(std::mem::take(&mut batch));
                bytes = 14;
            }
            bytes += size;
            batch.push(a);
        }
        if !batch.is_empty() {
            out.push(batch);
        }
    }
    out
}

/// Compact JSON with hidden characters as escapes ([`crate::text::escape_hidden_in_json`]): the
/// same strings to a JSON parser, and one line for a reader that splits lines on Unicode line
/// breaks (U+0085, U+2028, U+2029: Python's `splitlines`, many log shippers).
fn compact<T: Serialize>(v: &T) -> Option<Vec<u8>> {
    let text = serde_json::to_string(v).ok()?;
    Some(crate::text::escape_hidden_in_json(text).into_bytes())
}

/// One compact `{"Findings": [...]}` per line; no findings, no lines (an empty batch is not a
/// valid call).
pub fn render(run: &RunResult) -> Vec<u8> {
    let mut out = Vec::new();
    for b in batches(run) {
        if let Some(line) = compact(&Batch { findings: &b }) {
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{compact, cut};

    /// One batch is one line for every reader: Unicode line breaks in a name are escapes, and
    /// the value parses back exactly.
    #[test]
    fn unicode_line_breaks_are_escaped_in_the_lines() {
        let v = serde_json::json!({"Title": "x\u{2028}y\u{85}z\u{2029}\n"});
        let line = String::from_utf8(compact(&v).unwrap()).unwrap();
        assert_eq!(line.lines().count(), 1);
        assert!(!line.contains(['\u{85}', '\u{2028}', '\u{2029}']), "{line}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&line).unwrap(), v);
    }

    #[test]
    fn cut_counts_characters_and_marks_the_cut() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "ab…");
        assert_eq!(cut("ééééé", 4).chars().count(), 4);
    }
}
