//! The manifests of a run, combined into one standing per account: what this collection did with
//! it (collected, skipped, or not collected and why), and where a manifest says so.
//!
//! Several manifests meet in one run: the parts of a sharded collection, the collections of several
//! organizations, and now and then files of two collections mixed in one directory tree. They must
//! agree: an account claimed as its own by two shard parts, two parts with the same index that say
//! different things, parts that disagree on the number of shards, or one account collected per one
//! manifest and failed per another cannot be settled by preferring one file (whichever file is
//! stale, its snapshots may be the ones found). Each such contradiction is an input error naming both
//! files, and the accounts concerned get no pass.
use crate::findings::{Level, Notification};
use crate::manifest::{failure_words, shard_file_name, Account, Loaded, Refused, Status};
use crate::text::plural;
use std::collections::{BTreeMap, BTreeSet};

/// Where a manifest speaks about an account, with what a finding there shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mention {
    pub path: String,
    pub pointer: String,
    pub line: usize,
    /// The first region the manifest asked for (a finding's location needs one).
    pub region: String,
    /// The account's ARN in its organization, when the entry could be read.
    pub resource: Option<String>,
    /// The account's name, when the entry has one.
    pub name: Option<String>,
}

/// One account's entry in one manifest.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry<'a> {
    /// Index into the manifests used.
    pub file: usize,
    pub manifest: &'a Loaded,
    pub index: usize,
    pub account: &'a Account,
}

impl Entry<'_> {
    pub fn spot(&self) -> Mention {
        let m = &self.manifest.manifest;
        Mention {
            path: self.manifest.path.clone(),
            pointer: format!("/accounts/{}", self.index),
            line: self.manifest.lines.get(self.index).copied().unwrap_or(1),
            region: m.regions.first().cloned().unwrap_or_default(),
            resource: Some(crate::arn::organization_account(
                &m.organization.partition,
                &m.organization.management_account_id,
                &m.organization.id,
                &self.account.account_id,
            )),
            name: self.account.name.clone(),
        }
    }

    fn org(&self) -> &str {
        &self.manifest.manifest.organization.id
    }

    /// The family of files this entry's file belongs to: the parts of one sharded run (same
    /// organization and count), or the whole-run manifests of one organization.
    fn family(&self) -> (&str, Option<u32>) {
        (self.org(), self.manifest.manifest.shard.map(|s| s.count))
    }
}

/// What the manifests say about one account.
#[derive(Debug, Clone)]
pub(super) enum Standing<'a> {
    /// Collected by this run (`collected` or `partial`); `regions`: the regions it collected, when
    /// the manifest says (its `regions`, or every region asked for when it is `collected`).
    Collected {
        entry: Entry<'a>,
        regions: Option<BTreeSet<&'a str>>,
    },
    /// Left out on purpose.
    Skipped { entry: Entry<'a>, reason: String },
    /// Not collected by this run (`stale`: its snapshots, if any, are older), or the manifests
    /// cannot say what became of it (a contradiction, a manifest that could not be used): why, in
    /// words.
    Not {
        why: String,
        spot: Mention,
        stale: bool,
    },
}

/// The standing of every account the manifests name, and the problems found combining them.
pub(super) struct Record<'a> {
    pub by_account: BTreeMap<String, Standing<'a>>,
    pub notifications: Vec<Notification>,
    /// The manifests used, identical copies left out.
    pub used: Vec<&'a Loaded>,
}

/// A contradiction about one account between the manifests `a` and `b` (indexes of used files),
/// in words that call them "the first" and "the second".
struct Clash {
    a: usize,
    b: usize,
    detail: String,
}

