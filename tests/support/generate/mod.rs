//! Seeded generative tests of the whole evaluator: a compliant organization plus up to
//! `MAX_CHANGES` random harmless and breaking changes (changes.rs), rendered as snapshot files in
//! random equivalent JSON forms (render.rs), evaluated by `cwl_audit::eval`, and compared per
//! account and rule with the verdict the model implies (oracle.rs).
//!
//! A case is a seed: the seed alone rebuilds the same organization, files and expectation. Each
//! change slot has its own sub-seed, so a reproducer can drop slots (`keep`) and still replay the
//! others; a mismatch is shrunk to the fewest slots (and plain JSON, when the form does not
//! matter) before it is printed.
pub mod changes;
pub mod model;
pub mod oracle;
pub mod patterns;
pub mod render;
pub mod rng;

use changes::{apply, catalogue, Applied, ChangeDef, Ctx, Tag};
use cwl_audit::engine::{self, Evaluator};
use cwl_audit::findings::{Finding, Level, RunResult};
use model::World;
use oracle::Expected;
use patterns::RULES;
use rng::{mix, Rng};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const MAX_CHANGES: usize = 7;
/// Cases written to one directory and decided by one run (their accounts never overlap).
pub const BATCH: usize = 24;

/// Which tagged changes take part.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Known defects being fixed elsewhere (on unless GEN_SKIP_KNOWN=1).
    pub known: bool,
    /// Disagreements found by this generator, for the lead to decide (off unless GEN_OPEN=1).
    pub open: bool,
}

impl Options {
    pub fn from_env() -> Self {
        let flag = |k: &str| std::env::var(k).is_ok_and(|v| v == "1");
        Options {
            known: !flag("GEN_SKIP_KNOWN"),
            open: flag("GEN_OPEN"),
        }
    }

    pub fn allows(&self, tag: Tag) -> bool {
        match tag {
            Tag::Plain => true,
            Tag::KnownDefect(_) => self.known,
            Tag::Open(_) => self.open,
        }
    }
}

/// One generated organization and how it was made.
pub struct Case {
    pub seed: u64,
    /// The change slots applied (None: all).
    pub keep: Option<Vec<usize>>,
    /// Every file in plain JSON instead of a random form.
    pub plain: bool,
    /// OPEN-tagged forms allowed (Options::open).
    pub open: bool,
    /// Built with known-defect changes allowed (Options::known): replay needs the same.
    pub known: bool,
    pub world: World,
    /// (slot, what it did), in order.
    pub applied: Vec<(usize, Applied)>,
    style_seed: u64,
}

/// The compiled rules the generator checks, built once per test.
pub fn evaluator() -> Evaluator {
    let sources = engine::all_sources(&[], true).expect("bundled policies load");
    let rules: Vec<String> = RULES.iter().map(|r| r.id.to_string()).collect();
    Evaluator::new(&sources, &rules).expect("bundled policies compile")
}

/// Accounts are derived from the seed, so a case replays with the same files alone or in a
/// batch. Account ids are strings of twelve digits: some have leading zeros.
fn account_base(seed: u64) -> u64 {
    (mix(seed ^ 0xACC0_u64) % 99_999_999_990) / 10 * 10
}

pub fn build(seed: u64, opts: &Options, keep: Option<&[usize]>, plain: bool) -> Case {
    let mut rng = Rng::new(seed);
    let mut world = World::compliant(account_base(seed), &mut Rng::new(rng.fork()));
    let n = rng.below(MAX_CHANGES + 1);
    let slots: Vec<u64> = (0..n).map(|_| rng.fork()).collect();
    let style_seed = rng.fork();
    let cat = catalogue();
    let mut applied = Vec::new();
    for (i, s) in slots.iter().enumerate() {
        if keep.is_some_and(|k| !k.contains(&i)) {
            continue;
        }
        let mut r = Rng::new(*s);
        // Harmless changes are more frequent so that a fair share of accounts still passes.
        let harmless = r.chance(13, 20);
        let pool: Vec<&ChangeDef> = cat
            .iter()
            .filter(|d| d.harmless == harmless && opts.allows(d.tag))
            .collect();
        let weights: Vec<u32> = pool.iter().map(|d| d.weight).collect();
        for _ in 0..8 {
            let def = pool[r.weighted(&weights)];
            let mut ctx = Ctx {
                w: &mut world,
                rng: Rng::new(r.fork()),
            };
            if let Some(a) = apply(def, &mut ctx) {
                applied.push((i, a));
                break;
            }
        }
    }
    Case {
        seed,
        keep: keep.map(|k| k.to_vec()),
        plain,
        open: opts.open,
        known: opts.known,
        world,
        applied,
        style_seed,
    }
}

