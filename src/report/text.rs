//! The text report, for a person at a terminal. By default it is grouped by account: a line with
//! the account's counts, then each cause once (a stopped trail that fails all fifteen rules is one
//! entry, not fifteen) with the rules it decides, by their control number and title. `-v` prints
//! one line per account and rule with the chain evidence, as machine-greppable as before.
//! Then input problems and the summary line.
//!
//! Rule order: by the control number of the benchmark the run decided by (`--benchmark`, CIS v6.0
//! by default: 5.1 ... 5.15), read from each rule's METADATA `frameworks`; rules without a control
//! there (custom policies) come after, by id. Id order (`CIS-4.11` before `CIS-4.5`) means nothing
//! to a reader of the benchmark.
use crate::findings::benchmark;
use crate::findings::{Finding, Level, RunResult, Verdict};
use crate::text::clean;
use anstyle::{AnsiColor, Style};
use std::collections::BTreeMap;
use std::fmt::Write as _;

fn paint(s: &str, style: Style, color: bool) -> String {
    if color {
        format!("{}{s}{}", style.render(), style.render_reset())
    } else {
        s.to_string()
    }
}

fn label(v: Verdict) -> (&'static str, Style) {
    match v {
        Verdict::Pass => ("PASS   ", AnsiColor::Green.on_default().bold()),
        Verdict::Fail => ("FAIL   ", AnsiColor::Red.on_default().bold()),
        Verdict::Unknown => ("UNKNOWN", AnsiColor::Yellow.on_default().bold()),
    }
}

/// One chain link in words, for `-v`.
fn link_line(l: &serde_json::Value) -> String {
    let mut parts = Vec::new();
    if let Some(o) = l.as_object() {
        for (k, v) in o {
            if k == "link" {
                continue;
            }
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            parts.push(format!("{k}={v}"));
        }
    }
    format!("{}: {}", l["link"].as_str().unwrap_or("?"), parts.join(" "))
}

/// What the report shows of a rule besides its id: the control and the title.
struct RuleView {
    /// `CIS 5.3` (or `CloudWatch.1` under `--benchmark aws-security-hub`); empty without one.
    control: String,
    title: String,
    /// Rules with a control first, by its numbers (5.2 before 5.11), then by id.
    key: (bool, Vec<u32>, String),
}

struct Rules {
    views: BTreeMap<String, RuleView>,
    control_width: usize,
    id_width: usize,
}

impl Rules {
    fn new(result: &RunResult) -> Rules {
        let bench = benchmark::find(&result.benchmark);
        let mut views = BTreeMap::new();
        for r in &result.rules {
            let control = bench
                .and_then(|b| r.frameworks.get(b.framework).and_then(|c| c.first()))
                .map(|c| match bench {
                    Some(b) if b.cis_version.is_some() => format!("CIS {c}"),
                    _ => c.clone(),
                })
                .unwrap_or_default();
            let key = r.order_key(bench.map_or("", |b| b.framework));
            let title = clean(&r.title).into_owned();
            views.insert(
                r.id.clone(),
                RuleView {
                    control,
                    title,
                    key,
                },
            );
        }
        let control_width = views.values().map(|v| v.control.chars().count()).max();
        let id_width = result
            .findings
            .iter()
            .map(|f| clean(&f.rule_id).chars().count())
            .max();
        Rules {
            views,
            control_width: control_width.unwrap_or(0),
            id_width: id_width.unwrap_or(0),
        }
    }

    fn key(&self, id: &str) -> (bool, Vec<u32>, String) {
        match self.views.get(id) {
            Some(v) => v.key.clone(),
            // A finding of a rule that is not in the run's list (a policy that failed): last.
            None => (true, Vec::new(), id.to_string()),
        }
    }

    /// `CIS 5.3   CWL-014  Root Account Usage Alarm`, the columns aligned across the report.
    fn line(&self, id: &str) -> String {
        let (control, title) = match self.views.get(id) {
            Some(v) => (v.control.as_str(), v.title.as_str()),
            None => ("", ""),
        };
        let mut s = String::new();
        if self.control_width > 0 {
            let _ = write!(s, "{control:<w$}  ", w = self.control_width);
        }
        let _ = write!(s, "{:<w$}  {title}", clean(id), w = self.id_width);
        s.trim_end().to_string()
    }
}

/// The findings of one account that share a cause: the same verdict, message, place and notes.
struct Cause<'a> {
    first: &'a Finding,
    rules: Vec<&'a str>,
}

fn counts(findings: &[&Finding]) -> String {
    let n = |v| findings.iter().filter(|f| f.verdict == v).count();
    let parts: Vec<String> = [Verdict::Fail, Verdict::Unknown, Verdict::Pass]
        .into_iter()
        .filter(|&v| n(v) > 0)
        .map(|v| format!("{} {v}", n(v)))
        .collect();
    parts.join(", ")
}

