//! The run manifest of an organization collection (`collect --organization`): which accounts the
//! organization has, and what became of each (collected, skipped, failed, not reached yet), so that
//! `eval` reports a missing account as `unknown` instead of leaving it silently absent.
//!
//! Written by the collector next to the snapshots (`<out>/cwl-audit-manifest.json`, or one part per
//! shard, `<out>/cwl-audit-manifest.shard-I-of-N.json`), atomically; read by `eval` from the
//! directories it evaluates. docs/snapshot-format.md ("Run manifest") is the contract. A manifest is
//! untrusted input like a snapshot: every member is checked before it is used, and its strings only
//! reach reports through their escaping.
//!
//! Here: the types, their checks, and reading a file ([`load`]; a file that fails is [`Refused`],
//! and still names the accounts it lists, which then cannot pass). What the manifests change in a
//! run is `eval`'s: `eval::standing` combines several manifests into one standing per account
//! (contradictions being input errors), and `eval::manifests` applies that to the run's findings
//! (a pass stands only on snapshots the collection wrote, along the whole chain). This module
//! knows nothing of findings.
use crate::arn::{is_account_id, is_region, PARTITIONS};
use crate::snapshot::{self, LoadError, Place};
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
    /// Account ids Organizations listed that are not 12 digits (as `{:?}` text): never collected
    /// (an id becomes a directory name), and the organization cannot be proven while they exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_account_ids: Vec<String>,
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

/// Milliseconds since 1970 of an RFC 3339 time (`2026-12-01T10:00:00Z`, `...T10:00:00.5+02:00`);
/// `None` for anything else. Fractions count (to the millisecond): `10:00:00.5Z` is after
/// `10:00:00Z`.
pub(crate) fn instant(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100;
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            millis += i64::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            // RFC 3339 offsets are -23:59..+23:59.
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    // Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset) * 1000 + millis)
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
        if !PARTITIONS.contains(&self.organization.partition.as_str()) {
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
        let Some(started) = instant(&self.started_at) else {
            return bad(
                "/started_at".into(),
                format!(
                    "{:?} is not an RFC 3339 time (e.g. 2026-12-01T10:00:00Z): without it no snapshot can be told from an older one",
                    self.started_at
                ),
            );
        };
        if let Some(f) = &self.finished_at {
            match instant(f) {
                None => {
                    return bad(
                        "/finished_at".into(),
                        format!("{f:?} is not an RFC 3339 time"),
                    )
                }
                Some(t) if t < started => {
                    return bad(
                        "/finished_at".into(),
                        format!("{f} is before started_at {}", self.started_at),
                    )
                }
                Some(_) => {}
            }
        }
        if self.accounts.is_empty() {
            return bad(
                "/accounts".into(),
                "lists no account (an organization has at least its management account)".into(),
            );
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
            // Only a shard part can point at another part, and only at a part of its own run.
            match (a.status, a.shard, self.shard) {
                (Status::OtherShard, _, None) => {
                    return bad(
                        format!("/accounts/{i}/status"),
                        "`other_shard` in a manifest that is not a shard part (it has no `shard`)"
                            .into(),
                    )
                }
                (Status::OtherShard, None, Some(_)) => {
                    return bad(
                        format!("/accounts/{i}"),
                        "an `other_shard` account needs its `shard`".into(),
                    )
                }
                (Status::OtherShard, Some(k), Some(own)) if k == 0 || k > own.count => {
                    return bad(
                        format!("/accounts/{i}/shard"),
                        format!("shard {k} is not one of the run's {} shards", own.count),
                    )
                }
                (Status::OtherShard, Some(k), Some(own)) if k == own.index => {
                    return bad(
                        format!("/accounts/{i}/shard"),
                        format!(
                            "`other_shard` names this manifest's own shard {k}/{}",
                            own.count
                        ),
                    )
                }
                (Status::OtherShard, Some(_), Some(_)) => {}
                (_, Some(k), own) if own.map(|s| s.index) != Some(k) => {
                    return bad(
                        format!("/accounts/{i}/shard"),
                        format!(
                            "account {} is listed as {:?} here, and its `shard` {k} is not this manifest's",
                            a.account_id,
                            status_word(a.status)
                        ),
                    )
                }
                _ => {}
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

impl Status {
    /// The word the manifest uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Collected => "collected",
            Status::Partial => "partial",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Pending => "pending",
            Status::OtherShard => "other_shard",
        }
    }
}

fn status_word(s: Status) -> &'static str {
    s.as_str()
}

/// The shard a part's file name claims (`cwl-audit-manifest.shard-I-of-N.json`), if it has that form.
fn shard_in_name(path: &Path) -> Option<(u32, u32)> {
    let name = path.file_name()?.to_str()?;
    let rest = name
        .strip_prefix("cwl-audit-manifest.shard-")?
        .strip_suffix(".json")?;
    let (i, n) = rest.split_once("-of-")?;
    Some((i.parse().ok()?, n.parse().ok()?))
}

/// A manifest read from a file.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// As the user gave it (reports show it).
    pub path: String,
    pub text: String,
    pub manifest: Manifest,
    /// The line of each `accounts` entry (findings about an account point at its entry), found in
    /// one pass over the text.
    pub lines: Vec<usize>,
}

