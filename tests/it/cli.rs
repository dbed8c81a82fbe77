//! The binary as users run it: outputs pinned with insta, exit codes, bad input, SARIF validity.
use crate::support;

use std::process::Command;
use support::bin::*;

/// What `make demo` shows first: the root-usage rule across the demo organization.
#[test]
fn demo_text() {
    let o = run(&["eval", "snapshots", "--rule", "CWL-014"]);
    assert_eq!(o.status.code(), Some(1), "findings exit 1: {}", stderr(&o));
    insta::assert_snapshot!("demo_text", stdout(&o));
}

/// Every demo account is set up for all fifteen CIS monitoring controls; its defects are on the
/// root-usage chain (333, 444, 555, 999) or on links every chain shares (666's stopped trail, 777's
/// unreadable subscriptions).
#[test]
fn demo_all_rules() {
    let o = run(&["eval", "snapshots", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 9 * 15);
    let not_pass: std::collections::BTreeMap<String, Vec<String>> = results
        .iter()
        .filter(|r| r["verdict"] != "pass")
        .fold(Default::default(), |mut m, r| {
            m.entry(r["account_id"].as_str().unwrap().to_string())
                .or_default()
                .push(r["rule_id"].as_str().unwrap().to_string());
            m
        });
    let accounts: Vec<&str> = not_pass.keys().map(String::as_str).collect();
    assert_eq!(
        accounts,
        [
            "333333333333",
            "444444444444",
            "555555555555",
            "666666666666",
            "777777777777",
            "999999999999"
        ]
    );
    for a in [
        "333333333333",
        "444444444444",
        "555555555555",
        "999999999999",
    ] {
        assert_eq!(not_pass[a], ["CWL-014"], "{a}");
    }
    assert_eq!(not_pass["666666666666"].len(), 15);
    assert_eq!(not_pass["777777777777"].len(), 15);
    assert!(stdout(&run(&["eval", "snapshots"]))
        .contains("9 accounts, 15 rules: 101 pass, 19 fail, 15 unknown"),);
}

#[test]
fn demo_json() {
    let o = run(&["eval", "snapshots", "--rule", "CWL-014", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    for r in doc["results"].as_array().expect("results") {
        for key in [
            "rule_id",
            "account_id",
            "verdict",
            "message",
            "region",
            "resource",
            "chain",
        ] {
            assert!(r.get(key).is_some(), "result lacks {key}: {r}");
        }
    }
    insta::assert_snapshot!("demo_json", stdout(&o));
}

/// `dir`'s `file://` URI (the source root and working directory SARIF names) as `file:///[DIR]/`,
/// so pinned SARIF does not depend on where the repository is checked out.
fn machine_uris(text: &str, dir: &std::path::Path) -> String {
    let dir = dir.canonicalize().unwrap();
    text.replace(&format!("file://{}/", dir.display()), "file:///[DIR]/")
}

/// The SARIF of the demo, checked by the official tools (schema + multitool with GitHub
/// rules). `make test` installs the tools; without them this test fails and says how to get them.
#[test]
fn demo_sarif_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.sarif");
    let o = run(&[
        "eval",
        "snapshots",
        "--rule",
        "CWL-014",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
        "--category",
        "demo/",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).expect("report written");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    assert_eq!(
        doc["runs"][0]["automationDetails"]["id"], "demo/",
        "--category"
    );
    // All fifteen rules (not pinned: 135 results), as `make demo` writes it: valid too.
    let all = dir.path().join("all.sarif");
    let o = run(&[
        "eval",
        "snapshots",
        "--format",
        "sarif",
        "--output",
        all.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&all).unwrap()).unwrap();
    assert_eq!(
        doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        15
    );
    for report in [&out, &all] {
        let v = Command::new(root().join("scripts/validate-sarif.sh"))
            .arg(report)
            .output()
            .expect("run validator");
        assert!(
            v.status.success(),
            "SARIF validation failed (make tools installs the validators):\n{}{}",
            stdout(&v),
            stderr(&v)
        );
    }
}

#[test]
fn sarif_with_input_errors_is_valid_and_marks_the_run_failed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("snaps")).unwrap();
    std::fs::copy(
        root().join("snapshots/333333333333/us-east-1.json"),
        dir.path().join("snaps/good.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("snaps/bad.json"), "{\"format\": ").unwrap();
    let o = run_in(
        dir.path(),
        &["eval", "snaps", "--format", "sarif", "--output", "r.sarif"],
    );
    assert_eq!(o.status.code(), Some(2));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.sarif")).unwrap())
            .unwrap();
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(
        inv["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]
            ["artifactLocation"]["uri"],
        "snaps/bad.json"
    );
    assert_eq!(
        doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "snaps/good.json"
    );
    let v = Command::new(root().join("scripts/validate-sarif.sh"))
        .arg(dir.path().join("r.sarif"))
        .output()
        .unwrap();
    assert!(v.status.success(), "{}{}", stdout(&v), stderr(&v));
}

#[test]
fn fingerprints_do_not_depend_on_lines_or_collection_time() {
    let dir = tempfile::tempdir().unwrap();
    let src =
        std::fs::read_to_string(root().join("snapshots/333333333333/us-east-1.json")).unwrap();
    let fingerprint = |text: &str| {
        std::fs::write(dir.path().join("s.json"), text).unwrap();
        let o = run_in(dir.path(), &["eval", "s.json", "--format", "sarif"]);
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let r = &doc["runs"][0]["results"][0];
        (
            r["partialFingerprints"]["primaryLocationLineHash"].clone(),
            r["locations"][0]["physicalLocation"]["region"]["startLine"].clone(),
        )
    };
    let (fp1, line1) = fingerprint(&src);
    // Same problem, collected again later, with the file laid out differently.
    let again = src
        .replace("2026-11-25T10:00:00Z", "2026-12-01T08:30:00Z")
        .replace("{\n", "{\n\n\n");
    let (fp2, line2) = fingerprint(&again);
    assert_eq!(fp1, fp2);
    assert_ne!(
        line1, line2,
        "the layout change must move the line for this test to mean anything"
    );
}

#[test]
fn fail_on_controls_the_exit_code() {
    assert_eq!(
        run(&["eval", "snapshots", "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&["eval", "snapshots", "--fail-on", "fail"])
            .status
            .code(),
        Some(1)
    );
    // Only the unknown account: fails by default, passes with --fail-on fail.
    assert_eq!(
        run(&["eval", "snapshots/777777777777"]).status.code(),
        Some(1)
    );
    assert_eq!(
        run(&["eval", "snapshots/777777777777", "--fail-on", "fail"])
            .status
            .code(),
        Some(0)
    );
    // Only passing accounts.
    assert_eq!(
        run(&["eval", "snapshots/111111111111", "snapshots/222222222222"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn rule_selection() {
    let o = run(&[
        "eval",
        "snapshots/111111111111",
        "--rule",
        "cwl-014",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = run(&["eval", "snapshots", "--rule", "CWL-999"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        "cwl-audit: error: unknown rule CWL-999 (see `cwl-audit rules` for the ids)"
    );
}

/// One bad file among good ones: one line naming the file and place, exit 2, the rest evaluated.
fn bad_input(name: &str, content: &[u8]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("in")).unwrap();
    std::fs::copy(
        root().join("snapshots/333333333333/us-east-1.json"),
        dir.path().join("in/good.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("in").join(name), content).unwrap();
    let o = run_in(dir.path(), &["eval", "in"]);
    let out = stdout(&o);
    assert!(
        out.contains("333333333333  1 fail, 14 pass"),
        "the good file is still evaluated:\n{out}"
    );
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "one error line:\n{out}");
    (o.status.code().unwrap_or(-1), errors[0].to_string())
}

fn good_snapshot() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("snapshots/333333333333/us-east-1.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn bad_input_reports() {
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "truncated.json",
            b"{\n  \"format\": \"cwl-audit.snapshot/v1\",\n  \"account_id\": ".to_vec(),
        ),
        ("empty.json", Vec::new()),
        ("latin1.json", b"{\"format\": \"caf\xe9\"}".to_vec()),
        ("array.json", b"[1, 2]".to_vec()),
    ];
    let mut edit = |name: &'static str, f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good_snapshot();
        v["account_id"] = "999999999999".into();
        f(&mut v);
        cases.push((name, serde_json::to_vec_pretty(&v).unwrap()));
    };
    edit("format.json", &|v| {
        v["format"] = "cwl-audit.snapshot/v2".into()
    });
    edit("account.json", &|v| v["account_id"] = "12345".into());
    edit("region.json", &|v| v["region"] = "moon-1".into());
    edit("partition.json", &|v| v["partition"] = "azure".into());
    edit("missing.json", &|v| {
        v.as_object_mut().unwrap().remove("region");
    });
    edit("trail-type.json", &|v| {
        v["cloudtrail"]["trailList"][0]["IsMultiRegionTrail"] = "true".into()
    });
    edit("alarms-type.json", &|v| {
        v["cloudwatch"]["MetricAlarms"] = serde_json::json!({"a": 1})
    });
    edit("threshold-type.json", &|v| {
        v["cloudwatch"]["MetricAlarms"][0]["Threshold"] = "1".into()
    });
    edit("subs-type.json", &|v| {
        v["sns"]["Subscriptions"][0]["TopicArn"] = 7.into()
    });
    edit("errors-type.json", &|v| {
        v["errors"] = serde_json::json!([{"service": "sns"}])
    });
    let mut report = String::new();
    for (name, content) in &cases {
        let (code, line) = bad_input(name, content);
        assert_eq!(code, 2, "{name}: {line}");
        report.push_str(&line);
        report.push('\n');
    }
    insta::assert_snapshot!("bad_input", report);
}

#[test]
fn duplicate_account_region_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["a.json", "b.json"] {
        std::fs::copy(
            root().join("snapshots/333333333333/us-east-1.json"),
            dir.path().join(n),
        )
        .unwrap();
    }
    let o = run_in(dir.path(), &["eval", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("error: a.json: duplicate snapshot for account 333333333333 region us-east-1 (in a.json, b.json)"), "{}", stdout(&o));
}

#[test]
fn missing_path_is_an_error() {
    let o = run(&["eval", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).contains("error: no/such/dir: cannot read:"),
        "{}",
        stdout(&o)
    );
}

/// A directory to run in: `empty/` (nothing), `other/` (no `*.json`, a hidden one), `in/` (one account).
fn no_snapshot_dirs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    std::fs::create_dir_all(dir.path().join("other/.cache")).unwrap();
    std::fs::write(dir.path().join("other/README.txt"), "no snapshots here").unwrap();
    std::fs::write(dir.path().join("other/.cache/old.json"), "{}").unwrap();
    std::fs::create_dir_all(dir.path().join("in")).unwrap();
    std::fs::copy(
        root().join("snapshots/333333333333/us-east-1.json"),
        dir.path().join("in/333333333333.json"),
    )
    .unwrap();
    dir
}

/// `$ command`, its exit code, stdout and stderr, for a pinned transcript.
fn transcript(dir: &std::path::Path, args: &[&str]) -> String {
    let o = run_in(dir, args);
    format!(
        "$ cwl-audit {}\nexit {}\n--- stdout\n{}--- stderr\n{}\n",
        args.join(" "),
        o.status.code().unwrap_or(-1),
        stdout(&o),
        stderr(&o)
    )
}

/// A directory with no snapshot is an error (exit 2) naming it, in eval, remediate and on either
/// side of diff; the snapshots that were found are still evaluated; a diff with an empty side lists
/// no changes (every account would look added or removed). Machine formats also say it on stderr.
#[test]
fn no_snapshot_found_is_an_error() {
    let dir = no_snapshot_dirs();
    let mut pinned = String::new();
    for args in [
        &["eval", "empty"][..],
        &["eval", "empty", "other", "in", "--rule", "CWL-014"],
        &["eval", "empty", "--format", "json", "--output", "r.json"],
        &["remediate", "empty"],
        &["diff", "empty", "in"],
        &["diff", "in", "other", "--format", "json"],
    ] {
        let t = transcript(dir.path(), args);
        assert!(t.contains("\nexit 2\n"), "{t}");
        pinned.push_str(&t);
    }
    insta::assert_snapshot!("no_snapshot", pinned);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["errors"], 1, "{json:#}");
    assert_eq!(json["notifications"][0]["path"], "empty");
    let o = run_in(dir.path(), &["eval", "empty", "-f", "junit", "-o", "j.xml"]);
    assert_eq!(o.status.code(), Some(2));
    let junit = std::fs::read_to_string(dir.path().join("j.xml")).unwrap();
    assert!(
        junit.contains(r#"<testcase classname="inputs" name="empty">"#)
            && junit.contains(r#"errors="1""#),
        "{junit}"
    );
}

/// The SARIF of a run that found no snapshot says the run failed and why, so an upload cannot close
/// the open alerts; it replaces the report of an earlier run, and it is valid for the official tools.
#[test]
fn sarif_of_a_run_without_snapshots_marks_the_run_failed() {
    let dir = no_snapshot_dirs();
    let out = dir.path().join("r.sarif");
    let o = run_in(
        dir.path(),
        &[
            "eval", "in", "--rule", "CWL-014", "-f", "sarif", "-o", "r.sarif",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run_in(
        dir.path(),
        &[
            "eval",
            "empty",
            "--rule",
            "CWL-014",
            "-f",
            "sarif",
            "-o",
            "r.sarif",
            "--category",
            "prod/",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).lines().next(),
        Some("error: empty: no snapshot found: no *.json file in this directory (hidden files and directories are skipped)")
    );
    let text = std::fs::read_to_string(&out).unwrap();
    insta::assert_snapshot!("no_snapshot_sarif", machine_uris(&text, dir.path()));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["results"], serde_json::json!([]));
    let inv = &run["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(inv["toolExecutionNotifications"][0]["level"], "error");
    assert!(inv["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("no snapshot found"));
    let v = Command::new(root().join("scripts/validate-sarif.sh"))
        .arg(&out)
        .output()
        .expect("run validator");
    assert!(
        v.status.success(),
        "SARIF validation failed (make tools installs the validators):\n{}{}",
        stdout(&v),
        stderr(&v)
    );
}

/// `eval s.json ARGS -o s.json` in a fresh directory: refused (exit 2), the snapshot untouched.
#[track_caller]
fn assert_output_onto_the_input_is_refused(args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.json");
    std::fs::copy(root().join("snapshots/333333333333/us-east-1.json"), &snap).unwrap();
    let before = std::fs::read(&snap).unwrap();
    let mut all = vec!["eval", "s.json"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--output", "s.json"]);
    let o = run_in(dir.path(), &all);
    assert_eq!(o.status.code(), Some(2), "{args:?}");
    assert!(stderr(&o).contains("is an input ("), "{}", stderr(&o));
    assert_eq!(std::fs::read(&snap).unwrap(), before);
}

#[test]
fn output_never_overwrites_an_input() {
    assert_output_onto_the_input_is_refused(&["--format", "json"]);
    // Nor a policy: a report inside a --policy-dir would replace it or be read as one next run.
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("p");
    std::fs::create_dir(&policies).unwrap();
    let policy = "# METADATA\n# title: T\n# custom:\n#   id: MY-1\n#   severity: LOW\npackage my.one\n\ndecision := {\"verdict\": \"pass\", \"message\": \"ok\"}\n";
    std::fs::write(policies.join("my.rego"), policy).unwrap();
    let snaps = root().join("snapshots/333333333333");
    for (cmd, out) in [
        ("eval", "p/my.rego"),
        ("eval", "p/new.json"),
        ("remediate", "p/my.rego"),
    ] {
        let o = run_in(
            dir.path(),
            &[cmd, snaps.to_str().unwrap(), "--policy-dir", "p", "-o", out],
        );
        assert_eq!(o.status.code(), Some(2), "{cmd} -o {out}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("is inside --policy-dir p"),
            "{}",
            stderr(&o)
        );
        assert_eq!(
            std::fs::read_to_string(policies.join("my.rego")).unwrap(),
            policy
        );
        assert!(!policies.join("new.json").exists());
    }
}

/// A run that stops before deciding (a policy that does not compile, an unknown rule) still
/// replaces the report file of an earlier run with one that says it failed: a CI step that
/// uploads the file must never send the old findings as this run's. Never onto an input.
#[test]
fn a_run_that_stops_before_deciding_leaves_no_stale_report() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("broken.rego"),
        "package broken\n\ndecision := {\n",
    )
    .unwrap();
    let snapshots = root().join("snapshots");
    let snapshots = snapshots.to_str().unwrap();
    for (why, extra) in [
        ("unknown rule NOPE", vec!["--rule", "NOPE"]),
        ("broken.rego:", vec!["--policy-dir", "policies"]),
    ] {
        for format in ["sarif", "json", "junit"] {
            let out = dir.path().join(format!("report.{format}"));
            std::fs::write(&out, "a report of an earlier run").unwrap();
            let mut args = vec!["eval", snapshots, "-f", format, "-o", out.to_str().unwrap()];
            args.extend(&extra);
            let o = run_in(dir.path(), &args);
            assert_eq!(o.status.code(), Some(2), "{why} {format}: {}", stderr(&o));
            assert!(stderr(&o).contains(why), "{why} {format}: {}", stderr(&o));
            let text = std::fs::read_to_string(&out).unwrap();
            assert!(
                !text.contains("earlier run"),
                "{why} {format}: stale report"
            );
            assert!(
                text.contains(why),
                "{why} {format}: the reason is in the report:\n{text}"
            );
            match format {
                "sarif" => {
                    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                    let inv = &doc["runs"][0]["invocations"][0];
                    assert_eq!(inv["executionSuccessful"], false, "{why}");
                    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]), "{why}");
                    let v = Command::new(root().join("scripts/validate-sarif.sh"))
                        .arg(&out)
                        .output()
                        .expect("run validator");
                    assert!(v.status.success(), "{why}: {}{}", stdout(&v), stderr(&v));
                }
                "json" => {
                    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(doc["summary"]["errors"], 1, "{why}");
                }
                _ => assert!(text.contains("errors=\"1\""), "{why}: {text}"),
            }
        }
    }
    // A machine format on stdout says so too; the text format prints the error line only.
    let o = run_in(
        dir.path(),
        &["eval", snapshots, "--rule", "NOPE", "-f", "json"],
    );
    assert_eq!(o.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(doc["summary"]["errors"], 1);
    let o = run_in(dir.path(), &["eval", snapshots, "--rule", "NOPE"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    // Onto an input snapshot: refused, the snapshot untouched.
    assert_output_onto_the_input_is_refused(&["--rule", "NOPE"]);
}

/// `--output` keeps what the path names: a link is written through, `-` is standard output; a
/// standard output that cannot be written is an error (exit 2), a closed stderr is no panic.
#[test]
fn output_through_links_dash_and_full_devices() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("target.json", dir.path().join("link.json")).unwrap();
    let snaps = root().join("snapshots");
    let snaps = snaps.to_str().unwrap();
    let o = run_in(
        dir.path(),
        &["eval", snaps, "-f", "json", "-o", "link.json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let link = dir.path().join("link.json");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("target.json")).unwrap()).unwrap();
    assert_eq!(doc["summary"]["fail"], 19);
    let o = run_in(dir.path(), &["eval", snaps, "-f", "json", "-o", "-"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with('{'), "{}", stdout(&o));
    assert!(!dir.path().join("-").exists());
    if std::path::Path::new("/dev/full").exists() {
        let full = || {
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap()
        };
        let o = Command::new(env!("CARGO_BIN_EXE_cwl-audit"))
            .args(["eval", snaps, "-f", "json"])
            .stdout(full())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("cannot write to standard output"),
            "{}",
            stderr(&o)
        );
        let o = Command::new(env!("CARGO_BIN_EXE_cwl-audit"))
            .args(["eval", snaps, "-f", "json"])
            .stderr(full())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "a full stderr is not a panic");
        // Every command's own output: a listing cut short by a full disk must not look complete.
        for args in [
            &["rules"][..],
            &["test"],
            &["explain", "CWL-014"],
            &["completions", "bash"],
            &["iam-policy"],
        ] {
            let o = Command::new(env!("CARGO_BIN_EXE_cwl-audit"))
                .args(args)
                .stdout(full())
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("cannot write to standard output"),
                "{args:?}: {}",
                stderr(&o)
            );
        }
    }
}

/// A bound that no run could keep is a usage error that says what it must be.
#[test]
fn zero_bounds_are_refused_in_words() {
    for (flag, says) in [
        ("--time-limit", "more than 0 and at most 86400"),
        ("--memory-limit", "at least 1"),
    ] {
        let o = run(&["eval", "snapshots", flag, "0"]);
        assert_eq!(o.status.code(), Some(2), "{flag}");
        assert!(stderr(&o).contains(says), "{flag}: {}", stderr(&o));
    }
}

#[test]
fn output_file_is_written_and_summary_goes_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("deep/dir/report.json");
    let o = run(&[
        "eval",
        "snapshots",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("9 accounts, 15 rules: 101 pass, 19 fail, 15 unknown"),
        "{}",
        stderr(&o)
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["summary"]["fail"], 19);
}

#[test]
fn user_policy_dir_adds_a_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("always.rego"),
        "# METADATA\n# title: Every account has a snapshot\n# custom:\n#   id: ORG-001\n#   severity: LOW\npackage org.has_snapshot\n\ndecision := {\"verdict\": \"pass\", \"message\": sprintf(\"%d regions\", [count(input.regions)])}\n",
    )
    .unwrap();
    // -v: a passing rule's message is printed with every line.
    let o = run(&[
        "-v",
        "eval",
        "snapshots/111111111111",
        "--policy-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("PASS     ORG-001  111111111111  2 regions"),
        "{}",
        stdout(&o)
    );
}

/// A policy with a syntax error: `file:line:col: message`, then the line and a caret under the
/// column (tabs as four spaces, long lines cut around the column, hostile characters cleaned).
#[test]
fn a_policy_that_does_not_compile_is_shown_with_its_line_and_a_caret() {
    let long = format!("msg := \"{}\" + + 1\n", "a".repeat(300));
    let wide = format!("msg := \"{}\"\n", "b".repeat(1100));
    let cases: [(&str, String); 7] = [
        ("missing_brace", "package broken\n\ndecision := {\n".into()),
        (
            "token_at_end_of_file",
            "package broken\n\ndecision := 1 +".into(),
        ),
        (
            "tab",
            "package broken\n\nallow if {\n\t\tx := 1 +* 2\n}\n".into(),
        ),
        ("long_line", format!("package broken\n\n{long}")),
        ("over_1024_columns", format!("package broken\n\n{wide}")),
        ("line_1_col_1", "}\npackage broken\n".into()),
        (
            "hostile",
            "package broken\n\nmsg := \"\u{202E}error: \u{1b}[31m\" +* 1\n".into(),
        ),
    ];
    let snapshots = root().join("snapshots");
    let mut pinned = String::new();
    for (name, text) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("broken")).unwrap();
        std::fs::write(dir.path().join(format!("broken/{name}.rego")), text).unwrap();
        let o = run_in(
            dir.path(),
            &[
                "eval",
                snapshots.to_str().unwrap(),
                "--policy-dir",
                "broken",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert_eq!(stdout(&o), "", "{name}: no report");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 4, "{name}: {err}");
        assert!(
            err.starts_with(&format!("cwl-audit: error: broken/{name}.rego:")),
            "{err}"
        );
        pinned.push_str(&format!(
            "$ cwl-audit eval --policy-dir broken # {name}\n{err}\n"
        ));
        // `test` compiles the same files and says the same.
        let t = run_in(dir.path(), &["test", "broken"]);
        assert_eq!((t.status.code(), stderr(&t)), (Some(2), err), "{name}");
    }
    insta::assert_snapshot!("syntax_errors", pinned);
}

#[test]
fn a_decision_without_metadata_is_a_warning_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "forgotten.rego",
            "package mine.forgotten\n\ndecision := {\"verdict\": \"pass\"}\n",
        ),
        (
            "defaulted.rego",
            "package mine.defaulted\n\ndefault decision := {}\n",
        ),
        // A helper library is no rule and says nothing.
        ("lib.rego", "package mine.lib\n\nhelper := 1\n"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let o = run(&[
        "eval",
        "snapshots",
        "--rule",
        "CWL-014",
        "--policy-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let out = stdout(&o);
    let warned: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("but has no METADATA block with custom.id"))
        .collect();
    assert_eq!(warned.len(), 2, "{out}");
    assert!(warned.iter().any(|l| l.contains("forgotten.rego")), "{out}");
    assert!(warned.iter().any(|l| l.contains("defaulted.rego")), "{out}");
    assert!(warned.iter().all(|l| l.starts_with("error: ")), "{out}");
    // `-q` hides warnings, not this: the run still fails.
    let q = run(&[
        "eval",
        "snapshots",
        "--rule",
        "CWL-014",
        "-q",
        "--policy-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(q.status.code(), Some(2), "{}", stderr(&q));
}

/// A copy of the root-usage rule (and its tests) in `DIR/policies/aws/cloudwatch/`, which replaces
/// the built-in file, with `decision :=` renamed to `name :=`.
fn rule_with_decision_named(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rel = "policies/aws/cloudwatch";
    std::fs::create_dir_all(dir.path().join(rel)).unwrap();
    for file in ["root_usage_alarm.rego", "root_usage_alarm_test.rego"] {
        let text = std::fs::read_to_string(root().join(rel).join(file)).unwrap();
        let text = if file == "root_usage_alarm.rego" {
            assert!(text.contains("\ndecision := "));
            text.replace("\ndecision := ", &format!("\n{name} := "))
        } else {
            text
        };
        std::fs::write(dir.path().join(rel).join(file), text).unwrap();
    }
    dir
}

#[test]
fn a_misspelt_decision_is_one_error_naming_file_line_rule_and_the_fix() {
    let snapshots = root().join("snapshots");
    let snapshots = snapshots.to_str().unwrap();
    let mut pinned = String::new();
    for name in ["decisions", "Decision", "decison"] {
        let dir = rule_with_decision_named(name);
        let o = run_in(dir.path(), &["eval", snapshots, "--policy-dir", "policies"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{name}: no report");
        assert_eq!(stderr(&o).lines().count(), 1, "{name}: {}", stderr(&o));
        pinned.push_str(&format!("$ cwl-audit eval ... # {name}\n{}", stderr(&o)));
    }
    // The same line, as a warning, where the rule is only listed or tested.
    let dir = rule_with_decision_named("decisions");
    let o = run_in(dir.path(), &["rules", "--policy-dir", "policies"]);
    assert_eq!(o.status.code(), Some(0));
    pinned.push_str(&format!(
        "$ cwl-audit rules --policy-dir policies\n{}",
        stderr(&o)
    ));
    let o = run_in(dir.path(), &["test", "policies"]);
    assert_eq!(o.status.code(), Some(1), "its tests fail");
    let first = stderr(&o).lines().next().unwrap_or("").to_string();
    pinned.push_str(&format!(
        "$ cwl-audit test policies (first line)\n{first}\n"
    ));
    // No rule at all: the rule's `package` line.
    let dir = rule_with_decision_named("verdict_of");
    let o = run_in(dir.path(), &["eval", snapshots, "--policy-dir", "policies"]);
    assert_eq!(o.status.code(), Some(2));
    pinned.push_str(&format!(
        "$ cwl-audit eval ... # no decision\n{}",
        stderr(&o)
    ));
    insta::assert_snapshot!("misspelt_decision", pinned);
}

#[test]
fn policy_without_decision_is_unknown_not_pass() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("silent.rego"),
        "# METADATA\n# title: Says nothing\n# custom:\n#   id: ORG-002\n#   severity: LOW\npackage org.silent\n\ndecision := {\"verdict\": \"pass\"} if false\n",
    )
    .unwrap();
    let o = run(&[
        "eval",
        "snapshots/111111111111",
        "--policy-dir",
        dir.path().to_str().unwrap(),
        "--rule",
        "ORG-002",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).contains(
            "111111111111  1 unknown\n  UNKNOWN  ORG-002  Says nothing\n           the policy produced no decision"
        ),
        "{}",
        stdout(&o)
    );
}

#[test]
fn rego_tests_pass() {
    let o = run(&["test"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let last = stdout(&o).lines().last().unwrap_or_default().to_string();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    assert!(!last.starts_with("0 passed"));
}

#[test]
fn failing_rego_test_exits_1_and_names_the_test() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x_test.rego"),
        "package x_test\n\ntest_good if true\n\ntest_bad if 1 == 2\n",
    )
    .unwrap();
    let o = run(&["test", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("data.x_test.test_bad"), "{out}");
    assert!(out.ends_with("1 passed, 1 failed\n"), "{out}");
}

/// `cwl-audit rules | head -1`: the reader is gone before the output is written (the sleep makes
/// sure of it); that is no error and no panic (exit 101 with `failed printing to stdout`).
#[test]
fn a_closed_pipe_is_not_a_panic() {
    let bin = env!("CARGO_BIN_EXE_cwl-audit");
    for args in ["rules", "test", "test --format json", "explain CWL-014"] {
        let o = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "{{ sleep 0.3; \"$0\" {args}; echo \"exit=$?\" >&2; }} | true"
            ))
            .arg(bin)
            .current_dir(root())
            .output()
            .unwrap();
        let err = stderr(&o);
        assert!(
            err.ends_with("exit=0\n") && !err.contains("panicked"),
            "{args}: {err}"
        );
    }
}

#[test]
fn rules_lists_the_fifteen_cis_controls() {
    let o = run(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("rules", stdout(&o));
}

#[test]
fn policy_dir_with_the_repository_policies_replaces_the_builtin_copy() {
    let o = run(&[
        "eval",
        "snapshots",
        "--policy-dir",
        "policies",
        "--fail-on",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["test", "policies"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn test_command_run_verbose_coverage_and_failures() {
    // --run selects by package.rule; -v lists every test.
    let o = run(&["-v", "test", "--run", "root_usage_alarm_test"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.lines().filter(|l| l.starts_with("PASS ")).count() >= 5,
        "{out}"
    );
    assert!(out
        .lines()
        .all(|l| l.contains("root_usage_alarm_test") || !l.starts_with("PASS")));
    assert!(out.trim_end().ends_with(" passed, 0 failed"), "{out}");
    // --coverage: one line per policy file and a total.
    let o = run(&["test", "--coverage", "--run", "chain_test"]);
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("coverage") && l.ends_with("policies/lib/chain.rego")),
        "{out}"
    );
    let o = run(&[
        "test",
        "--coverage",
        "--format",
        "json",
        "--run",
        "chain_test",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let chain = doc["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "policies/lib/chain.rego")
        .unwrap();
    assert!(chain["covered"].as_u64().unwrap() > 100, "{chain}");
    // A failing test: exit 1; -v names the statement that failed and the values before it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine_test.rego"),
        "package mine_test\n\nimport data.checks.aws.cloudwatch.cloudtrail_changes_alarm as check\nimport data.lib.chain_fixture as fx\n\ntest_weak_filter_passes if {\n\td := check.decision with input as fx.account(fx.snapshot(`{ $.eventName = CreateTrail }`))\n\t\twith data.cwl_audit.accounts as {}\n\td.verdict == \"pass\"\n}\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let o = run(&["test", d]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("0 passed, 1 failed"));
    let o = run(&["-v", "test", d]);
    let out = stdout(&o);
    assert!(
        out.contains("mine_test.rego:9: d.verdict == \"pass\""),
        "{out}"
    );
    assert!(
        out.contains(r#"d = {"link":"filter","message":"filter Monitored misses CloudTrail configuration changes whose eventName is \"UpdateTrail\"""#),
        "{out}"
    );
    assert_eq!(run(&["test", "--run", "("]).status.code(), Some(2));
    assert_eq!(
        run(&["test", "--run", "no-such-test"]).status.code(),
        Some(2)
    );
}

#[test]
fn explain_prints_the_rule_documentation() {
    let o = run(&["explain", "cwl-002"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.starts_with("CWL-002  Unauthorized API calls are monitored\nSeverity: MEDIUM\n"),
        "{out}"
    );
    for part in [
        "cis-aws-foundations-v1.4-v5.0: 4.1",
        "aws-security-hub: CloudWatch.2",
        "https://www.trendmicro.com/cloudoneconformity/knowledge-base/aws/CloudWatchLogs/authorization-failures-alarm.html",
        "Recommended action: ",
        "aws logs put-metric-filter",
        "--filter-pattern '{ ($.errorCode =\"*UnauthorizedOperation\")",
    ] {
        assert!(out.contains(part), "{part}\n{out}");
    }
    let o = run(&["explain", "CWL-999"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown rule CWL-999"));
}

/// A run manifest of an organization collection beside two snapshots: every account it expects
/// gets a verdict per rule, `unknown` with the reason when it has no snapshot.
fn manifest_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for acct in ["111111111111", "333333333333"] {
        std::fs::create_dir_all(dir.path().join("org").join(acct)).unwrap();
        std::fs::copy(
            root().join(format!("snapshots/{acct}/us-east-1.json")),
            dir.path().join(format!("org/{acct}/us-east-1.json")),
        )
        .unwrap();
    }
    let manifest = serde_json::json!({
        "format": "cwl-audit.manifest/v1",
        "organization": {"id": "o-abc123defg", "management_account_id": "111111111111", "partition": "aws"},
        "caller_account_id": "111111111111",
        "member_role": "CwlAuditReadOnly",
        "regions": ["us-east-1"],
        "started_at": "2026-11-25T09:55:00Z",
        "finished_at": "2026-11-25T10:05:00Z",
        "collector": {"name": "cwl-audit", "version": "0.1.0"},
        "accounts": [
            {"account_id": "111111111111", "name": "management", "status": "collected", "regions": {"us-east-1": "complete"}},
            {"account_id": "333333333333", "name": "workload", "status": "collected", "regions": {"us-east-1": "complete"}},
            {"account_id": "123456789013", "name": "denied", "status": "failed", "error": {"operation": "AssumeRole", "code": "AccessDenied", "message": "not authorized to perform sts:AssumeRole"}},
            {"account_id": "123456789014", "name": "closed", "state": "SUSPENDED", "status": "skipped", "reason": "suspended"},
            {"account_id": "123456789015", "name": "lost", "status": "collected", "regions": {"us-east-1": "complete"}},
            {"account_id": "123456789016", "name": "later", "status": "pending"}
        ]
    });
    std::fs::write(
        dir.path().join("org/cwl-audit-manifest.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
    dir
}

#[test]
fn manifest_reports_every_expected_account() {
    let dir = manifest_dir();
    let o = run_in(dir.path(), &["eval", "org", "--rule", "CWL-014"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    insta::assert_snapshot!("manifest_text", format!("{}{}", stdout(&o), stderr(&o)));
    // Every rule, in the JSON report: the three missing accounts are unknown for each of the 15.
    let o = run_in(dir.path(), &["eval", "org", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    let findings = doc["results"].as_array().expect("results");
    for acct in ["123456789013", "123456789015", "123456789016"] {
        let mine: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|f| f["account_id"] == acct)
            .collect();
        assert_eq!(mine.len(), 15, "{acct}: one finding per rule");
        assert!(
            mine.iter().all(|f| f["verdict"] == "unknown"),
            "{acct}: {mine:?}"
        );
        assert!(mine
            .iter()
            .all(|f| f["location"]["path"] == "org/cwl-audit-manifest.json"));
    }
    assert!(
        findings.iter().all(|f| f["account_id"] != "123456789014"),
        "skipped: no verdict"
    );
    // SARIF stays valid, and the unknown accounts point at their manifest entry.
    let o = run_in(
        dir.path(),
        &[
            "eval", "org", "--rule", "CWL-014", "--format", "sarif", "--output", "r.sarif",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = Command::new(root().join("scripts/validate-sarif.sh"))
        .arg(dir.path().join("r.sarif"))
        .output()
        .unwrap();
    assert!(v.status.success(), "{}{}", stdout(&v), stderr(&v));
    let sarif = std::fs::read_to_string(dir.path().join("r.sarif")).unwrap();
    assert!(
        sarif.contains("\"uri\": \"org/cwl-audit-manifest.json\""),
        "{sarif}"
    );
}

#[test]
fn a_bad_manifest_is_a_one_line_error_naming_the_place() {
    let dir = manifest_dir();
    let path = dir.path().join("org/cwl-audit-manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"123456789015\"", "\"../../etc\"")).unwrap();
    let o = run_in(dir.path(), &["eval", "org", "--rule", "CWL-014"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        err.lines()
            .any(|l| l.starts_with("error: org/cwl-audit-manifest.json:")
                && l.contains(
                    "/accounts/4/account_id: \"../../etc\" is not a 12-digit account id"
                )),
        "{err}"
    );
    // The snapshots are still evaluated.
    assert!(stdout(&o).contains("333333333333  "), "{}", stdout(&o));
}

/// A manifest of organization o-abc123defg started before the demo snapshots were collected, with
/// `accounts` as given.
fn manifest_json(accounts: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "format": "cwl-audit.manifest/v1",
        "organization": {"id": "o-abc123defg", "management_account_id": "111111111111", "partition": "aws"},
        "caller_account_id": "111111111111",
        "member_role": "CwlAuditReadOnly",
        "regions": ["us-east-1"],
        "started_at": "2026-11-25T09:55:00Z",
        "finished_at": "2026-11-25T10:05:00Z",
        "collector": {"name": "cwl-audit", "version": "0.1.0"},
        "accounts": accounts
    })
}

fn collected(id: &str) -> serde_json::Value {
    serde_json::json!({"account_id": id, "status": "collected", "regions": {"us-east-1": "complete"}})
}

fn failed(id: &str) -> serde_json::Value {
    serde_json::json!({"account_id": id, "status": "failed", "error": {"operation": "AssumeRole", "code": "AccessDenied"}})
}

/// `org/<account>/us-east-1.json` from the demo for each of `accounts`, and each `(path, text)`
/// under `org/`.
fn org_set(accounts: &[&str], files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for acct in accounts {
        std::fs::create_dir_all(dir.path().join("org").join(acct)).unwrap();
        std::fs::copy(
            root().join(format!("snapshots/{acct}/us-east-1.json")),
            dir.path().join(format!("org/{acct}/us-east-1.json")),
        )
        .unwrap();
    }
    for (path, text) in files {
        let to = dir.path().join("org").join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    }
    dir
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

/// (account, verdict, message) of every result of a JSON report.
fn results(o: &std::process::Output) -> Vec<(String, String, String)> {
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("account_id"), s("verdict"), s("message"))
        })
        .collect()
}

#[test]
fn manifest_a_pass_through_an_account_not_collected_is_unknown() {
    // 222's organization trail, its log group, alarm and topic are 111's, which this collection
    // could not read: the 111 snapshots found are older, and prove nothing for 222 either.
    let m = manifest_json(serde_json::json!([
        failed("111111111111"),
        collected("222222222222")
    ]));
    let dir = org_set(
        &["111111111111", "222222222222"],
        &[("cwl-audit-manifest.json", pretty(&m))],
    );
    let o = run_in(
        dir.path(),
        &["eval", "org", "--rule", "CWL-014", "--format", "json"],
    );
    let r = results(&o);
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r.iter().all(|(_, v, _)| v == "unknown"), "{r:?}");
    assert!(
        r[1].2.starts_with("the chain runs through account 111111111111 (trail organization-trail), and account 111111111111 was not collected: the role CwlAuditReadOnly could not be assumed: AccessDenied"),
        "{}",
        r[1].2
    );
}

#[test]
fn manifest_contradictions_are_input_errors_and_never_pass() {
    let one = |accounts| pretty(&manifest_json(accounts));
    let part = |index: u32, accounts| {
        let mut m = manifest_json(accounts);
        m["shard"] = serde_json::json!({"index": index, "count": 2});
        pretty(&m)
    };
    let cases = [
        (
            vec![
                ("a/cwl-audit-manifest.json", one(serde_json::json!([collected("888888888888")]))),
                ("b/cwl-audit-manifest.json", one(serde_json::json!([failed("888888888888")]))),
            ],
            "error: the manifests org/a/cwl-audit-manifest.json (the first) and org/b/cwl-audit-manifest.json (the second) disagree about 1 account, left unknown: 888888888888 (collected in the first, failed in the second)",
        ),
        (
            vec![
                ("cwl-audit-manifest.shard-1-of-2.json", part(1, serde_json::json!([collected("888888888888")]))),
                ("cwl-audit-manifest.shard-2-of-2.json", part(2, serde_json::json!([collected("888888888888")]))),
            ],
            "error: the manifests org/cwl-audit-manifest.shard-1-of-2.json (the first) and org/cwl-audit-manifest.shard-2-of-2.json (the second) disagree about 1 account, left unknown: 888888888888 (shard 1/2 (the first) and shard 2/2 (the second) both list it as collected)",
        ),
    ];
    for (files, error) in cases {
        let dir = org_set(&["888888888888"], &files);
        let o = run_in(dir.path(), &["eval", "org", "--rule", "CWL-014"]);
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        let out = format!("{}{}", stdout(&o), stderr(&o));
        assert!(out.lines().any(|l| l == error), "{out}");
        assert!(
            out.contains("888888888888  1 unknown\n  UNKNOWN  CIS 5.3  CWL-014  Root Account Usage Alarm\n           the manifests "),
            "{out}"
        );
    }
}

#[test]
fn manifest_refused_leaves_the_accounts_it_names_unknown() {
    // Listed twice (failed, then collected): refused, and 888 is not decided from snapshots alone.
    let text = pretty(&manifest_json(serde_json::json!([
        failed("888888888888"),
        collected("888888888888")
    ])));
    let dir = org_set(
        &["888888888888"],
        &[("cwl-audit-manifest.json", text.clone())],
    );
    let o = run_in(
        dir.path(),
        &["eval", "org", "--rule", "CWL-014", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(2));
    let r = results(&o);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].1, "unknown");
    assert!(r[0].2.starts_with("the manifest that lists account 888888888888 could not be used: org/cwl-audit-manifest.json:"), "{}", r[0].2);
    // Cut short: still not a pass, and the SARIF run says it did not complete.
    let cut = &text[..text.find("\"status\": \"collected\"").unwrap()];
    let dir = org_set(
        &["888888888888"],
        &[("cwl-audit-manifest.json", cut.to_string())],
    );
    let o = run_in(
        dir.path(),
        &["eval", "org", "--rule", "CWL-014", "--format", "sarif"],
    );
    assert_eq!(o.status.code(), Some(2));
    let sarif: serde_json::Value = serde_json::from_slice(&o.stdout).expect("SARIF");
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    // Passes are not SARIF results; 888 is one, open (unknown).
    let kinds: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["open"]);
}

#[test]
fn manifest_a_skipped_account_gets_no_verdict() {
    let m = manifest_json(serde_json::json!([
        {"account_id": "888888888888", "status": "skipped", "state": "SUSPENDED", "reason": "suspended"},
        collected("111111111111")
    ]));
    let dir = org_set(
        &["888888888888", "111111111111"],
        &[("cwl-audit-manifest.json", pretty(&m))],
    );
    let o = run_in(dir.path(), &["eval", "org", "--rule", "CWL-014"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(!out.contains("CWL-014  888888888888"), "{out}");
    assert!(out.contains("note: 1 account skipped by the collection (suspended): 888888888888; snapshots of 888888888888 were found and given no verdict"), "{out}");
}

#[test]
fn manifest_errors_name_the_member() {
    for (accounts, error) in [
        // `other_shard` in a manifest that is not a shard part ("shard 3/0" before).
        (
            serde_json::json!([collected("888888888888"), {"account_id": "777777777777", "status": "other_shard", "shard": 3}]),
            "/accounts/1/status: `other_shard` in a manifest that is not a shard part (it has no `shard`)",
        ),
        (
            serde_json::json!([{"account_id": "888888888888", "status": "Collected"}]),
            "/accounts/0/status: not a run manifest: unknown variant `Collected`",
        ),
        (
            serde_json::json!([{"account_id": "888888888888", "regions": {"us-east-1": "complete"}}]),
            "/accounts/0: not a run manifest: missing field `status`",
        ),
    ] {
        let dir = org_set(&["888888888888"], &[("cwl-audit-manifest.json", pretty(&manifest_json(accounts)))]);
        let o = run_in(dir.path(), &["eval", "org", "--rule", "CWL-014"]);
        assert_eq!(o.status.code(), Some(2));
        let out = stdout(&o);
        assert!(
            out.lines().any(|l| l.starts_with("error: org/cwl-audit-manifest.json:") && l.contains(error)),
            "{out}"
        );
        assert!(!out.contains("PASS"), "{out}");
    }
}

#[test]
fn manifest_a_region_listed_without_its_snapshot_is_a_warning() {
    let m = manifest_json(serde_json::json!([
        {"account_id": "888888888888", "status": "collected", "regions": {"us-east-1": "complete", "eu-west-1": "complete"}}
    ]));
    let dir = org_set(
        &["888888888888"],
        &[("cwl-audit-manifest.json", pretty(&m))],
    );
    let o = run_in(dir.path(), &["eval", "org", "--rule", "CWL-014"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a warning, not an error: {}",
        stdout(&o)
    );
    let out = stdout(&o);
    assert!(out.starts_with("888888888888  1 pass\n"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("warning: org/cwl-audit-manifest.json:") && l.ends_with(": the manifest lists region eu-west-1 of account 888888888888 as complete, and its snapshot was not found")),
        "{out}"
    );
}

/// `--benchmark` takes only the benchmarks the rules carry patterns for: another value is a usage
/// error that lists them.
#[test]
fn unknown_benchmark_is_a_usage_error_listing_the_choices() {
    for sub in [&["eval", "snapshots"][..], &["explain", "CWL-004"][..]] {
        let mut args = sub.to_vec();
        args.extend(["--benchmark", "bogus"]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        for choice in cwl_audit::findings::benchmark::BENCHMARKS {
            assert!(
                err.contains(choice.id),
                "{args:?}: {choice:?} not listed:\n{err}"
            );
        }
    }
}

/// The bundled CWL-004 failure is a filter with the six events of CIS v1.2-v4.0 and Security Hub
/// CloudWatch.10: it fails the default (the newest CIS), naming ModifySecurityGroupRules and the
/// versions it passes, and passes under Security Hub.
#[test]
fn six_security_group_events_pass_security_hub_and_fail_the_default() {
    let dir = "policies/aws/cloudwatch/examples/CWL-004/fail";
    let o = run(&["eval", dir, "--rule", "CWL-004"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            r#"misses security group changes whose eventName is "ModifySecurityGroupRules""#
        ),
        "{out}"
    );
    assert!(
        out.contains("note: the verdict depends on the benchmark version: passes Security Hub CloudWatch.10 and CIS v1.2-v4.0; fails CIS v5.0-v6.0 (this finding)"),
        "{out}"
    );
    let o = run(&[
        "eval",
        dir,
        "--rule",
        "CWL-004",
        "--benchmark",
        "aws-security-hub",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("  1 pass\n") && !stdout(&o).contains("FAIL"),
        "{}",
        stdout(&o)
    );
}

/// `explain --benchmark` shows the chosen version's pattern, the others with their sources, and
/// the remediation command with the chosen pattern.
#[test]
fn explain_shows_the_chosen_benchmark_pattern() {
    let o = run(&["explain", "CWL-004", "--benchmark", "aws-security-hub"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Reference pattern (Security Hub; the same in Security Hub CloudWatch.10 and CIS v1.2-v4.0):"),
        "{out}"
    );
    assert!(out.contains("Other benchmark versions"), "{out}");
    assert!(
        out.contains("  CIS v5.0-v6.0 (cis-v6.0, cis-v5.0):"),
        "{out}"
    );
    let command = out
        .lines()
        .find(|l| l.contains("--filter-pattern"))
        .expect("a put-metric-filter command");
    assert!(command.contains("DeleteSecurityGroup"), "{command}");
    assert!(!command.contains("ModifySecurityGroupRules"), "{command}");
    // The default shows the newest CIS pattern in the command.
    let out = stdout(&run(&["explain", "CWL-004"]));
    let command = out
        .lines()
        .find(|l| l.contains("--filter-pattern"))
        .expect("a put-metric-filter command");
    assert!(command.contains("ModifySecurityGroupRules"), "{command}");
    assert!(
        out.contains("Reference pattern (CIS v6.0; the same in CIS v5.0-v6.0):"),
        "{out}"
    );
}

/// All fifteen rules on the demo: one block per account, a cause shared by several rules printed
/// once (the stopped trail of 666666666666 fails all fifteen), the rules of a cause in control
/// order with their titles, aligned; `-v` keeps one line per account and rule.
#[test]
fn all_rules_text_report_groups_by_account_and_cause() {
    let o = run(&["eval", "snapshots"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("666666666666  15 fail\n  FAIL     trail management-events is not logging (IsLogging=false)\n           at snapshots/666666666666/us-east-1.json:18\n           fails all 15 rules\n"),
        "{out}"
    );
    assert_eq!(out.matches("is not logging").count(), 1, "{out}");
    // 777777777777: one unknown cause for fourteen rules (their topic), listed by control, and
    // CWL-014's own topic apart.
    let listed: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.ends_with("leaves 14 rules unknown:"))
        .skip(1)
        .take(14)
        .collect();
    assert_eq!(
        listed.first().copied(),
        Some("             CIS 5.1   CWL-002   Unauthorized API calls are monitored"),
        "{out}"
    );
    let controls: Vec<u32> = listed
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .map(|c| c.strip_prefix("5.").unwrap().parse().unwrap())
        .collect();
    assert_eq!(controls, [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    // Each account once, in order; passing accounts in one line.
    assert!(
        out.starts_with("111111111111  15 pass\n222222222222  15 pass\n"),
        "{out}"
    );
    assert!(
        out.lines().count() < 60,
        "{} lines:\n{out}",
        out.lines().count()
    );

    let verbose = stdout(&run(&["-v", "eval", "snapshots"]));
    let verdict_lines = verbose
        .lines()
        .filter(|l| {
            ["PASS ", "FAIL ", "UNKNOWN "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .count();
    assert_eq!(verdict_lines, 9 * 15, "{verbose}");
}

/// `diff nope snapshots`: the unreadable side is the whole answer, one line and exit 2, before
/// (instead of) any report.
#[test]
fn diff_of_an_unreadable_side_fails_first_in_one_line() {
    for args in [["diff", "nope", "snapshots"], ["diff", "snapshots", "nope"]] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stdout(&o), "", "{args:?}: no report");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("cwl-audit: error: nope: cannot read: "),
            "{args:?}: {err}"
        );
    }
}

/// `--help` says what applies: the global flags in words that hold for every command, `collect`
/// serves every rule, and `eval --help` has the exit codes.
#[test]
fn help_texts_apply_to_their_command() {
    let eval = stdout(&run(&["eval", "--help"]));
    assert!(
        eval.contains("Exit codes: 0 no verdict at or above --fail-on, 1 findings"),
        "{eval}"
    );
    for sub in ["iam-policy", "completions"] {
        let h = stdout(&run(&[sub, "--help"]));
        assert!(h.contains("-q, --quiet"), "{h}");
        assert!(
            !h.contains("PASS lines") && !h.contains("adds each account's proven chain"),
            "{sub}: {h}"
        );
    }
    let top = stdout(&run(&["--help"]));
    assert!(
        !top.contains("CWL-014 needs") && !top.contains("CWL-014 chain"),
        "{top}"
    );
    assert!(top.contains("Read what every rule needs"), "{top}");
}

/// `make demo` builds the evaluator only into its own target directory: the full build's
/// target/release/cwl-audit (with `collect`, the README's next step) is never replaced. The README
/// says how to install both builds before it shows the demo.
/// The README's `text` block that starts with `$ COMMAND`, without that line.
fn readme_sample(command: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find(&format!("```text\n$ {command}\n"))
        .unwrap_or_else(|| panic!("README has a sample of `{command}`"));
    let body = &readme[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()]
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// Every line of `sample` except `...` (at any indent) appears in `output`, in the same order.
#[track_caller]
fn assert_sample_of(sample: &[String], output: &[String]) {
    let mut rest = output.iter();
    for line in sample.iter().filter(|l| l.trim() != "...") {
        assert!(
            rest.any(|o| o == line),
            "README sample line not in the output (in order): {line:?}\noutput:\n{}",
            output.join("\n")
        );
    }
}

/// The README's samples of `make demo` and `cwl-audit eval snapshots` are what they print: the
/// same evaluations (the debug build stands in for the demo's release build), and the lines
/// `make demo` echoes itself taken from the Makefile.
#[test]
fn readme_samples_are_real_output() {
    let lines = |o: &std::process::Output| -> Vec<String> {
        stdout(o).lines().map(str::to_string).collect()
    };
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let echoed: Vec<String> = makefile
        .lines()
        .filter_map(|l| l.trim().strip_prefix("@echo \""))
        .map(|l| {
            l.trim_end_matches('"')
                .replace("\\`", "`")
                .replace("$(DEMO_OUT)", "target/demo")
        })
        .collect();
    let mut demo = lines(&run(&["eval", "snapshots", "--rule", "CWL-014"]));
    let all = lines(&run(&["eval", "snapshots"]));
    demo.push(String::new());
    demo.push(echoed[0].clone());
    demo.push(all.last().cloned().unwrap_or_default());
    demo.push(echoed[1].clone());
    assert_sample_of(&readme_sample("make demo"), &demo);
    assert_sample_of(&readme_sample("cwl-audit eval snapshots"), &all);
}

#[test]
fn make_demo_keeps_the_full_build_and_readme_installs_first() {
    let o = Command::new("make")
        .args(["-n", "--no-print-directory", "demo"])
        .current_dir(root())
        .output()
        .expect("make");
    assert!(o.status.success(), "{}", stderr(&o));
    let plan = stdout(&o);
    assert!(
        plan.contains("cargo build --release --no-default-features --bin cwl-audit --target-dir target/eval-only"),
        "{plan}"
    );
    assert!(!plan.contains("target/release/cwl-audit"), "{plan}");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let install = readme.find("\n## Install\n").expect("an Install section");
    assert!(install < readme.find("make demo").unwrap());
    for cmd in [
        "cargo install --locked --git https://github.com/<owner>/cwl-audit\n",
        "cargo install --locked --no-default-features --git https://github.com/<owner>/cwl-audit\n",
    ] {
        assert!(readme[install..].contains(cmd), "{cmd}");
    }
}

/// `rules` and `explain` print one line per field whatever a policy's METADATA holds, and stop
/// (exit 2, with the place) on a policy that does not compile, as `eval` would.
#[test]
fn rules_and_explain_show_policies_as_eval_would() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p");
    std::fs::create_dir(&p).unwrap();
    std::fs::write(
        p.join("my.rego"),
        "# METADATA\n# title: \"Mine\\nCWL-014    HIGH     spoofed row\"\n# custom:\n#   id: MY-1\n#   severity: LOW\npackage my.one\n\ndecision := {\"verdict\": \"pass\", \"message\": \"ok\"}\n",
    )
    .unwrap();
    let o = run_in(dir.path(), &["rules", "--policy-dir", "p"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listed = stdout(&o);
    let rows: Vec<&str> = listed.lines().filter(|l| l.contains("spoofed")).collect();
    assert_eq!(rows.len(), 1, "{listed}");
    assert!(rows[0].starts_with("MY-1 "), "{}", rows[0]);
    let o = run_in(dir.path(), &["explain", "MY-1", "--policy-dir", "p"]);
    assert!(
        stdout(&o).lines().next().unwrap().contains("spoofed"),
        "{}",
        stdout(&o)
    );
    // An id that could break a line or a column is refused.
    std::fs::write(
        p.join("my.rego"),
        "# METADATA\n# title: T\n# custom:\n#   id: \"MY-1\\nX\"\n#   severity: LOW\npackage my.one\n\ndecision := {\"verdict\": \"pass\", \"message\": \"ok\"}\n",
    )
    .unwrap();
    let o = run_in(dir.path(), &["rules", "--policy-dir", "p"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("is not a rule id"), "{}", stderr(&o));
    std::fs::write(
        p.join("my.rego"),
        "# METADATA\n# title: T\n# custom:\n#   id: BAD-1\n#   severity: LOW\npackage bad.one\n\ndecision := {\n",
    )
    .unwrap();
    for args in [
        &["rules", "--policy-dir", "p"][..],
        &["explain", "BAD-1", "--policy-dir", "p"],
    ] {
        let o = run_in(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        assert!(
            stderr(&o).contains("p/my.rego:9:1"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

/// A `diff` side without a usable snapshot: `--format json` still writes the report, with the
/// reason in `errors` (exit 2); duplicates are left out of the changes as of the verdicts.
#[test]
fn diff_json_says_why_nothing_was_compared() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut");
    std::fs::create_dir(&cut).unwrap();
    let text =
        std::fs::read_to_string(root().join("snapshots/333333333333/us-east-1.json")).unwrap();
    std::fs::write(cut.join("x.json"), &text[..100]).unwrap();
    let o = run(&["diff", "snapshots", cut.to_str().unwrap(), "-f", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("a JSON report");
    assert_eq!(doc["changes"], serde_json::json!([]));
    assert!(
        doc["errors"][0].as_str().unwrap().contains("x.json:"),
        "{doc}"
    );
    let twice = dir.path().join("twice");
    std::fs::create_dir(&twice).unwrap();
    std::fs::write(twice.join("a.json"), &text).unwrap();
    std::fs::write(twice.join("b.json"), &text).unwrap();
    std::fs::copy(
        root().join("snapshots/444444444444/us-east-1.json"),
        twice.join("c.json"),
    )
    .unwrap();
    let o = run(&["diff", "snapshots", twice.to_str().unwrap(), "-f", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("a JSON report");
    let removed: Vec<&serde_json::Value> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["account_id"] == "333333333333")
        .collect();
    assert!(
        !removed.is_empty() && removed.iter().all(|c| c["kind"] == "removed"),
        "the left-out duplicates read as removed, as their verdicts are absent: {removed:?}"
    );
    assert!(doc["errors"].to_string().contains("both left out"), "{doc}");
}

/// A file that was found but refused (invalid JSON, an unknown key, a broken run manifest) is
/// still someone's input: `-o` onto it is refused by `eval` and `remediate`, and it is untouched.
#[test]
fn output_never_overwrites_an_input_that_did_not_load() {
    let good = std::fs::read(root().join("snapshots/333333333333/us-east-1.json")).unwrap();
    let typo = {
        let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
        v["trailz"] = serde_json::json!([]);
        serde_json::to_vec(&v).unwrap()
    };
    let cases: [(&str, &[u8]); 3] = [
        ("broken.json", b"{\"schema_version\": 1, "),
        ("typo.json", &typo),
        ("cwl-audit-manifest.json", b"{\"accounts\": 7}"),
    ];
    for (name, bad) in cases {
        for (cmd, flag) in [("eval", "-o"), ("remediate", "-o")] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("good.json"), &good).unwrap();
            std::fs::write(dir.path().join(name), bad).unwrap();
            let o = run_in(dir.path(), &[cmd, ".", flag, name]);
            assert_eq!(o.status.code(), Some(2), "{cmd} -o {name}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("is an input ("),
                "{cmd} -o {name}: {}",
                stderr(&o)
            );
            assert_eq!(
                std::fs::read(dir.path().join(name)).unwrap(),
                bad,
                "{cmd} {name}"
            );
        }
    }
}
