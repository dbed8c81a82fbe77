//! Each emitter on a hand-made `RunResult`: no Rego, no snapshot files, so a change in one format
//! shows here alone, pinned with insta (tests/it/cli.rs pins the same formats end to end on the
//! demo). The result holds what every emitter must handle: a pass, a fail with its broken link,
//! notes and a place, an unknown, an input error, a warning, and a hostile string.
use super::{render, Format, RenderOptions};
use crate::findings::{
    AccountInfo, Finding, Level, Link, Location, Notification, OrgAccount, RuleMeta, RunResult,
    Severity, Verdict,
};
use std::collections::BTreeMap;

fn rule(id: &str, title: &str, severity: Severity, cis: &str) -> RuleMeta {
    RuleMeta {
        id: id.into(),
        title: title.into(),
        description: format!("{title}: description."),
        severity,
        recommended_action: "Create the missing pieces.".into(),
        remediation: "1. Create a metric filter.\n2. Create an alarm.".into(),
        frameworks: [("cis-aws-foundations".to_string(), vec![cis.to_string()])].into(),
        references: Vec::new(),
        related_resources: Vec::new(),
        remediate: None,
        package: format!("checks.test.{}", id.to_lowercase().replace('-', "_")),
        source: format!("policies/{}.rego", id.to_lowercase()),
    }
}

fn finding(rule: &str, account: &str, verdict: Verdict, message: &str) -> Finding {
    Finding {
        rule_id: rule.into(),
        account_id: account.into(),
        verdict,
        message: message.into(),
        region: Some("us-east-1".into()),
        resource: None,
        link: None,
        location: Some(Location {
            path: format!("snapshots/{account}/us-east-1.json"),
            pointer: String::new(),
            line: 1,
            account_id: account.into(),
            region: "us-east-1".into(),
        }),
        chain: serde_json::json!([]),
        notes: Vec::new(),
    }
}

fn hand_made() -> RunResult {
    let mut fail = finding(
        "CWL-014",
        "222222222222",
        Verdict::Fail,
        "filter RootAccountUsage on log group trail-logs misses root sign-ins",
    );
    fail.link = Some(Link::Filter);
    fail.resource = Some("trail-logs:RootAccountUsage".into());
    fail.notes = vec!["under CIS v1.2 the same filter passes".into()];
    if let Some(l) = fail.location.as_mut() {
        l.pointer = "/logs/metricFilters/0".into();
        l.line = 42;
    }
    // An alarm name as a hostile collector could write it: escape sequence, bidi override, markup.
    let mut unknown = finding(
        "CIS-4.4",
        "222222222222",
        Verdict::Unknown,
        "alarm \u{1b}[31mx\u{202e}</script><b>\" could not be read: AccessDenied",
    );
    unknown.link = Some(Link::Alarm);
    let pass = finding(
        "CWL-014",
        "111111111111",
        Verdict::Pass,
        "trail t -> log group g -> filter f -> alarm a -> topic s (1 confirmed subscription)",
    );
    let pass2 = finding(
        "CIS-4.4",
        "111111111111",
        Verdict::Pass,
        "IAM policy changes alarm",
    );
    let info = |p: &str| AccountInfo {
        partition: "aws".into(),
        collected_at: [("us-east-1".to_string(), "2026-12-01T10:00:00Z".to_string())].into(),
        snapshots: [("us-east-1".to_string(), p.to_string())].into(),
    };
    RunResult {
        rules: vec![
            rule("CIS-4.4", "IAM policy changes alarm", Severity::Medium, "4.4"),
            rule("CWL-014", "Root Account Usage Alarm", Severity::High, "4.3"),
        ],
        findings: vec![unknown, pass2, fail, pass],
        notifications: vec![
            Notification {
                level: Level::Error,
                message: "snapshots/333333333333/us-east-1.json:3:16: invalid JSON: EOF".into(),
                path: Some("snapshots/333333333333/us-east-1.json".into()),
                line: Some(3),
            },
            Notification {
                level: Level::Warning,
                message: "snapshots/222222222222/us-east-1.json: the collector could not read cloudwatch DescribeAlarms: AccessDenied".into(),
                path: Some("snapshots/222222222222/us-east-1.json".into()),
                line: None,
            },
        ],
        inputs: vec![
            "snapshots/111111111111/us-east-1.json".into(),
            "snapshots/222222222222/us-east-1.json".into(),
        ],
        benchmark: "cis-v6.0".into(),
        accounts: [
            ("111111111111".to_string(), info("snapshots/111111111111/us-east-1.json")),
            ("222222222222".to_string(), info("snapshots/222222222222/us-east-1.json")),
        ]
        .into(),
        organization: BTreeMap::from([(
            "222222222222".to_string(),
            OrgAccount {
                name: Some("prod".into()),
                ou_id: Some("ou-ab12-cdef3456".into()),
                ou_path: Some("Root/Workloads".into()),
            },
        )]),
    }
}

