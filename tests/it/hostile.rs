//! Hostile input: files and policies built to crash, hang or mislead the evaluator. Each must end in
//! one clear line naming the file (exit 2) while the valid files of the same run are still reported.
use crate::support;

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::bin::run_in;
use support::*;

const GOOD: &str = "333333333333";

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A directory `in/` holding one valid snapshot (account 333333333333, failing at its alarm).
fn dir_with_good_snapshot() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("in")).expect("mkdir");
    let mut s = compliant(GOOD, "us-east-1");
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/ActionsEnabled",
        json!(false),
    );
    write_json(&dir.path().join("in/good.json"), &s);
    dir
}

fn write_json(path: &Path, v: &serde_json::Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).expect("serialize")).expect("write");
}

/// The error lines of a run, sorted, with the temporary directory's path taken out.
fn error_lines(o: &Output, dir: &Path) -> String {
    let mut lines: Vec<String> = text(o)
        .lines()
        .filter(|l| l.starts_with("error:") || l.starts_with("cwl-audit: error:"))
        .map(|l| l.replace(&dir.display().to_string(), "<tmp>"))
        .collect();
    lines.sort();
    lines.join("\n")
}

#[track_caller]
fn assert_good_still_reported(o: &Output) {
    let out = text(o);
    // The grouped report (an account line, then its failing rule and the message), or `-v`'s lines.
    let grouped = out.contains(&format!("\n{GOOD}  ")) || out.starts_with(&format!("{GOOD}  "));
    let grouped = grouped && out.contains("           alarm RootAccountUsageAlarm");
    let flat = out.contains(&format!(
        "FAIL     CWL-014  {GOOD}  alarm RootAccountUsageAlarm"
    ));
    assert!(
        grouped || flat,
        "the valid snapshot is still evaluated:\n{out}"
    );
}