pub(super) fn combine<'a>(manifests: &'a [Loaded], refused: &'a [Refused]) -> Record<'a> {
    // The same file reached twice (`eval d d`) or copied says nothing new.
    let mut used: Vec<&Loaded> = Vec::new();
    for m in manifests {
        if !used.iter().any(|u| u.text == m.text) {
            used.push(m);
        }
    }
    let mut entries: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
    let mut families: BTreeMap<(&str, Option<u32>), Vec<usize>> = BTreeMap::new();
    for (file, m) in used.iter().enumerate() {
        for (index, account) in m.manifest.accounts.iter().enumerate() {
            let e = Entry {
                file,
                manifest: m,
                index,
                account,
            };
            entries
                .entry(account.account_id.as_str())
                .or_default()
                .push(e);
        }
        families
            .entry((
                m.manifest.organization.id.as_str(),
                m.manifest.shard.map(|s| s.count),
            ))
            .or_default()
            .push(file);
    }
    let mut notifications = Vec::new();
    // Whole files that cannot belong together: every account they list is concerned.
    let mut whole_clash: BTreeMap<&str, String> = BTreeMap::new();
    for (a, b, why) in file_clashes(&used) {
        let ids: BTreeSet<&str> = [a, b]
            .iter()
            .flat_map(|&f| used[f].manifest.accounts.iter())
            .map(|x| x.account_id.as_str())
            .collect();
        notifications.push(Notification {
            level: Level::Error,
            message: format!(
                "the manifests {} and {} {why}: the {} they list {} left unknown",
                used[a].path,
                used[b].path,
                plural(ids.len(), "account"),
                if ids.len() == 1 { "is" } else { "are" }
            ),
            path: Some(used[a].path.clone()),
            line: None,
        });
        for id in ids {
            whole_clash.entry(id).or_insert_with(|| {
                format!(
                    "the manifests {} and {} {why}, and both list account {id}",
                    used[a].path, used[b].path
                )
            });
        }
    }
    let mut by_account = BTreeMap::new();
    let mut clashes: BTreeMap<(usize, usize), Vec<(&str, String)>> = BTreeMap::new();
    for (id, es) in &entries {
        let first = es[0];
        if let Some(why) = whole_clash.get(id) {
            by_account.insert(
                id.to_string(),
                Standing::Not {
                    why: why.clone(),
                    spot: first.spot(),
                    stale: false,
                },
            );
            continue;
        }
        if let Some(c) = clash(es, &families) {
            let why = format!(
                "the manifests {} and {} disagree about account {id}: {}",
                used[c.a].path, used[c.b].path, c.detail
            );
            clashes.entry((c.a, c.b)).or_default().push((id, c.detail));
            by_account.insert(
                id.to_string(),
                Standing::Not {
                    why,
                    spot: first.spot(),
                    stale: false,
                },
            );
            continue;
        }
        let own = es.iter().find(|e| e.account.status != Status::OtherShard);
        let standing = standing(*own.unwrap_or(&first), &used, refused);
        by_account.insert(id.to_string(), standing);
    }
    for ((a, b), accounts) in clashes {
        const SHOWN: usize = 5;
        let mut list: Vec<String> = accounts
            .iter()
            .take(SHOWN)
            .map(|(id, d)| format!("{id} ({d})"))
            .collect();
        if accounts.len() > SHOWN {
            list.push(format!("and {} more", accounts.len() - SHOWN));
        }
        notifications.push(Notification {
            level: Level::Error,
            message: format!(
                "the manifests {} (the first) and {} (the second) disagree about {}, left unknown: {}",
                used[a].path,
                used[b].path,
                plural(accounts.len(), "account"),
                list.join("; ")
            ),
            path: Some(used[a].path.clone()),
            line: None,
        });
    }
    // A refused manifest said something about the accounts it names; what, is not known.
    for r in refused {
        for n in &r.named {
            let why = format!(
                "the manifest that lists account {} could not be used: {}",
                n.account_id, r.error
            );
            let spot = Mention {
                path: r.error.path.clone(),
                pointer: n.pointer.clone(),
                line: n.line,
                region: String::new(),
                resource: None,
                name: None,
            };
            let s = by_account
                .entry(n.account_id.clone())
                .or_insert(Standing::Not {
                    why: why.clone(),
                    spot: spot.clone(),
                    stale: false,
                });
            if !matches!(s, Standing::Not { .. }) {
                *s = Standing::Not {
                    why,
                    spot,
                    stale: false,
                };
            }
        }
    }
    Record {
        by_account,
        notifications,
        used,
    }
}

/// Pairs of files that cannot be parts of one record, whatever their accounts say: manifests of
/// one organization id with different management accounts or partitions, and shard parts of one
/// organization that disagree on the number of shards. The first pair found per organization.
/// The longest time between the starts of two shard parts of one run (see [`file_clashes`]).
const MAX_PART_SPREAD_MS: i64 = 24 * 3600 * 1000;

