//! What the manifests change in a run's findings. A pass stands only on snapshots this collection
//! wrote: the account's own, and those of every account its chain runs through (an organization
//! trail's owner, a log group or an SNS topic in a central account). Snapshots the manifests do not
//! vouch for are older evidence, so a pass from them becomes `unknown`; a fail or an unknown stands,
//! with a note.
use super::standing::{combine, Entry, Mention, Standing};
use crate::arn::is_account_id;
use crate::findings::{Finding, Level, Location, Notification, Verdict};
use crate::manifest::{instant, Loaded, Refused, RegionStatus};
use crate::text::plural;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What `eval` hands over: the manifests found (read, or refused), the snapshots used and the rules.
pub struct Run<'a> {
    pub manifests: &'a [Loaded],
    pub refused: &'a [Refused],
    /// Every snapshot used, by account and region: its path.
    pub snapshots: &'a BTreeMap<(String, String), String>,
    /// The snapshots' `collected_at`, by account and region, where they have one.
    pub collected_at: &'a BTreeMap<(String, String), String>,
    /// The ids of the rules that were evaluated.
    pub rules: &'a [String],
}

/// What the manifests add to a run: a finding per rule for every expected account without
/// snapshots (`unknown`, saying why), the problems found in the manifests, and notes.
pub struct Applied {
    pub findings: Vec<Finding>,
    pub notifications: Vec<Notification>,
}

/// Applies the manifests of `run` to its findings: passes they do not vouch for become `unknown`,
/// findings of skipped accounts are dropped (a skipped account gets no verdict), and the rest is
/// returned (see [`Applied`]).
pub fn apply(run: &Run, findings: &mut Vec<Finding>) -> Applied {
    let record = combine(run.manifests, run.refused);
    let mut notifications = record.notifications;
    for m in run.manifests {
        if !m.manifest.invalid_account_ids.is_empty() {
            notifications.push(Notification {
                level: Level::Error,
                message: format!(
                    "{}: Organizations listed {} that {} not 12 digits ({}): not collected, so the organization is not proven",
                    m.path,
                    plural(m.manifest.invalid_account_ids.len(), "account id"),
                    if m.manifest.invalid_account_ids.len() == 1 { "is" } else { "are" },
                    m.manifest.invalid_account_ids.join(", ")
                ),
                path: Some(m.path.clone()),
                line: None,
            });
        }
    }
    let mut regions_of: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for ((account, region), path) in run.snapshots {
        regions_of
            .entry(account.as_str())
            .or_default()
            .insert(region.as_str(), path.as_str());
    }
    let strays = strays(&record.by_account, &record.used, run.refused, &regions_of);
    let standing_of = |id: &str| record.by_account.get(id).or_else(|| strays.get(id));
    // Snapshots of collected accounts that this collection did not write, by account and region.
    let mut stale: BTreeMap<(&str, &str), String> = BTreeMap::new();
    for (id, standing) in &record.by_account {
        if let (Standing::Collected { entry, regions }, Some(found)) =
            (standing, regions_of.get(id.as_str()))
        {
            check_regions(
                id,
                entry,
                regions.as_ref(),
                found,
                run.collected_at,
                &mut stale,
                &mut notifications,
            );
        }
    }

    // Skipped accounts get no verdict, whatever snapshots of theirs are found.
    let mut skipped_found = BTreeSet::new();
    findings.retain(|f| match standing_of(&f.account_id) {
        Some(Standing::Skipped { .. }) => {
            skipped_found.insert(f.account_id.clone());
            false
        }
        _ => true,
    });
    for f in findings.iter_mut() {
        let own = standing_of(&f.account_id);
        if let Some(Standing::Not { why, spot, stale }) = own {
            let then = if *stale {
                "its snapshots were not written by this collection"
            } else {
                "a pass from its snapshots is not proven"
            };
            demote(f, format!("{why}; {then}"), spot, "account");
            continue;
        }
        // Every account and region the evidence comes from must be this collection's too.
        let mut unlisted = BTreeSet::new();
        for t in touched(f) {
            let problem = match standing_of(&t.account) {
                None => {
                    if own.is_some() {
                        unlisted.insert(t.account.clone());
                    }
                    None
                }
                Some(Standing::Not { why, spot, .. }) => Some((
                    format!(
                        "the chain runs through account {} ({}), and {why}",
                        t.account, t.what
                    ),
                    spot.clone(),
                )),
                Some(Standing::Skipped { entry, reason }) => Some((
                    format!(
                        "the chain runs through account {} ({}), which the collection skipped ({reason})",
                        t.account, t.what
                    ),
                    entry.spot(),
                )),
                Some(Standing::Collected { entry, .. }) => t
                    .region
                    .as_deref()
                    .and_then(|r| stale.get(&(t.account.as_str(), r)))
                    .map(|why| {
                        (
                            format!(
                                "the chain runs through {} of account {} ({}), and {why}",
                                t.region.as_deref().unwrap_or_default(),
                                t.account,
                                t.what
                            ),
                            entry.spot(),
                        )
                    }),
            };
            if let Some((why, spot)) = problem {
                demote(f, why, &spot, "account");
                break;
            }
        }
        if f.verdict == Verdict::Pass {
            for acct in unlisted {
                f.notes.push(format!(
                    "the chain runs through account {acct}, which no manifest lists: its snapshots are used as found"
                ));
            }
        }
    }

    // Expected accounts without snapshots: an unknown per rule, at their manifest entry.
    let mut out = Vec::new();
    let mut skipped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, standing) in &record.by_account {
        let present = regions_of.contains_key(id.as_str());
        let (why, spot) = match standing {
            Standing::Skipped { reason, .. } => {
                skipped.entry(reason).or_default().push(id);
                continue;
            }
            Standing::Collected { .. } | Standing::Not { .. } if present => continue,
            Standing::Collected { entry, .. } => (
                format!(
                    "the manifest lists account {id} as collected, and none of its snapshots was found"
                ),
                entry.spot(),
            ),
            Standing::Not { why, spot, .. } => (why.clone(), spot.clone()),
        };
        for rule in run.rules {
            out.push(Finding {
                rule_id: rule.clone(),
                account_id: id.clone(),
                verdict: Verdict::Unknown,
                message: why.clone(),
                region: None,
                resource: spot.resource.clone(),
                link: Some("account".into()),
                location: Some(location(&spot, id)),
                chain: serde_json::Value::Array(Vec::new()),
                notes: spot
                    .name
                    .iter()
                    .map(|n| format!("account name: {n}"))
                    .collect(),
            });
        }
    }
    for (reason, ids) in skipped {
        let found: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| skipped_found.contains(*id))
            .collect();
        let found = if found.is_empty() {
            String::new()
        } else {
            format!(
                "; snapshots of {} were found and given no verdict",
                found.join(", ")
            )
        };
        notifications.push(Notification {
            level: Level::Note,
            message: format!(
                "{} skipped by the collection ({reason}): {}{found}",
                plural(ids.len(), "account"),
                ids.join(", ")
            ),
            path: record.used.first().map(|m| m.path.clone()),
            line: None,
        });
    }
    Applied {
        findings: out,
        notifications,
    }
}

