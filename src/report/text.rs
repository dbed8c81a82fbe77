//! One line per account and rule, the place it points at, then input problems and a summary.
use crate::findings::{Level, RunResult, Verdict};
use crate::text::clean;
use anstyle::{AnsiColor, Style};
use std::fmt::Write as _;

fn paint(s: &str, style: Style, color: bool) -> String {
    if color {
        format!("{}{s}{}", style.render(), style.render_reset())
    } else {
        s.to_string()
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

/// `verbosity`: -1 only failing and unknown verdicts and errors; 1+ adds the chain evidence.
pub fn render_with(result: &RunResult, color: bool, verbosity: i8) -> String {
    let mut out = String::new();
    for f in &result.findings {
        if verbosity < 0 && f.verdict == Verdict::Pass {
            continue;
        }
        let (label, style) = match f.verdict {
            Verdict::Pass => ("PASS   ", AnsiColor::Green.on_default().bold()),
            Verdict::Fail => ("FAIL   ", AnsiColor::Red.on_default().bold()),
            Verdict::Unknown => ("UNKNOWN", AnsiColor::Yellow.on_default().bold()),
        };
        let _ = writeln!(
            out,
            "{}  {}  {}  {}",
            paint(label, style, color),
            f.rule_id,
            f.account_id,
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
        if verbosity > 0 {
            for l in f.chain.as_array().into_iter().flatten() {
                let _ = writeln!(out, "         chain: {}", clean(&link_line(l)));
            }
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
    out.push_str(&result.summary_line());
    out.push('\n');
    out
}