fn rendered(format: Format) -> String {
    let opts = RenderOptions {
        source_root: Some(super::uri::SourceRoot::new(std::path::Path::new("."))),
        ..RenderOptions::default()
    };
    String::from_utf8(render(format, &hand_made(), &opts)).expect("every report is UTF-8")
}

#[test]
fn text() {
    insta::assert_snapshot!(rendered(Format::Text));
}

#[test]
fn json() {
    insta::assert_snapshot!(rendered(Format::Json));
}

#[test]
fn junit() {
    insta::assert_snapshot!(rendered(Format::Junit));
}

#[test]
fn sarif() {
    // %SRCROOT% is the directory the tests run in: the checkout's path is not part of the pin.
    let cwd = std::env::current_dir().expect("a current directory");
    let root = format!("file://{}/", cwd.display());
    insta::assert_snapshot!(rendered(Format::Sarif).replace(&root, "file:///[CHECKOUT]/"));
}

#[test]
fn ocsf() {
    insta::assert_snapshot!(rendered(Format::Ocsf));
}

#[test]
fn asff() {
    insta::assert_snapshot!(rendered(Format::Asff));
}

/// The page with the style sheet's and script's bodies and their CSP hashes left out (they are
/// code, pinned by the browser test; a hash that does not match its element would stop the
/// script there), and the data block pretty-printed, so the snapshot shows what the page says.
fn redacted(html: &str) -> String {
    let mut out = html.to_string();
    for (open, close, placeholder) in [
        (
            "<style>",
            "</style>",
            "<style>/* src/report/html/report.css */</style>",
        ),
        (
            "<script>",
            "</script>",
            "<script>/* src/report/html/report.js */</script>",
        ),
    ] {
        let start = out.find(open).expect("element");
        let end = out[start..].find(close).expect("end of element") + start + close.len();
        out.replace_range(start..end, placeholder);
    }
    let hash = elide(&out, "sha256-", "&#39;");
    let marker = "<script type=\"application/json\" id=\"cwl-data\">";
    let start = hash.find(marker).expect("data block") + marker.len();
    let end = hash[start..].find("</script>").expect("end of data") + start;
    let data: serde_json::Value = serde_json::from_str(&hash[start..end]).expect("data is JSON");
    format!(
        "{}\n{}\n{}",
        &hash[..start],
        serde_json::to_string_pretty(&data).expect("JSON"),
        &hash[end..]
    )
}

