//! What a run found, independent of any output format: every sink renders these and nothing else.
pub mod benchmark;
pub mod rule;

pub use rule::{Reference, RelatedResource, RemediateNames, RuleMeta, Severity};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass = 0,
    Unknown = 1,
    Fail = 2,
}

impl Verdict {
    /// How bad the verdict is, as a number (pass 0, unknown 1, fail 2): the order `Ord` derives,
    /// for formats and comparisons that need it as data (the HTML report's cells, `diff`).
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "pass" => Some(Verdict::Pass),
            "fail" => Some(Verdict::Fail),
            "unknown" => Some(Verdict::Unknown),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding points: a snapshot file and the JSON object in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The snapshot's path as given on the command line.
    pub path: String,
    /// JSON pointer of the object that breaks the chain (or the section that lacks it).
    pub pointer: String,
    /// 1-based line of that object in the file.
    pub line: usize,
    /// The account and region of that snapshot (an organization trail's chain lives in another account).
    pub account_id: String,
    pub region: String,
}

/// The link of the chain a finding's verdict rests on, parsed once where findings are built
/// ([`crate::eval`]) so consumers match a variant instead of comparing text. It serializes,
/// displays and derefs as the policy's word (`"log_group"`), so every report is byte-identical to
/// the plain string; a word cwl-audit does not know (a custom policy's `"regions"`) is kept as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Link {
    Trail,
    LogGroup,
    Filter,
    Metric,
    Alarm,
    Topic,
    /// An account a run manifest expected (see `eval::manifests`).
    Account,
    Other(String),
}

impl Link {
    pub fn parse(word: &str) -> Link {
        match word {
            "trail" => Link::Trail,
            "log_group" => Link::LogGroup,
            "filter" => Link::Filter,
            "metric" => Link::Metric,
            "alarm" => Link::Alarm,
            "topic" => Link::Topic,
            "account" => Link::Account,
            other => Link::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Link::Trail => "trail",
            Link::LogGroup => "log_group",
            Link::Filter => "filter",
            Link::Metric => "metric",
            Link::Alarm => "alarm",
            Link::Topic => "topic",
            Link::Account => "account",
            Link::Other(s) => s,
        }
    }
}

impl From<&str> for Link {
    fn from(word: &str) -> Link {
        Link::parse(word)
    }
}

impl std::ops::Deref for Link {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Link {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The verdict of one rule for one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule_id: String,
    pub account_id: String,
    pub verdict: Verdict,
    /// Plain words: the complete chain, or the first broken link of the closest chain.
    pub message: String,
    /// Region of the snapshot the finding points at.
    pub region: Option<String>,
    /// ARN (or name) of the resource at the broken link.
    pub resource: Option<String>,
    /// Which link decided the verdict (`trail`, `log_group`, `filter`, `metric`, `alarm`, `topic`...).
    pub link: Option<Link>,
    pub location: Option<Location>,
    /// The chain as far as it holds: one object per link.
    pub chain: serde_json::Value,
    /// Remarks that do not change the verdict (e.g. a filter that also counts service-invoked events).
    pub notes: Vec<String>,
}

impl Finding {
    /// The first entry of the chain evidence for `link` (entries name their link in `"link"`).
    pub fn chain_entry(&self, link: &Link) -> Option<&serde_json::Value> {
        self.chain_entries()
            .find(|e| entry_link(e).as_ref() == Some(link))
    }

    /// The last entry of the chain evidence for `link` (the one nearest the broken link).
    pub fn last_chain_entry(&self, link: &Link) -> Option<&serde_json::Value> {
        self.chain_entries()
            .rev()
            .find(|e| entry_link(e).as_ref() == Some(link))
    }

    /// Every entry of the chain evidence, from the trail on.
    pub fn chain_entries(&self) -> std::slice::Iter<'_, serde_json::Value> {
        self.chain
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
    }
}

fn entry_link(entry: &serde_json::Value) -> Option<Link> {
    entry.get("link").and_then(|l| l.as_str()).map(Link::parse)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Note,
    Warning,
    Error,
}

/// Something about the run rather than an account: a file that could not be read, a call the
/// collector could not make, a policy that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub level: Level,
    pub message: String,
    pub path: Option<String>,
    pub line: Option<usize>,
}

