//! The run manifest of an organization collection (`collect --organization`): which accounts the
//! organization has, and what became of each (collected, skipped, failed, not reached yet), so that
//! `eval` reports a missing account as `unknown` instead of leaving it silently absent.
//!
//! Written by the collector next to the snapshots (`<out>/cwl-audit-manifest.json`, or one part per
//! shard, `<out>/cwl-audit-manifest.shard-I-of-N.json`), atomically; read by `eval` from the
//! directories it evaluates. docs/snapshot-format.md ("Run manifest") is the contract. A manifest is
//! untrusted input like a snapshot: every member is checked before it is used, and its strings only
//! reach reports through their escaping.
use crate::findings::{Finding, Level, Location, Notification, Verdict};
use crate::snapshot::{self, is_region, LoadError, Place};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub const FORMAT_V1: &str = "cwl-audit.manifest/v1";

/// The file name of a whole run's manifest.
pub const FILE_NAME: &str = "cwl-audit-manifest.json";

/// The file name of shard `index` (1-based) of `count`.
pub fn shard_file_name(index: u32, count: u32) -> String {
    format!("cwl-audit-manifest.shard-{index}-of-{count}.json")
}

/// Is this file a manifest (by name)? Snapshots live at `<account>/<region>.json`, so the names
/// never collide; `eval` reads such files as manifests, never as snapshots.
pub fn is_manifest_path(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("cwl-audit-manifest") && n.ends_with(".json"))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub organization: Organization,
    /// The account whose credentials ran the collection (collected with them, not a role).
    pub caller_account_id: String,
    /// The role name assumed in every other account.
    pub member_role: String,
    /// The regions asked for (each account's own `regions` says which were collected); empty with
    /// `all_regions`.
    pub regions: Vec<String>,
    /// `--all-regions`: every region enabled for each account (Account ListRegions per account).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_regions: bool,
    /// Set when this manifest is one part of a sharded run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// What selected the accounts (`--ou`, `--accounts`, `--exclude-accounts`), for the record.
    #[serde(default)]
    pub selection: Selection,
    pub started_at: String,
    /// Absent while the run is going on or after it was interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    pub collector: Collector,
    /// Every account the organization listed (and the selection kept or skipped), by account id.
    pub accounts: Vec<Account>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub management_account_id: String,
    pub partition: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The shard (1-based) an account belongs to: stable across runs and machines (the account id
    /// as a number modulo the count; ids are uniformly spread in practice).
    pub fn of(account_id: &str, count: u32) -> u32 {
        let n: u64 = account_id.parse().unwrap_or(0);
        (n % u64::from(count.max(1))) as u32 + 1
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ous: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_accounts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collector {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The organizational unit the account is in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou: Option<Ou>,
    /// The account's state as Organizations reports it (`State`; `Status` where `State` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub status: Status,
    /// Why an account was skipped, in words (`suspended`, `excluded by --exclude-accounts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why the account could not be collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AccountError>,
    /// The regions collected, each complete (every call succeeded) or partial (some failed, see
    /// the snapshot's `errors`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regions: BTreeMap<String, RegionStatus>,
    /// With shards: the shard that collects this account (other shards list it as `other_shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ou {
    pub id: String,
    /// Names from the root down, e.g. `Root/Workloads/Prod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountError {
    /// The call that failed (`AssumeRole`, or `collect` when every call of the account was denied).
    pub operation: String,
    /// The AWS error code (`AccessDenied`).
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every asked region was collected and every call succeeded.
    Collected,
    /// Snapshots were written, and some calls failed (recorded in their `errors`).
    Partial,
    /// The account could not be collected (see `error`).
    Failed,
    /// Not collected on purpose: suspended or closed, or left out by the selection.
    Skipped,
    /// Not reached yet: the run was interrupted (`--resume` finishes it).
    Pending,
    /// Collected by another shard of the same run (`shard` says which).
    OtherShard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionStatus {
    Complete,
    Partial,
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Manifest {
    /// The contract's checks beyond the JSON shape; the pointer of the first problem.
    pub fn check(&self) -> Result<(), (String, String)> {
        let bad = |pointer: String, message: String| Err((pointer, message));
        if self.format != FORMAT_V1 {
            return bad(
                "/format".into(),
                format!(
                    "unsupported manifest format {:?} (expected {FORMAT_V1:?})",
                    self.format
                ),
            );
        }
        if !snapshot::PARTITIONS.contains(&self.organization.partition.as_str()) {
            return bad(
                "/organization/partition".into(),
                format!("unknown partition {:?}", self.organization.partition),
            );
        }
        for (pointer, id) in [
            (
                "/organization/management_account_id",
                &self.organization.management_account_id,
            ),
            ("/caller_account_id", &self.caller_account_id),
        ] {
            if !is_account_id(id) {
                return bad(
                    pointer.into(),
                    format!("{id:?} is not a 12-digit account id"),
                );
            }
        }
        for (i, r) in self.regions.iter().enumerate() {
            if !is_region(r) {
                return bad(
                    format!("/regions/{i}"),
                    format!("{r:?} is not a region code"),
                );
            }
        }
        if let Some(s) = self.shard {
            if s.count == 0 || s.index == 0 || s.index > s.count {
                return bad(
                    "/shard".into(),
                    format!("shard {}/{} is not I/N with 1 <= I <= N", s.index, s.count),
                );
            }
        }
        let mut seen = BTreeSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            if !is_account_id(&a.account_id) {
                return bad(
                    format!("/accounts/{i}/account_id"),
                    format!("{:?} is not a 12-digit account id", a.account_id),
                );
            }
            if !seen.insert(a.account_id.as_str()) {
                return bad(
                    format!("/accounts/{i}/account_id"),
                    format!("account {} is listed twice", a.account_id),
                );
            }
            if a.status == Status::Failed && a.error.is_none() {
                return bad(
                    format!("/accounts/{i}"),
                    "a failed account needs an `error`".into(),
                );
            }
            if a.status == Status::OtherShard && a.shard.is_none() {
                return bad(
                    format!("/accounts/{i}"),
                    "an `other_shard` account needs its `shard`".into(),
                );
            }
            for r in a.regions.keys() {
                if !is_region(r) {
                    return bad(
                        format!("/accounts/{i}/regions"),
                        format!("{r:?} is not a region code"),
                    );
                }
            }
        }
        Ok(())
    }
}

/// A manifest read from a file.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// As the user gave it (reports show it).
    pub path: String,
    pub text: String,
    pub manifest: Manifest,
}

/// Reads and checks one manifest file; a bad one is a load error with its line and pointer, like a
/// bad snapshot.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let shown = snapshot::display_path(path);
    let err =
        |line_col: Option<(usize, usize)>, pointer: Option<String>, message: String| LoadError {
            path: shown.clone(),
            place: Some(Place { pointer, line_col }),
            message,
        };
    let bytes = snapshot::read_file(path)?;
    let text = String::from_utf8(bytes).map_err(|_| LoadError::new(&shown, "not UTF-8"))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
        err(
            Some((e.line().max(1), e.column().max(1))),
            None,
            format!("not a run manifest: {e}"),
        )
    })?;
    manifest.check().map_err(|(pointer, message)| {
        let at = snapshot::locate(&text, &pointer);
        err(at, Some(pointer), message)
    })?;
    Ok(Loaded {
        path: shown,
        text,
        manifest,
    })
}