fn location(spot: &Mention, account: &str) -> Location {
    Location {
        path: spot.path.clone(),
        pointer: spot.pointer.clone(),
        line: spot.line,
        account_id: account.to_string(),
        region: spot.region.clone(),
    }
}

/// A pass that the manifests do not vouch for becomes `unknown` (`why`, at `spot`); any other
/// verdict keeps its message and gets `why` as a note.
fn demote(f: &mut Finding, why: String, spot: &Mention, link: &str) {
    if f.verdict != Verdict::Pass {
        f.notes.push(why);
        return;
    }
    f.verdict = Verdict::Unknown;
    f.notes
        .push(format!("the snapshots found would pass: {}", f.message));
    f.message = why;
    f.link = Some(link.into());
    f.location = Some(location(spot, &f.account_id));
}

/// Region by region, what the manifest says was collected against the snapshots found. A region
/// it lists whose snapshot is missing is a warning. A snapshot of a region it does not list, or
/// collected before the collection started, was left by another collection: a warning, and
/// recorded in `stale` (with why) so that no pass rests on it.
fn check_regions<'a>(
    id: &'a str,
    entry: &Entry,
    regions: Option<&BTreeSet<&str>>,
    found: &BTreeMap<&'a str, &'a str>,
    collected_at: &BTreeMap<(String, String), String>,
    stale: &mut BTreeMap<(&'a str, &'a str), String>,
    out: &mut Vec<Notification>,
) {
    let spot = entry.spot();
    let m = &entry.manifest.manifest;
    if let Some(regions) = regions {
        for r in regions {
            if found.contains_key(r) {
                continue;
            }
            let how = entry
                .account
                .regions
                .get(*r)
                .map_or("collected", |s| match s {
                    RegionStatus::Complete => "complete",
                    RegionStatus::Partial => "partial",
                });
            out.push(Notification {
                level: Level::Warning,
                message: format!(
                    "{}:{}: the manifest lists region {r} of account {id} as {how}, and its snapshot was not found",
                    spot.path, spot.line
                ),
                path: Some(spot.path.clone()),
                line: Some(spot.line),
            });
        }
    }
    let started = instant(&m.started_at);
    let finished = m.finished_at.as_deref().and_then(instant);
    for (&r, &path) in found {
        // What is wrong with the snapshot, said of it (the warning) and of the region (a chain).
        let (warning, why) = if regions.is_some_and(|rs| !rs.contains(r)) {
            let w = format!(
                "the manifest {} does not list region {r} as collected for account {id}",
                spot.path
            );
            (w.clone(), w)
        } else {
            let at = collected_at.get(&(id.to_string(), r.to_string()));
            match (at.and_then(|a| instant(a)), started) {
                // The manifest's start is always readable (checked when it is loaded); a snapshot
                // without a time of its own cannot be told from an older collection's.
                (None, Some(_)) => {
                    let w = match at {
                        Some(a) => format!(
                            "its collected_at {a:?} is not an RFC 3339 time, so it cannot be told from a snapshot older than the collection of the manifest {}",
                            spot.path
                        ),
                        None => format!(
                            "it has no collected_at, so it cannot be told from a snapshot older than the collection of the manifest {}",
                            spot.path
                        ),
                    };
                    (w.clone(), format!("its snapshot {path}: {w}"))
                }
                // Written after the run finished: not by this run (times are to the second).
                (Some(t), Some(_)) if finished.is_some_and(|f| t > f + 1000) => {
                    let w = format!(
                        "collected at {}, after the collection of the manifest {} finished ({})",
                        at.map_or("", String::as_str),
                        spot.path,
                        m.finished_at.as_deref().unwrap_or_default()
                    );
                    (w.clone(), format!("its snapshot {path} was {w}"))
                }
                (Some(t), Some(s)) if t < s => {
                    let w = format!(
                        "collected at {}, before the collection of the manifest {} started ({})",
                        at.map_or("", String::as_str),
                        spot.path,
                        m.started_at
                    );
                    (w.clone(), format!("its snapshot {path} was {w}"))
                }
                _ => continue,
            }
        };
        out.push(Notification {
            level: Level::Warning,
            message: format!(
                "{path}: {warning}: this snapshot is from another collection, and no pass rests on it"
            ),
            path: Some(path.to_string()),
            line: None,
        });
        stale.insert((id, r), why);
    }
}

