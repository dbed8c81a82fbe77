//! Running the `cwl-audit` binary as users do, for the CLI-level tests.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where `snapshots/` and `policies/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `cwl-audit ARGS` in `dir`, without colour.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cwl-audit"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run cwl-audit")
}

/// Runs `cwl-audit ARGS` in the repository root, without colour.
pub fn run(args: &[&str]) -> Output {
    run_in(&root(), args)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The venv python `make test` installs (with PyYAML, cfn-lint, ...). Never skipped: without it the
/// test fails and says how to get it.
pub fn python() -> PathBuf {
    match std::env::var_os("CWL_AUDIT_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!("CWL_AUDIT_PYTHON is not set: run `make test` (it installs .venv and sets it)"),
    }
}
