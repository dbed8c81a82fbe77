//! `cwl-audit diff OLD NEW`: what changed between two snapshot sets that matters to the rules, and how
//! the verdicts moved. For reviewing a commit that updates snapshots: a filter edited, an alarm
//! disabled, a subscription removed, a call that is now denied.
//!
//! Resources are matched by stable keys (trail ARN, log group + filter name, alarm ARN, subscription
//! ARN); only the fields the chain reads are compared, so re-collecting an unchanged account (new
//! `collected_at`, alarm state, delivery times) shows nothing.
use crate::eval;
use crate::findings::{Finding, Verdict};
use crate::text::clean;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One relevant change in one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub account_id: String,
    pub region: String,
    /// What changed, in words: `alarm RootAccountUsageAlarm`, `trail management-events`, `snapshot`.
    pub subject: String,
    /// The resource's key (ARN, `log group:filter name`, ...).
    pub key: String,
    pub kind: ChangeKind,
    /// For `changed`: the field (AWS member name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// How a resource or field moved between the two sets (`added`, `removed`, `changed` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// A verdict that differs between the two sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictChange {
    pub rule_id: String,
    pub account_id: String,
    /// `None`: the account is not in that set.
    pub old: Option<Verdict>,
    pub new: Option<Verdict>,
    /// The new finding's message (the old one's when the account left the set).
    pub message: String,
    /// The account lost a pass, or moved from unknown to fail.
    pub worse: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    pub changes: Vec<Change>,
    pub verdicts: Vec<VerdictChange>,
    /// Unusable inputs in either set (one line each, as `eval` prints them).
    pub errors: Vec<String>,
    /// A side had no usable snapshot, so nothing was compared: `errors` say why, and there is no
    /// report to print (the command fails with them, before any output).
    #[serde(skip)]
    pub unusable: bool,
}

impl Diff {
    pub fn worse(&self) -> bool {
        self.verdicts.iter().any(|v| v.worse)
    }
}

type Docs = BTreeMap<(String, String), Value>;

/// The documents of a loaded set, by account and region. Problems with run manifests are added
/// after the comparison, from the evaluation (as `eval` reports them).
fn docs(set: &eval::SnapshotSet, errors: &mut Vec<String>) -> Docs {
    errors.extend(
        set.load_errors()
            .iter()
            .filter(|e| !crate::snapshot::is_manifest_path(std::path::Path::new(&e.path)))
            .map(|e| e.to_string()),
    );
    // Two or more snapshots of one account and region: all are left out, as `eval` leaves them out
    // of the verdicts, so the changes and the verdicts speak about the same files.
    let mut paths: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for s in set.snapshots() {
        paths
            .entry((s.account_id.clone(), s.region.clone()))
            .or_default()
            .push(&s.path);
    }
    let mut out = Docs::new();
    for s in set.snapshots() {
        let key = (s.account_id.clone(), s.region.clone());
        let copies = &paths[&key];
        if copies.len() > 1 {
            if copies[0] == s.path {
                errors.push(eval::duplicate_message(&s.account_id, &s.region, copies));
            }
            continue;
        }
        let mut doc = serde_json::to_value(&s.doc).unwrap_or(Value::Null);
        if let Some(o) = doc.as_object_mut() {
            // Added by the loader, not part of the snapshot.
            o.remove("path");
            o.remove("index");
        }
        out.insert(key, doc);
    }
    out
}

fn str_or_empty<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn items<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Absent and `null` are the same ("not collected" or "not set").
fn field(v: &Value, f: &str) -> Value {
    v.get(f).cloned().unwrap_or(Value::Null)
}

struct Ctx<'a> {
    account: &'a str,
    region: &'a str,
    out: &'a mut Vec<Change>,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        subject: String,
        key: &str,
        kind: ChangeKind,
        f: Option<&str>,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        self.out.push(Change {
            account_id: self.account.to_string(),
            region: self.region.to_string(),
            subject,
            key: key.to_string(),
            kind,
            field: f.map(str::to_string),
            old,
            new,
        });
    }

    /// Added, removed, and changed `fields` of the items of two lists, matched by `key`.
    fn keyed(
        &mut self,
        old: &[Value],
        new: &[Value],
        key: impl Fn(&Value) -> String,
        subject: impl Fn(&Value) -> String,
        fields: &[&str],
    ) {
        let index = |l: &[Value]| -> BTreeMap<String, Value> {
            l.iter().map(|x| (key(x), x.clone())).collect()
        };
        let (o, n) = (index(old), index(new));
        for (k, ov) in &o {
            match n.get(k) {
                None => self.push(subject(ov), k, ChangeKind::Removed, None, None, None),
                Some(nv) => {
                    for f in fields {
                        let (a, b) = (field(ov, f), field(nv, f));
                        if a != b {
                            self.push(
                                subject(nv),
                                k,
                                ChangeKind::Changed,
                                Some(f),
                                Some(a),
                                Some(b),
                            );
                        }
                    }
                }
            }
        }
        for (k, nv) in &n {
            if !o.contains_key(k) {
                self.push(subject(nv), k, ChangeKind::Added, None, None, None);
            }
        }
    }
}

