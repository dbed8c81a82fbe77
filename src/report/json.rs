//! Machine-readable: every verdict (passes included) with its chain evidence.
use crate::findings::{Level, RunResult, Verdict};
use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::json;

/// The document, members in the sorted order the format has always had.
#[derive(serde::Serialize)]
struct Doc<'a> {
    /// The benchmark whose reference patterns decided: verdicts depend on it.
    benchmark: &'a str,
    notifications: Sorted<'a, crate::findings::Notification>,
    results: Sorted<'a, crate::findings::Finding>,
    rules: Vec<serde_json::Value>,
    summary: serde_json::Value,
    tool: serde_json::Value,
}

/// Items written one at a time, each with its members sorted (as a `serde_json::Value` object
/// writes them): building the whole report as one value took several times the memory of the
/// findings themselves at organization scale.
struct Sorted<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for Sorted<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            let v = serde_json::to_value(item).map_err(serde::ser::Error::custom)?;
            seq.serialize_element(&v)?;
        }
        seq.end()
    }
}

pub fn render(result: &RunResult) -> Vec<u8> {
    let doc = Doc {
        benchmark: &result.benchmark,
        tool: json!({ "name": "cwl-audit", "version": env!("CARGO_PKG_VERSION") }),
        summary: json!({
            "pass": result.count(Verdict::Pass),
            "fail": result.count(Verdict::Fail),
            "unknown": result.count(Verdict::Unknown),
            "errors": result.notifications.iter().filter(|n| n.level == Level::Error).count(),
        }),
        results: Sorted(&result.findings),
        notifications: Sorted(&result.notifications),
        rules: result.rules.iter().map(|r| json!({
            "id": r.id, "title": r.title, "severity": r.severity, "frameworks": r.frameworks, "source": r.source,
        })).collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
