//! What a rule is, as reports and the findings model see it: its id, title, severity, frameworks,
//! reference patterns and remediation. Read from policy METADATA by `engine::metadata`; nothing
//! here knows about Rego.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How bad a failing rule is; maps to SARIF `security-severity` and level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// GitHub code scanning's numeric scale (a string number in SARIF).
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "2.0",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
        }
    }
}

/// METADATA's `custom.severity`, in any case; the error is the message for its policy.
impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "LOW" => Ok(Severity::Low),
            "MEDIUM" => Ok(Severity::Medium),
            "HIGH" => Ok(Severity::High),
            "CRITICAL" => Ok(Severity::Critical),
            _ => Err(format!(
                "custom.severity \"{s}\" is not LOW, MEDIUM, HIGH or CRITICAL"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedResource {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A reference pattern of a rule and the benchmarks (`--benchmark` ids) that prescribe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub pattern: String,
    pub benchmarks: Vec<String>,
    /// Where the pattern text was verified (a benchmark text, a vendor page).
    pub source: String,
}

/// `custom.remediate`: the names `cwl-audit remediate` gives the resources it plans for a rule
/// (used only where the snapshots show no name to reuse).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemediateNames {
    pub filter_name: String,
    pub metric_name: String,
    pub metric_namespace: String,
    pub alarm_name: String,
}

/// What a rule says about itself (its METADATA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub recommended_action: String,
    /// Markdown: the remediation steps (SARIF `help.markdown`).
    pub remediation: String,
    pub frameworks: BTreeMap<String, Vec<String>>,
    /// `custom.references`: the rule's reference patterns by benchmark, the group of the newest
    /// benchmark first (see [`RuleMeta::reference_for`]). Empty for rules that name their
    /// reference in Rego only.
    pub references: Vec<Reference>,
    pub related_resources: Vec<RelatedResource>,
    /// `custom.remediate`. Not part of any report (reports stay as they were).
    #[serde(skip)]
    pub remediate: Option<RemediateNames>,
    /// The Rego package, e.g. `checks.aws.cloudwatch.root_usage_alarm`.
    pub package: String,
    /// Where the rule came from, e.g. `policies/aws/cloudwatch/root_usage_alarm.rego`.
    pub source: String,
}

impl RuleMeta {
    /// The rule's first control in `framework` (a `custom.frameworks` key), e.g. `5.3`.
    pub fn control(&self, framework: &str) -> Option<&str> {
        self.frameworks
            .get(framework)
            .and_then(|c| c.first())
            .map(String::as_str)
    }

    /// How reports and `rules` order rules: by their control in `framework` as numbers, so
    /// `4.5` comes before `4.11` (id-string order put `CIS-4.11` first); rules without a control
    /// there come after, by id.
    pub fn order_key(&self, framework: &str) -> (bool, Vec<u32>, String) {
        let numbers: Vec<u32> = self
            .control(framework)
            .unwrap_or_default()
            .split(|ch: char| !ch.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        (numbers.is_empty(), numbers, self.id.clone())
    }

    /// The reference that decides under `benchmark`: its entry, or for a benchmark the rule is not
    /// part of (e.g. CIS 4.15 under CIS v1.2), the entry of its newest benchmark.
    pub fn reference_for(&self, benchmark: &str) -> Option<&Reference> {
        self.references
            .iter()
            .find(|r| r.benchmarks.iter().any(|b| b == benchmark))
            .or_else(|| self.references.first())
    }

    /// Does `benchmark` have an entry of its own in `custom.references`?
    pub fn has_reference_for(&self, benchmark: &str) -> bool {
        self.references
            .iter()
            .any(|r| r.benchmarks.iter().any(|b| b == benchmark))
    }

    /// The remediation steps for `benchmark`: they are written with the default entry's pattern,
    /// which is replaced by the chosen entry's where the two differ.
    pub fn remediation_for(&self, benchmark: &str) -> String {
        match (self.references.first(), self.reference_for(benchmark)) {
            (Some(default), Some(chosen)) if default.pattern != chosen.pattern => self
                .remediation
                .replace(default.pattern.as_str(), chosen.pattern.as_str()),
            _ => self.remediation.clone(),
        }
    }
}