const SECTIONS: [(&str, &str); 4] = [
    ("/cloudtrail/trailList", "trail list (DescribeTrails)"),
    (
        "/logs/metricFilters",
        "metric filters (DescribeMetricFilters)",
    ),
    ("/cloudwatch/MetricAlarms", "alarms (DescribeAlarms)"),
    ("/sns/Subscriptions", "subscriptions (ListSubscriptions)"),
];

const ALARM_FIELDS: [&str; 20] = [
    "ActionsEnabled",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Metrics",
    "Statistic",
    "ExtendedStatistic",
    "Unit",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "ThresholdMetricId",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "AlarmName",
];

fn compare(account: &str, region: &str, old: &Value, new: &Value, out: &mut Vec<Change>) {
    let mut c = Ctx {
        account,
        region,
        out,
    };
    for (ptr, name) in SECTIONS {
        let (a, b) = (
            old.pointer(ptr).is_some_and(Value::is_array),
            new.pointer(ptr).is_some_and(Value::is_array),
        );
        if a != b {
            let what = if b {
                "collected again"
            } else {
                "no longer collected"
            };
            c.push(
                format!("{name} {what}"),
                ptr,
                ChangeKind::Changed,
                None,
                None,
                None,
            );
        }
    }
    // Trails: the home region's record (its copies in other regions and accounts only when they come or go).
    let home = |t: &Value| {
        str_or_empty(t, "HomeRegion") == region
            && crate::arn::Arn::parse(str_or_empty(t, "TrailARN")).map(|a| a.account)
                == Some(account)
    };
    let trail_name = |t: &Value| format!("trail {}", str_or_empty(t, "Name"));
    let trails = |d: &Value| -> Vec<Value> { items(d, "/cloudtrail/trailList").to_vec() };
    let (ot, nt) = (trails(old), trails(new));
    let (oh, nh): (Vec<Value>, Vec<Value>) = (
        ot.iter().filter(|t| home(t)).cloned().collect(),
        nt.iter().filter(|t| home(t)).cloned().collect(),
    );
    c.keyed(
        &oh,
        &nh,
        |t| str_or_empty(t, "TrailARN").to_string(),
        trail_name,
        &[
            "IsMultiRegionTrail",
            "IsOrganizationTrail",
            "CloudWatchLogsLogGroupArn",
            "HomeRegion",
        ],
    );
    let (oc, nc): (Vec<Value>, Vec<Value>) = (
        ot.iter().filter(|t| !home(t)).cloned().collect(),
        nt.iter().filter(|t| !home(t)).cloned().collect(),
    );
    c.keyed(
        &oc,
        &nc,
        |t| str_or_empty(t, "TrailARN").to_string(),
        trail_name,
        &[],
    );
    // Trail status and selectors, per trail ARN.
    for (section, fields) in [
        ("status", &["IsLogging"][..]),
        (
            "selectors",
            &["EventSelectors", "AdvancedEventSelectors"][..],
        ),
    ] {
        let map = |d: &Value| -> Vec<Value> {
            d.pointer(&format!("/cloudtrail/{section}"))
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            let mut v = v.clone();
                            if let Some(o) = v.as_object_mut() {
                                o.insert("TrailARN".into(), Value::String(k.clone()));
                            }
                            v
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let name = |v: &Value| {
            let arn = str_or_empty(v, "TrailARN");
            format!("trail {} {section}", arn.rsplit('/').next().unwrap_or(arn))
        };
        c.keyed(
            &map(old),
            &map(new),
            |v| str_or_empty(v, "TrailARN").to_string(),
            name,
            fields,
        );
    }
    c.keyed(
        items(old, "/logs/metricFilters"),
        items(new, "/logs/metricFilters"),
        |f| {
            format!(
                "{}:{}",
                str_or_empty(f, "logGroupName"),
                str_or_empty(f, "filterName")
            )
        },
        |f| {
            format!(
                "filter {} on log group {}",
                str_or_empty(f, "filterName"),
                str_or_empty(f, "logGroupName")
            )
        },
        &["filterPattern", "metricTransformations"],
    );
    c.keyed(
        items(old, "/cloudwatch/MetricAlarms"),
        items(new, "/cloudwatch/MetricAlarms"),
        |a| str_or_empty(a, "AlarmArn").to_string(),
        |a| format!("alarm {}", str_or_empty(a, "AlarmName")),
        &ALARM_FIELDS,
    );
    // Subscriptions: confirmed ones by ARN; unconfirmed ones ("PendingConfirmation") by topic and endpoint.
    let sub_key = |s: &Value| {
        let arn = str_or_empty(s, "SubscriptionArn");
        if crate::arn::is_confirmed_subscription(arn) {
            arn.to_string()
        } else {
            format!(
                "{} {} {} ({arn})",
                str_or_empty(s, "TopicArn"),
                str_or_empty(s, "Protocol"),
                str_or_empty(s, "Endpoint")
            )
        }
    };
    let sub_subject = |s: &Value| {
        let topic = str_or_empty(s, "TopicArn");
        let state = if crate::arn::is_confirmed_subscription(str_or_empty(s, "SubscriptionArn")) {
            "confirmed"
        } else {
            "unconfirmed"
        };
        format!(
            "{state} {} subscription of topic {}",
            str_or_empty(s, "Protocol"),
            crate::arn::short_name(topic)
        )
    };
    c.keyed(
        items(old, "/sns/Subscriptions"),
        items(new, "/sns/Subscriptions"),
        sub_key,
        sub_subject,
        &[],
    );
    // Collection errors: what could not be read.
    let err_key = |e: &Value| {
        format!(
            "{} {} {} {}",
            str_or_empty(e, "service"),
            str_or_empty(e, "operation"),
            str_or_empty(e, "resource"),
            str_or_empty(e, "code")
        )
    };
    let err_subject = |e: &Value| {
        format!(
            "collection error {}:{} ({})",
            str_or_empty(e, "service"),
            str_or_empty(e, "operation"),
            str_or_empty(e, "code")
        )
    };
    c.keyed(
        items(old, "/errors"),
        items(new, "/errors"),
        err_key,
        err_subject,
        &[],
    );
}

/// Worse is higher: an account or rule that is gone (`None`) is worse than a pass and better than
/// an unknown, on top of [`Verdict::rank`].
fn rank(v: Option<Verdict>) -> u8 {
    match v {
        Some(Verdict::Pass) => 0,
        None => 1,
        Some(v) => v.rank() + 1,
    }
}

fn verdicts(old: &[Finding], new: &[Finding]) -> Vec<VerdictChange> {
    let index = |fs: &[Finding]| -> BTreeMap<(String, String), Finding> {
        fs.iter()
            .map(|f| ((f.rule_id.clone(), f.account_id.clone()), f.clone()))
            .collect()
    };
    let (o, n) = (index(old), index(new));
    let mut keys: Vec<&(String, String)> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        let (a, b) = (o.get(k), n.get(k));
        let (va, vb) = (a.map(|f| f.verdict), b.map(|f| f.verdict));
        if va == vb {
            continue;
        }
        let worse = match (va, vb) {
            (Some(Verdict::Pass), _) => true,
            (Some(x), Some(y)) => rank(Some(y)) > rank(Some(x)),
            _ => false,
        };
        out.push(VerdictChange {
            rule_id: k.0.clone(),
            account_id: k.1.clone(),
            old: va,
            new: vb,
            message: b.or(a).map(|f| f.message.clone()).unwrap_or_default(),
            worse,
        });
    }
    out
}

