//! CloudWatch Logs filter patterns: parse them, match them against log events, and decide whether a
//! metric filter catches every event a reference pattern catches (and nothing it should not).
//!
//! A pure library: no I/O, no Rego. `engine::builtins` exposes it to policies as
//! `cwl.filter_matches` and `cwl.filter_covers`; `docs/filter-patterns.md` describes the language
//! subset, the semantics (with the AWS documentation each rule comes from) and how coverage is
//! decided.
//!
//! - [`parse`] — the pattern language (`parse.rs`, AST in `ast.rs`), errors with a column.
//! - [`matches`] — one pattern, one event (`matcher.rs`).
//! - [`covers`] — coverage by construction over well-formed CloudTrail records (`cover.rs`,
//!   event space in `space.rs`, plain-words counter-examples in `explain.rs`).
pub mod ast;
mod cover;
mod explain;
pub mod matcher;
mod parse;
pub mod space;

pub use ast::Pattern;
pub use cover::{MAX_COMBINATIONS, MAX_TERMS};
pub use matcher::Event;
pub use parse::{parse, MAX_NESTING};
use serde::Serialize;
use std::time::Instant;

/// A pattern CloudWatch Logs would reject, or one this engine does not support.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct PatternError {
    /// 1-based character column in the pattern as written.
    pub column: usize,
    pub message: String,
    /// True when the pattern may be valid but this engine does not handle it.
    pub unsupported: bool,
}

impl PatternError {
    pub(crate) fn invalid(column: usize, message: impl Into<String>) -> Self {
        PatternError {
            column,
            message: message.into(),
            unsupported: false,
        }
    }
    pub(crate) fn unsupported(column: usize, message: impl Into<String>) -> Self {
        PatternError {
            column,
            message: message.into(),
            unsupported: true,
        }
    }
}

/// Does `pattern` match `event`? `event` is a JSON record (its raw text is its compact JSON) or a
/// string, taken as a raw log line.
pub fn matches(pattern: &str, event: &serde_json::Value) -> Result<bool, PatternError> {
    let p = parse(pattern)?;
    Ok(matcher::matches(&p, &Event::from_json(event)))
}

/// The answer to "does `candidate` catch every event `reference` catches, and nothing it should not?".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// Every record the reference matches is matched by the candidate.
    pub covers: bool,
    /// The candidate matches records whose `userIdentity.type` is not `Root`.
    pub matches_non_root: bool,
    /// The candidate matches root records the reference leaves out (service-invoked, AwsServiceEvent).
    pub matches_extra_root: bool,
    /// A record the reference matches and the candidate misses, when `covers` is false.
    pub counterexample: Option<serde_json::Value>,
    /// The missed records in plain words, e.g. `whose sourceIPAddress is "203.0.113.7"`.
    pub missed: Option<String>,
    /// A record of a non-root identity that the candidate matches, when `matches_non_root`.
    pub non_root_example: Option<serde_json::Value>,
    /// Why the question could not be answered: a pattern CloudWatch would reject, or one too complex
    /// to decide. `covers` is false whenever this is set.
    pub error: Option<String>,
    /// True when `error` means "too complex to decide" rather than "invalid pattern".
    pub undecided: bool,
    /// How the answer was reached, when that is worth saying: a `*` inside a value that the AWS
    /// guides read in two ways, and the answer that is the same under both.
    pub note: Option<String>,
}

impl Coverage {
    fn empty() -> Self {
        Coverage {
            covers: false,
            matches_non_root: false,
            matches_extra_root: false,
            counterexample: None,
            missed: None,
            non_root_example: None,
            error: None,
            undecided: false,
            note: None,
        }
    }
}

/// The longest filter pattern CloudWatch Logs stores (PutMetricFilter, `filterPattern`: "Maximum
/// length of 1024"). Longer patterns are still parsed and decided when they can be (a policy may
/// pass any text); when one cannot be, the message says that AWS would not hold it.
pub const MAX_PATTERN_CHARS: usize = 1024;

