//! Report formats for other tools, each checked by that ecosystem's own validator: SARIF from
//! relative, absolute and outside paths (OASIS schema + SARIF multitool with GitHub's rules), OCSF
//! (py-ocsf-models) and ASFF (botocore's Security Hub `BatchImportFindings` input shape).
use crate::support;

use std::path::Path;
use std::process::{Command, Output};
use support::bin::*;

/// `scripts/validate-sarif.sh FILE`: the schema and the multitool with GitHub's rules.
fn validate_sarif(file: &Path) -> Output {
    Command::new(root().join("scripts/validate-sarif.sh"))
        .arg(file)
        .output()
        .expect("run validate-sarif.sh")
}

fn assert_valid_sarif(file: &Path) {
    let v = validate_sarif(file);
    assert!(
        v.status.success(),
        "SARIF validation failed for {} (make tools installs the validators):\n{}{}",
        file.display(),
        stdout(&v),
        stderr(&v)
    );
}

fn sarif(file: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(file).expect("SARIF written")).expect("SARIF")
}

/// Every result's and notification's artifact location: (uri, uriBaseId).
fn locations(doc: &serde_json::Value) -> Vec<(String, Option<String>)> {
    let run = &doc["runs"][0];
    let results = run["results"].as_array().expect("results");
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    results
        .iter()
        .chain(notes)
        .filter_map(|r| r["locations"].as_array())
        .flatten()
        .map(|l| {
            let a = &l["physicalLocation"]["artifactLocation"];
            (
                a["uri"].as_str().unwrap_or_default().to_string(),
                a["uriBaseId"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// A directory standing for a git checkout (a `.git` entry is what marks a work tree) with the
/// demo snapshots below `data/snaps`.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    copy_dir(&root().join("snapshots"), &repo.join("data/snaps"));
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// CI passes `$GITHUB_WORKSPACE/...`: absolute paths inside the work tree become URIs relative to
/// `%SRCROOT%`, the work tree, whatever the current directory is; the log validates.
#[test]
fn sarif_from_an_absolute_path_is_relative_to_the_work_tree() {
    let dir = checkout();
    let repo = dir.path().join("repo").canonicalize().unwrap();
    let snaps = repo.join("data/snaps");
    // Run from outside the work tree: the work tree of the snapshots decides, not the cwd.
    let o = run_in(
        dir.path(),
        &[
            "eval",
            snaps.to_str().unwrap(),
            "--rule",
            "CWL-014",
            "-f",
            "sarif",
            "-o",
            "abs.sarif",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("GitHub code scanning rejects"),
        "{}",
        stderr(&o)
    );
    let out = dir.path().join("abs.sarif");
    let doc = sarif(&out);
    assert_eq!(
        doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", repo.display())
    );
    let locs = locations(&doc);
    assert!(locs.len() > 5, "{locs:?}");
    for (uri, base) in &locs {
        assert!(uri.starts_with("data/snaps/"), "{uri}");
        assert_eq!(base.as_deref(), Some("%SRCROOT%"), "{uri}");
    }
    assert_valid_sarif(&out);
}

/// A relative path from a subdirectory of the work tree is still repository-relative (GitHub maps
/// URIs from the repository root, not from where cwl-audit ran).
#[test]
fn sarif_from_a_relative_path_in_a_subdirectory() {
    let dir = checkout();
    let sub = dir.path().join("repo/data");
    let o = run_in(
        &sub,
        &[
            "eval",
            "snaps",
            "--rule",
            "CWL-014",
            "-f",
            "sarif",
            "-o",
            "rel.sarif",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = sub.join("rel.sarif");
    for (uri, base) in locations(&sarif(&out)) {
        assert!(uri.starts_with("data/snaps/"), "{uri}");
        assert_eq!(base.as_deref(), Some("%SRCROOT%"));
    }
    assert_valid_sarif(&out);
}

/// `--source-root DIR` overrides the work tree; a snapshot outside it but below the working
/// directory gets a `file://` URI under `workingDirectory`, which GitHub accepts.
#[test]
fn sarif_outside_the_source_root_but_below_the_working_directory() {
    let dir = checkout();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("elsewhere")).unwrap();
    let o = run_in(
        &repo,
        &[
            "eval",
            "data/snaps",
            "--rule",
            "CWL-014",
            "-f",
            "sarif",
            "-o",
            "out.sarif",
            "--source-root",
            "elsewhere",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = repo.join("out.sarif");
    let doc = sarif(&out);
    let cwd = repo.canonicalize().unwrap();
    assert_eq!(
        doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/elsewhere/", cwd.display())
    );
    assert_eq!(
        doc["runs"][0]["invocations"][0]["workingDirectory"]["uri"],
        format!("file://{}/", cwd.display())
    );
    for (uri, base) in locations(&doc) {
        assert!(
            uri.starts_with(&format!("file://{}/data/snaps/", cwd.display())),
            "{uri}"
        );
        assert_eq!(base, None, "{uri}");
    }
    assert_valid_sarif(&out);
    // A source root that is not a directory is a usage error, before anything is evaluated.
    for bad in ["missing", "out.sarif"] {
        let o = run_in(
            &repo,
            &["eval", "data/snaps", "-f", "sarif", "--source-root", bad],
        );
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert_eq!(
            stderr(&o),
            format!("cwl-audit: error: --source-root {bad}: not a directory\n")
        );
        assert!(o.stdout.is_empty(), "{bad}");
    }
}

/// Snapshots outside both the source root and the working directory: absolute `file://` URIs,
/// valid SARIF (schema and the SARIF rules), but GitHub would reject the upload (GH1006: no
/// checkout path is a prefix), so cwl-audit says so on stderr and in the log, and the GitHub
/// rules report that and nothing else.
#[test]
fn sarif_outside_everything_is_valid_and_warns_about_github() {
    let dir = checkout();
    let cwd = dir.path().join("repo");
    let elsewhere = tempfile::tempdir().unwrap();
    copy_dir(&root().join("snapshots"), &elsewhere.path().join("a b"));
    let snaps = elsewhere.path().join("a b").canonicalize().unwrap();
    let o = run_in(
        &cwd,
        &[
            "eval",
            snaps.to_str().unwrap(),
            "--rule",
            "CWL-014",
            "-f",
            "sarif",
            "-o",
            "out.sarif",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("GitHub code scanning rejects a log with such absolute file URIs"),
        "{}",
        stderr(&o)
    );
    let out = cwd.join("out.sarif");
    let doc = sarif(&out);
    let prefix = format!(
        "file://{}/",
        snaps.display().to_string().replace(' ', "%20")
    );
    for (uri, base) in locations(&doc) {
        assert!(uri.starts_with(&prefix), "{uri} !~ {prefix}");
        assert_eq!(base, None);
    }
    let notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(notes.iter().any(|n| n["level"] == "warning"
        && n["message"]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("outside the source root")));
    let v = validate_sarif(&out);
    let complaints: Vec<String> = stderr(&v)
        .lines()
        .filter(|l| l.starts_with("validate-sarif:"))
        .map(str::to_string)
        .collect();
    assert!(!complaints.is_empty(), "GH1006 expected");
    assert!(
        complaints
            .iter()
            .all(|l| l.starts_with("validate-sarif: GH1006")),
        "only GitHub's checkout-path rule may object:\n{}",
        complaints.join("\n")
    );
}

/// Rules carry the remediation steps of their METADATA as `help.markdown` (GitHub renders it)
/// and `help.text`.
#[test]
fn sarif_rules_carry_the_remediation() {
    let o = run(&["eval", "snapshots", "-f", "sarif"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), 15);
    for r in rules {
        let md = r["help"]["markdown"].as_str().unwrap();
        let text = r["help"]["text"].as_str().unwrap();
        assert!(md.contains("## Remediation"), "{}: {md}", r["id"]);
        assert!(md.contains("```sh\naws "), "{}: no commands", r["id"]);
        assert!(text.contains("Remediation:"), "{}", r["id"]);
    }
}

/// Runs a validator of `tests/validators/` on `file` with the venv python `make test` installs.
fn validate_with(script: &str, file: &Path) -> Output {
    Command::new(python())
        .arg(root().join("tests/validators").join(script))
        .arg(file)
        .output()
        .expect("run the validator")
}

fn assert_valid(script: &str, file: &Path) {
    let v = validate_with(script, file);
    assert!(
        v.status.success(),
        "{script} rejected {} (make tools installs the validators):\n{}{}",
        file.display(),
        stdout(&v),
        stderr(&v)
    );
}

/// `eval snapshots ARGS -o FILE` in a temp dir; returns the dir and the file.
fn eval_to(args: &[&str], name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(name);
    let mut all = vec!["eval", "snapshots"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", out.to_str().unwrap()]);
    let o = run(&all);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    (dir, out)
}

/// The demo's root-usage findings as OCSF, and all fifteen rules validated with
/// py-ocsf-models (plus: no key the model does not know, the verdict in compliance.status_id,
/// status_id and status_code, unknown never a pass).
#[test]
fn demo_ocsf_is_valid() {
    let o = run(&["eval", "snapshots", "--rule", "CWL-014", "-f", "ocsf"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let events: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(events.len(), 9, "one per account and rule, passes included");
    let unknown = events
        .iter()
        .find(|e| e["status_code"] == "unknown")
        .expect("777 is unknown");
    assert_eq!(unknown["compliance"]["status_id"], 2);
    assert_eq!(unknown["compliance"]["status"], "Warning");
    assert!(unknown["message"]
        .as_str()
        .unwrap()
        .starts_with("Could not be verified: "));
    let (_dir, out) = eval_to(&["-f", "ocsf"], "all.ocsf.json");
    let all: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(all.len(), 9 * 15);
    assert_valid("ocsf.py", &out);
}

/// The demo as ASFF: one line per account (each account's findings are one call), and all
/// fifteen rules validated against botocore's model.
#[test]
fn demo_asff_is_valid() {
    let o = run(&["eval", "snapshots", "--rule", "CWL-014", "-f", "asff"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON document"))
        .collect();
    assert_eq!(lines.len(), 9);
    let statuses: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            let f = &l["Findings"][0];
            (
                f["AwsAccountId"].as_str().unwrap(),
                f["Compliance"]["Status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("777777777777", "WARNING")),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("111111111111", "PASSED")),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("333333333333", "FAILED")),
        "{statuses:?}"
    );
    let (_dir, out) = eval_to(&["-f", "asff"], "all.asff.jsonl");
    assert_valid("asff.py", &out);
}

/// The validators are not vacuous: a wrong enum, a wrong type and an unknown key are caught.
#[test]
fn validators_reject_broken_reports() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["eval", "snapshots", "--rule", "CWL-014", "-f", "ocsf"]);
    let mut events: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    events[0]["compliance"]["status_id"] = 0.into();
    events[1]["time"] = "yesterday".into();
    events[2]["finding_info"]["titel"] = "typo".into();
    let bad = dir.path().join("bad.ocsf.json");
    std::fs::write(&bad, serde_json::to_vec(&events).unwrap()).unwrap();
    let v = validate_with("ocsf.py", &bad);
    assert!(!v.status.success());
    let e = stderr(&v);
    for needle in ["[0]: verdict", "time", "[2].finding_info.titel"] {
        assert!(e.contains(needle), "{needle} not caught:\n{e}");
    }

    let o = run(&["eval", "snapshots", "--rule", "CWL-014", "-f", "asff"]);
    let first = stdout(&o).lines().next().unwrap().to_string();
    let mut batch: serde_json::Value = serde_json::from_str(&first).unwrap();
    batch["Findings"][0]["Compliance"]["Status"] = "UNKNOWN".into();
    batch["Findings"][0]["Resources"][0]["Partition"] = 1.into();
    batch["Findings"][0]["Colour"] = "red".into();
    let bad = dir.path().join("bad.asff.jsonl");
    std::fs::write(&bad, format!("{batch}\n")).unwrap();
    let v = validate_with("asff.py", &bad);
    assert!(!v.status.success());
    let e = stderr(&v);
    for needle in ["UNKNOWN", "Partition", "Colour"] {
        assert!(e.contains(needle), "{needle} not caught:\n{e}");
    }
}

/// A snapshot's strings are untrusted: quotes, newlines, `</script>`, ESC and bidi controls in an
/// alarm name come out as the same string values (escaped by serde), never as structure, and
/// both reports still validate.
#[test]
fn hostile_names_survive_as_data() {
    let hostile = "Root\"},{\"x\":\"\n</script>\u{1b}[31m\u{202e}evil\\";
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("snapshots/333333333333/us-east-1.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    let alarm = doc["cloudwatch"]["MetricAlarms"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["AlarmName"] == "RootAccountUsageAlarm")
        .unwrap();
    let arn = format!("arn:aws:cloudwatch:us-east-1:333333333333:alarm:{hostile}");
    alarm["AlarmName"] = hostile.into();
    alarm["AlarmArn"] = arn.clone().into();
    std::fs::create_dir_all(dir.path().join("s")).unwrap();
    std::fs::write(
        dir.path().join("s/333.json"),
        serde_json::to_string_pretty(&doc).unwrap(),
    )
    .unwrap();
    for (format, script) in [("ocsf", "ocsf.py"), ("asff", "asff.py")] {
        let out = dir.path().join(format!("r.{format}"));
        let o = run_in(
            dir.path(),
            &[
                "eval",
                "s",
                "--rule",
                "CWL-014",
                "-f",
                format,
                "-o",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_valid(script, &out);
        let text = std::fs::read_to_string(&out).unwrap();
        let values: Vec<serde_json::Value> = if format == "asff" {
            text.lines()
                .flat_map(|l| {
                    let b: serde_json::Value = serde_json::from_str(l).unwrap();
                    b["Findings"].as_array().unwrap().clone()
                })
                .collect()
        } else {
            serde_json::from_str(&text).unwrap()
        };
        assert_eq!(values.len(), 1, "{format}: the name added no finding");
        let f = &values[0];
        let (message, ids): (&str, Vec<&str>) = if format == "asff" {
            (
                f["Description"].as_str().unwrap(),
                f["Resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["Id"].as_str().unwrap())
                    .collect(),
            )
        } else {
            (
                f["message"].as_str().unwrap(),
                f["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["uid"].as_str().unwrap())
                    .collect(),
            )
        };
        assert!(message.contains(hostile), "{format}: {message:?}");
        assert!(ids.contains(&arn.as_str()), "{format}: {ids:?}");
        assert!(!text.contains('\u{1b}'), "{format}: raw ESC in the output");
    }
}

/// More findings than one call takes: an account's findings are split into batches of at most
/// 100, accounts never share a batch, and every batch is a valid call for botocore's model.
#[test]
fn asff_batches_split_at_100_findings_and_by_account() {
    use cwl_audit::findings::{AccountInfo, Finding, RunResult, Verdict};
    use cwl_audit::report::{render, Format, RenderOptions};
    let finding = |account: &str, i: usize| Finding {
        rule_id: format!("ORG-{i:03}"),
        account_id: account.to_string(),
        verdict: [Verdict::Pass, Verdict::Fail, Verdict::Unknown][i % 3],
        message: format!("finding {i}"),
        region: Some("eu-west-1".into()),
        resource: Some(format!("arn:aws:sns:eu-west-1:{account}:topic-{i}")),
        link: Some("topic".into()),
        location: None,
        chain: serde_json::json!([]),
        notes: Vec::new(),
    };
    let mut findings: Vec<Finding> = (0..230).map(|i| finding("123456789012", i)).collect();
    findings.extend((0..5).map(|i| finding("210987654321", i)));
    let accounts = ["123456789012", "210987654321"]
        .into_iter()
        .map(|a| {
            let info = AccountInfo {
                partition: "aws".into(),
                collected_at: [("eu-west-1".to_string(), "2026-11-25T10:00:00Z".to_string())]
                    .into(),
                ..AccountInfo::default()
            };
            (a.to_string(), info)
        })
        .collect();
    let run = RunResult {
        rules: Vec::new(),
        findings,
        notifications: Vec::new(),
        inputs: Vec::new(),
        benchmark: "cis-v6.0".into(),
        accounts,
        organization: Default::default(),
    };
    let bytes = render(Format::Asff, &run, &RenderOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.asff.jsonl");
    std::fs::write(&out, &bytes).unwrap();
    let v = validate_with("asff.py", &out);
    assert!(v.status.success(), "{}{}", stdout(&v), stderr(&v));
    let summary: serde_json::Value = serde_json::from_str(stdout(&v).trim()).unwrap();
    assert_eq!(summary["batches"], serde_json::json!([100, 100, 30, 5]));
}

/// What one report says of one account and rule: the verdict and where (file, line).
type Said = std::collections::BTreeMap<(String, String), (String, String, u64)>;

/// `eval snapshots -f FORMAT` (all fifteen rules) on standard output.
fn demo_as(format: &str) -> String {
    let o = run(&["eval", "snapshots", "-f", format]);
    assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
    stdout(&o)
}

fn text(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn said_by_json(doc: &serde_json::Value) -> Said {
    doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                (text(&r["account_id"]), text(&r["rule_id"])),
                (
                    text(&r["verdict"]),
                    text(&r["location"]["path"]),
                    r["location"]["line"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect()
}

/// The value of `name="..."` in a tag's text (JUnit's attributes are XML-escaped; the demo's
/// account ids, rule ids and paths need no escape).
fn attr(tag: &str, name: &str) -> String {
    let key = format!(" {name}=\"");
    let start = tag.find(&key).map(|i| i + key.len()).unwrap_or(tag.len());
    tag[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Each report format is a pure function of the run's result, pinned on a hand-made result in
/// `src/report/tests.rs`; end to end, the one pinned report is the demo's JSON (`cli::demo_json`).
/// This test ties the others to it on the demo with all fifteen rules: every format names the
/// same verdict at the same file and line for every account and rule (SARIF lists only what does
/// not pass; the HTML matrix has no locations).
#[test]
fn every_format_says_what_the_json_report_says() {
    let json: serde_json::Value = serde_json::from_str(&demo_as("json")).expect("JSON");
    let want = said_by_json(&json);
    assert_eq!(want.len(), 9 * 15, "one finding per account and rule");

    // JUnit: one testcase per account (name) and rule (classname); <failure> is fail, <error>
    // unknown, neither pass.
    let junit = demo_as("junit");
    let mut got = Said::new();
    for case in junit.split("<testcase ").skip(1) {
        let tag = format!(" {}", &case[..case.find('>').expect("end of tag")]);
        let tag = tag.as_str();
        let body = case.split("</testcase>").next().unwrap_or_default();
        let verdict = if tag.ends_with('/') {
            "pass"
        } else if body.contains("<failure ") {
            "fail"
        } else if body.contains("<error ") {
            "unknown"
        } else {
            "?"
        };
        got.insert(
            (attr(tag, "name"), attr(tag, "classname")),
            (
                verdict.into(),
                attr(tag, "file"),
                attr(tag, "line").parse().unwrap_or(0),
            ),
        );
    }
    assert_eq!(got, want, "JUnit");

    // SARIF: a result per finding that does not pass.
    let sarif: serde_json::Value = serde_json::from_str(&demo_as("sarif")).expect("SARIF");
    let got: Said = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let at = &r["locations"][0]["physicalLocation"];
            (
                (text(&r["properties"]["account_id"]), text(&r["ruleId"])),
                (
                    text(&r["properties"]["verdict"]),
                    text(&at["artifactLocation"]["uri"]),
                    at["region"]["startLine"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect();
    let not_passing: Said = want
        .iter()
        .filter(|(_, (v, _, _))| v != "pass")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(got, not_passing, "SARIF");

    // OCSF: one event per account and rule.
    let ocsf: Vec<serde_json::Value> = serde_json::from_str(&demo_as("ocsf")).expect("OCSF");
    let got: Said = ocsf
        .iter()
        .map(|e| {
            let own = &e["unmapped"]["cwl_audit"];
            (
                (
                    text(&e["cloud"]["account"]["uid"]),
                    text(&e["metadata"]["event_code"]),
                ),
                (
                    text(&own["verdict"]),
                    text(&own["location"]["path"]),
                    own["location"]["line"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect();
    assert_eq!(got, want, "OCSF");

    // ASFF: one finding per account and rule, over the batches (one JSON document per line).
    let mut got = Said::new();
    for line in demo_as("asff").lines() {
        let batch: serde_json::Value = serde_json::from_str(line).expect("ASFF batch");
        for f in batch["Findings"].as_array().expect("Findings") {
            let fields = &f["ProductFields"];
            let at = text(&fields["cwl-audit/location"]);
            let (path, line) = at.rsplit_once(':').expect("path:line");
            got.insert(
                (text(&f["AwsAccountId"]), text(&f["GeneratorId"])),
                (
                    text(&fields["cwl-audit/verdict"]),
                    path.to_string(),
                    line.parse().unwrap_or(0),
                ),
            );
        }
    }
    assert_eq!(got, want, "ASFF");

    // HTML: the matrix, a row per account with a cell per rule in the header's order.
    let html = demo_as("html");
    let rules: Vec<String> = html
        .split("<th class=\"rule\" ")
        .skip(1)
        .map(|th| attr(&format!(" {th}"), "data-rule"))
        .collect();
    assert_eq!(rules.len(), 15, "a column per rule");
    let mut got = std::collections::BTreeMap::new();
    for row in html.split("<tr data-i=").skip(1) {
        let row = row.split("</tr>").next().unwrap_or_default();
        let account = attr(row, "data-account");
        let cells: Vec<String> = row
            .split("<td class=\"v-")
            .skip(1)
            .map(|c| c.split('"').next().unwrap_or_default().to_string())
            .collect();
        assert_eq!(cells.len(), rules.len(), "{account}: a cell per rule");
        for (rule, verdict) in rules.iter().zip(cells) {
            got.insert((account.clone(), rule.clone()), verdict);
        }
    }
    let verdicts: std::collections::BTreeMap<(String, String), String> = want
        .iter()
        .map(|(k, (v, _, _))| (k.clone(), v.clone()))
        .collect();
    assert_eq!(got, verdicts, "HTML matrix");
}
