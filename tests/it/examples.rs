//! The fifteen CIS monitoring controls: every reference pattern of every rule (one per benchmark
//! version group, from `custom.references`) is decided by the coverage engine (it covers itself;
//! the weakened pattern of its tests does not cover the default one, with a counter-example), the
//! groups are what the rule's frameworks map to, and every rule's bundled examples
//! (policies/aws/cloudwatch/examples/<RULE-ID>/{pass,fail}) get the verdict their directory names.
//! The bundled snapshot files (those examples and the demo's snapshots/) are what their generators
//! write.
use crate::support::{bundled, rego_string};
use cwl_audit::engine::metadata::parse_rule;
use cwl_audit::findings::benchmark;
use cwl_audit::findings::RuleMeta;
use cwl_audit::pattern::{covers, matches};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn checks_dir() -> PathBuf {
    root().join("policies/aws/cloudwatch")
}

struct Rule {
    id: String,
    meta: RuleMeta,
    /// The reference of the default benchmark (the newest CIS).
    reference: String,
    weakened: String,
}

fn rules() -> Vec<Rule> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(checks_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "rego")
                && !p.to_string_lossy().ends_with("_test.rego")
        })
        .collect();
    paths.sort();
    for p in paths {
        let source = std::fs::read_to_string(&p).unwrap();
        let meta = parse_rule(&p.to_string_lossy(), &source)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("{}: no custom.id", p.display()));
        let test = std::fs::read_to_string(p.with_file_name(format!(
            "{}_test.rego",
            p.file_stem().unwrap().to_string_lossy()
        )))
        .unwrap();
        let reference = meta
            .reference_for(benchmark::DEFAULT)
            .unwrap_or_else(|| panic!("{}: no custom.references", meta.id))
            .pattern
            .clone();
        out.push(Rule {
            id: meta.id.clone(),
            meta,
            reference,
            weakened: rego_string(&test, "weakened").expect("weakened"),
        });
    }
    out
}

#[test]
fn fifteen_controls_with_distinct_ids() {
    let cs = rules();
    let mut ids: Vec<&str> = cs.iter().map(|c| c.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 15, "{ids:?}");
}

/// Every reference pattern of every benchmark group is decided: it covers itself. The weakened
/// variant does not cover the default one, with a record the reference matches and the weakened
/// filter does not.
#[test]
fn every_reference_pattern_is_decided() {
    for c in rules() {
        for r in &c.meta.references {
            let same = covers(&r.pattern, &r.pattern);
            assert!(
                same.covers && same.error.is_none(),
                "{} ({:?}): reference does not cover itself: {same:?}",
                c.id,
                r.benchmarks
            );
        }
        let weak = covers(&c.weakened, &c.reference);
        assert!(
            !weak.covers && weak.error.is_none() && !weak.undecided,
            "{}: {weak:?}",
            c.id
        );
        let ex = weak.counterexample.as_ref().expect("counter-example");
        assert_eq!(matches(&c.reference, ex), Ok(true), "{}", c.id);
        assert_eq!(matches(&c.weakened, ex), Ok(false), "{}", c.id);
    }
}

/// The benchmarks a framework key of `custom.frameworks` stands for.
fn benchmarks_of(framework: &str) -> Vec<&'static str> {
    benchmark::BENCHMARKS
        .iter()
        .filter(|b| b.framework == framework)
        .map(|b| b.id)
        .collect()
}

/// Each rule has a reference for exactly the benchmarks its frameworks map to, every entry says
/// where its text comes from, and entries are real differences: two groups whose patterns match
/// the same events would be one version written twice.
#[test]
fn references_cover_the_mapped_benchmarks_and_differ_by_meaning() {
    for c in rules() {
        let mut want: Vec<&str> = c
            .meta
            .frameworks
            .keys()
            .flat_map(|k| benchmarks_of(k))
            .collect();
        want.sort();
        let mut got: Vec<&str> = c
            .meta
            .references
            .iter()
            .flat_map(|r| r.benchmarks.iter().map(String::as_str))
            .collect();
        got.sort();
        assert_eq!(
            got, want,
            "{}: custom.references vs custom.frameworks",
            c.id
        );
        for r in &c.meta.references {
            assert!(
                r.source.contains("github.com/"),
                "{} ({:?}): the source names no repository: {:?}",
                c.id,
                r.benchmarks,
                r.source
            );
        }
        for (i, a) in c.meta.references.iter().enumerate() {
            for b in &c.meta.references[i + 1..] {
                let ab = covers(&a.pattern, &b.pattern);
                let ba = covers(&b.pattern, &a.pattern);
                assert!(
                    !(ab.covers && ba.covers),
                    "{}: {:?} and {:?} prescribe the same events",
                    c.id,
                    a.benchmarks,
                    b.benchmarks
                );
            }
        }
        // `explain --benchmark` swaps the pattern in the remediation command: it must be there.
        assert!(
            c.meta.remediation.contains(&c.reference),
            "{}: the remediation does not use the default reference",
            c.id
        );
    }
}