fn grouped(
    out: &mut String,
    by_account: &BTreeMap<&str, Vec<&Finding>>,
    rules: &Rules,
    color: bool,
    verbosity: i8,
) {
    const INDENT: &str = "           ";
    for (account, findings) in by_account {
        let quiet = verbosity < 0;
        if quiet && findings.iter().all(|f| f.verdict == Verdict::Pass) {
            continue;
        }
        let _ = writeln!(out, "{}  {}", clean(account), counts(findings));
        let mut causes: Vec<Cause> = Vec::new();
        for f in findings {
            // A pass is its own chain, told by `-v`; its notes are told once for all accounts
            // (see `pass_notes`).
            if f.verdict == Verdict::Pass {
                continue;
            }
            let same = |c: &&mut Cause| {
                c.first.verdict == f.verdict
                    && c.first.message == f.message
                    && c.first.location.as_ref().map(|l| (&l.path, l.line))
                        == f.location.as_ref().map(|l| (&l.path, l.line))
                    && c.first.notes == f.notes
            };
            match causes.iter_mut().find(same) {
                Some(c) => c.rules.push(&f.rule_id),
                None => causes.push(Cause {
                    first: f,
                    rules: vec![&f.rule_id],
                }),
            }
        }
        for c in &causes {
            let f = c.first;
            let (word, style) = label(f.verdict);
            let word = paint(word, style, color);
            let single = c.rules.len() == 1;
            if single {
                let _ = writeln!(out, "  {word}  {}", rules.line(c.rules[0]));
                let _ = writeln!(out, "{INDENT}{}", clean(&f.message));
            } else {
                let _ = writeln!(out, "  {word}  {}", clean(&f.message));
            }
            if let Some(loc) = &f.location {
                let _ = writeln!(out, "{INDENT}at {}:{}", clean(&loc.path), loc.line);
            }
            for n in &f.notes {
                let _ = writeln!(out, "{INDENT}note: {}", clean(n));
            }
            if !single {
                let (verb, after) = match f.verdict {
                    Verdict::Unknown => ("leaves", " unknown"),
                    _ => ("fails", ""),
                };
                let n = c.rules.len();
                if n == findings.len() {
                    let _ = writeln!(out, "{INDENT}{verb} all {n} rules{after}");
                } else {
                    let _ = writeln!(out, "{INDENT}{verb} {n} rules{after}:");
                    for id in &c.rules {
                        let _ = writeln!(out, "{INDENT}  {}", rules.line(id));
                    }
                }
            }
        }
    }
}

/// Notes on passing verdicts (most say that another benchmark version would decide otherwise) are
/// the same in every account that passes the same way: each is printed once, with its accounts.
fn pass_notes(out: &mut String, by_account: &BTreeMap<&str, Vec<&Finding>>, rules: &Rules) {
    let mut notes: Vec<((&str, &str), Vec<&str>)> = Vec::new();
    for (account, findings) in by_account {
        for f in findings.iter().filter(|f| f.verdict == Verdict::Pass) {
            for n in &f.notes {
                let key = (f.rule_id.as_str(), n.as_str());
                match notes.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, accounts)) => accounts.push(account),
                    None => notes.push((key, vec![account])),
                }
            }
        }
    }
    if notes.is_empty() {
        return;
    }
    notes.sort_by_cached_key(|((id, _), _)| rules.key(id));
    let _ = writeln!(out, "notes on passing rules:");
    for ((id, note), accounts) in notes {
        let _ = writeln!(out, "  {}", rules.line(id));
        // Hundreds of account ids would bury the note; `-v` names each account's own.
        let which = if accounts.len() == by_account.len() && accounts.len() > 1 {
            format!("all {} accounts", accounts.len())
        } else if accounts.len() > 5 {
            format!("{} accounts", accounts.len())
        } else {
            accounts
                .iter()
                .map(|a| clean(a))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "    in {which}: {}", clean(note));
    }
}

/// `-v`: every account and rule on its own line, with the chain as far as it holds.
fn flat(out: &mut String, by_account: &BTreeMap<&str, Vec<&Finding>>, color: bool) {
    for f in by_account.values().flatten() {
        let (word, style) = label(f.verdict);
        let _ = writeln!(
            out,
            "{}  {}  {}  {}",
            paint(word, style, color),
            clean(&f.rule_id),
            clean(&f.account_id),
            clean(&f.message)
        );
        if f.verdict != Verdict::Pass {
            if let Some(loc) = &f.location {
                let _ = writeln!(out, "         at {}:{}", clean(&loc.path), loc.line);
            }
        }
        for n in &f.notes {
            let _ = writeln!(out, "         note: {}", clean(n));
        }
        for l in f.chain.as_array().into_iter().flatten() {
            let _ = writeln!(out, "         chain: {}", clean(&link_line(l)));
        }
    }
}

/// `verbosity`: -1 only failing and unknown verdicts and errors (no summary); 0 grouped by account and cause;
/// 1+ every line with the chain evidence.
pub fn render_with(result: &RunResult, color: bool, verbosity: i8) -> String {
    let rules = Rules::new(result);
    let mut by_account: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &result.findings {
        by_account.entry(&f.account_id).or_default().push(f);
    }
    for findings in by_account.values_mut() {
        findings.sort_by_cached_key(|f| rules.key(&f.rule_id));
    }
    let mut out = String::new();
    if verbosity > 0 {
        flat(&mut out, &by_account, color);
    } else {
        grouped(&mut out, &by_account, &rules, color, verbosity);
        if verbosity == 0 {
            pass_notes(&mut out, &by_account, &rules);
        }
    }
    for n in &result.notifications {
        if verbosity < 0 && n.level != Level::Error {
            continue;
        }
        let (label, style) = match n.level {
            Level::Error => ("error", AnsiColor::Red.on_default().bold()),
            Level::Warning => ("warning", AnsiColor::Yellow.on_default()),
            Level::Note => ("note", Style::new()),
        };
        let _ = writeln!(out, "{}: {}", paint(label, style, color), clean(&n.message));
    }
    // `-q` is quiet as for every command: no summary, so a run with nothing to fix prints nothing.
    if verbosity >= 0 {
        out.push_str(&result.summary_line());
        out.push('\n');
    }
    out
}