impl Loaded {
    /// Builds a loaded manifest from its text (which must be `manifest`'s).
    pub fn new(path: String, text: String, manifest: Manifest) -> Self {
        let pointers: Vec<String> = (0..manifest.accounts.len())
            .map(|i| format!("/accounts/{i}"))
            .collect();
        let refs: Vec<&str> = pointers.iter().map(String::as_str).collect();
        let lines = snapshot::locate_many(&text, &refs)
            .into_iter()
            .map(|at| at.map_or(1, |(l, _)| l))
            .collect();
        Loaded {
            path,
            text,
            manifest,
            lines,
        }
    }
}

/// A manifest file that could not be used. The accounts it names (as far as its text can be read)
/// must not pass from snapshots alone: the file says something about them, and what it says is
/// not known.
#[derive(Debug, Clone)]
pub struct Refused {
    pub error: LoadError,
    /// The accounts the file names (`accounts[*].account_id`, 12-digit ones only: nothing else can
    /// match a snapshot), each with where its entry is.
    pub named: Vec<Named>,
}

impl std::fmt::Display for Refused {
    /// As the load error it carries: `path:line:col: pointer: message`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)
    }
}

/// An account a refused manifest names, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub account_id: String,
    /// `/accounts/I` when the text is JSON; empty when the id was found in unparsable text.
    pub pointer: String,
    pub line: usize,
}

impl Refused {
    fn new(error: LoadError, text: &str) -> Self {
        Refused {
            error,
            named: named_accounts(text),
        }
    }
}

/// The account ids a manifest's text names. From the parsed JSON when it parses (whatever the rest
/// of it is); else, for a file cut short or otherwise broken, every `"account_id": "<12 digits>"`
/// in the text, so a truncated manifest still covers the accounts written before the cut.
fn named_accounts(text: &str) -> Vec<Named> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let Some(accounts) = v.get("accounts").and_then(|a| a.as_array()) else {
            return Vec::new();
        };
        let found: Vec<(usize, String)> = accounts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let id = a.get("account_id")?.as_str()?;
                is_account_id(id).then(|| (i, id.to_string()))
            })
            .collect();
        let pointers: Vec<String> = found
            .iter()
            .map(|(i, _)| format!("/accounts/{i}"))
            .collect();
        let refs: Vec<&str> = pointers.iter().map(String::as_str).collect();
        let lines = snapshot::locate_many(text, &refs);
        return found
            .into_iter()
            .zip(pointers)
            .zip(lines)
            .map(|(((_, account_id), pointer), at)| Named {
                account_id,
                pointer,
                line: at.map_or(1, |(l, _)| l),
            })
            .collect();
    }
    let bytes = text.as_bytes();
    let key = b"\"account_id\"";
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(k) = find(&bytes[from..], key).map(|k| from + k) {
        from = k + key.len();
        let skip = |mut i: usize| {
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            i
        };
        let colon = skip(from);
        if bytes.get(colon) != Some(&b':') {
            continue;
        }
        let open = skip(colon + 1);
        let id = bytes.get(open + 1..open + 13);
        if bytes.get(open) == Some(&b'"') && bytes.get(open + 13) == Some(&b'"') {
            if let Some(id) = id.and_then(|b| std::str::from_utf8(b).ok()) {
                if is_account_id(id) {
                    out.push(Named {
                        account_id: id.to_string(),
                        pointer: String::new(),
                        line: snapshot::line_col(bytes, k).0,
                    });
                }
            }
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads and checks one manifest file; a bad one is refused with its line and pointer, like a bad
/// snapshot, and with the accounts it names.
pub fn load(path: &Path) -> Result<Loaded, Refused> {
    let shown = crate::fsutil::display_path(path);
    let bytes = snapshot::read_file(path).map_err(|e| Refused::new(e, ""))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let at = snapshot::line_col(e.as_bytes(), e.utf8_error().valid_up_to());
            let err = LoadError {
                path: shown,
                place: Some(Place {
                    pointer: None,
                    line_col: Some(at),
                }),
                message: "not valid UTF-8 (a manifest is UTF-8 JSON)".into(),
            };
            return Err(Refused::new(err, &lossy));
        }
    };
    let claimed = shard_in_name(path);
    parse(shown, text, claimed)
}