/// A compliant organization with exactly one change, `def` (None if it never applied).
pub fn build_single(seed: u64, def: &ChangeDef, opts: &Options) -> Option<Case> {
    let mut rng = Rng::new(seed);
    let mut world = World::compliant(account_base(seed), &mut Rng::new(rng.fork()));
    for _ in 0..16 {
        let mut ctx = Ctx {
            w: &mut world,
            rng: Rng::new(rng.fork()),
        };
        if let Some(a) = apply(def, &mut ctx) {
            return Some(Case {
                seed,
                keep: None,
                plain: false,
                open: opts.open,
                known: opts.known,
                world,
                applied: vec![(0, a)],
                style_seed: rng.fork(),
            });
        }
    }
    None
}

impl Case {
    pub fn accounts(&self) -> BTreeSet<String> {
        self.world
            .accounts()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Every loaded snapshot as (path under the run's directory, text, how it is written). The
    /// layout of the files is random too: `eval` finds snapshots by content, not by name.
    pub fn files(&self) -> Vec<(PathBuf, String, String)> {
        let mut rng = Rng::new(self.style_seed);
        let layout = if self.plain { 0 } else { rng.below(4) };
        self.world
            .loaded_locs()
            .iter()
            .map(|loc| {
                let style = if self.plain {
                    render::Style::plain()
                } else {
                    render::Style::random(&mut rng, self.open)
                };
                let text = render::write(
                    &render::snapshot(&self.world, loc, &style),
                    &style,
                    &mut rng,
                );
                let (a, r) = (&loc.acct, &loc.region);
                let rel = match layout {
                    0 => PathBuf::from(a).join(format!("{r}.json")),
                    1 => PathBuf::from(r).join(format!("{a}.json")),
                    2 => PathBuf::from(format!("snapshot-{a}-{r}.json")),
                    _ => PathBuf::from("org").join(a).join(r).join("snapshot.json"),
                };
                let desc = format!("{}: {}", rel.display(), style.describe());
                (rel, text, desc)
            })
            .collect()
    }

    /// Writes the files under `dir`; returns their paths relative to it.
    pub fn write(&self, dir: &Path) -> Vec<PathBuf> {
        self.files()
            .into_iter()
            .map(|(rel, text, _)| {
                let path = dir.join(&rel);
                std::fs::create_dir_all(path.parent().expect("parent directory"))
                    .expect("create snapshot directory");
                std::fs::write(&path, text).expect("write snapshot");
                rel
            })
            .collect()
    }

    pub fn styles(&self) -> Vec<String> {
        self.files().into_iter().map(|(_, _, d)| d).collect()
    }

    /// The known defects and open questions among the changes and JSON forms of the case.
    pub fn tags(&self) -> Vec<String> {
        let mut tags: BTreeSet<String> = self
            .applied
            .iter()
            .filter_map(|(_, a)| match a.tag {
                Tag::Plain => None,
                Tag::KnownDefect(n) => Some(format!("KNOWN DEFECT #{n}")),
                Tag::Open(what) => Some(format!("OPEN: {what}")),
            })
            .collect();
        if self.world.alarms.iter().any(|a| a.datapoints.is_none())
            && self
                .styles()
                .iter()
                .any(|s| s.contains("DatapointsToAlarm too"))
        {
            tags.insert("OPEN: DatapointsToAlarm null".into());
        }
        // Untagged changes can combine into a known defect's condition (a decoy copied from an
        // alarm already in the wrong namespace): recognise the conditions themselves too.
        tags.extend(known_conditions(&self.world));
        tags.into_iter().collect()
    }

    /// The environment the case was generated under, as a command prefix.
    pub fn env_prefix(&self) -> String {
        let mut s = String::new();
        if !self.known {
            s.push_str("GEN_SKIP_KNOWN=1 ");
        }
        if self.open {
            s.push_str("GEN_OPEN=1 ");
        }
        s
    }

    /// How to run this case again.
    pub fn replay_spec(&self) -> String {
        let mut s = format!("{:#x}", self.seed);
        let slots: Vec<String> = self.applied.iter().map(|(i, _)| i.to_string()).collect();
        if self.keep.is_some() || self.plain {
            let _ = write!(s, ":{}", slots.join(","));
        }
        if self.plain {
            s.push_str(":plain");
        }
        s
    }
}

/// The known defects' conditions found in the world (labels for reports, never expectations).
fn known_conditions(w: &World) -> Vec<String> {
    use model::{Rw, Selectors};
    let mut out = Vec::new();
    for t in &w.trails {
        if let Selectors::Basic(list) = &t.selectors {
            let kinds: BTreeSet<&str> = list
                .iter()
                .filter(|s| s.include_management && s.rw != Rw::All)
                .map(|s| s.rw.as_str())
                .collect();
            if kinds.len() > 1 {
                out.push("KNOWN DEFECT #2".to_string());
            }
            let exclusions: BTreeSet<&Vec<String>> = list
                .iter()
                .filter(|s| s.include_management && !s.exclude_sources.is_empty())
                .map(|s| &s.exclude_sources)
                .collect();
            if exclusions.len() > 1 {
                out.push("OPEN: selector union with exclusions".to_string());
            }
        }
    }
    for f in &w.filters {
        let m = &f.metric;
        let on_metric =
            |a: &&model::Alarm| a.watch.namespace == m.namespace && a.watch.name == m.name;
        if m.default.is_some()
            && w.alarms
                .iter()
                .filter(|a| a.loc == f.loc)
                .any(|a| on_metric(&a))
        {
            out.push("KNOWN DEFECT #1".to_string());
        }
        let here = w.alarms.iter().filter(|a| a.loc == f.loc);
        if !here.clone().any(|a| on_metric(&a)) {
            let other_ns = here.filter(|a| a.watch.name == m.name).count();
            let other_regions = w
                .alarms
                .iter()
                .filter(|a| {
                    a.loc.acct == f.loc.acct && a.loc.region != f.loc.region && w.loaded(&a.loc)
                })
                .filter(on_metric)
                .count();
            if other_ns > 1 || other_regions > 1 {
                out.push("KNOWN DEFECT #3".to_string());
            }
        }
    }
    out
}

/// Parses GEN_CASE: `SEED[:SLOT,SLOT,...][:plain]`, the seed in decimal or 0x-hex.
pub fn parse_spec(spec: &str) -> (u64, Option<Vec<usize>>, bool) {
    let mut parts = spec.trim().split(':');
    let seed_text = parts.next().unwrap_or_default();
    let seed = match seed_text.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => seed_text.parse(),
    }
    .unwrap_or_else(|e| panic!("GEN_CASE seed {seed_text:?}: {e}"));
    let mut keep = None;
    let mut plain = false;
    for p in parts {
        if p == "plain" {
            plain = true;
        } else {
            keep = Some(
                p.split(',')
                    .filter(|x| !x.is_empty())
                    .map(|x| {
                        x.parse()
                            .unwrap_or_else(|e| panic!("GEN_CASE slot {x:?}: {e}"))
                    })
                    .collect(),
            );
        }
    }
    (seed, keep, plain)
}

/// A verdict the tool got wrong (or a finding too many or too few).
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub account: String,
    pub role: &'static str,
    pub rule: &'static str,
    pub expected: Option<Expected>,
    /// (verdict, message, notes) of every finding the tool gave.
    pub got: Vec<(String, String, Vec<String>)>,
    pub load_errors: Vec<String>,
    /// Where the finding points, when that is not the object it names.
    pub location: Option<String>,
}

