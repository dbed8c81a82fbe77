//! Everything around `eval` in a workflow: the GitHub action and the example CI files (parsed as YAML
//! with PyYAML from .venv), the action's evaluation step run for real, `diff`, shell completions, man
//! pages, `-q`/`-v` and `--help` examples.
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::bin::*;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cwl-audit"))
}

fn py(script: &str, args: &[&str]) -> Output {
    Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .current_dir(root())
        .output()
        .expect("run python")
}

/// The inputs the README documents for the action.
const INPUTS: [&str; 6] = [
    "snapshots",
    "category",
    "fail-on",
    "sarif-file",
    "build-from-source",
    "upload",
];

#[test]
fn action_and_example_ci_files_are_valid_yaml_with_the_documented_inputs() {
    let check = r#"
import json, sys, yaml
action = yaml.safe_load(open("action.yml"))
assert action["runs"]["using"] == "composite", action["runs"]
inputs = action["inputs"]
for name in json.loads(sys.argv[1]):
    assert name in inputs, f"input {name} missing"
    assert inputs[name].get("description"), f"input {name} has no description"
steps = action["runs"]["steps"]
upload = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
assert len(upload) == 1, "one upload-sarif step"
assert upload[0]["with"]["category"] == "${{ inputs.category }}", upload[0]
assert upload[0]["with"]["sarif_file"] == "${{ inputs.sarif-file }}", upload[0]
install = [s for s in steps if "cargo install" in s.get("run", "")]
assert install and "--no-default-features" in install[0]["run"] and "github.action_path" in str(install[0]), install
ev = [s for s in steps if s.get("id") == "eval"][0]
assert "--category" in ev["run"] and "--format sarif" in ev["run"], ev
for s in steps:
    if "run" in s:
        assert s.get("shell") == "bash", f"composite run steps need a shell: {s}"
        assert "${{" not in s["run"], f"inputs reach scripts through env, not inline: {s['run']}"
gh = yaml.safe_load(open("docs/ci/github-workflow.yml"))
assert gh["permissions"]["security-events"] == "write", gh["permissions"]
uses = [s["uses"] for j in gh["jobs"].values() for s in j["steps"] if "uses" in s]
assert any(u.split("@")[0].endswith("/cwl-audit") for u in uses), uses
gl = yaml.safe_load(open("docs/ci/gitlab-ci.yml"))
job = gl["cwl-audit"]
assert job["artifacts"]["reports"]["junit"] == "junit.xml", job["artifacts"]
assert any("--format junit --output junit.xml" in line for line in job["script"]), job["script"]
print("ok")
"#;
    let inputs = serde_json::to_string(&INPUTS).unwrap();
    let o = py(check, &[&inputs]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o).trim(), "ok");
    // The README documents every input.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for name in INPUTS {
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "README does not document input {name}"
        );
    }
}

