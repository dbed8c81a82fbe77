//! The hidden `cwl-audit builtin`: answers `cwl.*` builtin calls as JSON lines, so that another
//! Rego engine (OPA in tests/opa-crosscheck.py) decides the same policies.
use cwl_audit::engine;
use std::io::Write;
use std::process::ExitCode;

pub fn run() -> anyhow::Result<ExitCode> {
    use cwl_audit::engine::builtins;
    use std::io::BufRead as _;
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line?;
        let answer = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(q) if q["list"] == true => serde_json::json!({ "builtins": builtins::BUILTINS }),
            Ok(q) if q["benchmarks"] == true => serde_json::json!({
                "benchmarks": cwl_audit::findings::benchmark::BENCHMARKS.iter().map(|b| b.id).collect::<Vec<_>>(),
                "default": cwl_audit::findings::benchmark::DEFAULT,
            }),
            // What `eval --benchmark ID` gives the built-in policies as data (tests/opa-crosscheck.py
            // passes the same to OPA).
            Ok(q) if q["benchmark_data"].is_string() => {
                let id = q["benchmark_data"].as_str().unwrap_or_default();
                match engine::rules(&engine::builtin_sources(), &[]) {
                    Ok(_) if cwl_audit::findings::benchmark::find(id).is_none() => {
                        serde_json::json!({
                            "error": format!("unknown benchmark {id} (choose one of {})", cwl_audit::findings::benchmark::ids())
                        })
                    }
                    Ok(rules) => match serde_json::to_value(engine::benchmark::data(&rules, id)) {
                        Ok(v) => serde_json::json!({ "result": v }),
                        Err(e) => serde_json::json!({ "error": e.to_string() }),
                    },
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                }
            }
            Ok(q) => {
                let name = q["name"].as_str().unwrap_or_default();
                let args: Vec<regorus::Value> = q["args"]
                    .as_array()
                    .map(|a| a.iter().map(|v| regorus::Value::from(v.clone())).collect())
                    .unwrap_or_default();
                match builtins::call(name, args).and_then(|v| Ok(serde_json::to_value(v)?)) {
                    Ok(v) => serde_json::json!({ "result": v }),
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                }
            }
            Err(e) => serde_json::json!({ "error": format!("not a JSON call: {e}") }),
        };
        writeln!(stdout, "{answer}")?;
        stdout.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