impl Mismatch {
    /// What identifies "the same mismatch" while shrinking.
    fn key(
        &self,
    ) -> (
        String,
        &'static str,
        Option<&'static str>,
        Vec<String>,
        bool,
    ) {
        (
            self.role.to_string(),
            self.rule,
            self.expected.as_ref().map(|e| e.verdict.as_str()),
            self.got.iter().map(|g| g.0.clone()).collect(),
            self.location.is_some(),
        )
    }
}

/// Statistics of a run, so a test can show (and check) that it tested something.
#[derive(Default, Debug)]
pub struct Stats {
    pub cases: usize,
    pub decided: usize,
    /// (rule, expected verdict) -> count.
    pub expected: BTreeMap<(String, String), usize>,
    pub changes: BTreeMap<String, usize>,
}

impl Stats {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} cases, {} account verdicts checked\n",
            self.cases, self.decided
        );
        for ((rule, v), n) in &self.expected {
            let _ = writeln!(s, "  {rule} expected {v}: {n}");
        }
        let _ = writeln!(s, "  changes applied: {:?}", self.changes);
        s
    }
}

fn compare(c: &Case, files: &[PathBuf], result: &RunResult, stats: &mut Stats) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let w = &c.world;
    // Errors about this case's files (policy failures come back as findings, checked below).
    let load_errors: Vec<String> = result
        .notifications
        .iter()
        .filter(|n| n.level == Level::Error)
        .filter(|n| {
            n.path
                .as_deref()
                .is_some_and(|p| files.iter().any(|f| Path::new(p).ends_with(f)))
        })
        .map(|n| n.message.clone())
        .collect();
    for acct in c.accounts() {
        let loaded = !w.loaded_regions(&acct).is_empty();
        for r in &RULES {
            let got: Vec<&Finding> = result
                .findings
                .iter()
                .filter(|f| f.account_id == acct && f.rule_id == r.id)
                .collect();
            let expected = loaded.then(|| oracle::expected(w, &acct, r.id));
            if let Some(e) = &expected {
                stats.decided += 1;
                *stats
                    .expected
                    .entry((r.id.to_string(), e.verdict.as_str().to_string()))
                    .or_default() += 1;
            }
            let ok = match &expected {
                None => got.is_empty(),
                // A policy that failed says "unknown" but decided nothing: never right.
                Some(e) => {
                    got.len() == 1
                        && got[0].verdict.as_str() == e.verdict.as_str()
                        && !crashed(got[0])
                }
            } && load_errors.is_empty();
            // OPEN (tests/data/generative/no-trail-location): "no CloudTrail trail logs this
            // account" points at the first region even when that region's trails were not
            // listed; the verdict is right. Reported; checked only with GEN_OPEN=1.
            let location = got
                .iter()
                .filter(|f| c.open || f.message != "no CloudTrail trail logs this account")
                .find_map(|f| location_problem(f));
            if !ok || location.is_some() {
                out.push(Mismatch {
                    account: acct.clone(),
                    role: w.role(&acct),
                    rule: r.id,
                    expected,
                    got: got
                        .iter()
                        .map(|f| {
                            (
                                f.verdict.as_str().to_string(),
                                f.message.clone(),
                                f.notes.clone(),
                            )
                        })
                        .collect(),
                    load_errors: load_errors.clone(),
                    location,
                });
            }
        }
    }
    out
}