/// Files that are not snapshots at all, side by side with a good one, in one run.
#[test]
fn hostile_files_each_get_one_line_and_the_rest_is_evaluated() {
    let dir = dir_with_good_snapshot();
    let input = dir.path().join("in");
    // 100,000 nested arrays: a recursive parser without a depth limit would overflow its stack.
    std::fs::write(
        input.join("deep.json"),
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .expect("write");
    // 200 MB (sparse: costs no disk): refused by its size before a byte is read.
    std::fs::File::create(input.join("huge.json"))
        .and_then(|f| f.set_len(200 * 1024 * 1024))
        .expect("sparse file");
    // A dangling symlink: a file that exists in the listing but cannot be read (works as root too).
    std::os::unix::fs::symlink(input.join("gone"), input.join("dangling.json")).expect("symlink");
    // A directory symlink back to its parent: an endless walk without loop detection.
    std::fs::create_dir_all(input.join("nested")).expect("mkdir");
    std::os::unix::fs::symlink(&input, input.join("nested/loop")).expect("symlink");
    // A byte order mark in front of valid JSON (Windows editors write one): named as such.
    std::fs::write(input.join("bom.json"), "\u{feff}{}").expect("write");
    // A FIFO named like a snapshot: reading it would block the run forever.
    let fifo = Command::new("mkfifo")
        .arg(input.join("fifo.json"))
        .status()
        .expect("mkfifo");
    assert!(fifo.success());
    let o = run_in(dir.path(), &["eval", "in", "in/fifo.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_good_still_reported(&o);
    insta::assert_snapshot!("hostile_files", error_lines(&o, dir.path()));
}

/// Huge arrays inside a valid snapshot are data, not an error: the verdict is still right.
/// A file name that is not UTF-8 cannot be named by a report: one line saying so, exit 2, and the
/// good snapshot beside it still reported. Never a finding pointing at a name with U+FFFD.
#[test]
fn a_file_name_that_is_not_utf8_is_refused_by_name() {
    use std::os::unix::ffi::OsStrExt;
    let dir = dir_with_good_snapshot();
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff\xfe.json");
    let mut s = compliant("444444444444", "us-east-1");
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/ActionsEnabled",
        json!(false),
    );
    write_json(&dir.path().join("in").join(name), &s);
    let o = run_in(dir.path(), &["eval", "in", "--rule", "CWL-014"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(
        error_lines(&o, dir.path()),
        "error: in/bad-\u{FFFD}\u{FFFD}.json: file name is not valid UTF-8, so no report could name it: rename it (skipped)"
    );
    assert!(!text(&o).contains("444444444444"), "{}", text(&o));
    assert_good_still_reported(&o);
    let o = run_in(
        dir.path(),
        &["eval", "in", "--rule", "CWL-014", "-f", "json"],
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(doc["summary"]["errors"], 1);
    assert_eq!(doc["results"].as_array().map(Vec::len), Some(1));
}

#[test]
fn huge_arrays_are_evaluated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = compliant(GOOD, "us-east-1");
    let topic = topic_arn(GOOD, "us-east-1", "RootAccountUsageAlerts");
    let alarms = s["cloudwatch"]["MetricAlarms"]
        .as_array_mut()
        .expect("alarms");
    for i in 0..20_000 {
        alarms.push(alarm(
            GOOD,
            "us-east-1",
            &format!("Other{i}"),
            &format!("Metric{i}"),
            &topic,
        ));
    }
    let subs = s["sns"]["Subscriptions"].as_array_mut().expect("subs");
    for _ in 0..20_000 {
        subs.push(subscription(&topic, false));
    }
    s["extra"] = json!(vec![0; 1_000_000]);
    write_json(&dir.path().join("big.json"), &s);
    let o = run_in(dir.path(), &["eval", "big.json", "--rule", "CWL-014"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).starts_with(&format!("{GOOD}  1 pass\n")),
        "{}",
        text(&o)
    );
}

/// Writes `policy` as a user policy directory and evaluates the good snapshot with it.
fn with_policy(dir: &Path, name: &str, policy: &str, extra: &[&str]) -> Output {
    let pdir = dir.join("policies");
    std::fs::create_dir_all(&pdir).expect("mkdir");
    std::fs::write(pdir.join(name), policy).expect("write");
    let mut args = vec!["eval", "in", "--policy-dir", "policies"];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

const META: &str =
    "# METADATA\n# title: Hostile\n# custom:\n#   id: HOSTILE-1\n#   severity: LOW\n";

#[test]
fn a_policy_that_never_finishes_is_stopped_by_the_time_limit() {
    let dir = dir_with_good_snapshot();
    // 27 billion iterations: hours without a bound.
    let policy = format!(
        "{META}package hostile.slow\n\ndecision := {{\"verdict\": \"pass\"}} if {{\n\tcount([1 | some i in numbers.range(1, 3000); some j in numbers.range(1, 3000); some k in numbers.range(1, 3000)]) > 0\n}}\n"
    );
    let started = std::time::Instant::now();
    let o = with_policy(dir.path(), "slow.rego", &policy, &["--time-limit", "0.5"]);
    assert!(started.elapsed().as_secs() < 60, "the run ended");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_good_still_reported(&o);
    let out = text(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with("error: HOSTILE-1"))
        .unwrap_or_else(|| panic!("an error names the rule:\n{out}"));
    assert!(line.contains("policies/slow.rego"), "{line}");
    assert!(line.contains(GOOD), "{line}");
    // The rule has no CIS control: its control column is blank, its id and title still aligned.
    assert!(
        out.lines()
            .any(|l| l.starts_with("  UNKNOWN  ") && l.ends_with("  HOSTILE-1  Hostile")),
        "{out}"
    );
}

#[test]
fn a_builtin_called_with_wrong_arguments_is_an_error_naming_the_policy() {
    let dir = dir_with_good_snapshot();
    let policy = format!(
        "{META}package hostile.args\n\ndecision := {{\"verdict\": \"pass\", \"c\": cwl.filter_covers(1, \"x\")}}\n"
    );
    let o = with_policy(dir.path(), "args.rego", &policy, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_good_still_reported(&o);
    insta::assert_snapshot!("builtin_wrong_args", error_lines(&o, dir.path()));
}

#[test]
fn metadata_that_is_not_yaml_is_an_error_naming_the_file() {
    let dir = dir_with_good_snapshot();
    let policy = "# METADATA\n# title: [unclosed\n# custom: {id: X\npackage hostile.meta\n\ndecision := {\"verdict\": \"pass\"}\n";
    let o = with_policy(dir.path(), "meta.rego", policy, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    insta::assert_snapshot!("metadata_not_yaml", error_lines(&o, dir.path()));
}

#[test]
fn a_policy_with_a_syntax_error_is_an_error_naming_file_and_line() {
    let dir = dir_with_good_snapshot();
    let policy = format!("{META}package hostile.syntax\n\ndecision := {{\"verdict\": \n");
    let o = with_policy(dir.path(), "syntax.rego", &policy, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let lines = error_lines(&o, dir.path());
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(
        lines.contains("policies/syntax.rego:9:1: expecting expression"),
        "{lines}"
    );
}

/// Names built to break reports: quotes, markup, control characters, a right-to-left override, and
/// a 1 MB name. Every format stays well-formed and no raw control character reaches a terminal.
#[test]
fn hostile_strings_are_escaped_in_every_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let evil = format!(
        "Alarm\"'<x>&]]>\u{1b}[31mRED\u{7}\u{0}\u{202e}gnp.exe\u{2066}{}",
        "A".repeat(1024 * 1024)
    );
    let mut s = compliant(GOOD, "us-east-1");
    set(&mut s, "/cloudwatch/MetricAlarms/0/AlarmName", json!(evil));
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/ActionsEnabled",
        json!(false),
    );
    write_json(&dir.path().join("evil.json"), &s);

    let text_out = run_in(dir.path(), &["eval", "evil.json", "--rule", "CWL-014"]);
    assert_eq!(text_out.status.code(), Some(1));
    let t = String::from_utf8(text_out.stdout).expect("UTF-8 text report");
    assert!(
        !t.chars().any(|c| (c.is_control() && c != '\n')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)),
        "no control or bidi characters in the text report"
    );
    assert!(
        t.contains("Alarm\"'<x>&]]> [31mRED"),
        "the name is still readable"
    );

    let json_out = run_in(
        dir.path(),
        &["eval", "evil.json", "--rule", "CWL-014", "--format", "json"],
    );
    let doc: serde_json::Value = serde_json::from_slice(&json_out.stdout).expect("valid JSON");
    assert!(
        doc["results"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&evil)),
        "JSON keeps the exact name"
    );

    let junit = run_in(
        dir.path(),
        &[
            "eval",
            "evil.json",
            "--rule",
            "CWL-014",
            "--format",
            "junit",
        ],
    );
    let xml = String::from_utf8(junit.stdout).expect("UTF-8 XML");
    assert!(!xml.contains("<x>") && !xml.contains('\u{1b}') && !xml.contains('\u{0}'));
    assert_well_formed_xml(&xml);

    let sarif = dir.path().join("r.sarif");
    let o = run_in(
        dir.path(),
        &[
            "eval",
            "evil.json",
            "--format",
            "sarif",
            "--output",
            "r.sarif",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v =
        Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/validate-sarif.sh"))
            .arg(&sarif)
            .output()
            .expect("run validator");
    assert!(v.status.success(), "SARIF stays valid:\n{}", text(&v));
}

/// Parses XML with Python's standard library (the test venv's interpreter, see `make test`).
fn assert_well_formed_xml(xml: &str) {
    let python = std::env::var("CWL_AUDIT_PYTHON")
        .expect("CWL_AUDIT_PYTHON is not set: run the tests with `make test`");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("r.xml");
    std::fs::write(&path, xml).expect("write");
    let o = Command::new(python)
        .args([
            "-c",
            "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])",
        ])
        .arg(&path)
        .output()
        .expect("run python");
    assert!(o.status.success(), "JUnit XML is well-formed: {}", text(&o));
}

#[test]
fn a_policy_that_exhausts_memory_is_stopped_by_the_memory_limit() {
    let dir = dir_with_good_snapshot();
    // numbers.range allocates its whole array at once: 240 GB, which would abort the process.
    let policy = format!(
        "{META}package hostile.memory\n\ndecision := {{\"verdict\": \"pass\"}} if {{\n\tcount(numbers.range(1, 10000000000)) > 0\n}}\n"
    );
    std::fs::write(dir.path().join("keep.sarif"), "previous report").expect("write");
    let args = [
        "--memory-limit",
        "512",
        "--format",
        "sarif",
        "--output",
        "keep.sarif",
    ];
    // All rules of an account are decided by one query: the account is known, the rule is not.
    let o = with_policy(dir.path(), "memory.rego", &policy, &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let lines = error_lines(&o, dir.path());
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(
        lines.contains("memory limit of 512 MiB exceeded")
            && lines
                .contains("rules of account 333333333333 together (evaluate one with --rule ID"),
        "{lines}"
    );
    // One rule: named.
    let o = with_policy(
        dir.path(),
        "memory.rego",
        &policy,
        &[&args[..], &["--rule", "HOSTILE-1"]].concat(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let lines = error_lines(&o, dir.path());
    assert!(
        lines.contains("HOSTILE-1 (policies/memory.rego) for account 333333333333"),
        "{lines}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.sarif")).expect("read"),
        "previous report",
        "the previous report is left as it was"
    );
}

/// Policies get no way out: network, runtime (environment), clock and DNS builtins are not compiled
/// into the engine, so calling them is an evaluation error, never a request.
#[test]
fn policies_cannot_reach_the_network_environment_or_clock() {
    for call in [
        r#"http.send({"method": "get", "url": "http://127.0.0.1:9/"})"#,
        "opa.runtime()",
        "time.now_ns()",
        r#"net.lookup_ip_addr("example.com")"#,
    ] {
        let dir = dir_with_good_snapshot();
        let policy = format!(
            "{META}package hostile.escape\n\ndecision := {{\"verdict\": \"pass\", \"x\": {call}}}\n"
        );
        let o = with_policy(dir.path(), "escape.rego", &policy, &[]);
        assert_eq!(o.status.code(), Some(2), "{call}: {}", text(&o));
        let name = call.split('(').next().unwrap_or(call);
        assert!(
            error_lines(&o, dir.path()).contains(&format!("could not find function {name}")),
            "{call}: {}",
            text(&o)
        );
    }
}

/// A member the chain reads, misspelled: the file is refused with its line and pointer, never
/// decided as if the member held a value it does not (`IsLoging` read as "not logging").
#[test]
fn a_misspelled_member_the_chain_reads_is_an_input_error_naming_the_place() {
    let arn = trail_arn("444444444444", "us-east-1", "management-events");
    let key = arn.replace('/', "~1");
    let cases: [(&str, String, &str, &str); 6] = [
        (
            "status",
            format!("/cloudtrail/status/{key}"),
            "IsLogging",
            "IsLoging",
        ),
        (
            "alarm",
            "/cloudwatch/MetricAlarms/0".into(),
            "ActionsEnabled",
            "ActionEnabled",
        ),
        (
            "filter",
            "/logs/metricFilters/0".into(),
            "filterPattern",
            "filterPatern",
        ),
        (
            "trail",
            "/cloudtrail/trailList/0".into(),
            "IsMultiRegionTrail",
            "IsMultiregionTrail",
        ),
        (
            "selector",
            format!("/cloudtrail/selectors/{key}/EventSelectors/0"),
            "ReadWriteType",
            "ReadWriteTyp",
        ),
        (
            "periods",
            "/cloudwatch/MetricAlarms/0".into(),
            "EvaluationPeriods",
            "EvaluationPeriod",
        ),
    ];
    for (name, pointer, key_name, typo) in cases {
        let dir = dir_with_good_snapshot();
        let mut s = compliant("444444444444", "us-east-1");
        let obj = s
            .pointer_mut(&pointer)
            .and_then(|o| o.as_object_mut())
            .expect("object in test snapshot");
        let v = obj.remove(key_name).expect("member present");
        obj.insert(typo.to_string(), v);
        write_json(&dir.path().join(format!("in/{name}.json")), &s);
        let o = run_in(dir.path(), &["eval", "in", "--rule", "CWL-014"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        let errors = error_lines(&o, dir.path());
        // A typo this close to the member is named as such; a member removed outright is
        // "missing required key" (tests/it/cli.rs, bad_input).
        let want =
            format!("{pointer}/{typo}: unknown key \"{typo}\": did you mean \"{key_name}\"?");
        assert!(
            errors.contains(&format!("in/{name}.json:")) && errors.contains(&want),
            "{name}: one line naming the file, line and pointer ({want}):\n{errors}"
        );
        assert!(
            !text(&o).contains("444444444444  "),
            "{name}: no verdict from the refused file"
        );
        assert_good_still_reported(&o);
    }
}

/// Alarm numbers AWS never returns (a zero, negative, fractional or huge count; a period AWS does
/// not accept) and a member written twice: each file is refused with its place, never decided.
/// Before, `EvaluationPeriods: 0` or `Period: -300` passed CWL-014, and a second
/// `"ActionsEnabled": true` after `false` passed where a reader of the file saw actions disabled.
#[test]
fn impossible_alarm_numbers_and_repeated_members_are_refused() {
    let alarm = "/cloudwatch/MetricAlarms/0";
    let numbers: [(&str, serde_json::Value, &str); 9] = [
        ("EvaluationPeriods", json!(0), "is not a count AWS allows"),
        ("EvaluationPeriods", json!(-1), "is not a count AWS allows"),
        ("EvaluationPeriods", json!(1.5), "is not a count AWS allows"),
        (
            "EvaluationPeriods",
            json!(18446744073709551615u64),
            "is not a count AWS allows",
        ),
        ("DatapointsToAlarm", json!(0), "is not a count AWS allows"),
        ("Period", json!(0), "is not a period AWS allows"),
        ("Period", json!(-300), "is not a period AWS allows"),
        ("Period", json!(300.5), "is not a period AWS allows"),
        ("Period", json!(45), "is not a period AWS allows"),
    ];
    for (i, (member, value, says)) in numbers.iter().enumerate() {
        let dir = dir_with_good_snapshot();
        let mut s = compliant("444444444444", "us-east-1");
        s.pointer_mut(alarm)
            .and_then(|o| o.as_object_mut())
            .expect("alarm in test snapshot")
            .insert(member.to_string(), value.clone());
        write_json(&dir.path().join(format!("in/n{i}.json")), &s);
        let o = run_in(dir.path(), &["eval", "in", "--rule", "CWL-014"]);
        assert_eq!(o.status.code(), Some(2), "{member} {value}: {}", text(&o));
        let errors = error_lines(&o, dir.path());
        assert!(
            errors.contains(&format!("in/n{i}.json:"))
                && errors.contains(&format!("{alarm}/{member}: {value} {says}")),
            "{member} {value}: one line naming the file, line and pointer:\n{errors}"
        );
        assert!(
            !text(&o).contains("444444444444  "),
            "{member} {value}: no verdict"
        );
        assert_good_still_reported(&o);
    }
    // Written by hand: serde_json, like most writers, cannot write a member twice.
    let dir = dir_with_good_snapshot();
    let text_of = serde_json::to_string_pretty(&compliant("444444444444", "us-east-1")).unwrap();
    let twice = text_of.replacen(
        "\"ActionsEnabled\": true,",
        "\"ActionsEnabled\": false,\n        \"ActionsEnabled\": true,",
        1,
    );
    assert_ne!(twice, text_of, "the test snapshot has an enabled alarm");
    std::fs::write(dir.path().join("in/twice.json"), twice).unwrap();
    let o = run_in(dir.path(), &["eval", "in", "--rule", "CWL-014"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let errors = error_lines(&o, dir.path());
    assert!(
        errors.contains("in/twice.json:")
            && errors.contains("repeats the member name \"ActionsEnabled\""),
        "{errors}"
    );
    assert_good_still_reported(&o);
}

/// A key one letter (or only case) away from a member the chain reads, or a value AWS never
/// returns for an enumerated member: refused with the pointer, never read as absent or as a
/// neighbouring value (`"DefaultValue": 1` would otherwise be no default at all: a false pass).
#[test]
fn near_miss_keys_and_values_outside_an_enumeration_are_input_errors() {
    let cases: [(&str, &str, &str, serde_json::Value, &str); 9] = [
        (
            "unit-case",
            "/cloudwatch/MetricAlarms/0",
            "Unit",
            json!("count"),
            "Count/Second, None: did you mean \"Count\"?",
        ),
        (
            "unit-empty",
            "/cloudwatch/MetricAlarms/0",
            "Unit",
            json!(""),
            "/Unit: \"\" is not one of Seconds,",
        ),
        (
            "filter-unit",
            "/logs/metricFilters/0/metricTransformations/0",
            "unit",
            json!("Bananas"),
            "/metricTransformations/0/unit: \"Bananas\" is not one of Seconds,",
        ),
        (
            "default",
            "/logs/metricFilters/0/metricTransformations/0",
            "DefaultValue",
            json!(1),
            "unknown key \"DefaultValue\": did you mean \"defaultValue\"?",
        ),
        (
            "datapoints",
            "/cloudwatch/MetricAlarms/0",
            "DatapointToAlarm",
            json!(2),
            "did you mean \"DatapointsToAlarm\"?",
        ),
        (
            "missing",
            "/cloudwatch/MetricAlarms/0",
            "TreatMissingdata",
            json!("breaching"),
            "did you mean \"TreatMissingData\"?",
        ),
        (
            "statistic",
            "/cloudwatch/MetricAlarms/0",
            "Statistic",
            json!("Total"),
            "/Statistic: \"Total\" is not one of SampleCount, Average, Sum, Minimum, Maximum",
        ),
        (
            "treat",
            "/cloudwatch/MetricAlarms/0",
            "TreatMissingData",
            json!("Breaching"),
            "/TreatMissingData: \"Breaching\" is not one of",
        ),
        (
            "operator",
            "/cloudwatch/MetricAlarms/0",
            "ComparisonOperator",
            json!("GreaterThan"),
            "/ComparisonOperator: \"GreaterThan\" is not one of",
        ),
    ];
    for (name, pointer, key, value, want) in cases {
        let dir = dir_with_good_snapshot();
        let mut s = compliant("444444444444", "us-east-1");
        s.pointer_mut(pointer)
            .and_then(|o| o.as_object_mut())
            .expect("object in test snapshot")
            .insert(key.to_string(), value);
        write_json(&dir.path().join(format!("in/{name}.json")), &s);
        let o = run_in(dir.path(), &["eval", "in", "--rule", "CWL-014"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        let errors = error_lines(&o, dir.path());
        assert!(
            errors.contains(&format!("in/{name}.json:")) && errors.contains(want),
            "{name}: {want}:\n{errors}"
        );
        assert_good_still_reported(&o);
    }
}

const DEEP: &str = "444444444444";

/// `in/` holds the good snapshot and one of account 444444444444 whose root-usage filter is 7,000
/// nested parentheses (14 KB; CloudWatch Logs stores at most 1,024 characters, so no real account
/// has it). `pattern` replaces it when given.
fn dir_with_deep_filter() -> tempfile::TempDir {
    let dir = dir_with_good_snapshot();
    let mut s = compliant(DEEP, "us-east-1");
    let deep = format!(
        "{{ {}$.userIdentity.type = \"Root\"{} }}",
        "(".repeat(7_000),
        ")".repeat(7_000)
    );
    set(&mut s, "/logs/metricFilters/0/filterPattern", json!(deep));
    write_json(&dir.path().join("in/deep.json"), &s);
    dir
}

/// A pattern too deeply nested to parse makes its filter `unknown` with a message naming the limit;
/// `eval`, `remediate` and `diff` all finish and still report the other account.
#[test]
fn a_deeply_nested_filter_pattern_is_unknown_and_the_run_goes_on() {
    let dir = dir_with_deep_filter();
    let why = "too complex to decide: the filter uses parentheses nested more than 512 deep";

    // -v: one line per account and rule, the message on it.
    let o = run_in(dir.path(), &["-v", "eval", "in", "--rule", "CWL-014"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_good_still_reported(&o);
    let out = text(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("UNKNOWN  CWL-014  {DEEP}")))
        .unwrap_or_else(|| panic!("the deep account is unknown:\n{out}"));
    assert!(
        line.contains("cannot decide whether filter RootAccountUsage catches all root events")
            && line.contains(why)
            && line.contains("and CloudWatch Logs stores at most 1024"),
        "{line}"
    );

    // Every rule at once, too (they share the one query that failed before).
    let o = run_in(dir.path(), &["eval", "in"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_good_still_reported(&o);

    let o = run_in(dir.path(), &["remediate", "in"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let plan = text(&o);
    assert!(plan.contains(GOOD) && plan.contains(DEEP), "{plan}");
    assert!(
        plan.contains(why),
        "the plan says why {DEEP} gets no fix:\n{plan}"
    );
    assert!(
        plan.contains(&format!(
            "check the metric filter of account {DEEP} region us-east-1 by hand"
        )),
        "collecting again would not help:\n{plan}"
    );

    // old/: both accounts with the CIS filter; new/: the deep one.
    let old = dir.path().join("old");
    std::fs::create_dir_all(&old).expect("mkdir");
    std::fs::copy(dir.path().join("in/good.json"), old.join("good.json")).expect("copy");
    write_json(&old.join("deep.json"), &compliant(DEEP, "us-east-1"));
    let o = run_in(dir.path(), &["diff", "old", "in"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "pass -> unknown is worse:\n{out}");
    assert!(
        out.lines()
            .any(|l| l.contains(DEEP) && l.contains("pass") && l.contains("unknown")),
        "{out}"
    );
}

/// A filter whose coverage takes far longer than `--time-limit` (4,000 `&&` groups over six fields:
/// some 150,000 combinations, each tested against all of them) is `unknown` with a message naming
/// the limit, instead of stopping the whole evaluation; the other account is still decided.
#[test]
fn coverage_slower_than_the_time_limit_is_unknown_naming_the_limit() {
    let dir = dir_with_good_snapshot();
    let mut s = compliant(DEEP, "us-east-1");
    let groups: Vec<String> = (0..4_000)
        .map(|i| {
            let conds: Vec<String> = (0..6)
                .map(|f| {
                    format!(
                        "$.f{f} {} \"a\"",
                        if (i >> f) & 1 == 1 { "=" } else { "!=" }
                    )
                })
                .collect();
            format!("({})", conds.join(" && "))
        })
        .collect();
    let cis = cis_root();
    let slow = format!(
        "{{ {} || {} }}",
        &cis[1..cis.len() - 1],
        groups.join(" || ")
    );
    set(&mut s, "/logs/metricFilters/0/filterPattern", json!(slow));
    write_json(&dir.path().join("in/slow.json"), &s);
    let o = run_in(
        dir.path(),
        &["-v", "eval", "in", "--rule", "CWL-014", "--time-limit", "1"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_good_still_reported(&o);
    let out = text(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("UNKNOWN  CWL-014  {DEEP}")))
        .unwrap_or_else(|| panic!("the slow account is unknown:\n{out}"));
    assert!(
        line.contains("cannot decide whether filter RootAccountUsage catches all root events: too complex to decide: not decided within the evaluation's time limit of 1s (--time-limit)"),
        "{line}"
    );
}
