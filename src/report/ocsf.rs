//! OCSF 1.5 for Security Lake, SIEMs and the OCSF-based Security Hub: a JSON array with one
//! finding per account and rule, passes included (a SIEM needs them to see a control recover).
//!
//! Class: **Compliance Finding (2003)**, not Detection Finding (2004). A Detection Finding reports
//! something that happened (a threat, an anomaly, a matched event); what cwl-audit reports is a
//! control's verdict on an account's configuration against CIS/Security Hub requirements, which
//! is what 2003 is for: its required `compliance` object carries the standards, the requirements,
//! the control and a pass/warning/fail `status_id`, so the verdict is a typed field a query can
//! filter on instead of a string in `unmapped`.
//!
//! The verdict, in three places that agree:
//! - `compliance.status_id`: pass 1 (Pass), fail 3 (Fail), unknown 2 (**Warning**: OCSF's "the
//!   check did not yield a result due to missing information", which is what unknown means; never
//!   0/Unknown, which a consumer may count as "not failed");
//! - `status_id`: the finding's state, 1 (New) for fail and unknown, 4 (Resolved) for a pass (as
//!   Security Hub resolves a passing control's finding);
//! - `status_code`: the verdict word itself (`pass`, `fail`, `unknown`).
//!
//! `message` is the finding's message, `status_detail` the broken link, `resources` the ARNs of
//! the chain (the one at fault first, labelled `broken`), `cloud` the account (the `cloud`
//! profile, declared in `metadata.profiles`), `unmapped.cwl_audit` what OCSF has no place for
//! (the snapshot file and line, the chain, the benchmark, notes). Times: see [`super::interop`].
//! Strings from snapshots are only ever values that serde escapes.
use super::interop::{self, Millis};
use crate::findings::{Finding, RunResult, Verdict};
use crate::findings::{RuleMeta, Severity};
use serde::Serialize;
use serde_json::json;

/// The OCSF schema version written, the one py-ocsf-models 0.10 models.
pub const OCSF_VERSION: &str = "1.5.0";
const CLASS_UID: u32 = 2003;
/// Activity 1, Create: each report states the findings afresh.
const ACTIVITY_ID: u32 = 1;

#[derive(Serialize)]
struct Event<'a> {
    activity_id: u32,
    activity_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    time: Millis,
    severity_id: u8,
    severity: &'static str,
    status_id: u8,
    status: &'static str,
    status_code: &'static str,
    status_detail: String,
    message: String,
    metadata: Metadata<'a>,
    finding_info: FindingInfo<'a>,
    compliance: Compliance<'a>,
    cloud: Cloud<'a>,
    resources: Vec<Resource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remediation: Option<Remediation<'a>>,
    unmapped: serde_json::Value,
}

#[derive(Serialize)]
struct Metadata<'a> {
    version: &'static str,
    product: Product,
    profiles: [&'static str; 1],
    event_code: &'a str,
    uid: String,
}

#[derive(Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    uid: String,
    title: &'a str,
    desc: &'a str,
    types: Vec<&'static str>,
    created_time: Millis,
    last_seen_time: Millis,
}

#[derive(Serialize)]
struct Compliance<'a> {
    control: &'a str,
    standards: Vec<&'a str>,
    requirements: Vec<String>,
    status_id: u8,
    status: &'static str,
}

#[derive(Serialize)]
struct Cloud<'a> {
    provider: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    account: Account<'a>,
}

#[derive(Serialize)]
struct Account<'a> {
    uid: &'a str,
    /// Required by the model; snapshots carry no account name, so the id stands in.
    name: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Resource {
    uid: String,
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    cloud_partition: String,
    labels: Vec<String>,
}

#[derive(Serialize)]
struct Remediation<'a> {
    desc: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<&'a str>,
}

fn severity(f: &Finding, rule: Option<&RuleMeta>) -> (u8, &'static str) {
    if f.verdict == Verdict::Pass {
        return (1, "Informational");
    }
    match rule.map(|r| r.severity) {
        Some(Severity::Low) => (2, "Low"),
        Some(Severity::Medium) => (3, "Medium"),
        Some(Severity::High) => (4, "High"),
        Some(Severity::Critical) => (5, "Critical"),
        None => (0, "Unknown"),
    }
}