/// [`covers_until`]'s deadline passed before the question was decided. Not a property of the
/// patterns: with more time the same question may be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("coverage was not decided before the deadline")]
pub struct TimedOut;

/// Does `candidate` cover `reference`? See [`Coverage`]. Never slower than [`MAX_COMBINATIONS`]
/// evaluations; beyond that the answer is undecided.
pub fn covers(candidate: &str, reference: &str) -> Coverage {
    match covers_until(candidate, reference, None) {
        Ok(c) => c,
        // No deadline was given, so none passed.
        Err(TimedOut) => Coverage {
            error: Some("too complex to decide: stopped".to_string()),
            undecided: true,
            ..Coverage::empty()
        },
    }
}

/// [`covers`], stopped at `deadline`: the work is spread over loops that each read the clock now
/// and then, so the answer or [`TimedOut`] comes shortly after the deadline at the latest.
pub fn covers_until(
    candidate: &str,
    reference: &str,
    deadline: Option<Instant>,
) -> Result<Coverage, TimedOut> {
    let mut budget = cover::Budget::new(deadline);
    // A deadline already past (an earlier question of the same evaluation used it up) ends here.
    budget.check().map_err(|_| TimedOut)?;
    let mut c = covers_parsed(candidate, reference, &mut budget)?;
    if c.undecided {
        length_hint(&mut c, candidate);
    }
    Ok(c)
}

impl Coverage {
    /// The answer "too complex to decide: `reason`" about `candidate`, e.g. for a caller whose
    /// deadline passed ([`TimedOut`]).
    pub fn undecided(candidate: &str, reason: &str) -> Coverage {
        let mut c = Coverage::plain_undecided(reason);
        length_hint(&mut c, candidate);
        c
    }

    fn plain_undecided(reason: &str) -> Coverage {
        Coverage {
            error: Some(format!("too complex to decide: {reason}")),
            undecided: true,
            ..Coverage::empty()
        }
    }
}

/// Such a pattern cannot come from a metric filter in AWS: worth saying when it cannot be decided,
/// since it points at the snapshot rather than at the account.
fn length_hint(c: &mut Coverage, candidate: &str) {
    let n = candidate.chars().count();
    if let Some(e) = c.error.as_mut().filter(|_| n > MAX_PATTERN_CHARS) {
        e.push_str(&format!(
            " (the filter's pattern is {n} characters long, and CloudWatch Logs stores at most {MAX_PATTERN_CHARS})"
        ));
    }
}