/// What reports need to know about an evaluated account besides its findings: Security Hub's
/// ProductArn names the partition, and OCSF and ASFF date a finding by when its state was collected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountInfo {
    /// `aws`, `aws-cn` or `aws-us-gov`, from the account's snapshots.
    pub partition: String,
    /// Each region's snapshot `collected_at`, as written (an optional field of the snapshot).
    pub collected_at: BTreeMap<String, String>,
    /// Each region's snapshot file, as given on the command line (the HTML report's
    /// `cwl-audit remediate` command line names the account's files).
    pub snapshots: BTreeMap<String, String>,
}

/// An account's place in its organization, as the run manifest of `collect --organization` names
/// it: the HTML report groups its matrix by OU. Untrusted like any input (it comes from a file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgAccount {
    /// The account's name in Organizations.
    pub name: Option<String>,
    /// The OU id (`ou-abcd-12345678`, or the root `r-abcd`).
    pub ou_id: Option<String>,
    /// OU names from the root down (`Root/Workloads/Prod`), when the manifest has them.
    pub ou_path: Option<String>,
}

/// Everything a report needs.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub rules: Vec<RuleMeta>,
    pub findings: Vec<Finding>,
    pub notifications: Vec<Notification>,
    /// Snapshot files that were evaluated.
    pub inputs: Vec<String>,
    /// The benchmark whose reference patterns decided (`--benchmark`).
    pub benchmark: String,
    /// Every account that had a usable snapshot, by id.
    pub accounts: BTreeMap<String, AccountInfo>,
    /// Every account a run manifest lists (with or without snapshots), by id; empty without one.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub organization: BTreeMap<String, OrgAccount>,
}

impl RunResult {
    /// A run that decided nothing because of `error` (a policy that does not compile, an unknown
    /// rule): written where the report would have been, so a report of an earlier run is not left
    /// behind to be taken for this one (SARIF then says `executionSuccessful: false`).
    pub fn failed(benchmark: &str, error: String) -> RunResult {
        RunResult {
            rules: Vec::new(),
            findings: Vec::new(),
            notifications: vec![Notification {
                level: Level::Error,
                message: error,
                path: None,
                line: None,
            }],
            inputs: Vec::new(),
            benchmark: benchmark.to_string(),
            accounts: BTreeMap::new(),
            organization: BTreeMap::new(),
        }
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.findings.iter().filter(|f| f.verdict == v).count()
    }

    /// Input or tool errors: the results are incomplete, so a CI upload must not treat missing
    /// findings as fixed.
    pub fn has_errors(&self) -> bool {
        self.notifications.iter().any(|n| n.level == Level::Error)
    }

    /// The summary, as the text report's last line and `eval`'s last line on stderr:
    /// `9 accounts, 15 rules: 100 pass, 30 fail, 5 unknown; 2 errors`.
    pub fn summary_line(&self) -> String {
        use crate::text::plural;
        let accounts: std::collections::BTreeSet<&str> = self
            .findings
            .iter()
            .map(|f| f.account_id.as_str())
            .collect();
        let errors = self
            .notifications
            .iter()
            .filter(|n| n.level == Level::Error)
            .count();
        let mut line = format!(
            "{}, {}: {} pass, {} fail, {} unknown",
            plural(accounts.len(), "account"),
            plural(self.rules.len(), "rule"),
            self.count(Verdict::Pass),
            self.count(Verdict::Fail),
            self.count(Verdict::Unknown),
        );
        if errors > 0 {
            line.push_str(&format!("; {}", plural(errors, "error")));
        }
        line
    }
}

#[cfg(test)]
mod link_tests {
    use super::Link;

    /// Reports must not change: a typed link is written exactly as the policy's word.
    #[test]
    fn link_serializes_as_the_policy_word() {
        for word in [
            "trail",
            "log_group",
            "filter",
            "metric",
            "alarm",
            "topic",
            "account",
            "regions",
        ] {
            let l = Link::parse(word);
            assert_eq!(serde_json::to_string(&l).unwrap(), format!("\"{word}\""));
            assert_eq!(l.to_string(), word);
            assert_eq!(&*l, word);
        }
        assert_eq!(Link::parse("log_group"), Link::LogGroup);
        assert_eq!(Link::parse("regions"), Link::Other("regions".into()));
    }
}