fn file_clashes(used: &[&Loaded]) -> Vec<(usize, usize, String)> {
    let mut by_org: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, m) in used.iter().enumerate() {
        by_org
            .entry(m.manifest.organization.id.as_str())
            .or_default()
            .push(i);
    }
    let mut out = Vec::new();
    for (org, files) in by_org {
        let o = |f: usize| &used[f].manifest.organization;
        if let Some(&b) = files.iter().find(|&&f| o(f) != o(files[0])) {
            let a = files[0];
            out.push((
                a,
                b,
                format!(
                    "are both of organization {org}, with management account {} ({}) in the first and {} ({}) in the second",
                    o(a).management_account_id,
                    o(a).partition,
                    o(b).management_account_id,
                    o(b).partition
                ),
            ));
            continue;
        }
        let sharded: Vec<usize> = files
            .iter()
            .copied()
            .filter(|&f| used[f].manifest.shard.is_some())
            .collect();
        let count = |f: usize| used[f].manifest.shard.map_or(0, |s| s.count);
        let index = |f: usize| used[f].manifest.shard.map_or(0, |s| s.index);
        if let Some(&b) = sharded.iter().find(|&&f| count(f) != count(sharded[0])) {
            let a = sharded[0];
            out.push((
                a,
                b,
                format!(
                    "are shard parts of one organization ({org}) that disagree on the number of shards (shard {}/{} and shard {}/{})",
                    index(a),
                    count(a),
                    index(b),
                    count(b)
                ),
            ));
            continue;
        }
        // A whole-run manifest beside shard parts of the same organization: two collections
        // (an older one left in the directory, say). The whole run would vouch for the accounts
        // of a part that never arrived, on its older snapshots.
        if let (Some(&a), Some(&b)) = (
            files.iter().find(|&&f| used[f].manifest.shard.is_none()),
            sharded.first(),
        ) {
            out.push((
                a,
                b,
                format!(
                    "are two collections of organization {org}, a whole run and shard {}/{} of a sharded one (remove the older)",
                    index(b),
                    count(b)
                ),
            ));
            continue;
        }
        // The parts of one sharded run were started with the same arguments; parts that differ
        // are of different runs, and one cannot stand in for the other's accounts.
        let args = |f: usize| {
            let m = &used[f].manifest;
            (
                &m.caller_account_id,
                &m.member_role,
                &m.regions,
                m.all_regions,
                &m.selection,
            )
        };
        if let Some(&b) = sharded.iter().find(|&&f| args(f) != args(sharded[0])) {
            let a = sharded[0];
            out.push((
                a,
                b,
                format!(
                    "are shard parts of organization {org} collected with different arguments (caller, --member-role, regions or selection): parts of different runs"
                ),
            ));
            continue;
        }
        // The jobs of one CI matrix start within minutes (a re-run of a failed job, within
        // hours); parts started more than a day apart are of different runs.
        let start = |f: usize| crate::manifest::instant(&used[f].manifest.started_at);
        let starts: Vec<(usize, i64)> = sharded
            .iter()
            .filter_map(|&f| start(f).map(|t| (f, t)))
            .collect();
        if let (Some(&(a, first)), Some(&(b, last))) = (
            starts.iter().min_by_key(|(_, t)| *t),
            starts.iter().max_by_key(|(_, t)| *t),
        ) {
            if last - first > MAX_PART_SPREAD_MS {
                out.push((
                    a,
                    b,
                    format!(
                        "are shard parts of organization {org} started more than a day apart ({} and {}): parts of different runs",
                        used[a].manifest.started_at, used[b].manifest.started_at
                    ),
                ));
            }
        }
    }
    out
}