/// The action's evaluation step, run as the runner would run it: exit 1 (findings) lets the upload
/// happen and is recorded; exit 2 fails the step.
#[test]
fn action_eval_step_records_findings_and_fails_on_bad_input() {
    let o = py(
        r#"import yaml; print([s for s in yaml.safe_load(open("action.yml"))["runs"]["steps"] if s.get("id") == "eval"][0]["run"])"#,
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let script = stdout(&o);
    let step = |snapshots: &str, dir: &Path| {
        let out = dir.join("github_output");
        std::fs::write(&out, "").unwrap();
        let path = format!(
            "{}:{}",
            bin().parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let o = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(dir)
            .env("PATH", path)
            .env("SNAPSHOTS", snapshots)
            .env("CATEGORY", "cwl-audit-test")
            .env("FAIL_ON", "unknown")
            .env("SARIF_FILE", "out.sarif")
            .env("GITHUB_OUTPUT", &out)
            .output()
            .unwrap();
        (o, std::fs::read_to_string(&out).unwrap())
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    std::fs::copy(
        root().join("snapshots/333333333333/us-east-1.json"),
        dir.path().join("a/s.json"),
    )
    .unwrap();
    let (o, outputs) = step("a", dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "findings must not stop the job before the upload: {}",
        stderr(&o)
    );
    assert_eq!(outputs.trim(), "exit-code=1");
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.sarif")).unwrap()).unwrap();
    assert_eq!(
        sarif["runs"][0]["automationDetails"]["id"],
        "cwl-audit-test"
    );
    std::fs::write(dir.path().join("a/bad.json"), "{").unwrap();
    let (o, outputs) = step("a", dir.path());
    assert_eq!(o.status.code(), Some(2), "unusable input fails the step");
    assert_eq!(outputs.trim(), "exit-code=2");
}

#[test]
fn completions_generate_for_bash_zsh_fish() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let out = stdout(&o);
        for sub in ["eval", "remediate", "diff", "completions", "rules"] {
            assert!(out.contains(sub), "{shell} completion lacks {sub}");
        }
        if shell != "powershell" && shell != "elvish" {
            assert!(
                out.contains("--format"),
                "{shell} completion lacks --format"
            );
        }
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_pages_are_generated_from_the_clap_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = std::fs::read_to_string(dir.path().join("cwl-audit.1")).unwrap();
    assert!(page.contains(".TH cwl-audit 1"), "{page}");
    assert!(page.contains("remediate"), "{page}");
    let eval = std::fs::read_to_string(dir.path().join("cwl-audit-eval.1")).unwrap();
    assert!(eval.contains("\\-\\-fail\\-on"), "{eval}");
}

#[test]
fn help_has_examples_and_global_flags() {
    let top = stdout(&run(&["--help"]));
    assert!(
        top.contains("-q, --quiet") && top.contains("-v, --verbose"),
        "{top}"
    );
    assert!(top.contains("NO_COLOR"), "{top}");
    for sub in ["eval", "remediate", "diff", "completions"] {
        let h = stdout(&run(&[sub, "--help"]));
        assert!(
            h.contains("Examples:"),
            "{sub} --help has no examples:\n{h}"
        );
    }
}

#[test]
fn quiet_and_verbose_text_reports() {
    let quiet = stdout(&run(&["-q", "eval", "snapshots"]));
    assert!(!quiet.contains("PASS"), "{quiet}");
    assert!(!quiet.contains("warning:"), "{quiet}");
    assert!(quiet.contains("FAIL     CWL-014  333333333333"), "{quiet}");
    let o = run(&["eval", "snapshots", "-v"]);
    let verbose = stdout(&o);
    assert!(
        verbose.contains("         chain: trail: account=111111111111"),
        "{verbose}"
    );
    assert!(
        stderr(&o).contains("eval: 11 snapshot(s), 135 finding(s) in"),
        "{}",
        stderr(&o)
    );
    assert_eq!(run(&["-q", "-v", "eval"]).status.code(), Some(2));
    // -q keeps errors but drops the summary when the report goes to a file.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let o = run(&[
        "eval",
        "snapshots",
        "-q",
        "-f",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "");
}

/// Two copies of the demo snapshots, the second edited by `edit`.
fn two_sets(edit: impl Fn(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for side in ["old", "new"] {
        for entry in walk(&root().join("snapshots")) {
            let rel = entry.strip_prefix(root().join("snapshots")).unwrap();
            let to = dir.path().join(side).join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&entry, &to).unwrap();
        }
    }
    edit(&dir.path().join("new"));
    dir
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn edit_json(path: &Path, f: impl Fn(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

#[test]
fn diff_reports_a_disabled_alarm_and_the_verdict_change() {
    let dir = two_sets(|new| {
        edit_json(&new.join("111111111111/us-east-1.json"), |v| {
            v["cloudwatch"]["MetricAlarms"][0]["ActionsEnabled"] = false.into();
            // Noise that does not matter to the rules.
            v["collected_at"] = "2027-01-01T00:00:00Z".into();
            v["cloudwatch"]["MetricAlarms"][0]["StateValue"] = "ALARM".into();
        })
    });
    let o = run_in(dir.path(), &["diff", "old", "new"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a verdict got worse: {}",
        stderr(&o)
    );
    insta::assert_snapshot!("diff_disabled_alarm", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "111111111111 us-east-1  alarm RootAccountUsageAlarm: ActionsEnabled true -> false"
        ),
        "{out}"
    );
    assert!(out.contains("CWL-014  111111111111  pass -> fail (worse): alarm RootAccountUsageAlarm (us-east-1) has ActionsEnabled=false"), "{out}");
    // The member account loses its pass with the organization trail's alarm.
    assert!(
        out.contains("CWL-014  222222222222  pass -> fail (worse)"),
        "{out}"
    );
    assert!(
        !out.contains("StateValue") && !out.contains("collected_at"),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&run_in(dir.path(), &["diff", "old", "new", "-f", "json"]).stdout)
            .unwrap();
    assert_eq!(json["changes"][0]["field"], "ActionsEnabled");
    assert_eq!(json["changes"][0]["old"], true);
    assert_eq!(json["summary"]["worse"], 2);
}

#[test]
fn diff_of_equal_sets_is_empty_and_exit_0() {
    let dir = two_sets(|_| {});
    let o = run_in(dir.path(), &["diff", "old", "new"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "0 changes, 0 verdict changes (0 worse)\n");
}

#[test]
fn diff_filter_edit_subscription_removed_and_denied_call() {
    let dir = two_sets(|new| {
        edit_json(&new.join("333333333333/us-east-1.json"), |v| {
            v["logs"]["metricFilters"][0]["filterPattern"] =
                "{ $.userIdentity.type = \"Root\" }".into();
        });
        edit_json(&new.join("111111111111/us-east-1.json"), |v| {
            v["sns"]["Subscriptions"] = serde_json::json!([]);
        });
        edit_json(&new.join("777777777777/us-east-1.json"), |v| {
            v["errors"] = serde_json::json!([]);
            v["sns"] = serde_json::json!({"Subscriptions": [{"SubscriptionArn": "arn:aws:sns:us-east-1:777777777777:RootAccountUsageAlerts:1", "TopicArn": "arn:aws:sns:us-east-1:777777777777:RootAccountUsageAlerts", "Protocol": "email", "Endpoint": "x@example.com", "Owner": "777777777777"}]});
        });
    });
    let o = run_in(dir.path(), &["diff", "old", "new"]);
    let out = stdout(&o);
    assert!(out.contains("333333333333 us-east-1  filter RootAccountUsage on log group aws-cloudtrail-logs-333333333333: filterPattern "), "{out}");
    assert!(out.contains("111111111111 us-east-1  confirmed email subscription of topic RootAccountUsageAlerts: removed"), "{out}");
    assert!(
        out.contains("777777777777 us-east-1  subscriptions (ListSubscriptions) collected again"),
        "{out}"
    );
    assert!(out.contains("777777777777 us-east-1  collection error sns:ListSubscriptions (AuthorizationError): removed"), "{out}");
    assert!(
        out.contains("CWL-014  777777777777  unknown -> pass:"),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(1), "111111111111 lost its pass");
}

#[test]
fn diff_bad_input_exits_2() {
    let dir = two_sets(|new| std::fs::write(new.join("bad.json"), "{").unwrap());
    let o = run_in(dir.path(), &["diff", "old", "new"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("error: new/bad.json"), "{}", stdout(&o));
}
