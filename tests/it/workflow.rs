//! Everything around `eval` in a workflow: the GitHub action and the example CI files (parsed as YAML
//! with PyYAML from .venv, linted with actionlint and shellcheck, and run as GitHub's and GitLab's
//! runners run them by tests/support/ci.py), `diff`, shell completions, man pages, `-q`/`-v` and
//! `--help` examples.
use crate::support;

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
for s in (s for j in gh["jobs"].values() for s in j["steps"] if "run" in s):
    assert "${{" not in s["run"], f"expressions reach scripts through env, not inline: {s['run']}"
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

/// Runs tests/support/ci.py (the CI simulator, see its docstring) and returns its JSON trace.
fn ci(args: &[&str]) -> serde_json::Value {
    let o = Command::new(python())
        .arg(root().join("tests/support/ci.py"))
        .args(args)
        .env("CWL_AUDIT_BIN", bin())
        .current_dir(root())
        .output()
        .expect("run tests/support/ci.py");
    assert!(
        o.status.success(),
        "ci.py {args:?} failed:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("ci.py {args:?}: not JSON ({e}):\n{}", stdout(&o)))
}

/// A CI file as a user commits it: `<owner>` replaced (left in, the shell reads it as a redirection).
fn as_committed(file: &str, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    assert!(text.contains("<owner>"), "{file} no longer says <owner>");
    let to = dir.join(Path::new(file).file_name().unwrap());
    std::fs::write(&to, text.replace("<owner>", "example")).unwrap();
    to
}

/// The step of `steps` (a trace's list) whose name contains `name`.
#[track_caller]
fn step<'a>(steps: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let all = steps.as_array().expect("steps");
    all.iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.contains(name)))
        .unwrap_or_else(|| {
            let names: Vec<&serde_json::Value> = all.iter().map(|s| &s["name"]).collect();
            panic!("no step {name:?} among {names:?}")
        })
}

/// A workspace holding `snapshots/` made of the named files of the demo snapshots (all when empty).
fn workspace(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let demo = root().join("snapshots");
    for f in walk(&demo) {
        let rel = f.strip_prefix(&demo).unwrap();
        if files.is_empty() || files.iter().any(|p| rel.starts_with(p)) {
            let to = dir.path().join("snapshots").join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&f, &to).unwrap();
        }
    }
    dir
}

/// The cases every CI entry point must tell apart: all accounts pass (exit 0), findings (1), a
/// malformed snapshot (2). One account each, from the demo snapshots: a debug build takes seconds
/// for all nine.
fn case_workspace(code: i32) -> tempfile::TempDir {
    match code {
        0 => workspace(&["111111111111"]),
        1 => workspace(&["333333333333"]),
        2 => {
            let ws = workspace(&["111111111111"]);
            std::fs::write(ws.path().join("snapshots/bad.json"), "{\"format\": ").unwrap();
            ws
        }
        _ => unreachable!("cases are 0, 1 and 2"),
    }
}

fn sarif_of(ws: &Path, file: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(ws.join(file)).expect("SARIF written")).unwrap()
}

