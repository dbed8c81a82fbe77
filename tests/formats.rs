//! Report formats for other tools, each checked by that ecosystem's own validator: SARIF from
//! relative, absolute and outside paths (OASIS schema + SARIF multitool with GitHub's rules), OCSF
//! (py-ocsf-models) and ASFF (botocore's Security Hub `BatchImportFindings` input shape).
mod support;

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
