//! Builds snapshot sets for tests: a compliant account in one call, then small edits by JSON pointer
//! (the builders are in `snapshot.rs`, shared with the benches and the generators of the bundled
//! files), written to a temporary directory and evaluated ([`Org`]).
#![allow(dead_code)]
pub mod bin;
pub mod bundled;
#[cfg(feature = "collect")]
pub mod emulator;
pub mod generate;
pub mod snapshot;
use cwl_audit::eval::{self, EvalOptions};
use cwl_audit::findings::{Finding, RunResult, Verdict};
use serde_json::Value;
pub use snapshot::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A set of snapshots written to a temporary directory as `<account>/<region>.json`.
#[derive(Default)]
pub struct Org {
    pub snapshots: BTreeMap<(String, String), Value>,
}

impl Org {
    pub fn new() -> Self {
        Org::default()
    }

    pub fn with(mut self, snapshot: Value) -> Self {
        let key = (
            snapshot["account_id"].as_str().unwrap_or("x").to_string(),
            snapshot["region"].as_str().unwrap_or("x").to_string(),
        );
        self.snapshots.insert(key, snapshot);
        self
    }

    pub fn write(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for ((account, region), v) in &self.snapshots {
            let path = dir.path().join(account).join(format!("{region}.json"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, serde_json::to_string_pretty(v).unwrap()).unwrap();
        }
        dir
    }

    pub fn eval(&self) -> RunResult {
        let dir = self.write();
        self.keep_for_crosscheck(dir.path(), cwl_audit::findings::benchmark::DEFAULT);
        eval::run(&EvalOptions::new(vec![PathBuf::from(dir.path())])).expect("policies compile")
    }

    /// [`Org::eval`] of only `rules`, decided by the reference patterns of `benchmark`.
    pub fn eval_by(&self, benchmark: &str, rules: &[&str]) -> RunResult {
        let dir = self.write();
        self.keep_for_crosscheck(dir.path(), benchmark);
        let mut opts = EvalOptions::new(vec![PathBuf::from(dir.path())]);
        opts.benchmark = benchmark.to_string();
        opts.rules = rules.iter().map(|r| r.to_string()).collect();
        eval::run(&opts).expect("policies compile")
    }

    /// With CWL_AUDIT_KEEP_SCENARIOS=DIR, every evaluated snapshot set is also copied to
    /// DIR/<hash of its content>/, so tests/opa-crosscheck.py can check that real OPA decides each
    /// scenario exactly as regorus does (`make test` does this). A set decided by another than the
    /// default benchmark gets a `.benchmark` file naming it (cwl-audit skips hidden files; the
    /// cross-check decides the set by it).
    fn keep_for_crosscheck(&self, written: &std::path::Path, benchmark: &str) {
        let Some(keep) = std::env::var_os("CWL_AUDIT_KEEP_SCENARIOS") else {
            return;
        };
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        serde_json::to_string(&self.snapshots.values().collect::<Vec<_>>())
            .expect("serialize")
            .hash(&mut h);
        let default = benchmark == cwl_audit::findings::benchmark::DEFAULT;
        if !default {
            benchmark.hash(&mut h);
        }
        let target = PathBuf::from(keep).join(format!("{:016x}", h.finish()));
        if !default {
            std::fs::create_dir_all(&target).expect("mkdir");
            std::fs::write(target.join(".benchmark"), benchmark).expect("write .benchmark");
        }
        for (account, region) in self.snapshots.keys() {
            let from = written.join(account).join(format!("{region}.json"));
            let to = target.join(account).join(format!("{region}.json"));
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(from, to).expect("copy scenario");
        }
    }

    /// The single CWL-014 finding of `account`.
    pub fn verdict(&self, account: &str) -> Finding {
        let r = self.eval();
        let mine: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.account_id == account && f.rule_id == "CWL-014")
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "exactly one finding per account and rule: {:#?}",
            r.findings
        );
        mine[0].clone()
    }
}

#[track_caller]
pub fn assert_verdict(f: &Finding, verdict: Verdict, message_part: &str) {
    assert_eq!(
        f.verdict, verdict,
        "verdict of {}: {}",
        f.account_id, f.message
    );
    assert!(
        f.message.contains(message_part),
        "message {:?} lacks {:?}",
        f.message,
        message_part
    );
}