/// actionlint (with shellcheck on each `run:` block) passes on the example workflow and on the
/// action (lifted into a workflow, and used by the example as `./`, so its inputs are checked), and
/// every script of all three files parses (`bash -n`). The control run shows the checks bite: a
/// quoting bug in the action and an input the action does not declare are both reported.
#[test]
fn ci_files_pass_actionlint_shellcheck_and_bash_n() {
    let dir = tempfile::tempdir().unwrap();
    let gh = as_committed("docs/ci/github-workflow.yml", dir.path());
    let gl = as_committed("docs/ci/gitlab-ci.yml", dir.path());
    let root_s = root().display().to_string();
    let lint = ci(&["lint", &root_s, gh.to_str().unwrap(), gl.to_str().unwrap()]);
    assert_eq!(
        lint["actionlint"]["exit_code"], 0,
        "{}",
        lint["actionlint"]["output"]
    );
    let parsed = lint["bash_n"].as_array().unwrap();
    // 3 run steps in action.yml, 3 in the workflow's diff job, 2 GitLab jobs.
    assert_eq!(parsed.len(), 8, "{parsed:#?}");
    for b in parsed {
        assert_eq!(b["exit_code"], 0, "{b:#?}");
    }
    let gitlab = lint["shellcheck_gitlab"].as_array().unwrap();
    assert_eq!(gitlab.len(), 2, "{gitlab:#?}");
    for j in gitlab {
        assert_eq!(j["exit_code"], 0, "{j:#?}");
    }

    let broken = tempfile::tempdir().unwrap();
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let bad_action = action.replacen(
        "        code=0\n",
        "        code=0\n        echo $SNAPSHOTS > $RUNNER_TEMP/list\n",
        1,
    );
    assert_ne!(bad_action, action, "control: the eval step changed");
    std::fs::write(broken.path().join("action.yml"), bad_action).unwrap();
    let workflow = std::fs::read_to_string(&gh).unwrap();
    let bad_workflow =
        workflow.replacen("fail-on: fail", "fail-on: fail\n          failon: fail", 1);
    assert_ne!(bad_workflow, workflow, "control: the workflow changed");
    let bad_gh = broken.path().join("github-workflow.yml");
    std::fs::write(&bad_gh, bad_workflow).unwrap();
    let lint = ci(&[
        "lint",
        broken.path().to_str().unwrap(),
        bad_gh.to_str().unwrap(),
        gl.to_str().unwrap(),
    ]);
    let out = lint["actionlint"]["output"].as_str().unwrap();
    assert_ne!(lint["actionlint"]["exit_code"], 0, "{out}");
    assert!(out.contains("SC2086"), "shellcheck did not run:\n{out}");
    assert!(
        out.contains(r#"input "failon" is not defined in action"#),
        "the action's inputs were not checked:\n{out}"
    );
}

/// The composite action run as GitHub runs it (each step's script with `bash --noprofile --norc
/// -eo pipefail`, inputs through `env`, GITHUB_OUTPUT/GITHUB_PATH files, `if:` with success()):
/// exit 0 and 1 are recorded and the upload runs; 1 then fails the job in "Fail on findings"; 2 is
/// recorded and fails the evaluation step, so nothing is uploaded.
#[test]
fn action_runs_as_github_runs_it() {
    let cases = [
        (0, "unknown", "all pass"),
        (1, "unknown", "findings"),
        (2, "unknown", "malformed snapshot"),
        (0, "never", "findings"),
        (2, "unknown", "no snapshot"),
    ];
    for (code, fail_on, snapshots) in cases {
        let ws = match snapshots {
            "findings" => case_workspace(1),
            "no snapshot" => {
                let ws = tempfile::tempdir().unwrap();
                std::fs::create_dir(ws.path().join("snapshots")).unwrap();
                ws
            }
            _ => case_workspace(code),
        };
        let inputs = serde_json::json!({"snapshots": "snapshots", "category": "cwl-audit-test", "fail-on": fail_on});
        let t = ci(&[
            "github-action",
            &root().display().to_string(),
            "--workspace",
            ws.path().to_str().unwrap(),
            "--inputs",
            &inputs.to_string(),
        ]);
        let case = format!("{snapshots}, fail-on {fail_on}: exit {code}");
        let action = &t["steps"][0];
        let steps = &action["steps"];
        // The evaluator reached PATH only through the install step's GITHUB_PATH line.
        let install = step(steps, "Install");
        assert_eq!(install["outcome"], "success", "{case}: {install:#?}");
        let commands = t["commands"].as_array().unwrap();
        assert_eq!(commands.len(), 1, "{case}: {commands:?}");
        let cargo = commands[0].as_str().unwrap();
        assert!(
            cargo.starts_with(&format!(
                "cargo install --locked --no-default-features --path {} --root ",
                root().display()
            )),
            "{case}: {cargo}"
        );
        let eval = step(steps, "Evaluate");
        assert_eq!(
            eval["command"],
            serde_json::json!(["bash", "--noprofile", "--norc", "-eo", "pipefail", "FILE"])
        );
        assert_eq!(
            eval["outputs"]["exit-code"],
            code.to_string(),
            "{case}: {eval:#?}"
        );
        assert_eq!(action["outputs"]["exit-code"], code.to_string(), "{case}");
        let upload = step(steps, "Upload");
        let fail = step(steps, "Fail on findings");
        let sarif = sarif_of(ws.path(), "cwl-audit.sarif");
        match code {
            0 | 1 => {
                assert_eq!(eval["outcome"], "success", "{case}: {eval:#?}");
                assert_eq!(upload["outcome"], "success", "{case}: {upload:#?}");
                assert_eq!(upload["with"]["category"], "cwl-audit-test");
                assert_eq!(
                    upload["uploaded"]["executionSuccessful"],
                    serde_json::json!([true])
                );
                assert_eq!(
                    upload["uploaded"]["automationDetails"]["id"],
                    "cwl-audit-test/"
                );
                // Every verdict but pass is a result, and the demo has many.
                let results = upload["uploaded"]["results"].as_u64().unwrap();
                assert_eq!(
                    results > 0,
                    fail_on == "never" || code == 1,
                    "{case}: {results}"
                );
                let expected = if code == 1 { "failure" } else { "success" };
                assert_eq!(fail["outcome"], expected, "{case}: {fail:#?}");
                assert_eq!(t["result"], expected, "{case}");
            }
            _ => {
                assert_eq!(eval["outcome"], "failure", "{case}");
                assert_eq!(eval["exit_code"], 2, "{case}");
                assert!(
                    eval["stdout"]
                        .as_str()
                        .unwrap()
                        .contains("::error::cwl-audit eval failed with exit code 2"),
                    "{case}: {eval:#?}"
                );
                assert_eq!(upload["outcome"], "skipped", "{case}");
                assert_eq!(fail["outcome"], "skipped", "{case}");
                assert_eq!(t["result"], "failure", "{case}");
                let inv = &sarif["runs"][0]["invocations"][0];
                assert_eq!(inv["executionSuccessful"], false, "{case}");
                let why = inv["toolExecutionNotifications"][0]["message"]["text"]
                    .as_str()
                    .unwrap();
                let expected = if snapshots == "no snapshot" {
                    "snapshots: no snapshot found"
                } else {
                    "snapshots/bad.json"
                };
                assert!(why.starts_with(expected), "{case}: {why}");
            }
        }
    }
}

/// Runs the action with the cwl-audit already on PATH and these inputs.
fn preinstalled_action(ws: &Path, inputs: &serde_json::Value) -> serde_json::Value {
    ci(&[
        "github-action",
        &root().display().to_string(),
        "--workspace",
        ws.to_str().unwrap(),
        "--inputs",
        &inputs.to_string(),
        "--preinstalled",
    ])
}

/// `build-from-source: false` uses the cwl-audit already on PATH and installs nothing.
#[test]
fn action_without_build_uses_the_installed_evaluator() {
    let ws = case_workspace(1);
    let inputs = serde_json::json!({"build-from-source": "false", "upload": "false"});
    let t = preinstalled_action(ws.path(), &inputs);
    let steps = &t["steps"][0]["steps"];
    assert_eq!(step(steps, "Install")["outcome"], "skipped");
    assert_eq!(step(steps, "Upload")["outcome"], "skipped");
    assert_eq!(step(steps, "Evaluate")["outputs"]["exit-code"], "1");
    assert_eq!(step(steps, "Fail on findings")["outcome"], "failure");
    assert_eq!(t["commands"], serde_json::json!([]));
    assert_eq!(
        sarif_of(ws.path(), "cwl-audit.sarif")["runs"][0]["automationDetails"]["id"],
        "cwl-audit/"
    );
}

/// A multi-line `snapshots: |` input is every path on every line: the second line's broken file
/// makes the run unusable (exit 2, nothing uploaded), and a first line alone would have hidden it.
#[test]
fn action_reads_every_line_of_the_snapshots_input() {
    let ws = case_workspace(1);
    std::fs::create_dir_all(ws.path().join("more")).unwrap();
    std::fs::write(ws.path().join("more/bad.json"), "{\"format\": ").unwrap();
    let inputs = serde_json::json!({
        "build-from-source": "false",
        "upload": "false",
        "snapshots": "snapshots\nmore\n",
    });
    let t = preinstalled_action(ws.path(), &inputs);
    let steps = &t["steps"][0]["steps"];
    assert_eq!(
        step(steps, "Evaluate")["outputs"]["exit-code"],
        "2",
        "{t:#?}"
    );
    let sarif = sarif_of(ws.path(), "cwl-audit.sarif");
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}

/// The example workflow's `eval` job, with the action resolved to this repository.
#[test]
fn example_github_workflow_eval_job() {
    let dir = tempfile::tempdir().unwrap();
    let gh = as_committed("docs/ci/github-workflow.yml", dir.path());
    for code in [0, 1, 2] {
        let ws = case_workspace(code);
        let t = ci(&[
            "github-job",
            gh.to_str().unwrap(),
            "eval",
            "--action-dir",
            &root().display().to_string(),
            "--workspace",
            ws.path().to_str().unwrap(),
            "--event-name",
            "push",
        ]);
        let action = step(&t["steps"], "/cwl-audit@");
        assert_eq!(action["outputs"]["exit-code"], code.to_string());
        let upload = step(&action["steps"], "Upload");
        if code == 2 {
            assert_eq!(upload["outcome"], "skipped");
        } else {
            assert_eq!(
                upload["uploaded"]["automationDetails"]["id"],
                "cwl-audit-prod/"
            );
        }
        let expected = if code == 0 { "success" } else { "failure" };
        assert_eq!(t["result"], expected, "exit {code}: {t:#?}");
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
    stdout(&o).trim().to_string()
}

/// A repository whose first commit has a passing account's snapshots and whose second (the pull or
/// merge request) makes `diff` exit `code`: nothing that matters changed (0), its alarm disabled
/// (1), a malformed snapshot added (2). Returns it and the base commit.
fn pull_request(code: i32) -> (tempfile::TempDir, String) {
    let ws = workspace(&["111111111111"]);
    git(ws.path(), &["init", "-q"]);
    git(ws.path(), &["add", "-A"]);
    git(ws.path(), &["commit", "-qm", "base"]);
    let base = git(ws.path(), &["rev-parse", "HEAD"]);
    let snaps = ws.path().join("snapshots");
    match code {
        0 => edit_json(&snaps.join("111111111111/us-east-1.json"), |v| {
            v["collected_at"] = "2027-01-01T00:00:00Z".into()
        }),
        1 => edit_json(&snaps.join("111111111111/us-east-1.json"), |v| {
            v["cloudwatch"]["MetricAlarms"][0]["ActionsEnabled"] = false.into()
        }),
        _ => std::fs::write(snaps.join("bad.json"), "{").unwrap(),
    }
    git(ws.path(), &["add", "-A"]);
    git(ws.path(), &["commit", "-qm", "the change"]);
    (ws, base)
}

/// What each `diff` case prints.
fn diff_says(code: i32) -> &'static str {
    match code {
        0 => "0 changes, 0 verdict changes (0 worse)",
        1 => "CWL-014  111111111111  pass -> fail (worse)",
        _ => "error: snapshots/bad.json",
    }
}

/// Runs the example workflow's `diff` job on a pull request whose base is `base`.
fn diff_job(gh: &Path, ws: &Path, base: &str) -> serde_json::Value {
    let event = serde_json::json!({"pull_request": {"base": {"sha": base}}});
    ci(&[
        "github-job",
        gh.to_str().unwrap(),
        "diff",
        "--action-dir",
        &root().display().to_string(),
        "--workspace",
        ws.to_str().unwrap(),
        "--event-name",
        "pull_request",
        "--event",
        &event.to_string(),
    ])
}

/// The example workflow's `diff` job on a pull request: the step fails with diff's own exit code
/// (1: a verdict got worse, 2: unusable input), and the job summary has the diff in every case.
#[test]
fn example_github_workflow_diff_job_keeps_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let gh = as_committed("docs/ci/github-workflow.yml", dir.path());
    for code in [0, 1, 2] {
        let (ws, base) = pull_request(code);
        let t = diff_job(&gh, ws.path(), &base);
        assert_eq!(
            t["commands"],
            serde_json::json!([
                "cargo install --locked --no-default-features --git https://github.com/example/cwl-audit"
            ])
        );
        assert_eq!(
            step(&t["steps"], "Snapshots before")["outcome"],
            "success",
            "{t:#?}"
        );
        let changed = step(&t["steps"], "What changed");
        assert_eq!(changed["exit_code"], code, "{changed:#?}");
        let summary = t["summary"].as_str().unwrap();
        assert!(
            summary.starts_with("```text\n") && summary.contains(diff_says(code)),
            "exit {code}: {summary}"
        );
        assert!(changed["stdout"]
            .as_str()
            .unwrap()
            .contains(diff_says(code)));
        let expected = if code == 0 { "success" } else { "failure" };
        assert_eq!(t["result"], expected);
    }
    // The pull request that first adds snapshots/: its base has none, and the job passes.
    let ws = workspace(&["111111111111"]);
    let snaps = ws.path().join("snapshots");
    let aside_dir = tempfile::tempdir().unwrap();
    let aside = aside_dir.path().join("snapshots");
    std::fs::rename(&snaps, &aside).unwrap();
    std::fs::write(ws.path().join("README"), "x").unwrap();
    git(ws.path(), &["init", "-q"]);
    git(ws.path(), &["add", "-A"]);
    git(ws.path(), &["commit", "-qm", "base without snapshots"]);
    let base = git(ws.path(), &["rev-parse", "HEAD"]);
    std::fs::rename(&aside, &snaps).unwrap();
    git(ws.path(), &["add", "-A"]);
    git(ws.path(), &["commit", "-qm", "the first snapshots"]);
    let t = diff_job(&gh, ws.path(), &base);
    assert_eq!(t["result"], "success", "{t:#?}");
    assert!(
        t["summary"]
            .as_str()
            .unwrap()
            .contains("nothing to compare"),
        "{t:#?}"
    );
    let (ws, _) = pull_request(0);
    let t = ci(&[
        "github-job",
        gh.to_str().unwrap(),
        "diff",
        "--action-dir",
        &root().display().to_string(),
        "--workspace",
        ws.path().to_str().unwrap(),
        "--event-name",
        "push",
    ]);
    assert_eq!(t["result"], "skipped", "only pull requests are diffed");
}

