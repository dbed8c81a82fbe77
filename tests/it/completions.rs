//! Shell completion in real shells: the scripts `cwl-audit completions SHELL` prints are loaded into
//! bash, zsh and fish, and what each offers for a typed line is checked (`tests/support/complete/`
//! has the drivers: bash calls the registered function as readline does, zsh runs on a
//! pseudo-terminal with `compinit` and TAB, fish answers `complete -C`).
//!
//! bash is required. zsh and fish are skipped with a message where they are not installed;
//! `CWL_AUDIT_REQUIRE_SHELLS` (a list, e.g. `zsh fish`, which `make test` sets to the shells it
//! found or installed) turns that skip into a failure.
use crate::support::bin::{root, run, stdout};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the shells must offer, the same for the three. `Exactly`: these and no other candidates
/// (a trailing `/` of a directory is dropped); `Includes`: at least these.
enum Expect {
    Exactly(Vec<String>),
    Includes(Vec<String>),
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// The built-in rule ids starting with `prefix`, as `cwl-audit rules` lists them.
fn rule_ids(prefix: &str) -> Vec<String> {
    let o = run(&["rules"]);
    assert!(o.status.success());
    stdout(&o)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| id.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// Typed lines (the cursor at the end) and what must be offered. The working directory has a
/// directory `pdir/`, a file `pfile.json` and a file `other.txt`.
fn cases() -> Vec<(&'static str, Expect)> {
    use Expect::{Exactly, Includes};
    let subcommands = "eval test rules explain remediate diff completions collect iam-policy help";
    vec![
        ("cwl-audit e", Exactly(words("eval explain"))),
        ("cwl-audit ", Includes(words(subcommands))),
        ("cwl-audit eval --format s", Exactly(words("sarif"))),
        ("cwl-audit eval -f j", Exactly(words("json junit"))),
        (
            "cwl-audit eval --format ",
            Exactly(words("text json sarif junit ocsf asff html")),
        ),
        ("cwl-audit -q eval --format s", Exactly(words("sarif"))),
        (
            "cwl-audit eval --format sarif --rule CWL-014 --fail-on n",
            Exactly(words("never")),
        ),
        (
            "cwl-audit eval --fail-on ",
            Exactly(words("unknown fail never")),
        ),
        (
            "cwl-audit eval --benchmark cis-v1",
            Exactly(words("cis-v1.5 cis-v1.4 cis-v1.2")),
        ),
        ("cwl-audit eval --rule CWL-01", Exactly(rule_ids("CWL-01"))),
        ("cwl-audit eval --rule CIS-", Exactly(rule_ids("CIS-"))),
        ("cwl-audit explain CWL-00", Exactly(rule_ids("CWL-00"))),
        (
            "cwl-audit remediate --rule CWL-014",
            Exactly(words("CWL-014")),
        ),
        (
            "cwl-audit eval --",
            Includes(words(
                "--format --output --policy-dir --rule --benchmark --fail-on",
            )),
        ),
        // Paths: files and directories, only directories, or files. Where a path goes, an empty
        // word offers the paths (options after a `-`).
        ("cwl-audit eval p", Exactly(words("pdir pfile.json"))),
        ("cwl-audit eval ", Includes(words("pdir pfile.json"))),
        ("cwl-audit remediate ", Includes(words("pdir pfile.json"))),
        ("cwl-audit diff pdir ", Includes(words("pdir pfile.json"))),
        (
            "cwl-audit eval --output p",
            Exactly(words("pdir pfile.json")),
        ),
        ("cwl-audit eval --policy-dir p", Exactly(words("pdir"))),
        ("cwl-audit rules --policy-dir p", Exactly(words("pdir"))),
        ("cwl-audit remediate --output-dir p", Exactly(words("pdir"))),
        ("cwl-audit collect --out p", Exactly(words("pdir"))),
        // Free values: nothing, never file names.
        ("cwl-audit eval --time-limit ", Exactly(vec![])),
        ("cwl-audit collect --concurrency ", Exactly(vec![])),
        ("cwl-audit remediate --account ", Exactly(vec![])),
        (
            "cwl-audit remediate --format c",
            Exactly(words("cli cloudformation")),
        ),
        ("cwl-audit diff --format ", Exactly(words("text json"))),
        ("cwl-audit test --format ", Exactly(words("text json"))),
        // bash offers the flags too where the first argument of a subcommand goes.
        (
            "cwl-audit completions ",
            Includes(words("bash elvish fish powershell zsh")),
        ),
        ("cwl-audit completions z", Exactly(words("zsh"))),
        // Hidden subcommands are not offered.
        ("cwl-audit man", Exactly(vec![])),
        ("cwl-audit builti", Exactly(vec![])),
        ("cwl-audit help man", Exactly(vec![])),
        // `help` takes a subcommand.
        ("cwl-audit help e", Exactly(words("eval explain"))),
        (
            "cwl-audit help ",
            Includes(words("eval remediate diff collect")),
        ),
        ("cwl-audit completions p", Exactly(words("powershell"))),
        (
            "cwl-audit iam-policy --partition aws-",
            Exactly(words("aws-cn aws-us-gov")),
        ),
    ]
}

/// A working directory with the files the path cases complete, and the completion script.
fn workdir(shell: &str, script_name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pdir")).unwrap();
    std::fs::write(dir.path().join("pfile.json"), "{}").unwrap();
    std::fs::write(dir.path().join("other.txt"), "").unwrap();
    let o = run(&["completions", shell]);
    assert!(o.status.success(), "completions {shell}");
    let scripts = dir.path().join("scripts");
    std::fs::create_dir(&scripts).unwrap();
    let script = scripts.join(script_name);
    std::fs::write(&script, &o.stdout).unwrap();
    (dir, script)
}

/// Runs `program args` in `dir` (HOME in `dir` too: fish writes its variables there) and returns
/// its exit code and standard output; stopped after a minute.
fn run_shell(program: &str, args: &[&str], dir: &Path) -> (Option<i32>, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .env("XDG_DATA_HOME", dir.join(".local/share"))
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "{program} did not finish in 60 s; stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The candidates per typed line, from a driver's `LINE<TAB>candidates[<TAB>...]` lines.
fn offered(out: &str, line: &str) -> BTreeSet<String> {
    let row = out
        .lines()
        .find_map(|l| l.strip_prefix(line)?.strip_prefix('\t'))
        .unwrap_or_else(|| panic!("no answer for {line:?} in:\n{out}"));
    row.split('\t')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(|w| w.trim_end_matches('/').to_string())
        .collect()
}

fn check(shell: &str, out: &str) {
    let mut wrong = Vec::new();
    for (line, expect) in cases() {
        let got = offered(out, line);
        let ok = match &expect {
            Expect::Exactly(want) => got == want.iter().cloned().collect(),
            Expect::Includes(want) => want.iter().all(|w| got.contains(w)),
        };
        if !ok {
            let want = match &expect {
                Expect::Exactly(w) => format!("exactly {w:?}"),
                Expect::Includes(w) => format!("at least {w:?}"),
            };
            wrong.push(format!("{line:?}: offered {got:?}, want {want}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{shell} completion:\n{}",
        wrong.join("\n")
    );
}

fn lines() -> Vec<&'static str> {
    cases().into_iter().map(|(l, _)| l).collect()
}

fn driver(name: &str) -> String {
    root()
        .join("tests/support/complete")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `shell` must be tested here (`CWL_AUDIT_REQUIRE_SHELLS` names it).
fn required(shell: &str) -> bool {
    std::env::var("CWL_AUDIT_REQUIRE_SHELLS").is_ok_and(|v| v.split([' ', ',']).any(|s| s == shell))
}

/// Skips (with a message) when `shell` cannot be tested here and is not required.
fn skip(shell: &str, why: &str) {
    assert!(
        !required(shell),
        "CWL_AUDIT_REQUIRE_SHELLS names {shell}, but {why}"
    );
    eprintln!("SKIPPED {shell} completion test: {why}");
}

#[test]
fn bash_completes_commands_options_and_values() {
    assert!(installed("bash"), "bash is needed (the Makefile's shell)");
    let (dir, script) = workdir("bash", "cwl-audit.bash");
    let mut args = vec![
        "--norc".to_string(),
        "--noprofile".to_string(),
        driver("complete.bash"),
        script.to_string_lossy().into_owned(),
    ];
    args.extend(lines().into_iter().map(str::to_string));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run_shell("bash", &args, dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    // Registered for the command users type, falling back to file names where it offers nothing.
    let spec = out.lines().next().unwrap_or("");
    assert!(
        spec.starts_with("spec\t") && spec.ends_with(" cwl-audit") && spec.contains("-o default"),
        "{spec}"
    );
    check("bash", &out);
    // What the script asks readline for: file names are quoted as such, directories added.
    let compopt = |line: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(line)?.strip_prefix('\t'))
            .and_then(|r| r.split('\t').nth(1))
            .unwrap_or("")
            .to_string()
    };
    assert!(compopt("cwl-audit eval --output p").contains("-o filenames"));
    assert!(compopt("cwl-audit eval --policy-dir p").contains("-o plusdirs"));
}

#[test]
fn zsh_completes_commands_options_and_values() {
    if !installed("zsh") {
        return skip(
            "zsh",
            "zsh is not installed (Debian package `zsh`; `make test` installs it where apt-get can run as root or with sudo)",
        );
    }
    let (dir, script) = workdir("zsh", "_cwl-audit");
    let fpath = script.parent().unwrap().to_string_lossy().into_owned();
    let mut args = vec!["-f".to_string(), driver("complete.zsh"), fpath];
    args.extend(lines().into_iter().map(str::to_string));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run_shell("zsh", &args, dir.path());
    if code == Some(3) {
        return skip(
            "zsh",
            &format!("zsh cannot drive a terminal: {}", err.trim()),
        );
    }
    assert_eq!(code, Some(0), "{out}{err}");
    check("zsh", &out);
}

#[test]
fn fish_completes_commands_options_and_values() {
    if !installed("fish") {
        return skip(
            "fish",
            "fish is not installed (Debian package `fish`; `make test` installs it where apt-get can run as root or with sudo)",
        );
    }
    let (dir, script) = workdir("fish", "cwl-audit.fish");
    let mut args = vec![
        "--no-config".to_string(),
        driver("complete.fish"),
        script.to_string_lossy().into_owned(),
    ];
    args.extend(lines().into_iter().map(str::to_string));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run_shell("fish", &args, dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    check("fish", &out);
}