/// The first contradiction among one account's entries, if any.
fn clash(es: &[Entry], families: &BTreeMap<(&str, Option<u32>), Vec<usize>>) -> Option<Clash> {
    let own: Vec<&Entry> = es
        .iter()
        .filter(|e| e.account.status != Status::OtherShard)
        .collect();
    let shard_of = |e: &Entry| e.manifest.manifest.shard;
    // An account is in one organization at a time: two organizations listing it are two states
    // of the world mixed in one run, and neither may vouch for the other's shard parts.
    if let Some(other) = es.iter().find(|e| e.org() != es[0].org()) {
        return Some(Clash {
            a: es[0].file,
            b: other.file,
            detail: format!(
                "listed by organization {} in the first and by organization {} in the second (an account is in one organization)",
                es[0].org(),
                other.org()
            ),
        });
    }
    // Two files that each say what became of the account.
    if let Some(first) = own.first() {
        for o in &own[1..] {
            if o.account.status != first.account.status {
                return Some(Clash {
                    a: first.file,
                    b: o.file,
                    detail: format!(
                        "{} in the first, {} in the second",
                        first.account.status.as_str(),
                        o.account.status.as_str()
                    ),
                });
            }
            // A skipped account (suspended, or left out by the selection) is collected by no
            // shard, so every part of a sharded run lists it as skipped: agreement, not a clash.
            let both_skipped =
                first.account.status == Status::Skipped && o.account.status == Status::Skipped;
            if let (Some(s), Some(t)) = (shard_of(first), shard_of(o)) {
                if first.org() == o.org() && s.index != t.index && !both_skipped {
                    return Some(Clash {
                        a: first.file,
                        b: o.file,
                        detail: format!(
                            "shard {}/{} (the first) and shard {}/{} (the second) both list it as {}",
                            s.index,
                            s.count,
                            t.index,
                            t.count,
                            o.account.status.as_str()
                        ),
                    });
                }
            }
        }
    }
    // A part that sends the account to another shard than the one claiming it, or two parts that
    // send it to different shards. (Linear in the entries: every part of a run lists every
    // account, so an account has as many entries as the run has parts.)
    let mut first_sent: BTreeMap<(&str, Option<u32>), &Entry> = BTreeMap::new();
    for e in es.iter().filter(|e| e.account.status == Status::OtherShard) {
        let (Some(k), Some(s)) = (e.account.shard, shard_of(e)) else {
            continue;
        };
        let owner = own
            .iter()
            .find(|o| o.org() == e.org() && shard_of(o).is_some_and(|t| t.count == s.count));
        if let Some(o) = owner {
            let t = shard_of(o).map_or(0, |t| t.index);
            if t != k {
                return Some(Clash {
                    a: e.file,
                    b: o.file,
                    detail: format!(
                        "the first sends it to shard {k}/{}, and the second, shard {t}/{}, lists it as {}",
                        s.count,
                        s.count,
                        o.account.status.as_str()
                    ),
                });
            }
            continue;
        }
        let f = *first_sent.entry(e.family()).or_insert(e);
        if f.account.shard != Some(k) {
            return Some(Clash {
                a: f.file,
                b: e.file,
                detail: format!(
                    "the first sends it to shard {}/{}, the second to shard {k}/{}",
                    f.account.shard.unwrap_or(0),
                    s.count,
                    s.count
                ),
            });
        }
    }
    // Every part of a sharded run lists the whole organization, and so does every whole-run
    // manifest: one that leaves the account out is of another organization state (another run).
    let mut listing: BTreeMap<(&str, Option<u32>), BTreeSet<usize>> = BTreeMap::new();
    for e in es {
        listing.entry(e.family()).or_default().insert(e.file);
    }
    for (family, files_listing) in &listing {
        let Some(files) = families.get(family) else {
            continue;
        };
        if let Some(&missing) = files.iter().find(|f| !files_listing.contains(f)) {
            let a = files_listing.iter().next().copied().unwrap_or_default();
            return Some(Clash {
                a,
                b: missing,
                detail: "listed in the first, not in the second".into(),
            });
        }
    }
    None
}

/// What an account's entry says, once the manifests agree about it.
fn standing<'a>(e: Entry<'a>, used: &[&'a Loaded], refused: &[Refused]) -> Standing<'a> {
    let m = &e.manifest.manifest;
    let a = e.account;
    let id = &a.account_id;
    let not = |why: String| Standing::Not {
        why,
        spot: e.spot(),
        stale: true,
    };
    match a.status {
        Status::Collected | Status::Partial => {
            let regions = if !a.regions.is_empty() {
                Some(a.regions.keys().map(String::as_str).collect())
            } else if a.status == Status::Collected {
                // `collected`: every region asked for, every call succeeded.
                Some(m.regions.iter().map(String::as_str).collect())
            } else {
                None
            };
            Standing::Collected { entry: e, regions }
        }
        Status::Skipped => Standing::Skipped {
            entry: e,
            reason: a.reason.clone().unwrap_or_else(|| "skipped".into()),
        },
        Status::Failed => not(failure_words(m, a)),
        Status::Pending => not(format!(
            "account {id} was not collected: the collection stopped before it (run `collect --organization ... --resume` to finish it)"
        )),
        Status::OtherShard => {
            // `check` made sure both are there; 0 cannot name a part.
            let shard = a.shard.unwrap_or(0);
            let count = m.shard.map_or(0, |s| s.count);
            let part = used.iter().find(|u| {
                u.manifest.organization.id == m.organization.id
                    && u.manifest.shard.is_some_and(|s| s.index == shard && s.count == count)
            });
            let name = shard_file_name(shard, count);
            let unusable = refused
                .iter()
                .find(|r| r.error.path.rsplit('/').next() == Some(name.as_str()));
            not(match (part, unusable) {
                (Some(p), _) => format!(
                    "account {id} belongs to shard {shard}/{count}, whose manifest ({}) does not list it",
                    p.path
                ),
                (None, Some(r)) => format!(
                    "account {id} belongs to shard {shard}/{count}, and that shard's manifest could not be used: {}",
                    r.error
                ),
                (None, None) => format!(
                    "account {id} belongs to shard {shard}/{count}, and that shard's manifest of organization {} ({name}) was not found",
                    m.organization.id
                ),
            })
        }
    }
}