/// Parses and checks manifest text read from `shown`; `claimed`: the shard its file name claims.
pub(crate) fn parse(
    shown: String,
    text: String,
    claimed: Option<(u32, u32)>,
) -> Result<Loaded, Refused> {
    let refuse = |line_col: Option<(usize, usize)>, pointer: Option<String>, message: String| {
        let error = LoadError {
            path: shown.clone(),
            place: Some(Place { pointer, line_col }),
            message,
        };
        Refused::new(error, &text)
    };
    let words = snapshot::json_error_words;
    // Syntax first: a JSON error has a position and no pointer.
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
        return Err(refuse(
            Some((e.line().max(1), e.column().max(1))),
            None,
            format!("invalid JSON: {}", words(&e)),
        ));
    }
    // Then the shape. serde names the position where it stopped (the last byte it read: the end of
    // a bad value, the closing brace of an object that lacks a member), which is inside the
    // offending value: its pointer is the innermost value there.
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
        let (line, col) = (e.line().max(1), e.column().max(1));
        // Line L starts after the (L-1)th newline; serde counts columns in bytes from 1.
        let line_start = match line {
            1 => 0,
            l => text
                .match_indices('\n')
                .nth(l - 2)
                .map_or(0, |(i, _)| i + 1),
        };
        let pointer = snapshot::pointer_at(&text, line_start + col - 1);
        refuse(
            Some((line, col)),
            pointer,
            format!("not a run manifest: {}", words(&e)),
        )
    })?;
    manifest.check().map_err(|(pointer, message)| {
        let at = snapshot::locate(&text, &pointer);
        refuse(at, Some(pointer), message)
    })?;
    if let Some((i, n)) = claimed {
        if manifest.shard != Some(Shard { index: i, count: n }) {
            let says = manifest
                .shard
                .map_or("is not a shard part".to_string(), |s| {
                    format!("is shard {}/{}", s.index, s.count)
                });
            let pointer = if manifest.shard.is_some() {
                "/shard"
            } else {
                ""
            };
            return Err(refuse(
                snapshot::locate(&text, pointer),
                Some(pointer.into()),
                format!("the file name says shard {i} of {n}, and the manifest {says}"),
            ));
        }
    }
    Ok(Loaded::new(shown, text, manifest))
}

