//! The first pass over a run's files: whose each file is, which accounts it names, which files
//! are duplicates; then loading one account's files when it is decided.
use super::input_notifications;
use crate::findings::Notification;
use crate::snapshot::{self, LoadError, Snapshot};
use rayon::prelude::*;
use regorus::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// An account as policies see it: `{account_id, partition, regions: {region: snapshot}}`.
fn account_input(id: &str, partition: &str, snapshots: Vec<Snapshot>) -> Value {
    let regions: BTreeMap<Value, Value> = snapshots
        .into_iter()
        .map(|s| (Value::from(s.region), s.doc))
        .collect();
    obj(vec![
        ("account_id", Value::from(id)),
        ("partition", Value::from(partition)),
        ("regions", Value::from(regions)),
    ])
}

fn obj(entries: Vec<(&str, Value)>) -> Value {
    Value::from(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// One file of an account, as the first pass saw it.
pub(super) struct File {
    /// Position in discovery order: reports list inputs and problems in this order.
    index: usize,
    path: PathBuf,
    region: String,
    /// Set when the first pass already had to parse the file in full.
    loaded: Option<Snapshot>,
}

/// The files of one account, one per region.
pub(super) struct AccountFiles {
    pub(super) id: String,
    pub(super) partition: String,
    pub(super) files: Vec<File>,
    /// Other snapshots name this account in an ARN: it is parsed up front and kept for the run.
    pub(super) resident: bool,
}

/// What the first pass learned about every file.
pub(super) struct LoadPlan {
    pub(super) accounts: Vec<AccountFiles>,
    pub(super) errors: Vec<(usize, LoadError)>,
}

/// What the first pass learned about one file.
pub(super) enum Seen {
    /// The header and the accounts its ARNs name, from a light scan; parsed when decided.
    Scanned(snapshot::Scan),
    /// Parsed in full (the scan could not place it, or the caller holds it in memory).
    Loaded(Result<Snapshot, LoadError>),
}

/// The first pass: who each file belongs to and which accounts it names. A file the scan cannot
/// place (bad JSON, missing header) is parsed in full here, so it reports its error exactly as
/// before; one that parses after all is kept in memory and treated as naming every account.
pub(super) fn plan(files: Vec<PathBuf>) -> LoadPlan {
    let seen: Vec<Seen> = files
        .par_iter()
        .map(|f| {
            let scanned = snapshot::read_file(f)
                .ok()
                .and_then(|bytes| snapshot::scan(&bytes).ok())
                .filter(|s| s.account_id.is_some() && s.region.is_some() && s.partition.is_some());
            match scanned {
                Some(s) => Seen::Scanned(s),
                None => Seen::Loaded(snapshot::load_file(f)),
            }
        })
        .collect();
    group(
        files
            .into_iter()
            .zip(seen)
            .enumerate()
            .map(|(i, (p, s))| (i, p, s)),
    )
}

/// The plan of snapshots already in memory, each with its discovery index: the same rules as for
/// files (a duplicate account and region, or a partition that differs, is left out), and every
/// account resident, since all of them are held anyway.
pub(super) fn plan_loaded(snapshots: impl Iterator<Item = (usize, Snapshot)>) -> LoadPlan {
    group(snapshots.map(|(i, s)| (i, PathBuf::from(&s.path), Seen::Loaded(Ok(s)))))
}

/// Groups the files by account and region (see [`plan`]).
fn group(entries: impl Iterator<Item = (usize, PathBuf, Seen)>) -> LoadPlan {
    let mut errors = Vec::new();
    let mut referenced: BTreeSet<String> = BTreeSet::new();
    let mut everything = false;
    // (account, region) -> files claiming it, in discovery order.
    let mut by_key: BTreeMap<(String, String), Vec<(File, String)>> = BTreeMap::new();
    for (index, path, seen) in entries {
        let (account, region, partition, loaded) = match seen {
            Seen::Scanned(s) => {
                let (Some(account), Some(region), Some(partition)) =
                    (s.account_id, s.region, s.partition)
                else {
                    continue;
                };
                referenced.extend(s.refs.into_iter().filter(|r| *r != account));
                (account, region, partition, None)
            }
            Seen::Loaded(Err(e)) => {
                errors.push((index, e));
                continue;
            }
            Seen::Loaded(Ok(s)) => {
                everything = true;
                (
                    s.account_id.clone(),
                    s.region.clone(),
                    s.partition.clone(),
                    Some(s),
                )
            }
        };
        by_key.entry((account, region.clone())).or_default().push((
            File {
                index,
                path,
                region,
                loaded,
            },
            partition,
        ));
    }
    let mut accounts: BTreeMap<String, AccountFiles> = BTreeMap::new();
    for ((account, region), mut copies) in by_key {
        // A second snapshot of the same account and region: which one is right cannot be known,
        // so all of them are left out.
        if copies.len() > 1 {
            let all: Vec<String> = copies
                .iter()
                .map(|(f, _)| crate::fsutil::display_path(&f.path))
                .collect();
            for (f, _) in &copies {
                errors.push((
                    f.index,
                    LoadError::new(
                        &crate::fsutil::display_path(&f.path),
                        duplicate_message(&account, &region, &all),
                    ),
                ));
            }
            continue;
        }
        let Some((file, partition)) = copies.pop() else {
            continue;
        };
        let entry = accounts
            .entry(account.clone())
            .or_insert_with(|| AccountFiles {
                id: account.clone(),
                partition: partition.clone(),
                files: Vec::new(),
                resident: false,
            });
        if entry.partition != partition {
            errors.push((
                file.index,
                LoadError::new(
                    &crate::fsutil::display_path(&file.path),
                    format!(
                        "partition \"{partition}\" differs from \"{}\" in the other snapshots of account {account}; left out",
                        entry.partition
                    ),
                ),
            ));
            continue;
        }
        entry.files.push(file);
    }
    let accounts = accounts
        .into_values()
        .map(|mut a| {
            a.resident = everything
                || referenced.contains(&a.id)
                || a.files.iter().any(|f| f.loaded.is_some());
            a
        })
        .collect();
    LoadPlan { accounts, errors }
}

/// An account's snapshots, parsed; files that fail the full parse become errors.
pub(super) struct LoadedAccount {
    /// The account as policies see it; `None` when none of its files could be used.
    pub(super) input: Option<Value>,
    /// (discovery index, path) of each usable file.
    pub(super) used: Vec<(usize, String)>,
    /// ((account, region), path) of each usable file, to place findings.
    pub(super) paths: Vec<((String, String), String)>,
    /// ((account, region), `collected_at`) of each usable file that has one: the run manifest
    /// tells a snapshot of its collection from an older one by it.
    pub(super) collected_at: Vec<((String, String), String)>,
    /// Files that failed the full parse, by discovery index.
    pub(super) errors: Vec<(usize, LoadError)>,
    /// What the collector could not read, per file, by discovery index.
    pub(super) warnings: Vec<(usize, Notification)>,
}

pub(super) fn load_account(account: &mut AccountFiles) -> LoadedAccount {
    let mut out = LoadedAccount {
        input: None,
        used: Vec::new(),
        paths: Vec::new(),
        collected_at: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut snapshots = Vec::with_capacity(account.files.len());
    for f in &mut account.files {
        let loaded = match f.loaded.take() {
            Some(s) => Ok(s),
            None => snapshot::load_file(&f.path),
        };
        match loaded {
            // The first pass read the same text; a file changed in between is refused rather
            // than filed under the wrong account.
            Ok(s)
                if s.account_id != account.id
                    || s.region != f.region
                    || s.partition != account.partition =>
            {
                out.errors.push((
                    f.index,
                    LoadError::new(
                        &s.path,
                        "the file changed while it was being read; left out",
                    ),
                ));
            }
            Ok(s) => {
                out.warnings.extend(
                    input_notifications(std::slice::from_ref(&s), &[])
                        .into_iter()
                        .map(|n| (f.index, n)),
                );
                out.used.push((f.index, s.path.clone()));
                out.paths
                    .push(((s.account_id.clone(), s.region.clone()), s.path.clone()));
                if let Ok(at) = s.doc["collected_at"].as_string() {
                    out.collected_at
                        .push(((s.account_id.clone(), s.region.clone()), at.to_string()));
                }
                snapshots.push(s);
            }
            Err(e) => out.errors.push((f.index, e)),
        }
    }
    if !snapshots.is_empty() {
        out.input = Some(account_input(&account.id, &account.partition, snapshots));
    }
    out
}

/// Why two or more snapshots of one account and region are left out (by `eval` and by `diff`):
/// which one is right cannot be known.
pub fn duplicate_message(account: &str, region: &str, paths: &[impl AsRef<str>]) -> String {
    let paths: Vec<&str> = paths.iter().map(AsRef::as_ref).collect();
    format!(
        "duplicate snapshot for account {account} region {region} (in {}); {} left out",
        paths.join(", "),
        if paths.len() == 2 { "both" } else { "all" }
    )
}
