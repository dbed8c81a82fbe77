//! The binary as users run it: outputs pinned with insta, exit codes, bad input, SARIF validity.
mod support;

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

#[test]
fn demo_junit() {
    let o = run(&[
        "eval",
        "snapshots",
        "--rule",
        "CWL-014",
        "--format",
        "junit",
    ]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("demo_junit", stdout(&o));
}

/// The SARIF of the demo, pinned, and checked by the official tools (schema + multitool with GitHub
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
    insta::assert_snapshot!("demo_sarif", text);
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
        out.contains("FAIL     CWL-014  333333333333"),
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

#[test]
fn output_never_overwrites_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.json");
    std::fs::copy(root().join("snapshots/333333333333/us-east-1.json"), &snap).unwrap();
    let before = std::fs::read(&snap).unwrap();
    let o = run_in(
        dir.path(),
        &["eval", "s.json", "--format", "json", "--output", "s.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is an input snapshot"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&snap).unwrap(), before);
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
    let o = run(&[
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

#[test]
fn broken_user_policy_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.rego"),
        "package broken\n\ndecision := {\n",
    )
    .unwrap();
    let o = run(&[
        "eval",
        "snapshots",
        "--policy-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("broken.rego:") && err.starts_with("cwl-audit: error: "),
        "{err}"
    );
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
        stdout(&o).contains("UNKNOWN  ORG-002  111111111111  the policy produced no decision"),
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

/// `--benchmark` takes only the benchmarks the checks carry patterns for: another value is a usage
/// error that lists them.
#[test]
fn unknown_benchmark_is_a_usage_error_listing_the_choices() {
    for sub in [&["eval", "snapshots"][..], &["explain", "CWL-004"][..]] {
        let mut args = sub.to_vec();
        args.extend(["--benchmark", "bogus"]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        for choice in cwl_audit::engine::benchmark::BENCHMARKS {
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
    assert!(stdout(&o).starts_with("PASS     CWL-004"), "{}", stdout(&o));
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