/// What is wrong with where `f` points, if anything: its file must be the snapshot of the
/// location's account and region, its pointer must resolve there, and a pointer to a trail,
/// filter or alarm must reach the one the finding names (the JSON forms shuffle arrays, so a
/// position computed from anything but the file itself shows).
fn location_problem(f: &Finding) -> Option<String> {
    let loc = f.location.as_ref()?;
    let text = match std::fs::read_to_string(&loc.path) {
        Ok(t) => t,
        Err(e) => return Some(format!("{}: {e}", loc.path)),
    };
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => return Some(format!("{}: {e}", loc.path)),
    };
    if doc["account_id"] != loc.account_id.as_str() || doc["region"] != loc.region.as_str() {
        return Some(format!(
            "{} is not the snapshot of {}/{}",
            loc.path, loc.account_id, loc.region
        ));
    }
    if loc.line == 0 || loc.line > text.lines().count() {
        return Some(format!("line {} is not in {}", loc.line, loc.path));
    }
    let Some(target) = doc.pointer(&loc.pointer) else {
        return Some(format!(
            "pointer {} does not resolve in {}",
            loc.pointer, loc.path
        ));
    };
    let resource = f.resource.as_deref()?;
    let parts: Vec<&str> = loc.pointer.split('/').collect();
    let names = match parts.as_slice() {
        // A log group whose snapshot is missing is pointed at through the trail that names it.
        ["", "cloudtrail", "trailList", _] => {
            target["TrailARN"] == resource
                || target["CloudWatchLogsLogGroupArn"]
                    .as_str()
                    .is_some_and(|a| a.trim_end_matches(":*") == resource)
        }
        ["", "cloudwatch", "MetricAlarms", _] => target["AlarmArn"] == resource,
        ["", "cloudwatch", "MetricAlarms", _, "AlarmActions", _] => *target == resource,
        ["", "logs", "metricFilters", _] => target["filterName"]
            .as_str()
            .is_some_and(|n| resource.ends_with(&format!(":metric-filter:{n}"))),
        _ => true,
    };
    (!names).then(|| format!("pointer {} in {} is not {resource}", loc.pointer, loc.path))
}