/// One account's entry as the manifests of a run say it, with where it was read.
struct Entry<'a> {
    manifest: &'a Loaded,
    index: usize,
    account: &'a Account,
}

/// Which entry speaks for an account when several manifests list it: its own shard's entry over
/// another shard's `other_shard` line, then the most complete status (a resumed run's manifest
/// replaces the earlier one, so two full entries disagree only when two runs' files are mixed).
fn rank(a: &Account) -> u8 {
    match a.status {
        Status::Collected => 0,
        Status::Partial => 1,
        Status::Skipped => 2,
        Status::Failed => 3,
        Status::Pending => 4,
        Status::OtherShard => 5,
    }
}

/// What the manifests add to a run: a finding per rule for every expected account that has no
/// snapshot (`unknown`, saying why), a pass downgraded to `unknown` where the manifest says the
/// account's last collection failed or did not finish, and notes for skipped accounts.
pub struct Applied {
    pub findings: Vec<Finding>,
    pub notifications: Vec<Notification>,
}

/// Applies `manifests` to the findings of a run. `present`: accounts with at least one snapshot
/// loaded; `rules`: the ids of the rules that were evaluated.
pub fn apply(
    manifests: &[Loaded],
    findings: &mut [Finding],
    present: &BTreeSet<String>,
    rules: &[String],
) -> Applied {
    let mut out = Applied {
        findings: Vec::new(),
        notifications: Vec::new(),
    };
    let mut by_account: BTreeMap<&str, Entry> = BTreeMap::new();
    for m in manifests {
        for (index, account) in m.manifest.accounts.iter().enumerate() {
            let e = Entry {
                manifest: m,
                index,
                account,
            };
            match by_account.get(account.account_id.as_str()) {
                Some(old) if rank(old.account) <= rank(account) => {}
                _ => {
                    by_account.insert(account.account_id.as_str(), e);
                }
            }
        }
    }
    // Shards whose part was found, per organization: an `other_shard` entry whose shard's part is
    // missing means that part of the organization was not evaluated.
    let found_shards: BTreeSet<(&str, u32)> = manifests
        .iter()
        .filter_map(|m| {
            m.manifest
                .shard
                .map(|s| (m.manifest.organization.id.as_str(), s.index))
        })
        .collect();
    let mut skipped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, e) in &by_account {
        let m = &e.manifest.manifest;
        let a = e.account;
        let why_missing: Option<String> = match a.status {
            Status::Skipped => {
                let reason = a.reason.clone().unwrap_or_else(|| "skipped".into());
                // Snapshots of a skipped account are from another collection: decided as found,
                // with a note saying so.
                for f in findings.iter_mut().filter(|f| f.account_id == *id) {
                    f.notes.push(format!(
                        "the manifest lists account {id} as skipped ({reason}); its snapshots are not from this collection"
                    ));
                }
                skipped.entry(reason).or_default().push(id.to_string());
                continue;
            }
            Status::Collected | Status::Partial if present.contains(*id) => continue,
            Status::Collected | Status::Partial => Some(format!(
                "the manifest lists account {id} as collected, and none of its snapshots was found"
            )),
            Status::Failed => Some(failure_words(m, a)),
            Status::Pending => Some(format!(
                "account {id} was not collected: the collection stopped before it (run `collect --organization ... --resume` to finish it)"
            )),
            Status::OtherShard => {
                let shard = a.shard.unwrap_or(0);
                let count = m.shard.map_or(0, |s| s.count);
                if found_shards.contains(&(m.organization.id.as_str(), shard)) {
                    // Its own shard's part was read and had no entry for it: that part is from
                    // another run or selection.
                    Some(format!(
                        "account {id} belongs to shard {shard}/{count}, whose manifest does not list it"
                    ))
                } else {
                    Some(format!(
                        "account {id} belongs to shard {shard}/{count}, and that shard's manifest ({}) was not found",
                        shard_file_name(shard, count)
                    ))
                }
            }
        };
        let Some(why) = why_missing else { continue };
        let location = Location {
            path: e.manifest.path.clone(),
            pointer: format!("/accounts/{}", e.index),
            line: snapshot::locate(&e.manifest.text, &format!("/accounts/{}", e.index))
                .map_or(1, |(l, _)| l),
            account_id: id.to_string(),
            region: m.regions.first().cloned().unwrap_or_default(),
        };
        if present.contains(*id) {
            // Snapshots of an account the manifest says was not (fully) collected this time are
            // older evidence: a pass from them is not proven for now; a fail or unknown stands,
            // with a note.
            for f in findings.iter_mut().filter(|f| f.account_id == *id) {
                if f.verdict == Verdict::Pass {
                    f.verdict = Verdict::Unknown;
                    f.notes
                        .push(format!("the snapshots found would pass: {}", f.message));
                    f.message = format!("{why}; its snapshots were not written by this collection");
                    f.link = Some("account".into());
                    f.location = Some(location.clone());
                } else {
                    f.notes.push(why.clone());
                }
            }
            continue;
        }
        for rule in rules {
            out.findings.push(Finding {
                rule_id: rule.clone(),
                account_id: id.to_string(),
                verdict: Verdict::Unknown,
                message: why.clone(),
                region: None,
                resource: Some(format!(
                    "arn:{}:organizations::{}:account/{}/{}",
                    m.organization.partition,
                    m.organization.management_account_id,
                    m.organization.id,
                    id
                )),
                link: Some("account".into()),
                location: Some(location.clone()),
                chain: serde_json::Value::Array(Vec::new()),
                notes: a
                    .name
                    .iter()
                    .map(|n| format!("account name: {n}"))
                    .collect(),
            });
        }
    }
    for (reason, ids) in skipped {
        out.notifications.push(Notification {
            level: Level::Note,
            message: format!(
                "{} skipped by the collection ({reason}): {}",
                plural(ids.len(), "account"),
                ids.join(", ")
            ),
            path: manifests.first().map(|m| m.path.clone()),
            line: None,
        });
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Why an account could not be collected, in words.
fn failure_words(m: &Manifest, a: &Account) -> String {
    let Some(e) = &a.error else {
        return format!("account {} could not be collected", a.account_id);
    };
    if e.operation == "AssumeRole" {
        format!(
            "account {} was not collected: the role {} could not be assumed: {}",
            a.account_id, m.member_role, e.code
        )
    } else if e.operation == "collect" {
        format!(
            "account {} was not collected: every call failed: {}",
            a.account_id, e.code
        )
    } else {
        format!(
            "account {} was not collected: {} failed: {}",
            a.account_id, e.operation, e.code
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(accounts: Vec<Account>) -> Manifest {
        Manifest {
            format: FORMAT_V1.into(),
            organization: Organization {
                id: "o-abc123".into(),
                management_account_id: "111111111111".into(),
                partition: "aws".into(),
            },
            caller_account_id: "111111111111".into(),
            member_role: "CwlAuditReadOnly".into(),
            regions: vec!["us-east-1".into()],
            all_regions: false,
            shard: None,
            selection: Selection::default(),
            started_at: "2026-12-01T00:00:00Z".into(),
            finished_at: Some("2026-12-01T00:01:00Z".into()),
            collector: Collector {
                name: "cwl-audit".into(),
                version: "0.1.0".into(),
            },
            accounts,
        }
    }

    fn account(id: &str, status: Status) -> Account {
        Account {
            account_id: id.into(),
            name: Some(format!("acct-{id}")),
            ou: None,
            state: Some("ACTIVE".into()),
            status,
            reason: None,
            error: None,
            regions: BTreeMap::new(),
            shard: None,
        }
    }

    fn loaded(m: Manifest) -> Loaded {
        let text = serde_json::to_string_pretty(&m).expect("serialize");
        Loaded {
            path: "snapshots/cwl-audit-manifest.json".into(),
            text,
            manifest: m,
        }
    }

    #[test]
    fn a_failed_account_without_snapshots_is_unknown_for_every_rule() {
        let mut denied = account("222222222222", Status::Failed);
        denied.error = Some(AccountError {
            operation: "AssumeRole".into(),
            code: "AccessDenied".into(),
            message: None,
        });
        let mut suspended = account("333333333333", Status::Skipped);
        suspended.reason = Some("suspended".into());
        let m = loaded(manifest(vec![
            account("111111111111", Status::Collected),
            denied,
            suspended,
        ]));
        let present: BTreeSet<String> = ["111111111111".to_string()].into();
        let rules = vec!["CWL-014".to_string(), "CIS-4.1".to_string()];
        let applied = apply(&[m], &mut [], &present, &rules);
        assert_eq!(applied.findings.len(), 2);
        for f in &applied.findings {
            assert_eq!(f.verdict, Verdict::Unknown);
            assert_eq!(f.account_id, "222222222222");
            assert_eq!(
                f.message,
                "account 222222222222 was not collected: the role CwlAuditReadOnly could not be assumed: AccessDenied"
            );
            let l = f.location.as_ref().expect("placed at the manifest");
            assert_eq!(l.pointer, "/accounts/1");
            assert!(l.line > 1, "the entry's line: {l:?}");
        }
        assert_eq!(applied.notifications.len(), 1);
        assert_eq!(
            applied.notifications[0].message,
            "1 account skipped by the collection (suspended): 333333333333"
        );
    }

    #[test]
    fn a_missing_shard_makes_its_accounts_unknown() {
        let mut m = manifest(vec![account("111111111112", Status::Collected), {
            let mut a = account("111111111111", Status::OtherShard);
            a.shard = Some(2);
            a
        }]);
        m.shard = Some(Shard { index: 1, count: 2 });
        let present: BTreeSet<String> = ["111111111112".to_string()].into();
        let applied = apply(&[loaded(m)], &mut [], &present, &["CWL-014".to_string()]);
        assert_eq!(applied.findings.len(), 1);
        assert!(
            applied.findings[0]
                .message
                .contains("shard 2/2, and that shard's manifest (cwl-audit-manifest.shard-2-of-2.json) was not found"),
            "{}",
            applied.findings[0].message
        );
    }

    #[test]
    fn shard_assignment_is_stable_and_in_range() {
        for id in ["000000000000", "123456789012", "999999999999"] {
            let s = Shard::of(id, 4);
            assert!((1..=4).contains(&s));
            assert_eq!(s, Shard::of(id, 4));
        }
        assert_eq!(Shard::of("000000000005", 4), 2);
    }

    #[test]
    fn check_refuses_ids_that_could_become_paths() {
        let mut m = manifest(vec![account("../../etc/pw", Status::Collected)]);
        assert_eq!(m.check().unwrap_err().0, "/accounts/0/account_id");
        m.accounts = vec![account("111111111111", Status::Failed)];
        assert!(m.check().unwrap_err().1.contains("needs an `error`"));
        m.accounts = vec![];
        m.regions = vec!["eu-wst-1x".into()];
        assert_eq!(m.check().unwrap_err().0, "/regions/0");
    }
}