/// Why an account could not be collected, in words.
pub(crate) fn failure_words(m: &Manifest, a: &Account) -> String {
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

/// Manifests built in code, for the tests of this module and its parts.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn manifest(accounts: Vec<Account>) -> Manifest {
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
            invalid_account_ids: Vec::new(),
        }
    }

    pub fn account(id: &str, status: Status) -> Account {
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

    pub fn failed(id: &str) -> Account {
        let mut a = account(id, Status::Failed);
        a.error = Some(AccountError {
            operation: "AssumeRole".into(),
            code: "AccessDenied".into(),
            message: None,
        });
        a
    }

    pub fn other_shard(id: &str, shard: u32) -> Account {
        let mut a = account(id, Status::OtherShard);
        a.shard = Some(shard);
        a
    }

    pub fn sharded(mut m: Manifest, index: u32, count: u32) -> Manifest {
        m.shard = Some(Shard { index, count });
        m
    }

    /// `m` as read from `path`.
    pub fn loaded_at(path: &str, m: Manifest) -> Loaded {
        let text = serde_json::to_string_pretty(&m).expect("serialize");
        Loaded::new(path.into(), text, m)
    }

    pub fn loaded(m: Manifest) -> Loaded {
        loaded_at("snapshots/cwl-audit-manifest.json", m)
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn shard_assignment_is_stable_and_in_range() {
        for id in ["000000000000", "123456789012", "999999999999"] {
            let s = Shard::of(id, 4);
            assert!((1..=4).contains(&s));
            assert_eq!(s, Shard::of(id, 4));
        }
        assert_eq!(Shard::of("000000000005", 4), 2);
    }

    fn text_of(m: &Manifest) -> String {
        serde_json::to_string_pretty(m).expect("serialize")
    }

    fn refused(text: &str, claimed: Option<(u32, u32)>) -> Refused {
        parse("d/cwl-audit-manifest.json".into(), text.into(), claimed).expect_err("refused")
    }

    #[test]
    fn other_shard_needs_a_shard_part_and_a_shard_of_its_run() {
        // An unsharded manifest cannot send an account elsewhere ("shard 3/0" before).
        let m = manifest(vec![
            account("111111111111", Status::Collected),
            other_shard("222222222222", 3),
        ]);
        let (pointer, message) = m.check().expect_err("refused");
        assert_eq!(pointer, "/accounts/1/status");
        assert!(message.contains("not a shard part"), "{message}");
        let part = |accounts| sharded(manifest(accounts), 1, 2);
        let e = part(vec![other_shard("222222222222", 3)])
            .check()
            .expect_err("3 of 2");
        assert_eq!(
            e,
            (
                "/accounts/0/shard".into(),
                "shard 3 is not one of the run's 2 shards".into()
            )
        );
        let e = part(vec![other_shard("222222222222", 1)])
            .check()
            .expect_err("itself");
        assert_eq!(e.0, "/accounts/0/shard");
        assert!(e.1.contains("own shard 1/2"), "{}", e.1);
        let mut own = account("222222222222", Status::Collected);
        own.shard = Some(2);
        let e = part(vec![own.clone()])
            .check()
            .expect_err("own entry of shard 2 in part 1");
        assert_eq!(e.0, "/accounts/0/shard");
        own.shard = Some(1);
        assert_eq!(
            part(vec![own, other_shard("333333333333", 2)]).check(),
            Ok(())
        );
    }

    #[test]
    fn a_type_error_names_the_member() {
        let mut m = manifest(vec![account("111111111111", Status::Collected)]);
        m.accounts[0]
            .regions
            .insert("us-east-1".into(), RegionStatus::Complete);
        let good = text_of(&m);
        assert!(parse("x".into(), good.clone(), None).is_ok());
        for (from, to, pointer, words) in [
            (
                "\"collected\"",
                "\"Collected\"",
                "/accounts/0/status",
                "unknown variant `Collected`",
            ),
            (
                "\"status\": \"collected\",",
                "",
                "/accounts/0",
                "missing field `status`",
            ),
            (
                "\"complete\"",
                "\"failed\"",
                "/accounts/0/regions/us-east-1",
                "unknown variant `failed`",
            ),
            (
                "\"member_role\": \"CwlAuditReadOnly\"",
                "\"member_role\": 7",
                "/member_role",
                "invalid type",
            ),
        ] {
            let text = good.replacen(from, to, 1);
            assert_ne!(text, good, "{from}");
            let r = refused(&text, None);
            let place = r.error.place.as_ref().expect("placed");
            assert_eq!(place.pointer.as_deref(), Some(pointer), "{text}");
            assert!(place.line_col.is_some());
            assert!(r.error.message.contains(words), "{}", r.error.message);
            assert!(
                !r.error.message.contains(" at line "),
                "{}",
                r.error.message
            );
            // The accounts it lists are still known.
            assert_eq!(r.named.len(), 1, "{text}");
        }
        let accounts_null = good.replacen("\"accounts\": [", "\"accounts\": null, \"x\": [", 1);
        let r = refused(&accounts_null, None);
        assert_eq!(
            r.error.place.and_then(|p| p.pointer).as_deref(),
            Some("/accounts")
        );
    }

    #[test]
    fn a_refused_manifest_still_names_its_accounts() {
        let m = manifest(vec![
            failed("888888888888"),
            account("888888888888", Status::Collected),
            account("../../etc/pw", Status::Collected),
        ]);
        let text = text_of(&m);
        let r = refused(&text, None);
        assert!(r.error.message.contains("listed twice"), "{}", r.error);
        let ids: Vec<(&str, &str)> = r
            .named
            .iter()
            .map(|n| (n.account_id.as_str(), n.pointer.as_str()))
            .collect();
        // Only 12-digit ids: nothing else can be a snapshot's account.
        assert_eq!(
            ids,
            [
                ("888888888888", "/accounts/0"),
                ("888888888888", "/accounts/1")
            ]
        );
        assert!(r.named[1].line > r.named[0].line);
        // Cut short: not JSON, and the ids written before the cut are still read.
        let cut = &text[..text.find("../../etc").expect("third entry")];
        let r = refused(cut, None);
        assert!(r.error.message.starts_with("invalid JSON"), "{}", r.error);
        let ids: Vec<&str> = r.named.iter().map(|n| n.account_id.as_str()).collect();
        assert_eq!(ids, ["888888888888", "888888888888"]);
        let line = cut
            .lines()
            .position(|l| l.contains("\"account_id\": \"888888888888\""))
            .map(|i| i + 1);
        assert_eq!(Some(r.named[0].line), line, "the line of its `account_id`");
        // Another format: refused, accounts named.
        let mut v2 = manifest(vec![account("111111111111", Status::Collected)]);
        v2.format = "cwl-audit.manifest/v2".into();
        let r = refused(&text_of(&v2), None);
        assert_eq!(r.named.len(), 1);
        assert!(refused("", None).named.is_empty());
    }

    #[test]
    fn the_names_written_are_the_names_eval_reads_as_manifests() {
        for name in [FILE_NAME.to_string(), shard_file_name(2, 3)] {
            assert!(snapshot::is_manifest_path(Path::new(&name)), "{name}");
        }
        assert!(!snapshot::is_manifest_path(Path::new(
            "111111111111/us-east-1.json"
        )));
    }

    #[test]
    fn a_shard_file_name_must_match_its_shard() {
        assert_eq!(
            shard_in_name(Path::new("o/cwl-audit-manifest.shard-2-of-3.json")),
            Some((2, 3))
        );
        assert_eq!(shard_in_name(Path::new("o/cwl-audit-manifest.json")), None);
        let m = sharded(
            manifest(vec![account("111111111111", Status::Collected)]),
            2,
            2,
        );
        let r = refused(&text_of(&m), Some((1, 2)));
        assert_eq!(
            r.error.message,
            "the file name says shard 1 of 2, and the manifest is shard 2/2"
        );
        assert!(parse("x".into(), text_of(&m), Some((2, 2))).is_ok());
        let whole = manifest(vec![account("111111111111", Status::Collected)]);
        assert!(refused(&text_of(&whole), Some((1, 2)))
            .error
            .message
            .ends_with("the manifest is not a shard part"));
    }

    #[test]
    fn check_refuses_times_that_cannot_be_compared_and_an_empty_organization() {
        let base = manifest(vec![account("111111111111", Status::Collected)]);
        for (edit, pointer) in [
            (
                Box::new(|m: &mut Manifest| m.started_at = "not-a-time".into())
                    as Box<dyn Fn(&mut Manifest)>,
                "/started_at",
            ),
            (Box::new(|m| m.started_at = String::new()), "/started_at"),
            (
                Box::new(|m| m.started_at = "2026-13-45T99:00:00Z".into()),
                "/started_at",
            ),
            (
                Box::new(|m| m.finished_at = Some("2026-11-30T00:00:00Z".into())),
                "/finished_at",
            ),
            (
                Box::new(|m| m.finished_at = Some("soon".into())),
                "/finished_at",
            ),
            (Box::new(|m| m.accounts.clear()), "/accounts"),
        ] {
            let mut m = base.clone();
            edit(&mut m);
            assert_eq!(m.check().map_err(|e| e.0), Err(pointer.to_string()));
        }
        assert_eq!(base.check(), Ok(()));
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