fn covers_parsed(
    candidate: &str,
    reference: &str,
    budget: &mut cover::Budget,
) -> Result<Coverage, TimedOut> {
    let parsed = |which: &str, src: &str| {
        parse(src).map_err(|e| {
            Box::new(Coverage {
                error: Some(if e.unsupported {
                    format!("too complex to decide: {which} uses {}", e.message)
                } else if which == "the reference" {
                    format!("the reference pattern is invalid: {e}")
                } else {
                    e.to_string()
                }),
                undecided: e.unsupported,
                ..Coverage::empty()
            })
        })
    };
    let (cand, refr) = match (
        parsed("the filter", candidate),
        parsed("the reference", reference),
    ) {
        (Ok(c), Ok(r)) => (c, r),
        (Err(e), _) | (_, Err(e)) => return Ok(*e),
    };
    let mut starred = Vec::new();
    cover::inner_star_values(&cand, &mut starred);
    cover::inner_star_values(&refr, &mut starred);
    if starred.is_empty() {
        return decided(cover::decide(&cand, &refr, budget));
    }
    // A `*` inside a value: a wildcard for the current guide, the character itself for the 2019
    // one ("Ev*ent will only match the actual string Ev*ent"). Which AWS applies is not known, so
    // the question is decided under both readings; an answer both give is the answer.
    let value = if starred.len() == 1 {
        format!("the '*' inside \"{}\"", starred[0])
    } else {
        format!(
            "the '*' inside \"{}\" (and {} other values)",
            starred[0],
            starred.len() - 1
        )
    };
    if candidate.contains(cover::LITERAL_STAR) || reference.contains(cover::LITERAL_STAR) {
        return Ok(Coverage::plain_undecided(
            &format!(
                "{value} has two readings, and the character U+E02A the second one is decided with appears in the patterns"
            ),
        ));
    }
    let wildcard = cover::decide(&cand, &refr, budget);
    let literal = cover::decide(
        &cover::literal_reading(&cand),
        &cover::literal_reading(&refr),
        budget,
    );
    let (w, mut l) = match (wildcard, literal) {
        (Err(cover::Stop::TimedOut), _) | (_, Err(cover::Stop::TimedOut)) => return Err(TimedOut),
        (Err(cover::Stop::Undecided(reason)), _) => {
            return Ok(Coverage::plain_undecided(&format!(
                "{reason} (reading {value} as a wildcard, as the current AWS guide does)"
            )))
        }
        (_, Err(cover::Stop::Undecided(reason))) => {
            return Ok(Coverage::plain_undecided(&format!(
                "{reason} (reading {value} as the asterisk itself, as the 2019 AWS guide does)"
            )))
        }
        (Ok(w), Ok(l)) => (w, l),
    };
    l.missed = l.missed.map(|m| cover::unrename(&m));
    for r in [&mut l.counterexample, &mut l.non_root_example]
        .into_iter()
        .flatten()
    {
        cover::unrename_json(r);
    }
    let answer = |d: &cover::Decision| (d.covers, d.matches_non_root, d.matches_extra_root);
    if answer(&w) != answer(&l) {
        return Ok(Coverage::plain_undecided(
            &format!(
                "{value} is a wildcard in the current AWS guide and the asterisk itself in the 2019 guide, and the answer depends on it: as a wildcard the filter {}; as the asterisk itself it {}",
                summary(&w),
                summary(&l)
            ),
        ));
    }
    let mut c = decided(Ok(w))?;
    if let (Some(wm), Some(lm)) = (&c.missed, &l.missed) {
        if wm != lm {
            c.missed = Some(format!(
                "{wm} (or, reading {value} as the asterisk itself, those {lm})"
            ));
        }
    }
    c.note = Some(format!(
        "{value} is a wildcard for the current AWS guide and the asterisk itself for the 2019 guide; the answer is the same under both readings"
    ));
    Ok(c)
}

/// One reading's answer, in words, for the message that says the readings disagree.
fn summary(d: &cover::Decision) -> String {
    let mut parts = vec![if d.covers {
        "catches every record the reference catches".to_string()
    } else {
        format!(
            "misses records {}",
            d.missed.as_deref().unwrap_or("the reference catches")
        )
    }];
    if d.matches_non_root {
        parts.push("matches records of identities other than Root".to_string());
    }
    if d.matches_extra_root {
        parts.push("matches root records the reference leaves out".to_string());
    }
    parts.join(", and ")
}

/// The coverage for a decision (or the reason there is none).
fn decided(d: Result<cover::Decision, cover::Stop>) -> Result<Coverage, TimedOut> {
    let d = match d {
        Ok(d) => d,
        Err(cover::Stop::TimedOut) => return Err(TimedOut),
        Err(cover::Stop::Undecided(reason)) => return Ok(Coverage::plain_undecided(&reason)),
    };
    Ok(Coverage {
        covers: d.covers,
        matches_non_root: d.matches_non_root,
        matches_extra_root: d.matches_extra_root,
        counterexample: d.counterexample,
        missed: d.missed,
        non_root_example: d.non_root_example,
        error: None,
        undecided: false,
        note: None,
    })
}

#[cfg(test)]
mod tests;