/// The GitLab jobs, their script lines run as the runner runs them (one bash, `set -eo pipefail`):
/// `cwl-audit` fails on findings and on unusable input and writes the JUnit report in every case;
/// `cwl-audit-diff` fails with diff's exit code and keeps the diff as an artifact.
#[test]
fn example_gitlab_jobs_keep_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let gl = as_committed("docs/ci/gitlab-ci.yml", dir.path());
    for code in [0, 1, 2] {
        let ws = case_workspace(code);
        let t = ci(&[
            "gitlab-job",
            gl.to_str().unwrap(),
            "cwl-audit",
            "--workspace",
            ws.path().to_str().unwrap(),
        ]);
        assert_eq!(t["exit_code"], code, "{t:#?}");
        assert_eq!(
            t["variables"]["CARGO_HOME"],
            format!("{}/.cargo", ws.path().canonicalize().unwrap().display())
        );
        let junit = std::fs::read_to_string(ws.path().join("junit.xml")).expect("junit.xml");
        let expected = match code {
            0 => "failures=\"0\" errors=\"0\"",
            1 => "<failure type=\"fail\"",
            _ => "<testcase classname=\"inputs\" name=\"snapshots/bad.json\">",
        };
        assert!(junit.contains(expected), "exit {code}: {junit}");
    }
    for code in [0, 1, 2] {
        let (ws, base) = pull_request(code);
        let vars = serde_json::json!({
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        });
        let t = ci(&[
            "gitlab-job",
            gl.to_str().unwrap(),
            "cwl-audit-diff",
            "--workspace",
            ws.path().to_str().unwrap(),
            "--variables",
            &vars.to_string(),
        ]);
        assert_eq!(t["exit_code"], code, "{t:#?}");
        let kept = std::fs::read_to_string(ws.path().join("cwl-audit-diff.txt")).unwrap();
        assert!(kept.contains(diff_says(code)), "exit {code}: {kept}");
    }
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
    assert!(
        quiet.contains("333333333333  1 fail, 14 pass\n  FAIL     CIS 5.3   CWL-014   Root Account Usage Alarm\n"),
        "{quiet}"
    );
    // Accounts where every rule passes have nothing to say under -q, and there is no summary; a
    // run with nothing to fix prints nothing at all.
    assert!(!quiet.contains("111111111111"), "{quiet}");
    assert!(!quiet.contains("accounts, 15 rules"), "{quiet}");
    let passing = run(&["-q", "eval", "snapshots/111111111111"]);
    assert_eq!(passing.status.code(), Some(0), "{}", stderr(&passing));
    assert_eq!(
        stdout(&passing),
        "",
        "a passing run under -q prints nothing"
    );
    let o = run(&["eval", "snapshots", "-v"]);
    let verbose = stdout(&o);
    assert!(
        verbose.contains("         chain: trail: account=111111111111"),
        "{verbose}"
    );
    assert!(
        stderr(&o).contains("eval: 11 snapshots, 135 findings in"),
        "{}",
        stderr(&o)
    );
    assert_eq!(run(&["-q", "-v", "eval"]).status.code(), Some(2));
    for split in [["-q", "eval", "-v"], ["-v", "eval", "-q"]] {
        let o = run(&split);
        assert_eq!(o.status.code(), Some(2), "{split:?}");
        assert!(
            stderr(&o).contains("--quiet and --verbose"),
            "{}",
            stderr(&o)
        );
    }
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