/// The finding of a policy that failed (an evaluation error or no decision) instead of deciding.
pub fn crashed(f: &Finding) -> bool {
    f.message.starts_with("policy evaluation failed")
        || f.message.starts_with("the policy produced no decision")
        || f.message.starts_with("the policy's decision")
}

/// Runs `seeds` as cases in batches; returns each mismatching case with its mismatches.
pub fn run_seeds(
    seeds: &[u64],
    opts: &Options,
    ev: &Evaluator,
    stats: &mut Stats,
) -> Vec<(Case, Vec<Mismatch>)> {
    // Without the known defects, also leave out cases where untagged changes recreated one.
    let cases: Vec<Case> = seeds
        .iter()
        .map(|&s| build(s, opts, None, false))
        .filter(|c| opts.known || !c.tags().iter().any(|t| t.starts_with("KNOWN")))
        .collect();
    run_cases(cases, ev, stats)
}

pub fn run_cases(
    cases: Vec<Case>,
    ev: &Evaluator,
    stats: &mut Stats,
) -> Vec<(Case, Vec<Mismatch>)> {
    let mut failing: BTreeMap<usize, Vec<Mismatch>> = BTreeMap::new();
    let mut pending: Vec<usize> = (0..cases.len()).collect();
    while !pending.is_empty() {
        // A batch never holds two cases with a common account (a seed collision): those wait.
        let mut batch = Vec::new();
        let mut used = BTreeSet::new();
        let mut rest = Vec::new();
        for i in pending {
            let accts = cases[i].accounts();
            if batch.len() < BATCH && accts.is_disjoint(&used) {
                used.extend(accts);
                batch.push(i);
            } else {
                rest.push(i);
            }
        }
        let refs: Vec<&Case> = batch.iter().map(|&i| &cases[i]).collect();
        for (bi, m) in run_refs(&refs, ev, stats) {
            failing.entry(batch[bi]).or_default().push(m);
        }
        pending = rest;
    }
    let mut cases: Vec<Option<Case>> = cases.into_iter().map(Some).collect();
    failing
        .into_iter()
        .filter_map(|(i, ms)| cases[i].take().map(|c| (c, ms)))
        .collect()
}

/// Writes the cases to one directory, evaluates them in one run and compares every account.
fn run_refs(cases: &[&Case], ev: &Evaluator, stats: &mut Stats) -> Vec<(usize, Mismatch)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<Vec<PathBuf>> = cases.iter().map(|c| c.write(dir.path())).collect();
    let result = cwl_audit::eval::run_with(ev.clone(), &[dir.path().to_path_buf()])
        .expect("evaluation runs");
    let mut out = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        stats.cases += 1;
        for (_, a) in &c.applied {
            *stats.changes.entry(a.name.to_string()).or_default() += 1;
        }
        for m in compare(c, &files[i], &result, stats) {
            out.push((i, m));
        }
    }
    out
}

