//! `--format html`: one self-contained page for a person reviewing an organization at a glance.
//!
//! The page is built from untrusted data (snapshot names and ARNs, policy METADATA, manifest
//! names), so it is made safe in three layers:
//! - everything written as HTML is [`clean`]ed (control and bidi characters become spaces) and
//!   then escaped by [`escape`], which is right for text and for double-quoted attributes alike;
//! - everything the script needs is one JSON document in a `<script type="application/json">`
//!   data block, with `<`, `>`, `&`, U+2028 and U+2029 written as `\uXXXX` escapes ([`script_json`]),
//!   so no string can close the element or start a comment; the script reads it with `JSON.parse`
//!   and shows it with `textContent` only, never as markup;
//! - a Content-Security-Policy `<meta>` allows exactly the page's own style sheet and script (by
//!   their SHA-256) and nothing else: no remote loads, no images, no injected inline script, even
//!   if an escape were missed.
//!
//! Layout: a matrix of accounts x rules coloured by verdict (rendered here, so it reads without
//! JavaScript), grouped by OU when a run manifest names OUs; the script sorts and filters it and,
//! for the account clicked, draws each rule's chain with the broken link highlighted, the message,
//! the file:line, the notes, the rule's remediation steps and, for CWL-014, the `cwl-audit
//! remediate` command line. To keep an organization's report small, the detail is drawn from the
//! data block on demand, and its strings are stored once each ([`Strings`]).
use crate::findings::{benchmark, RuleMeta};
use crate::findings::{Finding, Level, RunResult, Verdict};
use crate::text::{clean, clean_lines, shell_word};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

/// The page's style sheet and script, written for this report (no outside code).
const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// `s` cleaned and escaped for HTML text and for attribute values in double quotes: the five
/// characters that can end a text run or an attribute, or start a tag or a reference.
pub fn html_escape(s: &str) -> String {
    let s = clean(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `v` as JSON that can sit inside a `<script>` element: `</script>`, `<!--` and `]]>` cannot
/// appear (no `<`, `>` or `&` at all), and U+2028/U+2029, line terminators to older JavaScript
/// parsers, are escaped too. These characters occur only inside JSON strings, where `\uXXXX`
/// means the same character, so `JSON.parse` reads the same document.
pub fn script_json(v: &Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 (with padding), for the CSP hash sources.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A CSP hash source for an inline element's exact content.
fn csp_hash(content: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(content.as_bytes())))
}

/// The policy: nothing may load (`default-src 'none'`, which covers images, fonts, frames and
/// connections), and only this page's own style sheet and script run. `base-uri` and
/// `form-action` are not covered by `default-src`, so they are closed explicitly.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
        csp_hash(CSS),
        csp_hash(JS)
    )
}

/// Strings stored once each in the data block, referred to by index: an account's trail, log
/// group and topic recur in each of its fifteen findings, and filter patterns, alarm names and
/// messages recur across accounts.
#[derive(Default)]
struct Strings {
    list: Vec<String>,
    index: HashMap<String, usize>,
}

impl Strings {
    fn id(&mut self, s: &str) -> usize {
        let s = clean(s);
        if let Some(&i) = self.index.get(s.as_ref()) {
            return i;
        }
        let i = self.list.len();
        self.list.push(s.to_string());
        self.index.insert(s.into_owned(), i);
        i
    }

    /// `-1` stands for "none" (the script reads it so).
    fn opt(&mut self, s: Option<&str>) -> i64 {
        s.map_or(-1, |s| self.id(s) as i64)
    }
}

/// A chain link as `[key, value, key, value, ...]` string indices, each value in words: the
/// script only shows them (a nested value, which the bundled policies never write, as JSON).
fn link_entry(link: &Value, strings: &mut Strings) -> Value {
    let mut out = Vec::new();
    if let Some(o) = link.as_object() {
        for (k, v) in o {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push(json!(strings.id(k)));
            out.push(json!(strings.id(&text)));
        }
    }
    Value::Array(out)
}

/// The cell class and symbol of a verdict: the symbol says it without colour.
fn cell(v: Option<Verdict>) -> (&'static str, &'static str) {
    match v {
        Some(Verdict::Pass) => ("v-pass", "✓"),
        Some(Verdict::Fail) => ("v-fail", "✗"),
        Some(Verdict::Unknown) => ("v-unknown", "?"),
        None => ("v-none", ""),
    }
}

