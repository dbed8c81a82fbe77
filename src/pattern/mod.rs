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
        }
    }
}

/// The longest filter pattern CloudWatch Logs stores (PutMetricFilter, `filterPattern`: "Maximum
/// length of 1024"). Longer patterns are still parsed and decided when they can be (a policy may
/// pass any text); when one cannot be, the message says that AWS would not hold it.
pub const MAX_PATTERN_CHARS: usize = 1024;

/// Does `candidate` cover `reference`? See [`Coverage`]. Never slower than [`MAX_COMBINATIONS`]
/// evaluations; beyond that the answer is undecided.
pub fn covers(candidate: &str, reference: &str) -> Coverage {
    let mut c = covers_parsed(candidate, reference);
    if c.undecided {
        let n = candidate.chars().count();
        if let Some(e) = c.error.as_mut().filter(|_| n > MAX_PATTERN_CHARS) {
            // Such a pattern cannot come from a metric filter in AWS: worth saying, since it
            // points at the snapshot rather than at the account.
            e.push_str(&format!(
                " (the filter's pattern is {n} characters long, and CloudWatch Logs stores at most {MAX_PATTERN_CHARS})"
            ));
        }
    }
    c
}

fn covers_parsed(candidate: &str, reference: &str) -> Coverage {
    let parsed = |which: &str, src: &str| {
        parse(src).map_err(|e| Coverage {
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
    };
    let (cand, refr) = match (
        parsed("the filter", candidate),
        parsed("the reference", reference),
    ) {
        (Ok(c), Ok(r)) => (c, r),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let d = cover::decide(&cand, &refr);
    if let Some(reason) = d.undecided {
        return Coverage {
            error: Some(format!("too complex to decide: {reason}")),
            undecided: true,
            ..Coverage::empty()
        };
    }
    Coverage {
        covers: d.covers,
        matches_non_root: d.matches_non_root,
        matches_extra_root: d.matches_extra_root,
        counterexample: d.counterexample,
        missed: d.missed,
        non_root_example: d.non_root_example,
        error: None,
        undecided: false,
    }
}

#[cfg(test)]
mod tests;