/// Accounts no manifest lists that still cannot pass: those whose snapshots lie in the directory of
/// a manifest (left there by an earlier collection: every manifest lists the whole organization),
/// and an organization's management account its manifest leaves out.
fn strays<'a>(
    by_account: &BTreeMap<String, Standing<'a>>,
    used: &[&'a Loaded],
    refused: &[Refused],
    regions_of: &BTreeMap<&str, BTreeMap<&str, &str>>,
) -> BTreeMap<String, Standing<'a>> {
    let dir = |p: &str| -> std::path::PathBuf {
        Path::new(p)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    };
    let mut out = BTreeMap::new();
    for (id, regions) in regions_of {
        if by_account.contains_key(*id) {
            continue;
        }
        let within = |m: &str| regions.values().any(|p| Path::new(p).starts_with(dir(m)));
        let spot = |path: &str| Mention {
            path: path.to_string(),
            pointer: String::new(),
            line: 1,
            region: regions
                .keys()
                .next()
                .map(|r| r.to_string())
                .unwrap_or_default(),
            resource: None,
            name: None,
        };
        // (why, where, whether the snapshots are known to be older)
        let why = if let Some(m) = used.iter().find(|m| within(&m.path)) {
            Some((
                format!(
                    "account {id} is not in the manifest {}, though its snapshots are in that collection's directory",
                    m.path
                ),
                spot(&m.path),
                true,
            ))
        } else if let Some(m) = used
            .iter()
            .find(|m| m.manifest.organization.management_account_id == *id)
        {
            Some((
                format!(
                    "the manifest {} of organization {} does not list its management account {id}",
                    m.path, m.manifest.organization.id
                ),
                spot(&m.path),
                false,
            ))
        } else {
            refused.iter().find(|r| within(&r.error.path)).map(|r| {
                (
                    format!(
                        "the manifest of the collection its snapshots are in could not be used: {}",
                        r.error
                    ),
                    spot(&r.error.path),
                    false,
                )
            })
        };
        if let Some((why, spot, stale)) = why {
            out.insert(id.to_string(), Standing::Not { why, spot, stale });
        }
    }
    out
}

/// An account (and region, when known) a finding's evidence comes from.
struct Touched {
    account: String,
    region: Option<String>,
    /// The link, in words (`trail organization-trail`).
    what: String,
}