/// A run manifest listing the nine demo accounts as collected, except `failed`, plus 123456789013
/// (failed, no snapshots), started before the demo snapshots were collected.
fn demo_manifest(failed: &str) -> String {
    let accounts: Vec<serde_json::Value> = (1..=9)
        .map(|d| d.to_string().repeat(12))
        .chain(["123456789013".to_string()])
        .map(|id| {
            if id == failed || id == "123456789013" {
                serde_json::json!({"account_id": id, "status": "failed", "error": {"operation": "AssumeRole", "code": "AccessDenied"}})
            } else {
                serde_json::json!({"account_id": id, "status": "collected", "regions": {"us-east-1": "complete"}})
            }
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "format": "cwl-audit.manifest/v1",
        "organization": {"id": "o-abc123defg", "management_account_id": "111111111111", "partition": "aws"},
        "caller_account_id": "111111111111",
        "member_role": "CwlAuditReadOnly",
        "regions": ["us-east-1"],
        "started_at": "2026-11-25T09:55:00Z",
        "finished_at": "2026-11-25T10:05:00Z",
        "collector": {"name": "cwl-audit", "version": "0.1.0"},
        "accounts": accounts
    }))
    .unwrap()
}

#[test]
fn diff_reads_run_manifests_as_manifests_in_both_sets() {
    // The same manifest on both sides: nothing changed.
    let dir = two_sets(|new| {
        std::fs::write(new.join("cwl-audit-manifest.json"), demo_manifest("")).unwrap()
    });
    std::fs::write(
        dir.path().join("old/cwl-audit-manifest.json"),
        demo_manifest(""),
    )
    .unwrap();
    let o = run_in(dir.path(), &["diff", "old", "new"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "0 changes, 0 verdict changes (0 worse)\n");
    // New: 888 could not be collected this time (its snapshot there is the old one), and
    // 123456789013 joined and could not be collected. Both are unknown, as `eval` says.
    let dir = two_sets(|new| {
        std::fs::write(
            new.join("cwl-audit-manifest.json"),
            demo_manifest("888888888888"),
        )
        .unwrap()
    });
    let o = run_in(dir.path(), &["diff", "old", "new"]);
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "888 lost its pass: {out}{}",
        stderr(&o)
    );
    assert!(!out.contains("error"), "{out}");
    assert!(
        out.contains("CWL-014  888888888888  pass -> unknown (worse): account 888888888888 was not collected"),
        "{out}"
    );
    assert!(out.contains("CWL-014  123456789013  "), "{out}");
    // A manifest that cannot be used is an input error of the diff, as of `eval`.
    let dir = two_sets(|new| std::fs::write(new.join("cwl-audit-manifest.json"), "{").unwrap());
    let o = run_in(dir.path(), &["diff", "old", "new"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).contains("error: new/cwl-audit-manifest.json:1:1: invalid JSON"),
        "{}",
        stdout(&o)
    );
}

