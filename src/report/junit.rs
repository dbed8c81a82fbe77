//! JUnit XML for CI systems (GitLab, Jenkins): a test suite per rule, a test case per account.
//! fail -> <failure>; unknown -> <error> (it could not be proven either way, and by default it
//! fails the build like a failure). Unreadable inputs are error cases in a suite of their own, so a
//! pipeline cannot show green while a snapshot was ignored.
//!
//! Unlike the other machine formats, JUnit's only readers are CI test-report pages that show the
//! messages to a person, and it names no resource a tool matches on: every text from the run
//! (messages, paths, notes, names) is [`clean`]ed first, as the text report is, so a bidi or
//! zero-width character in a snapshot cannot reorder or hide what the page shows. The line breaks
//! between a message and its location are the report's own.
use crate::findings::{Level, RunResult, Verdict};
use crate::text::clean;
use std::fmt::Write as _;

/// Escapes text for XML 1.0 attributes and content; characters XML 1.0 cannot carry become U+FFFD.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub fn render(result: &RunResult) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for rule in &result.rules {
        let cases: Vec<_> = result
            .findings
            .iter()
            .filter(|f| f.rule_id == rule.id)
            .collect();
        let nf = cases.iter().filter(|f| f.verdict == Verdict::Fail).count();
        let ne = cases
            .iter()
            .filter(|f| f.verdict == Verdict::Unknown)
            .count();
        tests += cases.len();
        failures += nf;
        errors += ne;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{nf}\" errors=\"{ne}\" skipped=\"0\">",
            esc(&clean(&format!("{} {}", rule.id, rule.title))),
            cases.len()
        );
        for f in cases {
            let file = f
                .location
                .as_ref()
                .map(|l| format!(" file=\"{}\" line=\"{}\"", esc(&clean(&l.path)), l.line))
                .unwrap_or_default();
            let _ = write!(
                suites,
                "    <testcase classname=\"{}\" name=\"{}\"{file}",
                esc(&clean(&f.rule_id)),
                esc(&clean(&f.account_id))
            );
            let detail = || {
                let mut d = clean(&f.message).into_owned();
                if let Some(l) = &f.location {
                    let _ = write!(
                        d,
                        "\nat {}:{} ({})",
                        clean(&l.path),
                        l.line,
                        clean(&l.pointer)
                    );
                }
                for n in &f.notes {
                    let _ = write!(d, "\nnote: {}", clean(n));
                }
                d
            };
            match f.verdict {
                Verdict::Pass => {
                    let _ = writeln!(suites, "/>");
                }
                Verdict::Fail => {
                    let _ = writeln!(suites, ">\n      <failure type=\"fail\" message=\"{}\">{}</failure>\n    </testcase>", esc(&clean(&f.message)), esc(&detail()));
                }
                Verdict::Unknown => {
                    let _ = writeln!(suites, ">\n      <error type=\"unknown\" message=\"{}\">{}</error>\n    </testcase>", esc(&clean(&f.message)), esc(&detail()));
                }
            }
        }
        suites.push_str("  </testsuite>\n");
    }
    let input_errors: Vec<_> = result
        .notifications
        .iter()
        .filter(|n| n.level == Level::Error)
        .collect();
    if !input_errors.is_empty() {
        tests += input_errors.len();
        errors += input_errors.len();
        let _ = writeln!(suites, "  <testsuite name=\"cwl-audit inputs\" tests=\"{0}\" failures=\"0\" errors=\"{0}\" skipped=\"0\">", input_errors.len());
        for n in input_errors {
            let name = n.path.clone().unwrap_or_else(|| "policies".to_string());
            let _ = writeln!(
                suites,
                "    <testcase classname=\"inputs\" name=\"{}\">\n      <error type=\"input\" message=\"{}\"/>\n    </testcase>",
                esc(&clean(&name)),
                esc(&clean(&n.message))
            );
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"cwl-audit\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n{suites}</testsuites>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            esc("a<b>&\"'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}&#10;"
        );
    }
}
