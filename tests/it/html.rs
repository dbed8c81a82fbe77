//! `--format html`: every report checked in a real browser (headless Chromium driven by Selenium,
//! tests/browser/html_report.py) against the JSON report of the same run: the demo, one account, 300 accounts x 15 rules grouped by OU
//! (its size is measured and bounded), and hostile snapshot, manifest and policy strings.
use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::bin::*;

/// `name` on PATH, else `None`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// The browser and its driver: `CWL_AUDIT_CHROMIUM` / `CWL_AUDIT_CHROMEDRIVER`, else on PATH.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let from_env = |k: &str| {
        std::env::var_os(k)
            .map(PathBuf::from)
            .filter(|p| p.is_file())
    };
    let chromium = from_env("CWL_AUDIT_CHROMIUM")
        .or_else(|| on_path(&["chromium", "chromium-browser", "google-chrome"]))?;
    let driver = from_env("CWL_AUDIT_CHROMEDRIVER").or_else(|| on_path(&["chromedriver"]))?;
    Some((chromium, driver))
}

/// `cwl-audit eval PATHS EXTRA --format F -o OUT` in `dir`; exit 0 or 1 (findings).
fn eval_to(dir: &Path, paths: &[&str], extra: &[&str], format: &str, out: &Path) {
    let mut args = vec!["eval"];
    args.extend_from_slice(paths);
    args.extend_from_slice(extra);
    let out_s = out.to_str().expect("UTF-8 path");
    args.extend_from_slice(&["--format", format, "--output", out_s]);
    let o = run_in(dir, &args);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        stderr(&o)
    );
}

const HOSTILE_ALARM: &str =
    "</script><script>alert(1)</script>\"><img src=x onerror=alert(2)>\u{202e}lanigiro\u{1b}[31m";
const HOSTILE_FILTER: &str = "'><svg onload=alert(3)>\u{2066}x\u{2069}<!--";
const HOSTILE_NAME: &str = "<b>team</b>\"><img src=x onerror=alert(4)>\u{202e}";
const HOSTILE_OU: &str = "Root/</script><script>alert(5)</script>\u{2028}";

/// A hostile custom rule: its METADATA and its decision's strings (YAML and Rego escapes, so the
/// file itself is plain ASCII).
const HOSTILE_POLICY: &str = r#"# METADATA
# title: "<img src=x onerror=alert(6)> \u202Etitle"
# description: A rule whose every string is hostile.
# custom:
#   id: EVIL-001
#   severity: LOW
#   recommended_action: "\"><script>alert(7)</script>"
#   frameworks:
#     internal: ["</script><script>alert(8)</script>"]
#   remediation: |
#     <img src=x onerror=alert(9)> and `</script><script>alert(10)</script>`
#     ```sh
#     echo "<script>alert(11)</script>"
#     ```
package hostile.evil

decision := {
	"verdict": "fail",
	"message": "<img src=x onerror=alert(12)> \u202eevil",
	"link": "\"><svg onload=alert(13)>",
	"resource": "arn:aws:sns:us-east-1:210000000000:</script><script>alert(14)</script>",
	"chain": [{"link": "trail", "name": "<b>bold</b>", "arn": "\"><img src=x onerror=alert(15)>"}],
}
"#;

/// Account `id` from demo account `template`'s us-east-1 snapshot (every ARN follows the id).
fn clone_account(dir: &Path, template: &str, id: &str, edit: impl Fn(&mut serde_json::Value)) {
    let text = std::fs::read_to_string(root().join(format!("snapshots/{template}/us-east-1.json")))
        .expect("demo snapshot");
    let mut doc: serde_json::Value =
        serde_json::from_str(&text.replace(template, id)).expect("snapshot JSON");
    edit(&mut doc);
    std::fs::create_dir_all(dir.join(id)).expect("mkdir");
    std::fs::write(
        dir.join(id).join("us-east-1.json"),
        serde_json::to_string_pretty(&doc).expect("JSON"),
    )
    .expect("write snapshot");
}

fn manifest(dir: &Path, accounts: Vec<serde_json::Value>) {
    let m = serde_json::json!({
        "format": "cwl-audit.manifest/v1",
        "organization": {"id": "o-abc123defg", "management_account_id": "200000000000", "partition": "aws"},
        "caller_account_id": "200000000000",
        "member_role": "CwlAuditReadOnly",
        "regions": ["us-east-1"],
        "started_at": "2026-11-25T09:55:00Z",
        "finished_at": "2026-11-25T10:05:00Z",
        "collector": {"name": "cwl-audit", "version": "0.1.0"},
        "accounts": accounts,
    });
    std::fs::write(
        dir.join("cwl-audit-manifest.json"),
        serde_json::to_string_pretty(&m).expect("JSON"),
    )
    .expect("write manifest");
}

fn collected(id: &str, name: &str, ou: (&str, &str)) -> serde_json::Value {
    serde_json::json!({
        "account_id": id, "name": name, "ou": {"id": ou.0, "path": ou.1},
        "status": "collected", "regions": {"us-east-1": "complete"},
    })
}

