//! CloudWatch Logs filter patterns: does a metric filter catch the events a reference pattern catches?
//!
//! PROVISIONAL (issue "filter-pattern engine"): until the semantic engine lands, a candidate covers the
//! reference only when both are equal once all whitespace is removed. Everything that decides a filter
//! goes through [`covers`], which the Rego builtin `cwl.filter_covers` exposes, so the semantic engine
//! replaces this body and nothing else.
use serde::Serialize;

/// The answer to "does `candidate` catch every event `reference` catches, and nothing it should not?".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// Every record the reference matches is matched by the candidate.
    pub covers: bool,
    /// The candidate matches records whose `userIdentity.type` is not `Root`.
    pub matches_non_root: bool,
    /// The candidate matches root records the reference leaves out (service-invoked, AwsServiceEvent).
    pub matches_extra_root: bool,
    /// A record the reference matches and the candidate misses, when `covers` is false and one is known.
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

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Does `candidate` cover `reference`? See [`Coverage`].
pub fn covers(candidate: &str, reference: &str) -> Coverage {
    let empty = Coverage {
        covers: false,
        matches_non_root: false,
        matches_extra_root: false,
        counterexample: None,
        missed: None,
        non_root_example: None,
        error: None,
        undecided: false,
    };
    if candidate.trim().is_empty() {
        // An empty metric filter pattern matches every log event, root or not.
        return Coverage {
            covers: true,
            matches_non_root: true,
            ..empty
        };
    }
    Coverage {
        covers: squeeze(candidate) == squeeze(reference),
        ..empty
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const CIS: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;

    #[test]
    fn whitespace_does_not_matter() {
        let compact = CIS.replace(' ', "");
        assert!(covers(&compact, CIS).covers);
        assert!(covers(&format!("\n{CIS}\n"), CIS).covers);
    }

    #[test]
    fn other_text_does_not_cover() {
        let lower = CIS.replace("\"Root\"", "\"root\"");
        let c = covers(&lower, CIS);
        assert!(!c.covers);
        assert!(!c.matches_non_root);
    }

    #[test]
    fn empty_pattern_matches_everything() {
        let c = covers("  ", CIS);
        assert!(c.covers && c.matches_non_root);
    }
}