/// Every `PREFIX...END` with its middle replaced by `…`.
fn elide(s: &str, prefix: &str, end: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(prefix) {
        out.push_str(&rest[..i + prefix.len()]);
        rest = &rest[i + prefix.len()..];
        let j = rest.find(end).expect("hash ends");
        out.push('…');
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}

#[test]
fn html() {
    insta::assert_snapshot!(redacted(&rendered(Format::Html)));
}

#[test]
fn no_human_readable_format_carries_a_hidden_character() {
    // The hand-made run's messages hold ESC and U+202E. JSON-escaped in the HTML page's data
    // block; never raw anywhere in these, nor as a character reference in JUnit (its test-report
    // pages decode those and show the character).
    for format in [Format::Text, Format::Html, Format::Junit] {
        let out = rendered(format);
        assert!(
            !out.chars().any(|c| c == '\u{1b}' || c == '\u{202e}'),
            "{format:?}"
        );
        assert!(
            !out.contains("&#8238;") && !out.contains("&#x202"),
            "{format:?}"
        );
    }
}

/// An account's ASFF findings go to one region whatever the verdict: a finding that points at
/// eu-west-1 (no trail there yet) goes where the fixed one will, so its `Id` is updated, not left
/// FAILED in a second regional Security Hub.
#[test]
fn asff_region_is_one_per_account() {
    let mut run = hand_made();
    for f in &mut run.findings {
        f.region = Some("eu-west-1".into());
        if let Some(l) = f.location.as_mut() {
            l.region = "eu-west-1".into();
        }
    }
    for info in run.accounts.values_mut() {
        info.collected_at
            .insert("eu-west-1".into(), "2026-12-01T10:00:00Z".into());
    }
    let text = String::from_utf8(render(Format::Asff, &run, &RenderOptions::default())).unwrap();
    let arns: std::collections::BTreeSet<String> = text
        .lines()
        .flat_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["Findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["ProductArn"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!arns.is_empty());
    assert!(
        arns.iter()
            .all(|a| a.starts_with("arn:aws:securityhub:us-east-1:")),
        "{arns:?}"
    );
    // Without a snapshot in the main region: the first collected one.
    for info in run.accounts.values_mut() {
        info.collected_at.remove("us-east-1");
    }
    let text = String::from_utf8(render(Format::Asff, &run, &RenderOptions::default())).unwrap();
    assert!(text.contains("arn:aws:securityhub:eu-west-1:"), "{text}");
    assert!(!text.contains("arn:aws:securityhub:us-east-1:"), "{text}");
}

/// The HTML's `cwl-audit remediate FILES` line never turns a path into an option.
#[test]
fn html_remediate_command_keeps_dash_paths_as_paths() {
    let mut run = hand_made();
    if let Some(info) = run.accounts.get_mut("222222222222") {
        info.snapshots
            .insert("us-east-1".into(), "--output=x/us-east-1.json".into());
    }
    let html = rendered_run(Format::Html, &run);
    assert!(html.contains("./--output=x/us-east-1.json"), "{html}");
    assert!(!html.contains("remediate --output=x"), "{html}");
}

fn rendered_run(format: Format, run: &RunResult) -> String {
    let opts = RenderOptions {
        source_root: Some(super::uri::SourceRoot::new(std::path::Path::new("."))),
        ..RenderOptions::default()
    };
    String::from_utf8(render(format, run, &opts)).expect("every report is UTF-8")
}

/// A related-resources ref that is not a valid http(s) URI is no `helpUri` (a space made the whole
/// file invalid SARIF); a valid one is.
#[test]
fn sarif_help_uri_only_when_valid() {
    let mut run = hand_made();
    run.rules[0].related_resources = vec![crate::findings::rule::RelatedResource {
        reference: "https://example.com/a b".into(),
        description: None,
    }];
    run.rules[1].related_resources = vec![crate::findings::rule::RelatedResource {
        reference: "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1".into(),
        description: None,
    }];
    let sarif: serde_json::Value =
        serde_json::from_str(&rendered_run(Format::Sarif, &run)).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let uri = |id: &str| {
        rules
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["helpUri"].clone())
            .unwrap()
    };
    assert_eq!(uri("CIS-4.4"), serde_json::Value::Null);
    assert_eq!(
        uri("CWL-014"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1"
    );
}