/// `cwl-audit remediate FILES` for an account whose CWL-014 chain is broken: its own snapshot
/// files and those of the accounts its chain runs through (an organization trail's owner), as
/// remediate needs them to plan. `None` when the account has no snapshot (a manifest-only
/// account) or its CWL-014 verdict is a pass.
fn remediate_command(account: &str, run: &RunResult, failing: &[&Finding]) -> Option<String> {
    if failing.is_empty() {
        return None;
    }
    let own = run.accounts.get(account)?;
    if own.snapshots.is_empty() {
        return None;
    }
    let mut files: BTreeSet<&str> = own.snapshots.values().map(String::as_str).collect();
    let mut others: BTreeSet<&str> = BTreeSet::new();
    for f in failing {
        if let Some(l) = &f.location {
            others.insert(l.account_id.as_str());
        }
        for link in f.chain.as_array().into_iter().flatten() {
            if let Some(a) = link.get("account").and_then(Value::as_str) {
                others.insert(a);
            }
        }
    }
    for other in others {
        if let Some(info) = run.accounts.get(other) {
            files.extend(info.snapshots.values().map(String::as_str));
        }
    }
    let mut cmd = "cwl-audit remediate".to_string();
    for file in files {
        cmd.push(' ');
        // A path that starts with `-` would be read as an option (`--output=x/...`).
        if file.starts_with('-') {
            cmd.push_str(&shell_word(&format!("./{file}")));
        } else {
            cmd.push_str(&shell_word(file));
        }
    }
    // The other accounts' files are there for the chain; the plan is for this one.
    cmd.push_str(" --account ");
    cmd.push_str(&shell_word(account));
    Some(cmd)
}

/// One row of the matrix, in the order rows are shown.
struct Row<'a> {
    id: &'a str,
    name: Option<&'a str>,
    ou: Option<String>,
}

fn rows(run: &RunResult) -> Vec<Row<'_>> {
    let mut ids: BTreeSet<&str> = run.accounts.keys().map(String::as_str).collect();
    ids.extend(run.findings.iter().map(|f| f.account_id.as_str()));
    let mut rows: Vec<Row> = ids
        .into_iter()
        .map(|id| {
            let org = run.organization.get(id);
            Row {
                id,
                name: org.and_then(|o| o.name.as_deref()),
                ou: org.and_then(|o| o.ou_path.clone().or_else(|| o.ou_id.clone())),
            }
        })
        .collect();
    // By OU path, then account id; accounts without an OU last. BTreeSet gave id order already.
    rows.sort_by(|a, b| (a.ou.is_none(), &a.ou).cmp(&(b.ou.is_none(), &b.ou)));
    rows
}