/// docs/ci/github-collect-organization.yml (the CI matrix of `collect --organization --shard`)
/// passes actionlint and shellcheck, every script parses, and its shards follow the matrix: each
/// job collects `--shard "$SHARD/$TOTAL"` with SHARD from `matrix.shard` and TOTAL from
/// `strategy.job-total`, uploads its own artifact, and the eval job (after every shard, also failed
/// ones) downloads all of them and evaluates them together with the action. tests/it/collect_org.rs
/// runs the jobs against the emulator.
#[test]
fn organization_workflow_passes_actionlint_and_shards_by_the_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let wf = as_committed("docs/ci/github-collect-organization.yml", dir.path());
    let lint = ci(&[
        "lint-workflow",
        &root().display().to_string(),
        wf.to_str().unwrap(),
    ]);
    assert_eq!(
        lint["actionlint"]["exit_code"], 0,
        "{}",
        lint["actionlint"]["output"]
    );
    let parsed = lint["bash_n"].as_array().unwrap();
    assert_eq!(parsed.len(), 2, "{parsed:#?}");
    for b in parsed {
        assert_eq!(b["exit_code"], 0, "{b:#?}");
    }
    let check = r#"
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
assert wf["permissions"]["id-token"] == "write" and wf["permissions"]["security-events"] == "write", wf["permissions"]
collect, ev = wf["jobs"]["collect"], wf["jobs"]["eval"]
shards = collect["strategy"]["matrix"]["shard"]
assert shards == list(range(1, len(shards) + 1)), shards
assert collect["strategy"]["fail-fast"] is False
steps = collect["steps"]
run = [s for s in steps if "cwl-audit collect" in s.get("run", "")]
assert len(run) == 1, steps
assert run[0]["env"]["SHARD"] == "${{ matrix.shard }}" and run[0]["env"]["TOTAL"] == "${{ strategy.job-total }}", run[0]["env"]
assert '--shard "$SHARD/$TOTAL"' in run[0]["run"] and "--organization" in run[0]["run"] and "--resume" in run[0]["run"]
for job in wf["jobs"].values():
    for s in job["steps"]:
        if "run" in s:
            assert "${{" not in s["run"], f"expressions reach scripts through env: {s['run']}"
up = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
assert up and up[0]["with"]["name"] == "snapshots-shard-${{ matrix.shard }}", up
assert ev["needs"] == "collect" and "cancelled()" in ev["if"], ev
down = [s for s in ev["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
assert down and down[0]["with"]["pattern"] == "snapshots-shard-*" and "merge-multiple" not in down[0]["with"], down
act = [s for s in ev["steps"] if s.get("uses", "").split("@")[0].endswith("/cwl-audit")]
assert act and act[0]["with"]["snapshots"] == down[0]["with"]["path"], act
print("ok")
"#;
    let o = py(check, &[wf.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o).trim(), "ok");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("(docs/ci/github-collect-organization.yml)"));
}