/// The versions that differ, as the README and docs/filter-patterns.md list them: 4.1, 4.2, 4.10
/// and 4.13. Every other control prescribes the same events in every benchmark it is part of.
#[test]
fn the_controls_whose_reference_differs_by_version() {
    let mut differing: Vec<String> = rules()
        .into_iter()
        .filter(|c| c.meta.references.len() > 1)
        .map(|c| c.id)
        .collect();
    differing.sort();
    assert_eq!(differing, ["CIS-4.13", "CWL-002", "CWL-004", "CWL-017"]);
}

fn verdicts(dir: &Path, id: &str) -> Vec<(String, String)> {
    let o = Command::new(env!("CARGO_BIN_EXE_cwl-audit"))
        .args([
            "eval",
            "--rule",
            id,
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .arg(dir)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["rule_id"], id, "{r}");
            (
                r["verdict"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn bundled_examples_get_their_verdicts() {
    for c in rules() {
        let dir = checks_dir().join("examples").join(&c.id);
        let pass = verdicts(&dir.join("pass"), &c.id);
        assert!(
            !pass.is_empty() && pass.iter().all(|(v, _)| v == "pass"),
            "{}: {pass:?}",
            c.id
        );
        let fail = verdicts(&dir.join("fail"), &c.id);
        assert!(
            !fail.is_empty()
                && fail
                    .iter()
                    .all(|(v, m)| v == "fail" && m.contains(" misses ")),
            "{}: {fail:?}",
            c.id
        );
    }
}

/// The files below `dir` (from the repository root), sorted.
fn files_below(dir: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root().join(dir)];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(root()).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// snapshots/ and policies/aws/cloudwatch/examples/ are exactly what `cargo run --example
/// make-demo-snapshots` and `make-rule-examples` write (tests/support/bundled.rs): the same
/// files, byte for byte, and no others. A reference pattern changed in a policy shows here first.
#[test]
fn bundled_snapshot_files_are_what_their_generators_write() {
    for (dir, files, generator) in [
        (
            bundled::DEMO_DIR,
            bundled::demo_snapshots(),
            "make-demo-snapshots",
        ),
        (
            bundled::EXAMPLES_DIR,
            bundled::rule_examples(),
            "make-rule-examples",
        ),
    ] {
        let rerun = format!("run `cargo run --example {generator}` and review the diff");
        let expected: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(files_below(dir), expected, "{dir}: other files: {rerun}");
        for (path, text) in &files {
            let committed = std::fs::read_to_string(root().join(path)).unwrap();
            assert!(
                committed == *text,
                "{} differs from what the generator writes: {rerun}",
                path.display()
            );
        }
    }
}

/// examples/policies: a custom policy set (an organization-level rule and a filter+alarm control on
/// the chain library) with its tests, as the guide (docs/writing-policies.md) describes it.
#[test]
fn example_policies_test_and_evaluate() {
    let bin = env!("CARGO_BIN_EXE_cwl-audit");
    let o = Command::new(bin)
        .args(["test", "examples/policies"])
        .current_dir(root())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("6 passed, 0 failed"), "{out}");
    let o = Command::new(bin)
        .args([
            "eval",
            "snapshots",
            "--policy-dir",
            "examples/policies",
            "--rule",
            "ORG-001",
            "--rule",
            "EX-EC2-001",
            "--format",
            "json",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut got: Vec<(String, String, String)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule_id"].as_str().unwrap().to_string(),
                r["account_id"].as_str().unwrap().to_string(),
                r["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let org_pass: Vec<&str> = got
        .iter()
        .filter(|(r, _, v)| r == "ORG-001" && v == "pass")
        .map(|(_, a, _)| a.as_str())
        .collect();
    // Only the management account and its member were collected in two regions.
    assert_eq!(org_pass, ["111111111111", "222222222222"]);
    // No demo account monitors EC2 instance changes: each fails, and says why.
    let ec2: Vec<&serde_json::Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule_id"] == "EX-EC2-001")
        .collect();
    assert_eq!(ec2.len(), 9);
    assert!(ec2.iter().all(|r| r["verdict"] == "fail"));
    assert!(ec2.iter().any(|r| r["message"].as_str().unwrap()
        == "no filter on log group aws-cloudtrail-logs-111111111111 is for EC2 instance changes"));
}

/// Every `.rego` file under `dir` (recursively) that is not a test.
fn policy_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read policy dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            policy_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rego")
            && !p.to_string_lossy().ends_with("_test.rego")
        {
            out.push(p);
        }
    }
}

/// Value bodies (of a head or an else step) that iterate at their top level: `some x in xs` (or
/// `xs[_]`) there makes one output per match, and two matches with different outputs are an
/// evaluation error. Iteration belongs inside a comprehension, with the output chosen from it (the
/// first by a stated order, a count, or the set of all).
fn iterating_value_bodies(rel: &str, source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut head: Option<(usize, String)> = None;
    for (n, line) in source.lines().enumerate() {
        let starts_value = line.starts_with("} else :=")
            || line.starts_with("else :=")
            || (line
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && line.split(" if").next().is_some_and(|h| h.contains(" := ")));
        if starts_value {
            // A comprehension's own body (`:= [x |`) may iterate: that is where iteration goes.
            let comprehension = line.trim_end().ends_with('|');
            head = (!comprehension && line.trim_end().ends_with('{'))
                .then(|| (n + 1, line.chars().take(60).collect()));
            continue;
        }
        if line.starts_with('}') || !line.starts_with('\t') {
            // `} if {` (or `}] if {`) ends a head's multi-line value and opens its body.
            let opens_body = line.starts_with('}') && line.trim_end().ends_with(" if {");
            if !line.starts_with('\t') && !opens_body {
                head = None;
            }
            continue;
        }
        if let Some((at, h)) = &head {
            let body = &line[1..];
            if !body.starts_with('\t') && (body.starts_with("some ") || body.contains("[_]")) {
                out.push(format!(
                    "{rel}:{}: the body of `{h}` (line {at}) iterates: {}",
                    n + 1,
                    body.trim()
                ));
            }
        }
    }
    out
}

/// A function (or complete rule) with two value bodies that hold at once is an evaluation error
/// ("function produced multiple outputs") that stops an account's verdict. So every value-producing
/// definition is one head with an else-chain, whose steps are tried in order; several heads are
/// allowed only where their conditions exclude each other by construction, listed here with why.
/// (Boolean rules, `name(x) if {...}` and partial sets/objects, cannot conflict and are not counted.)
#[test]
fn no_policy_function_can_produce_two_outputs() {
    const EXCLUSIVE: &[(&str, &str, &str)] = &[
        (
            "lib/chain.rego",
            "_snapshot",
            "acct == input.account_id / acct != input.account_id",
        ),
        (
            "lib/chain.rego",
            "_regions_of",
            "acct == input.account_id / acct != input.account_id",
        ),
    ];
    let mut files = Vec::new();
    policy_files(&root().join("policies"), &mut files);
    policy_files(&root().join("examples/policies"), &mut files);
    assert!(files.len() > 15, "policies found: {files:?}");
    let mut offenders = Vec::new();
    for path in files {
        let source = std::fs::read_to_string(&path).expect("read policy");
        let rel = path
            .strip_prefix(root().join("policies"))
            .or_else(|_| path.strip_prefix(root()))
            .expect("under the repository")
            .to_string_lossy()
            .to_string();
        let mut heads: std::collections::BTreeMap<String, usize> = Default::default();
        for line in source.lines() {
            // A value head starts a line: `name := `, `name(args) := `, `name[key] := `.
            let Some(first) = line.chars().next() else {
                continue;
            };
            if !(first.is_ascii_lowercase() || first == '_') {
                continue;
            }
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let rest = &line[name.len()..];
            // Partial objects (`name[key] := ...`) conflict only per key and are not counted.
            let is_value_head = if let Some(args) = rest.strip_prefix('(') {
                args.find(')')
                    .is_some_and(|i| args[i + 1..].trim_start().starts_with(":="))
            } else {
                rest.trim_start().starts_with(":=")
            };
            if is_value_head && !["package", "import", "default", "else"].contains(&name.as_str()) {
                *heads.entry(name).or_default() += 1;
            }
        }
        offenders.extend(iterating_value_bodies(&rel, &source));
        for (name, n) in heads {
            if n > 1 && !EXCLUSIVE.iter().any(|(f, x, _)| *f == rel && *x == name) {
                offenders.push(format!("{rel}: {name} has {n} value heads"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "make these one head with an else-chain (or list why they exclude each other):\n{}",
        offenders.join("\n")
    );
}