fn event<'a>(f: &'a Finding, run: &'a RunResult, now: Millis) -> Event<'a> {
    let rule = run.rules.iter().find(|r| r.id == f.rule_id);
    let partition = interop::partition(f, run);
    let time = interop::observed(f, run, now);
    let (severity_id, severity) = severity(f, rule);
    let (status_id, status) = match f.verdict {
        Verdict::Pass => (4, "Resolved"),
        _ => (1, "New"),
    };
    let (compliance_id, compliance) = match f.verdict {
        Verdict::Pass => (1, "Pass"),
        Verdict::Unknown => (2, "Warning"),
        Verdict::Fail => (3, "Fail"),
    };
    let broken = f.verdict != Verdict::Pass;
    let status_detail = match (broken, f.link.as_deref()) {
        (false, _) => "complete chain".to_string(),
        (true, Some(link)) => format!("broken link: {link}"),
        (true, None) => "broken link: unknown".to_string(),
    };
    let mut resources: Vec<Resource> = interop::resources(f, broken)
        .into_iter()
        .map(|r| {
            let mut labels: Vec<String> = r.link.into_iter().collect();
            if r.at_fault {
                labels.push("broken".into());
            }
            Resource {
                name: crate::arn::short_name(&r.id).to_string(),
                kind: interop::asff_type(&r.id),
                region: interop::arn_field(&r.id, 3)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
                cloud_partition: partition.to_string(),
                uid: r.id,
                labels,
            }
        })
        .collect();
    // The account is what a monitoring rule is evaluated on, and a finding with no ARN (no
    // trail at all) still names a resource.
    resources.push(Resource {
        uid: f.account_id.clone(),
        name: f.account_id.clone(),
        kind: "AwsAccount",
        region: None,
        cloud_partition: partition.to_string(),
        labels: vec!["account".into()],
    });
    let uid = interop::finding_uid(f, partition);
    let remediation = rule.map(|r| Remediation {
        desc: match (r.recommended_action.is_empty(), r.remediation.is_empty()) {
            (false, false) => format!("{}\n\n{}", r.recommended_action, r.remediation),
            (false, true) => r.recommended_action.clone(),
            (true, false) => r.remediation.clone(),
            (true, true) => r.title.clone(),
        },
        references: r
            .related_resources
            .iter()
            .map(|rr| rr.reference.as_str())
            .collect(),
    });
    let location = f.location.as_ref().map(|l| {
        json!({
            "path": l.path, "line": l.line, "pointer": l.pointer,
            "account_id": l.account_id, "region": l.region,
        })
    });
    Event {
        activity_id: ACTIVITY_ID,
        activity_name: "Create",
        category_uid: 2,
        category_name: "Findings",
        class_uid: CLASS_UID,
        class_name: "Compliance Finding",
        type_uid: CLASS_UID * 100 + ACTIVITY_ID,
        type_name: "Compliance Finding: Create",
        time,
        severity_id,
        severity,
        status_id,
        status,
        status_code: f.verdict.as_str(),
        status_detail,
        message: interop::message(f),
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: "cwl-audit",
                vendor_name: "cwl-audit",
                version: env!("CARGO_PKG_VERSION"),
            },
            profiles: ["cloud"],
            event_code: &f.rule_id,
            // One event per observation: the finding, the benchmark that decided it and when the
            // state was collected. The same snapshots give the same event (a re-import is a
            // duplicate); a new collection is a new event of the same finding.
            uid: format!("{uid}/{}/{time}", run.benchmark),
        },
        finding_info: FindingInfo {
            uid,
            title: rule.map_or(f.rule_id.as_str(), |r| r.title.as_str()),
            desc: rule.map_or("", |r| r.description.as_str()),
            types: interop::types(rule),
            created_time: time,
            last_seen_time: time,
        },
        compliance: Compliance {
            control: &f.rule_id,
            standards: rule.map_or_else(Vec::new, |r| {
                r.frameworks.keys().map(String::as_str).collect()
            }),
            requirements: rule.map_or_else(Vec::new, interop::requirements),
            status_id: compliance_id,
            status: compliance,
        },
        cloud: Cloud {
            provider: "AWS",
            region: f.region.as_deref(),
            account: Account {
                uid: &f.account_id,
                name: &f.account_id,
                type_id: 10,
                kind: "AWS Account",
            },
        },
        resources,
        remediation,
        unmapped: json!({ "cwl_audit": {
            "verdict": f.verdict.as_str(),
            "link": f.link,
            "location": location,
            "benchmark": run.benchmark,
            "notes": f.notes,
            "chain": f.chain,
        }}),
    }
}

pub fn render(run: &RunResult) -> Vec<u8> {
    let now = interop::now();
    let events: Vec<Event> = run.findings.iter().map(|f| event(f, run, now)).collect();
    let mut bytes = serde_json::to_vec_pretty(&events).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