pub fn render(run: &RunResult) -> Vec<u8> {
    let mut rules: Vec<&RuleMeta> = run.rules.iter().collect();
    // Columns in control order of the run's benchmark, like the text report.
    let framework = benchmark::find(&run.benchmark).map_or("", |b| b.framework);
    rules.sort_by_cached_key(|r| r.order_key(framework));
    // Findings of rules a run has but does not describe (none today) still get a column.
    let described: BTreeSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let extra: BTreeSet<&str> = run
        .findings
        .iter()
        .map(|f| f.rule_id.as_str())
        .filter(|id| !described.contains(id))
        .collect();
    let columns: Vec<&str> = rules
        .iter()
        .map(|r| r.id.as_str())
        .chain(extra.iter().copied())
        .collect();
    let column_of: HashMap<&str, usize> =
        columns.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let rows = rows(run);
    let row_of: HashMap<&str, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();

    // The worst verdict of each cell (one finding per account and rule; the worst if a policy
    // set ever gave two).
    let mut cells: HashMap<(usize, usize), Verdict> = HashMap::new();
    let mut failing: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in &run.findings {
        if let (Some(&r), Some(&c)) = (
            row_of.get(f.account_id.as_str()),
            column_of.get(f.rule_id.as_str()),
        ) {
            let v = cells.entry((r, c)).or_insert(f.verdict);
            *v = (*v).max(f.verdict);
        }
        if f.verdict != Verdict::Pass {
            failing.entry(f.account_id.as_str()).or_default().push(f);
        }
    }

    let mut strings = Strings::default();
    let findings: Vec<Value> = run
        .findings
        .iter()
        .filter_map(|f| {
            let r = *row_of.get(f.account_id.as_str())?;
            let c = *column_of.get(f.rule_id.as_str())?;
            let loc = f.location.as_ref();
            Some(json!([
                c,
                r,
                Verdict::rank(f.verdict),
                strings.id(&f.message),
                strings.opt(f.link.as_deref()),
                strings.opt(f.resource.as_deref()),
                strings.opt(loc.map(|l| l.path.as_str())),
                loc.map_or(0, |l| l.line),
                strings.opt(loc.map(|l| l.pointer.as_str())),
                strings.opt(f.region.as_deref()),
                f.chain
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| link_entry(l, &mut strings))
                    .collect::<Vec<_>>(),
                f.notes.iter().map(|n| strings.id(n)).collect::<Vec<_>>(),
            ]))
        })
        .collect();
    let rule_data: Vec<Value> = columns
        .iter()
        .map(|id| match rules.iter().find(|r| r.id == *id) {
            Some(r) => json!({
                "id": clean(&r.id),
                "title": clean(&r.title),
                "severity": r.severity,
                "action": clean(&r.recommended_action),
                "remediation": clean_lines(&r.remediation),
                "controls": super::interop::requirements(r).iter().map(|c| clean(c).into_owned()).collect::<Vec<_>>(),
            }),
            None => json!({ "id": clean(id), "title": "", "severity": "", "action": "", "remediation": "", "controls": [] }),
        })
        .collect();
    let account_data: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({
                "id": clean(row.id),
                "name": row.name.map(|n| clean(n).into_owned()),
                "ou": row.ou.as_deref().map(|o| clean(o).into_owned()),
                "remediate": remediate_command(row.id, run, failing.get(row.id).map_or(&[][..], Vec::as_slice))
                    .map(|c| clean(&c).into_owned()),
            })
        })
        .collect();
    let data = json!({
        "format": 1,
        "strings": strings.list,
        "rules": rule_data,
        "accounts": account_data,
        "findings": findings,
    });

    let mut o = String::with_capacity(64 * 1024 + rows.len() * columns.len() * 32);
    let summary = run.summary_line();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        o,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        html_escape(&content_security_policy())
    );
    o.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(o, "<title>cwl-audit: {}</title>", html_escape(&summary));
    let _ = writeln!(o, "<style>{CSS}</style>\n</head>\n<body>");
    o.push_str("<header>\n<h1>cwl-audit report</h1>\n");
    let _ = writeln!(o, "<p id=\"summary\">{}</p>", html_escape(&summary));
    let _ = writeln!(
        o,
        "<p class=\"meta\">Benchmark {} · cwl-audit {} · {} input file{}</p>",
        html_escape(&run.benchmark),
        env!("CARGO_PKG_VERSION"),
        run.inputs.len(),
        crate::text::plural_s(run.inputs.len())
    );
    o.push_str("<p class=\"totals\">");
    for (v, label) in [
        (Verdict::Fail, "fail"),
        (Verdict::Unknown, "unknown"),
        (Verdict::Pass, "pass"),
    ] {
        let (class, sym) = cell(Some(v));
        let _ = write!(
            o,
            "<span class=\"chip {class}\">{sym} {} {label}</span> ",
            run.count(v)
        );
    }
    o.push_str("</p>\n</header>\n<main>\n");

    if !run.notifications.is_empty() {
        // Open when short; an organization's many warnings (one per denied call) would
        // otherwise push the matrix off the first screen.
        let count = |l: Level| run.notifications.iter().filter(|n| n.level == l).count();
        let kinds: Vec<String> = [
            (Level::Error, "error"),
            (Level::Warning, "warning"),
            (Level::Note, "note"),
        ]
        .into_iter()
        .filter(|(l, _)| count(*l) > 0)
        .map(|(l, word)| crate::text::plural(count(l), word))
        .collect();
        let _ = writeln!(
            o,
            "<details id=\"problems\"{}><summary>Input problems: {}</summary>\n<ul>",
            if run.notifications.len() <= 5 {
                " open"
            } else {
                ""
            },
            kinds.join(", ")
        );
        for n in &run.notifications {
            let level = match n.level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Note => "note",
            };
            let _ = writeln!(
                o,
                "<li class=\"{level}\"><span class=\"level\">{level}</span> {}</li>",
                html_escape(&n.message)
            );
        }
        o.push_str("</ul>\n</details>\n");
    }

    o.push_str("<section id=\"org\">\n<h2>Accounts × rules</h2>\n");
    o.push_str("<noscript><p>Sorting, filtering and the account details need JavaScript; the matrix below reads without it.</p></noscript>\n");
    o.push_str("<div class=\"controls\">\n<label>Search <input id=\"q\" type=\"search\" placeholder=\"account id, name or OU\" autocomplete=\"off\"></label>\n");
    o.push_str("<label>Show <select id=\"show\"><option value=\"all\">every account</option><option value=\"problem\">fail or unknown</option><option value=\"fail\">fail</option><option value=\"unknown\">unknown</option><option value=\"pass\">pass only</option></select></label>\n");
    o.push_str("<label>in <select id=\"rule\"><option value=\"\">any rule</option>");
    for (i, id) in columns.iter().enumerate() {
        let _ = write!(o, "<option value=\"{i}\">{}</option>", html_escape(id));
    }
    o.push_str("</select></label>\n<output id=\"shown\"></output>\n</div>\n");
    o.push_str("<div class=\"scroll\">\n<table id=\"matrix\">\n<thead><tr><th class=\"acct-col\"><button type=\"button\" class=\"sort\" data-key=\"account\">Account</button></th>");
    for (i, id) in columns.iter().enumerate() {
        let title = rules
            .iter()
            .find(|r| r.id == *id)
            .map(|r| r.title.as_str())
            .unwrap_or("");
        let _ = write!(
            o,
            "<th class=\"rule\" data-rule=\"{}\" title=\"{}\"><button type=\"button\" class=\"sort\" data-key=\"{i}\">{}</button></th>",
            html_escape(id),
            html_escape(title),
            html_escape(id)
        );
    }
    o.push_str("<th class=\"count\"><button type=\"button\" class=\"sort\" data-key=\"problems\">Fail / unknown</button></th></tr></thead>\n");
    let grouped = rows.iter().any(|r| r.ou.is_some());
    let mut i = 0;
    while i < rows.len() {
        let ou = &rows[i].ou;
        let end = rows[i..]
            .iter()
            .position(|r| &r.ou != ou)
            .map_or(rows.len(), |n| i + n);
        if grouped {
            let label = ou.as_deref().unwrap_or("(no OU)");
            let _ = writeln!(
                o,
                "<tbody class=\"group\" data-ou=\"{}\"><tr class=\"ou\"><th colspan=\"{}\">{} <span class=\"n\"></span></th></tr>",
                html_escape(label),
                columns.len() + 2,
                html_escape(label)
            );
        } else {
            o.push_str("<tbody class=\"group\">\n");
        }
        for (r, row) in rows.iter().enumerate().take(end).skip(i) {
            let (mut fails, mut unknowns) = (0, 0);
            for c in 0..columns.len() {
                match cells.get(&(r, c)) {
                    Some(Verdict::Fail) => fails += 1,
                    Some(Verdict::Unknown) => unknowns += 1,
                    _ => {}
                }
            }
            let _ = write!(
                o,
                "<tr data-i=\"{r}\" data-account=\"{}\"><th scope=\"row\"><button type=\"button\" class=\"acct\">{}</button>",
                html_escape(row.id),
                html_escape(row.id)
            );
            if let Some(name) = row.name {
                let _ = write!(o, " <span class=\"name\">{}</span>", html_escape(name));
            }
            o.push_str("</th>");
            for c in 0..columns.len() {
                let (class, sym) = cell(cells.get(&(r, c)).copied());
                let _ = write!(o, "<td class=\"{class}\">{sym}</td>");
            }
            let _ = writeln!(
                o,
                "<td class=\"count\" data-fail=\"{fails}\" data-unknown=\"{unknowns}\">{fails} / {unknowns}</td></tr>"
            );
        }
        o.push_str("</tbody>\n");
        i = end;
    }
    o.push_str("</table>\n</div>\n");
    o.push_str("<p class=\"legend\"><span class=\"v-pass\">✓</span> pass · <span class=\"v-fail\">✗</span> fail · <span class=\"v-unknown\">?</span> unknown (could not be verified) · blank: no verdict. Click an account or a cell for its chains.</p>\n</section>\n");
    o.push_str("<section id=\"detail\" hidden></section>\n</main>\n");
    let _ = writeln!(
        o,
        "<script type=\"application/json\" id=\"cwl-data\">{}</script>",
        script_json(&data)
    );
    let _ = writeln!(o, "<script>{JS}</script>\n</body>\n</html>");
    o.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes_and_cleans() {
        assert_eq!(
            html_escape("\"><img src=x onerror=alert(1)>'&"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;"
        );
        assert_eq!(html_escape("rtl\u{202E}x\u{1b}[31m"), "rtl x [31m");
    }

    #[test]
    fn script_json_cannot_close_its_element() {
        let hostile = "</script><script>alert(1)</script><!-- ]]> & \u{2028}\u{2029}";
        let text = script_json(&json!({ "s": hostile }));
        for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!text.contains(bad), "{bad:?} in {text}");
        }
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["s"], hostile, "the same string once parsed");
    }

    #[test]
    fn base64_matches_known_vectors() {
        for (input, out) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), out, "{input:?}");
        }
    }
}