/// Compares two snapshot sets (files or directories). `Err` only when the policies are unusable.
pub fn diff(old: &PathBuf, new: &PathBuf) -> Result<Diff, crate::engine::EngineError> {
    let mut errors = Vec::new();
    // Each set is read once: compared here, decided below.
    let (old_set, new_set) = (
        eval::SnapshotSet::load(std::slice::from_ref(old)),
        eval::SnapshotSet::load(std::slice::from_ref(new)),
    );
    let (a, b) = (docs(&old_set, &mut errors), docs(&new_set, &mut errors));
    // A side without one usable snapshot (no *.json found, or none loadable) would show every
    // account of the other side as added or removed and every verdict as moved: noise that buries
    // the error explaining it. The loader has reported that side, so the diff is the errors alone.
    if a.is_empty() || b.is_empty() {
        if errors.is_empty() {
            // Not reached (the loader reports every file it drops); the exit code must say 2 anyway.
            let side = if a.is_empty() { old } else { new };
            errors.push(format!(
                "{}: no usable snapshot",
                crate::fsutil::display_path(side)
            ));
        }
        return Ok(Diff {
            changes: Vec::new(),
            verdicts: Vec::new(),
            errors,
            unusable: true,
        });
    }
    let mut changes = Vec::new();
    let mut keys: Vec<&(String, String)> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) => compare(&k.0, &k.1, x, y, &mut changes),
            (x, _) => changes.push(Change {
                account_id: k.0.clone(),
                region: k.1.clone(),
                subject: "snapshot".into(),
                key: format!("{}/{}", k.0, k.1),
                kind: if x.is_some() {
                    ChangeKind::Removed
                } else {
                    ChangeKind::Added
                },
                field: None,
                old: None,
                new: None,
            }),
        }
    }
    let ev = eval::EvalOptions::new(Vec::new()).compile()?;
    let (ro, rn) = (
        eval::evaluate(&ev, &old_set, true)?,
        eval::evaluate(&ev, &new_set, true)?,
    );
    // Each set is evaluated with its own run manifests, so the accounts they report (unknown when
    // not collected) are in the verdicts of both alike; a manifest that could not be used, or two
    // that contradict each other, is an input error of the diff as of `eval`.
    for n in ro.notifications.iter().chain(&rn.notifications) {
        let of_manifest = n
            .path
            .as_deref()
            .is_some_and(|p| crate::snapshot::is_manifest_path(std::path::Path::new(p)));
        if n.level == crate::findings::Level::Error && of_manifest && !errors.contains(&n.message) {
            errors.push(n.message.clone());
        }
    }
    Ok(Diff {
        changes,
        verdicts: verdicts(&ro.findings, &rn.findings),
        errors,
        unusable: false,
    })
}

