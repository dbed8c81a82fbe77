//! Machine-readable: every verdict (passes included) with its chain evidence.
use crate::findings::{Level, RunResult, Verdict};
use serde_json::json;

pub fn render(result: &RunResult) -> Vec<u8> {
    let doc = json!({
        "tool": { "name": "cwl-audit", "version": env!("CARGO_PKG_VERSION") },
        "summary": {
            "pass": result.count(Verdict::Pass),
            "fail": result.count(Verdict::Fail),
            "unknown": result.count(Verdict::Unknown),
            "errors": result.notifications.iter().filter(|n| n.level == Level::Error).count(),
        },
        "results": result.findings,
        "notifications": result.notifications,
        "rules": result.rules.iter().map(|r| json!({
            "id": r.id, "title": r.title, "severity": r.severity, "frameworks": r.frameworks, "source": r.source,
        })).collect::<Vec<_>>(),
    });
    let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