/// 300 accounts from the seven one-account demo accounts (a third of them compliant like
/// 888888888888, the rest in turn each demo account's faults), in four OUs.
fn organization(dir: &Path) {
    const TEMPLATES: [&str; 7] = [
        "333333333333",
        "444444444444",
        "555555555555",
        "666666666666",
        "777777777777",
        "888888888888",
        "999999999999",
    ];
    const OUS: [(&str, &str); 4] = [
        ("ou-ab12-sec00001", "Root/Security"),
        ("ou-ab12-prod0001", "Root/Workloads/Prod"),
        ("ou-ab12-dev00001", "Root/Workloads/Dev"),
        ("ou-ab12-sbx00001", "Root/Sandbox"),
    ];
    let mut entries = Vec::new();
    for i in 0..300 {
        let id = format!("{:012}", 200_000_000_000u64 + i as u64);
        let template = if i % 3 == 0 {
            "888888888888"
        } else {
            TEMPLATES[i % 7]
        };
        clone_account(dir, template, &id, |_| {});
        entries.push(collected(&id, &format!("team-{i:03}"), OUS[i % 4]));
    }
    manifest(dir, entries);
}

/// Hostile strings in an alarm name, a filter name, the manifest's account name and OU, and a
/// custom policy; account 210000000000 fails CWL-014 at that alarm, as 333333333333 does.
fn hostile(dir: &Path) -> PathBuf {
    let org = dir.join("org");
    clone_account(&org, "333333333333", "210000000000", |doc| {
        let alarms = doc["cloudwatch"]["MetricAlarms"]
            .as_array_mut()
            .expect("alarms");
        for a in alarms.iter_mut() {
            if a["AlarmName"] == "RootAccountUsageAlarm" {
                let arn =
                    format!("arn:aws:cloudwatch:us-east-1:210000000000:alarm:{HOSTILE_ALARM}");
                a["AlarmName"] = HOSTILE_ALARM.into();
                a["AlarmArn"] = arn.into();
            }
        }
        let filters = doc["logs"]["metricFilters"]
            .as_array_mut()
            .expect("filters");
        for f in filters.iter_mut() {
            if f["filterName"] == "RootAccountUsage" {
                f["filterName"] = HOSTILE_FILTER.into();
            }
        }
    });
    manifest(
        &org,
        vec![collected(
            "210000000000",
            HOSTILE_NAME,
            ("ou-ab12-evil0001", HOSTILE_OU),
        )],
    );
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).expect("mkdir");
    std::fs::write(policies.join("evil.rego"), HOSTILE_POLICY).expect("write policy");
    policies
}

#[test]
fn html_reports_in_a_real_browser() {
    let Some((chromium, driver)) = browser() else {
        let required = std::env::var("CWL_AUDIT_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        let why =
            "no chromium and chromedriver (Debian packages `chromium` and `chromium-driver`; \
                   `make test` installs them where apt-get can run as root or with sudo)";
        assert!(!required, "CWL_AUDIT_REQUIRE_BROWSER=1 but {why}");
        eprintln!("SKIPPED html_reports_in_a_real_browser: {why}");
        return;
    };
    let work = tempfile::tempdir().expect("temp dir");
    let w = work.path();
    let shots = root().join("target/html-report");
    std::fs::create_dir_all(&shots).expect("mkdir target/html-report");
    let mut reports = Vec::new();
    let mut report = |name: &str, dir: &Path, paths: &[&str], extra: &[&str]| {
        let html = w.join(format!("{name}.html"));
        let json = w.join(format!("{name}.json"));
        eval_to(dir, paths, extra, "html", &html);
        eval_to(dir, paths, extra, "json", &json);
        let bytes = std::fs::metadata(&html).expect("report written").len();
        reports.push(serde_json::json!({"name": name, "html": html, "json": json, "bytes": bytes}));
        bytes
    };
    report("demo", &root(), &["snapshots"], &[]);
    report("one-account", &root(), &["snapshots/333333333333"], &[]);
    let org = w.join("org300");
    organization(&org);
    let size = report("org-300", w, &["org300"], &[]);
    eprintln!(
        "300 accounts x 15 rules: {size} bytes ({:.2} MB)",
        size as f64 / 1e6
    );
    // docs say about 2.6 MB; the bound leaves room for growth and catches a blow-up.
    assert!(size < 4_000_000, "the 300-account report is {size} bytes");
    let policies = hostile(w);
    let policies = policies.to_str().expect("UTF-8 path");
    report(
        "hostile",
        w,
        &["org"],
        &[
            "--policy-dir",
            policies,
            "--rule",
            "CWL-014",
            "--rule",
            "EVIL-001",
        ],
    );
    let spec = serde_json::json!({
        "reports": reports,
        "screenshots": shots,
        "hostile": {
            "account": "210000000000",
            "texts": [HOSTILE_ALARM, HOSTILE_FILTER, HOSTILE_NAME, HOSTILE_OU,
                      "<img src=x onerror=alert(12)>", "<b>bold</b>",
                      "</script><script>alert(10)</script>", "echo \"<script>alert(11)</script>\""],
        },
    });
    let spec_file = w.join("spec.json");
    std::fs::write(&spec_file, spec.to_string()).expect("write spec");
    let o = Command::new(python())
        .arg(root().join("tests/browser/html_report.py"))
        .arg(&spec_file)
        .env("CWL_AUDIT_CHROMIUM", &chromium)
        .env("CWL_AUDIT_CHROMEDRIVER", &driver)
        .output()
        .expect("run tests/browser/html_report.py");
    eprintln!("{}", stdout(&o));
    assert!(
        o.status.success(),
        "browser checks failed:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(shots.join("demo.png").is_file(), "no screenshot");
}