fn show(v: &Option<Value>) -> String {
    let text = match v {
        None | Some(Value::Null) => "(none)".to_string(),
        Some(x) => serde_json::to_string(x).unwrap_or_default(),
    };
    let clean = crate::text::clean(&text).into_owned();
    if clean.chars().count() > 240 {
        format!("{}...", clean.chars().take(240).collect::<String>())
    } else {
        clean
    }
}

/// One line per change, then one per verdict change, then a summary.
pub fn render_text(d: &Diff) -> String {
    let mut o = String::new();
    for c in &d.changes {
        let what = match c.kind {
            ChangeKind::Changed => match &c.field {
                Some(f) => format!("{f} {} -> {}", show(&c.old), show(&c.new)),
                None => String::new(),
            },
            k => k.as_str().to_string(),
        };
        let sep = if what.is_empty() { "" } else { ": " };
        o.push_str(&format!(
            "{} {}  {}{sep}{what}\n",
            c.account_id,
            c.region,
            clean(&c.subject)
        ));
    }
    for v in &d.verdicts {
        let name = |x: Option<Verdict>| x.map(|v| v.as_str()).unwrap_or("absent");
        o.push_str(&format!(
            "{}  {}  {} -> {}{}: {}\n",
            v.rule_id,
            v.account_id,
            name(v.old),
            name(v.new),
            if v.worse { " (worse)" } else { "" },
            clean(&v.message)
        ));
    }
    for e in &d.errors {
        o.push_str(&format!("error: {}\n", clean(e)));
    }
    let worse = d.verdicts.iter().filter(|v| v.worse).count();
    o.push_str(&format!(
        "{} change{}, {} verdict change{} ({} worse)\n",
        d.changes.len(),
        crate::text::plural_s(d.changes.len()),
        d.verdicts.len(),
        crate::text::plural_s(d.verdicts.len()),
        worse
    ));
    o
}

pub fn render_json(d: &Diff) -> Vec<u8> {
    let doc = serde_json::json!({
        "changes": d.changes,
        "verdicts": d.verdicts,
        "errors": d.errors,
        "summary": {
            "changes": d.changes.len(),
            "verdict_changes": d.verdicts.len(),
            "worse": d.verdicts.iter().filter(|v| v.worse).count(),
        },
    });
    let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alarm_disabled_is_one_change() {
        let old = json!({"cloudwatch": {"MetricAlarms": [{"AlarmArn": "arn:a", "AlarmName": "A", "ActionsEnabled": true, "StateValue": "OK"}]}});
        let new = json!({"cloudwatch": {"MetricAlarms": [{"AlarmArn": "arn:a", "AlarmName": "A", "ActionsEnabled": false, "StateValue": "ALARM"}]}});
        let mut out = Vec::new();
        compare("1", "r", &old, &new, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].subject, "alarm A");
        assert_eq!(out[0].field.as_deref(), Some("ActionsEnabled"));
    }

    #[test]
    fn pending_subscription_confirmed() {
        let t = "arn:aws:sns:r:1:T";
        let old = json!({"sns": {"Subscriptions": [{"TopicArn": t, "SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": "a@b"}]}});
        let new = json!({"sns": {"Subscriptions": [{"TopicArn": t, "SubscriptionArn": format!("{t}:x"), "Protocol": "email", "Endpoint": "a@b"}]}});
        let mut out = Vec::new();
        compare("1", "r", &old, &new, &mut out);
        let kinds: Vec<(&str, &str)> = out
            .iter()
            .map(|c| (c.subject.as_str(), c.kind.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("unconfirmed email subscription of topic T", "removed"),
                ("confirmed email subscription of topic T", "added")
            ]
        );
    }
}