/// Every account and region a finding rests on: its location, and each link of its chain (a link's
/// `account` and `region`/`home_region`, and the account and region of its `arn`).
fn touched(f: &Finding) -> Vec<Touched> {
    let mut out = Vec::new();
    for link in f.chain.as_array().into_iter().flatten() {
        let s = |k: &str| link.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let what = match (s("link"), s("name")) {
            (Some(l), Some(n)) => format!("{l} {n}"),
            (Some(l), None) => l,
            (None, Some(n)) => n,
            (None, None) => "a link of the chain".into(),
        };
        if let Some(account) = s("account") {
            out.push(Touched {
                account,
                region: s("region").or_else(|| s("home_region")),
                what: what.clone(),
            });
        }
        if let Some(arn) = s("arn") {
            if let Some(a) = crate::arn::Arn::parse(&arn).filter(|a| is_account_id(a.account)) {
                out.push(Touched {
                    account: a.account.to_string(),
                    region: Some(a.region.to_string()).filter(|r| !r.is_empty()),
                    what,
                });
            }
        }
    }
    if let Some(l) = &f.location {
        out.push(Touched {
            account: l.account_id.clone(),
            region: Some(l.region.clone()).filter(|r| !r.is_empty()),
            what: "the snapshot the finding points at".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::fixtures::*;
    use crate::manifest::Status;

    fn rules() -> Vec<String> {
        vec!["CWL-014".to_string(), "CIS-4.1".to_string()]
    }

    /// The snapshots found: `account/region` pairs at `dir/<account>/<region>.json`.
    fn snapshots(dir: &str, pairs: &[(&str, &str)]) -> BTreeMap<(String, String), String> {
        pairs
            .iter()
            .map(|(a, r)| {
                (
                    (a.to_string(), r.to_string()),
                    format!("{dir}/{a}/{r}.json"),
                )
            })
            .collect()
    }

    fn run_apply(
        manifests: &[Loaded],
        refused: &[Refused],
        snaps: &BTreeMap<(String, String), String>,
        findings: &mut Vec<Finding>,
    ) -> Applied {
        // Every snapshot collected during its run (the fixtures' runs start 2026-12-01T00:00:00Z).
        let at: BTreeMap<(String, String), String> = snaps
            .keys()
            .map(|k| (k.clone(), "2026-12-01T00:00:30Z".to_string()))
            .collect();
        apply(
            &Run {
                manifests,
                refused,
                snapshots: snaps,
                collected_at: &at,
                rules: &rules(),
            },
            findings,
        )
    }

    #[test]
    fn a_failed_account_without_snapshots_is_unknown_for_every_rule() {
        let mut suspended = account("333333333333", Status::Skipped);
        suspended.reason = Some("suspended".into());
        let m = loaded(manifest(vec![
            account("111111111111", Status::Collected),
            failed("222222222222"),
            suspended,
        ]));
        let snaps = snapshots("snapshots", &[("111111111111", "us-east-1")]);
        let applied = run_apply(&[m], &[], &snaps, &mut Vec::new());
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
        let m = sharded(
            manifest(vec![
                account("111111111112", Status::Collected),
                other_shard("111111111111", 2),
            ]),
            1,
            2,
        );
        let snaps = snapshots("snapshots", &[("111111111112", "us-east-1")]);
        let applied = run_apply(&[loaded(m)], &[], &snaps, &mut Vec::new());
        assert_eq!(applied.findings.len(), 2);
        assert!(
            applied.findings[0]
                .message
                .contains("shard 2/2, and that shard's manifest of organization o-abc123 (cwl-audit-manifest.shard-2-of-2.json) was not found"),
            "{}",
            applied.findings[0].message
        );
    }

    /// A pass of `account` whose chain runs through `links` (`(link, account, region)`, with the
    /// ARN-less form of a trail or log group, or an `arn` when `account` is `arn:...`).
    fn pass(account: &str, links: &[serde_json::Value]) -> Finding {
        Finding {
            rule_id: "CWL-014".into(),
            account_id: account.into(),
            verdict: Verdict::Pass,
            message: "trail t -> ... -> topic x (1 confirmed subscription)".into(),
            region: Some("us-east-1".into()),
            resource: None,
            link: None,
            location: Some(Location {
                path: format!("org/{account}/us-east-1.json"),
                pointer: "/cloudwatch/MetricAlarms/0".into(),
                line: 9,
                account_id: account.into(),
                region: "us-east-1".into(),
            }),
            chain: serde_json::Value::Array(links.to_vec()),
            notes: Vec::new(),
        }
    }

    fn org_trail(owner: &str) -> serde_json::Value {
        serde_json::json!({"link": "trail", "name": "organization-trail", "account": owner,
            "home_region": "us-east-1", "arn": format!("arn:aws:cloudtrail:us-east-1:{owner}:trail/organization-trail")})
    }

    fn topic(owner: &str) -> serde_json::Value {
        serde_json::json!({"link": "topic", "name": "alerts", "arn": format!("arn:aws:sns:us-east-1:{owner}:alerts")})
    }

    fn verdicts(fs: &[Finding]) -> Vec<(&str, Verdict)> {
        fs.iter()
            .map(|f| (f.account_id.as_str(), f.verdict))
            .collect()
    }

    fn errors(a: &Applied) -> Vec<&str> {
        a.notifications
            .iter()
            .filter(|n| n.level == Level::Error)
            .map(|n| n.message.as_str())
            .collect()
    }

    #[test]
    fn a_pass_through_an_account_this_collection_did_not_collect_is_unknown() {
        let snaps = snapshots(
            "org",
            &[
                ("111111111111", "us-east-1"),
                ("222222222222", "us-east-1"),
                ("333333333333", "us-east-1"),
            ],
        );
        let mut pending = account("111111111111", Status::Pending);
        pending.name = None;
        for (management, why) in [
            (
                failed("111111111111"),
                "the role CwlAuditReadOnly could not be assumed: AccessDenied",
            ),
            (pending, "the collection stopped before it"),
        ] {
            let m = loaded_at(
                "org/cwl-audit-manifest.json",
                manifest(vec![
                    management,
                    account("222222222222", Status::Collected),
                    account("333333333333", Status::Collected),
                ]),
            );
            // 222's organization trail is 111's; 333's alarm notifies a topic in 111.
            let mut findings = vec![
                pass("222222222222", &[org_trail("111111111111")]),
                pass("333333333333", &[topic("111111111111")]),
            ];
            let applied = run_apply(&[m], &[], &snaps, &mut findings);
            assert!(applied.findings.is_empty());
            assert_eq!(
                verdicts(&findings),
                [
                    ("222222222222", Verdict::Unknown),
                    ("333333333333", Verdict::Unknown)
                ]
            );
            let f = &findings[0];
            assert!(
                f.message.starts_with("the chain runs through account 111111111111 (trail organization-trail), and account 111111111111 was not collected: ")
                    && f.message.contains(why),
                "{}",
                f.message
            );
            assert_eq!(f.notes, ["the snapshots found would pass: trail t -> ... -> topic x (1 confirmed subscription)"]);
            let l = f.location.as_ref().expect("at the manifest entry of 111");
            assert_eq!(
                (l.path.as_str(), l.pointer.as_str()),
                ("org/cwl-audit-manifest.json", "/accounts/0")
            );
            assert!(
                findings[1].message.contains("(topic alerts)"),
                "{}",
                findings[1].message
            );
        }
    }

    #[test]
    fn a_fail_through_an_uncollected_account_keeps_its_verdict_with_a_note() {
        let m = loaded(manifest(vec![
            failed("111111111111"),
            account("222222222222", Status::Collected),
        ]));
        let snaps = snapshots(
            "snapshots",
            &[("111111111111", "us-east-1"), ("222222222222", "us-east-1")],
        );
        let mut f = pass("222222222222", &[org_trail("111111111111")]);
        f.verdict = Verdict::Fail;
        f.message = "alarm a has ActionsEnabled=false".into();
        let mut findings = vec![f];
        run_apply(&[m], &[], &snaps, &mut findings);
        assert_eq!(findings[0].verdict, Verdict::Fail);
        assert_eq!(findings[0].message, "alarm a has ActionsEnabled=false");
        assert!(
            findings[0].notes[0].contains("account 111111111111 was not collected"),
            "{:?}",
            findings[0].notes
        );
    }

    #[test]
    fn accounts_no_manifest_lists() {
        // 444 is in no manifest. Its snapshots beside the manifest are left from another
        // collection; elsewhere, they are an input of their own, used as found (with a note).
        let m = loaded_at(
            "org/cwl-audit-manifest.json",
            manifest(vec![
                account("111111111111", Status::Collected),
                account("222222222222", Status::Collected),
            ]),
        );
        for (dir, expect) in [("org", Verdict::Unknown), ("central", Verdict::Pass)] {
            let mut snaps = snapshots(
                "org",
                &[("111111111111", "us-east-1"), ("222222222222", "us-east-1")],
            );
            snaps.extend(snapshots(dir, &[("444444444444", "us-east-1")]));
            let mut findings = vec![
                pass("222222222222", &[topic("444444444444")]),
                pass("444444444444", &[]),
            ];
            run_apply(std::slice::from_ref(&m), &[], &snaps, &mut findings);
            assert_eq!(
                verdicts(&findings),
                [("222222222222", expect), ("444444444444", expect)],
                "{dir}"
            );
            if expect == Verdict::Unknown {
                assert!(findings[1].message.starts_with(
                    "account 444444444444 is not in the manifest org/cwl-audit-manifest.json, though its snapshots are in that collection's directory"
                ), "{}", findings[1].message);
            } else {
                assert_eq!(findings[0].notes, ["the chain runs through account 444444444444, which no manifest lists: its snapshots are used as found"]);
                assert!(
                    findings[1].notes.is_empty(),
                    "an account outside every manifest is evaluated as before"
                );
            }
        }
    }

    #[test]
    fn a_snapshot_the_collection_did_not_write_carries_no_pass() {
        let mut a = account("222222222222", Status::Partial);
        a.regions.insert("us-east-1".into(), RegionStatus::Complete);
        a.regions.insert("eu-west-1".into(), RegionStatus::Partial);
        let m = loaded_at("org/cwl-audit-manifest.json", manifest(vec![a]));
        // A region the manifest does not list (left from a run with more regions).
        let snaps = snapshots(
            "org",
            &[
                ("222222222222", "us-east-1"),
                ("222222222222", "ap-south-1"),
            ],
        );
        let trail_in = |r: &str| serde_json::json!({"link": "trail", "name": "t", "account": "222222222222", "home_region": r});
        let mut findings = vec![pass("222222222222", &[trail_in("ap-south-1")])];
        let applied = run_apply(std::slice::from_ref(&m), &[], &snaps, &mut findings);
        assert_eq!(findings[0].verdict, Verdict::Unknown);
        assert!(
            findings[0]
                .message
                .contains("does not list region ap-south-1 as collected"),
            "{}",
            findings[0].message
        );
        let warnings: Vec<&str> = applied
            .notifications
            .iter()
            .filter(|n| n.level == Level::Warning)
            .map(|n| n.message.as_str())
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        // A region it lists as collected whose snapshot is missing: a warning, nothing else.
        assert!(warnings[0].ends_with("the manifest lists region eu-west-1 of account 222222222222 as partial, and its snapshot was not found"), "{}", warnings[0]);
        assert!(warnings[1].starts_with("org/222222222222/ap-south-1.json: the manifest org/cwl-audit-manifest.json does not list region ap-south-1"), "{}", warnings[1]);
        // A snapshot collected before the collection started.
        let snaps = snapshots("org", &[("222222222222", "us-east-1")]);
        let at: BTreeMap<(String, String), String> = [(
            ("222222222222".into(), "us-east-1".into()),
            "2026-11-30T23:59:59+01:00".into(),
        )]
        .into();
        let mut findings = vec![pass("222222222222", &[trail_in("us-east-1")])];
        let run = Run {
            manifests: std::slice::from_ref(&m),
            refused: &[],
            snapshots: &snaps,
            collected_at: &at,
            rules: &rules(),
        };
        apply(&run, &mut findings);
        assert_eq!(findings[0].verdict, Verdict::Unknown);
        assert!(
            findings[0]
                .message
                .contains("was collected at 2026-11-30T23:59:59+01:00, before the collection"),
            "{}",
            findings[0].message
        );
        // One second after the start it is this collection's.
        let at: BTreeMap<(String, String), String> = [(
            ("222222222222".into(), "us-east-1".into()),
            "2026-12-01T01:00:01+01:00".into(),
        )]
        .into();
        let mut findings = vec![pass("222222222222", &[trail_in("us-east-1")])];
        let run = Run {
            collected_at: &at,
            ..run
        };
        apply(&run, &mut findings);
        assert_eq!(findings[0].verdict, Verdict::Pass);
        // Collected after the run finished: not by this run.
        let late: BTreeMap<(String, String), String> = [(
            ("222222222222".into(), "us-east-1".into()),
            "2099-01-01T00:00:00Z".into(),
        )]
        .into();
        let mut findings = vec![pass("222222222222", &[trail_in("us-east-1")])];
        apply(
            &Run {
                collected_at: &late,
                ..run
            },
            &mut findings,
        );
        assert_eq!(findings[0].verdict, Verdict::Unknown);
        assert!(
            findings[0]
                .message
                .contains("after the collection of the manifest"),
            "{}",
            findings[0].message
        );
        // Without a readable collected_at of its own, a snapshot cannot be told from an older
        // collection's: no pass rests on it.
        for bad in [
            None,
            Some(""),
            Some("garbage"),
            Some("2026-13-45T99:00:00Z"),
        ] {
            let at: BTreeMap<(String, String), String> = bad
                .map(|b| (("222222222222".into(), "us-east-1".into()), b.to_string()))
                .into_iter()
                .collect();
            let mut findings = vec![pass("222222222222", &[trail_in("us-east-1")])];
            apply(
                &Run {
                    collected_at: &at,
                    ..run
                },
                &mut findings,
            );
            assert_eq!(findings[0].verdict, Verdict::Unknown, "{bad:?}");
            assert!(
                findings[0]
                    .message
                    .contains("cannot be told from a snapshot older"),
                "{bad:?}: {}",
                findings[0].message
            );
        }
    }

    #[test]
    fn instants_are_compared_across_offsets() {
        assert_eq!(instant("1970-01-01T00:00:00Z"), Some(0));
        assert!(instant("2026-12-01T10:00:00.5Z") > instant("2026-12-01T10:00:00Z"));
        assert_eq!(instant("1970-01-01T00:00:01.25Z"), Some(1250));
        assert_eq!(
            instant("2026-12-01T00:00:00Z"),
            instant("2026-12-01T02:00:00+02:00")
        );
        assert_eq!(instant("2000-03-01T00:00:00.250Z"), Some(951_868_800_250));
        for bad in [
            "2026-12-01",
            "2026-13-01T00:00:00Z",
            "2026-12-01T00:00:00",
            "yesterday",
            "2026-12-01T00:00:00Zjunk",
            "2026-12-01T00:00:00.Z",
            "2026-12-01T01:21:03+24:00",
            "2026-12-01T01:21:03+01:60",
            "",
        ] {
            assert_eq!(instant(bad), None, "{bad}");
        }
    }

    #[test]
    fn contradicting_manifests_are_errors_and_their_accounts_never_pass() {
        let at = |path: &str, m| loaded_at(path, m);
        let both = snapshots(
            "org",
            &[("888888888888", "us-east-1"), ("333333333333", "us-east-1")],
        );
        let cases: Vec<(&str, Vec<Loaded>, &str)> = vec![
            (
                "an account claimed by two shard parts",
                vec![
                    at("org/cwl-audit-manifest.shard-1-of-2.json", sharded(manifest(vec![account("888888888888", Status::Collected), account("333333333333", Status::Collected)]), 1, 2)),
                    at("org/cwl-audit-manifest.shard-2-of-2.json", sharded(manifest(vec![other_shard("888888888888", 1), account("333333333333", Status::Collected)]), 2, 2)),
                ],
                "333333333333 (shard 1/2 (the first) and shard 2/2 (the second) both list it as collected)",
            ),
            (
                "two parts with the same index",
                vec![
                    at("org/cwl-audit-manifest.shard-1-of-2.json", sharded(manifest(vec![account("888888888888", Status::Collected), other_shard("333333333333", 2)]), 1, 2)),
                    at("org/x/cwl-audit-manifest.shard-1-of-2.json", sharded(manifest(vec![account("888888888888", Status::Collected), account("333333333333", Status::Collected)]), 1, 2)),
                ],
                "333333333333 (the first sends it to shard 2/2, and the second, shard 1/2, lists it as collected)",
            ),
            (
                "two parts that send an account to different shards",
                vec![
                    at("org/cwl-audit-manifest.shard-1-of-3.json", sharded(manifest(vec![account("888888888888", Status::Collected), other_shard("333333333333", 2)]), 1, 3)),
                    at("org/cwl-audit-manifest.shard-3-of-3.json", sharded(manifest(vec![other_shard("888888888888", 1), other_shard("333333333333", 1)]), 3, 3)),
                ],
                "333333333333 (the first sends it to shard 2/3, the second to shard 1/3)",
            ),
            (
                "collected per one, failed per another",
                vec![
                    at("org/a/cwl-audit-manifest.json", manifest(vec![account("888888888888", Status::Collected), account("333333333333", Status::Collected)])),
                    at("org/b/cwl-audit-manifest.json", manifest(vec![account("888888888888", Status::Collected), failed("333333333333")])),
                ],
                "333333333333 (collected in the first, failed in the second)",
            ),
            (
                "one lists an account the other does not",
                vec![
                    at("org/a/cwl-audit-manifest.json", manifest(vec![account("888888888888", Status::Collected), account("333333333333", Status::Collected)])),
                    at("org/b/cwl-audit-manifest.json", manifest(vec![account("888888888888", Status::Collected)])),
                ],
                "333333333333 (listed in the first, not in the second)",
            ),
        ];
        for (what, ms, detail) in cases {
            let mut findings = vec![pass("888888888888", &[]), pass("333333333333", &[])];
            let applied = run_apply(&ms, &[], &both, &mut findings);
            assert_eq!(
                verdicts(&findings),
                [
                    ("888888888888", Verdict::Pass),
                    ("333333333333", Verdict::Unknown)
                ],
                "{what}"
            );
            let errors = errors(&applied);
            assert_eq!(errors.len(), 1, "{what}: {errors:?}");
            assert!(
                errors[0].contains(&ms[0].path)
                    && errors[0].contains(&ms[1].path)
                    && errors[0]
                        .ends_with(&format!("disagree about 1 account, left unknown: {detail}")),
                "{what}: {}",
                errors[0]
            );
            assert!(
                findings[1]
                    .message
                    .contains("disagree about account 333333333333"),
                "{}",
                findings[1].message
            );
        }
        // Two organizations that both claim an account, with different outcomes.
        let mut other_org = manifest(vec![failed("888888888888")]);
        other_org.organization.id = "o-zzzzzzzzzz".into();
        let ms = [
            at(
                "a/cwl-audit-manifest.json",
                manifest(vec![account("888888888888", Status::Collected)]),
            ),
            at("b/cwl-audit-manifest.json", other_org),
        ];
        let mut findings = vec![pass("888888888888", &[])];
        let applied = run_apply(&ms, &[], &both, &mut findings);
        assert_eq!(findings[0].verdict, Verdict::Unknown);
        assert_eq!(errors(&applied).len(), 1);
    }

    #[test]
    fn a_whole_run_beside_shard_parts_or_parts_of_different_runs_vouch_for_nothing() {
        // The accounts of shard 2/2, whose part never arrived, must not pass on the snapshots an
        // older whole run left in the directory.
        let whole = loaded_at(
            "org/cwl-audit-manifest.json",
            manifest(vec![
                account("888888888888", Status::Collected),
                account("333333333333", Status::Collected),
            ]),
        );
        let part1 = sharded(
            manifest(vec![
                account("888888888888", Status::Collected),
                other_shard("333333333333", 2),
            ]),
            1,
            2,
        );
        let snaps = snapshots(
            "org",
            &[("888888888888", "us-east-1"), ("333333333333", "us-east-1")],
        );
        let mut findings = vec![pass("333333333333", &[])];
        let applied = run_apply(
            &[
                whole,
                loaded_at("org/cwl-audit-manifest.shard-1-of-2.json", part1.clone()),
            ],
            &[],
            &snaps,
            &mut findings,
        );
        assert_eq!(
            findings[0].verdict,
            Verdict::Unknown,
            "{}",
            findings[0].message
        );
        assert!(
            errors(&applied)[0].contains("are two collections of organization o-abc123, a whole run and shard 1/2 of a sharded one"),
            "{:?}",
            errors(&applied)
        );
        // Part 2 of another run (another member role, or started days later): no clean union.
        let mut part2 = sharded(
            manifest(vec![
                other_shard("888888888888", 1),
                account("333333333333", Status::Collected),
            ]),
            2,
            2,
        );
        for (edit, words) in [
            (
                Box::new(|m: &mut crate::manifest::Manifest| m.member_role = "Other".into())
                    as Box<dyn Fn(&mut crate::manifest::Manifest)>,
                "collected with different arguments",
            ),
            (
                Box::new(|m: &mut crate::manifest::Manifest| {
                    m.started_at = "2026-12-05T00:00:00Z".into()
                }),
                "started more than a day apart",
            ),
        ] {
            edit(&mut part2);
            let mut findings = vec![pass("333333333333", &[])];
            let applied = run_apply(
                &[
                    loaded_at("org/cwl-audit-manifest.shard-1-of-2.json", part1.clone()),
                    loaded_at("org/cwl-audit-manifest.shard-2-of-2.json", part2.clone()),
                ],
                &[],
                &snaps,
                &mut findings,
            );
            assert_eq!(findings[0].verdict, Verdict::Unknown, "{words}");
            assert!(
                errors(&applied).iter().any(|e| e.contains(words)),
                "{words}: {:?}",
                errors(&applied)
            );
            part2 = sharded(
                manifest(vec![
                    other_shard("888888888888", 1),
                    account("333333333333", Status::Collected),
                ]),
                2,
                2,
            );
        }
    }

    #[test]
    fn shard_parts_must_agree_on_the_count() {
        let ms = [
            loaded_at(
                "org/cwl-audit-manifest.shard-1-of-2.json",
                sharded(
                    manifest(vec![
                        account("888888888888", Status::Collected),
                        other_shard("333333333333", 2),
                    ]),
                    1,
                    2,
                ),
            ),
            loaded_at(
                "org/cwl-audit-manifest.shard-2-of-3.json",
                sharded(
                    manifest(vec![other_shard("888888888888", 1), failed("333333333333")]),
                    2,
                    3,
                ),
            ),
        ];
        let snaps = snapshots("org", &[("888888888888", "us-east-1")]);
        let mut findings = vec![pass("888888888888", &[])];
        let applied = run_apply(&ms, &[], &snaps, &mut findings);
        assert_eq!(findings[0].verdict, Verdict::Unknown);
        assert!(
            findings[0]
                .message
                .contains("disagree on the number of shards (shard 1/2 and shard 2/3)"),
            "{}",
            findings[0].message
        );
        assert_eq!(
            errors(&applied),
            ["the manifests org/cwl-audit-manifest.shard-1-of-2.json and org/cwl-audit-manifest.shard-2-of-3.json are shard parts of one organization (o-abc123) that disagree on the number of shards (shard 1/2 and shard 2/3): the 2 accounts they list are left unknown"]
        );
        // 333 has no snapshot: unknown per rule, for the same reason.
        assert_eq!(
            verdicts(&applied.findings),
            [("333333333333", Verdict::Unknown); 2]
        );
    }

    #[test]
    fn agreeing_copies_are_no_conflict() {
        let m = manifest(vec![account("888888888888", Status::Collected)]);
        let mut rerun = m.clone();
        rerun.started_at = "2026-12-02T00:00:00Z".into();
        let ms = [
            loaded_at("a/cwl-audit-manifest.json", m.clone()),
            loaded_at("a/copy/cwl-audit-manifest.json", m),
            loaded_at("b/cwl-audit-manifest.json", rerun),
        ];
        let snaps = snapshots("a", &[("888888888888", "us-east-1")]);
        let mut findings = vec![pass("888888888888", &[])];
        let applied = run_apply(&ms, &[], &snaps, &mut findings);
        assert_eq!(findings[0].verdict, Verdict::Pass);
        assert!(
            applied.notifications.is_empty(),
            "{:?}",
            applied.notifications
        );
    }

    #[test]
    fn the_accounts_of_a_refused_manifest_do_not_pass() {
        let text = r#"{"format": "cwl-audit.manifest/v2", "accounts": [
            {"account_id": "888888888888", "status": "failed"},
            {"account_id": "999999999999", "status": "failed"}]}"#;
        let r = crate::manifest::parse("org/cwl-audit-manifest.json".into(), text.into(), None)
            .expect_err("refused");
        let snaps = snapshots("org", &[("888888888888", "us-east-1")]);
        let mut findings = vec![pass("888888888888", &[])];
        let applied = run_apply(&[], std::slice::from_ref(&r), &snaps, &mut findings);
        assert_eq!(findings[0].verdict, Verdict::Unknown);
        assert!(
            findings[0].message.starts_with("the manifest that lists account 888888888888 could not be used: org/cwl-audit-manifest.json:"),
            "{}",
            findings[0].message
        );
        assert_eq!(findings[0].location.as_ref().map(|l| l.line), Some(2));
        // 999 has no snapshot: unknown for every rule, at its entry.
        assert_eq!(
            verdicts(&applied.findings),
            [("999999999999", Verdict::Unknown); 2]
        );
        // Nothing readable: the accounts whose snapshots are beside it do not pass either.
        let r = crate::manifest::parse(
            "org/cwl-audit-manifest.json".into(),
            "{\"accounts\": [".into(),
            None,
        )
        .expect_err("refused");
        assert!(r.named.is_empty());
        let mut findings = vec![pass("888888888888", &[])];
        run_apply(&[], std::slice::from_ref(&r), &snaps, &mut findings);
        assert_eq!(findings[0].verdict, Verdict::Unknown);
        assert!(
            findings[0].message.starts_with(
                "the manifest of the collection its snapshots are in could not be used"
            ),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn a_skipped_account_gets_no_verdict_even_with_snapshots() {
        let mut suspended = account("888888888888", Status::Skipped);
        suspended.reason = Some("suspended".into());
        let m = loaded(manifest(vec![
            suspended,
            account("222222222222", Status::Collected),
        ]));
        let snaps = snapshots(
            "snapshots",
            &[("888888888888", "us-east-1"), ("222222222222", "us-east-1")],
        );
        let mut fail = pass("888888888888", &[]);
        fail.verdict = Verdict::Fail;
        // 222 notifies a topic in the skipped account.
        let mut findings = vec![
            pass("888888888888", &[]),
            fail,
            pass("222222222222", &[topic("888888888888")]),
        ];
        let applied = run_apply(&[m], &[], &snaps, &mut findings);
        assert_eq!(verdicts(&findings), [("222222222222", Verdict::Unknown)]);
        assert!(
            findings[0]
                .message
                .contains("which the collection skipped (suspended)"),
            "{}",
            findings[0].message
        );
        assert!(applied.findings.is_empty());
        assert_eq!(
            applied.notifications[0].message,
            "1 account skipped by the collection (suspended): 888888888888; snapshots of 888888888888 were found and given no verdict"
        );
    }
}