/// The case alone, and its mismatches.
pub fn run_one(case: &Case, ev: &Evaluator) -> Vec<Mismatch> {
    run_refs(&[case], ev, &mut Stats::default())
        .into_iter()
        .map(|(_, m)| m)
        .collect()
}

/// Drops change slots (and the random JSON form) while the same mismatch remains.
pub fn shrink(case: &Case, target: &Mismatch, opts: &Options, ev: &Evaluator) -> Case {
    let still = |keep: &[usize], plain: bool| -> Option<Case> {
        let c = build(case.seed, opts, Some(keep), plain);
        run_one(&c, ev)
            .iter()
            .any(|m| m.key() == target.key())
            .then_some(c)
    };
    let mut keep: Vec<usize> = case.applied.iter().map(|(i, _)| *i).collect();
    let mut best = build(case.seed, opts, Some(&keep), false);
    let mut plain = false;
    if let Some(c) = still(&keep, true) {
        plain = true;
        best = c;
    }
    loop {
        let mut changed = false;
        for slot in keep.clone() {
            let cand: Vec<usize> = keep.iter().copied().filter(|&s| s != slot).collect();
            if let Some(c) = still(&cand, plain) {
                keep = c.applied.iter().map(|(i, _)| *i).collect();
                best = c;
                changed = true;
                break;
            }
        }
        if !changed {
            return best;
        }
    }
}

/// Where reproducer files go: target/generative/<seed>/ (kept after the test).
pub fn reproducer_dir(case: &Case) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("generative")
        .join(case.replay_spec().replace([':', ','], "_"))
}

/// The reproducer of one mismatch in words, with the files written for inspection.
pub fn report(case: &Case, ms: &[Mismatch]) -> String {
    let dir = reproducer_dir(case);
    let _ = std::fs::remove_dir_all(&dir);
    case.write(&dir);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} seed {:#x}  (replay: {}GEN_CASE={} cargo test --test it generative::replay -- --ignored --nocapture)",
        if ms.is_empty() { "CASE" } else { "MISMATCH" },
        case.seed,
        case.env_prefix(),
        case.replay_spec()
    );
    let tags = case.tags();
    if !tags.is_empty() {
        let _ = writeln!(s, "  involves: {}", tags.join(", "));
    }
    let _ = writeln!(s, "  changes ({}):", case.applied.len());
    if case.applied.is_empty() {
        let _ = writeln!(s, "    (none: the compliant organization itself)");
    }
    for (slot, a) in &case.applied {
        let kind = match a.effect {
            changes::Effect::Harmless => "harmless",
            changes::Effect::Fail => "breaking: fail",
            changes::Effect::Unknown => "breaking: unknown",
            changes::Effect::Depends => "depends",
        };
        let _ = writeln!(s, "    slot {slot} [{kind}] {}: {}", a.name, a.text);
    }
    for m in ms {
        let _ = writeln!(s, "  account {} ({}), rule {}:", m.account, m.role, m.rule);
        match &m.expected {
            Some(e) => {
                let _ = writeln!(s, "    expected {} because {}", e.verdict.as_str(), e.why);
            }
            None => {
                let _ = writeln!(
                    s,
                    "    expected no finding (no snapshot of the account is loaded)"
                );
            }
        }
        if m.got.is_empty() {
            let _ = writeln!(s, "    got no finding");
        }
        for (v, msg, notes) in &m.got {
            let _ = writeln!(s, "    got {v}: {msg}");
            for n in notes {
                let _ = writeln!(s, "      note: {n}");
            }
        }
        for e in &m.load_errors {
            let _ = writeln!(s, "    load error: {e}");
        }
        if let Some(l) = &m.location {
            let _ = writeln!(s, "    wrong location: {l}");
        }
    }
    let _ = writeln!(s, "  files: {}", dir.display());
    if !case.plain {
        for st in case.styles() {
            let _ = writeln!(s, "    {st}");
        }
    }
    s
}

/// Seeds of a run: `count` seeds derived from `base`.
pub fn seeds(base: u64, count: usize) -> Vec<u64> {
    (0..count as u64)
        .map(|i| mix(base.wrapping_add(i)))
        .collect()
}
