//! `cwl-audit test`: runs Rego unit tests the way `opa test` does. In every `*_test.rego` file, each
//! rule named `test_*` passes when it evaluates to `true`; `todo_*` rules are reported as skipped.
//! Tests run on the same engine and builtins as `eval`, so they test what users run.
use crate::engine::metadata::package_of;
use crate::engine::{self, compact_error, EngineError, PolicySource};
use regorus::{Engine, Value};

/// How one Rego unit test ended (`Fail` says why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestOutcome {
    Pass,
    Fail(String),
    Skip,
}

#[derive(Debug, Clone)]
pub struct TestCase {
    pub file: String,
    pub package: String,
    pub name: String,
    pub outcome: TestOutcome,
}

/// Names of the test (and todo) rules a file defines: rule heads start at column 0.
fn test_names(source: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in source.lines() {
        if !(line.starts_with("test_") || line.starts_with("todo_")) {
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// What to run and what to gather besides the outcomes.
#[derive(Debug, Default, Clone)]
pub struct TestOptions {
    /// Only tests whose `package.rule` name this matches (like `opa test --run`).
    pub run: Option<regex::Regex>,
    /// Gather line coverage of the non-test files.
    pub coverage: bool,
    /// For each failing test, find the statement that failed and the values bound before it.
    pub explain_failures: bool,
}

/// Line coverage of one policy file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileCoverage {
    pub path: String,
    pub covered: usize,
    pub not_covered: usize,
    pub not_covered_lines: Vec<u32>,
}

impl FileCoverage {
    pub fn percent(&self) -> f64 {
        let total = self.covered + self.not_covered;
        if total == 0 {
            100.0
        } else {
            100.0 * self.covered as f64 / total as f64
        }
    }
}

/// Why a test failed, found by re-running its body statement by statement.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureDetail {
    /// 1-based line of the first statement that did not hold, in the test file.
    pub line: usize,
    pub statement: String,
    /// Variables bound by the statements before it, as compact JSON (long values shortened).
    pub bindings: Vec<(String, String)>,
}

#[derive(Debug, Default)]
pub struct TestRun {
    pub cases: Vec<TestCase>,
    /// Per non-test file, when asked for.
    pub coverage: Option<Vec<FileCoverage>>,
    /// Per failing test (by `package.rule`), when asked for and found.
    pub details: Vec<(String, FailureDetail)>,
}

/// Compiles `sources` (policies and tests together) and runs every test.
pub fn run(sources: &[PolicySource]) -> Result<Vec<TestCase>, EngineError> {
    Ok(run_with(sources, &TestOptions::default())?.cases)
}

/// [`run`] with a selection of tests, coverage and failure details.
pub fn run_with(sources: &[PolicySource], opts: &TestOptions) -> Result<TestRun, EngineError> {
    let mut engine = engine::compile(sources)?;
    // Rules read their reference patterns from data.cwl_audit (lib.benchmark), as under `eval`:
    // tests see the default benchmark's and may choose another with `with data.cwl_audit.benchmark`.
    // A file whose METADATA does not parse is left out here; `eval` reports it.
    let rules: Vec<crate::findings::RuleMeta> = sources
        .iter()
        .filter(|s| !s.is_test())
        .filter_map(|s| {
            engine::metadata::parse_rule(&s.path, &s.text)
                .ok()
                .flatten()
        })
        .collect();
    engine
        .add_data(engine::benchmark::data(
            &rules,
            crate::findings::benchmark::DEFAULT,
        ))
        .map_err(|e| EngineError::Internal(compact_error(&e.to_string())))?;
    let base = opts.explain_failures.then(|| engine.clone());
    if opts.coverage {
        engine.set_enable_coverage(true);
    }
    let mut out = TestRun::default();
    for s in sources.iter().filter(|s| s.is_test_file()) {
        let Some(package) = package_of(&s.text) else {
            continue;
        };
        for name in test_names(&s.text) {
            let full = format!("{package}.{name}");
            if opts.run.as_ref().is_some_and(|r| !r.is_match(&full)) {
                continue;
            }
            let outcome = if name.starts_with("todo_") {
                TestOutcome::Skip
            } else {
                // Each test as `eval` bounds an evaluation: coverage too.
                let _bound = engine::builtins::time_bound(engine::DEFAULT_TIME_LIMIT);
                match engine.eval_rule(format!("data.{full}")) {
                    Ok(Value::Bool(true)) => TestOutcome::Pass,
                    Ok(Value::Undefined) => TestOutcome::Fail(
                        "undefined (a condition in the test body did not hold)".into(),
                    ),
                    Ok(other) => TestOutcome::Fail(format!("evaluated to {other}, not true")),
                    Err(e) => TestOutcome::Fail(compact_error(&e.to_string())),
                }
            };
            if let (TestOutcome::Fail(_), Some(base)) = (&outcome, &base) {
                if let Some(d) = explain_failure(base, &s.text, &package, &name) {
                    out.details.push((full.clone(), d));
                }
            }
            out.cases.push(TestCase {
                file: s.path.clone(),
                package: package.clone(),
                name,
                outcome,
            });
        }
    }
    if opts.coverage {
        let report = engine
            .get_coverage_report()
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let mut files: Vec<FileCoverage> = report
            .files
            .into_iter()
            .filter(|f| !f.path.ends_with("_test.rego"))
            .map(|f| FileCoverage {
                path: f.path,
                covered: f.covered.len(),
                not_covered: f.not_covered.len(),
                not_covered_lines: f.not_covered.into_iter().collect(),
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        out.coverage = Some(files);
    }
    Ok(out)
}

/// The body of rule `name` in `source`: its statements (a statement continues on more deeply
/// indented lines) with their 1-based lines, and the file's imports. None for one-line rules.
/// Statements of a rule body with their 1-based lines, and the file's import lines.
type Body = (Vec<(usize, String)>, Vec<String>);

fn body_of(source: &str, name: &str) -> Option<Body> {
    let lines: Vec<&str> = source.lines().collect();
    let imports: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("import "))
        .map(|l| l.to_string())
        .collect();
    let start = lines.iter().position(|l| {
        l.strip_prefix(name).is_some_and(|rest| {
            rest.trim_start().starts_with("if {") && rest.trim_end().ends_with('{')
        })
    })?;
    let mut stmts: Vec<(usize, String)> = Vec::new();
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        if l.starts_with('}') {
            return Some((stmts, imports));
        }
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let deeper = l.starts_with("\t\t") || l.starts_with("        ");
        match stmts.last_mut() {
            Some((_, prev)) if deeper => {
                prev.push('\n');
                prev.push_str(l);
            }
            _ => stmts.push((i + 1, l.to_string())),
        }
    }
    None
}

/// The variable a statement binds (`x := ...`, `some x in ...`), if any.
fn bound_var(stmt: &str) -> Option<String> {
    let t = stmt.trim();
    let ident = |s: &str| -> Option<String> {
        let v: String = s
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (!v.is_empty() && v != "_").then_some(v)
    };
    if let Some(rest) = t.strip_prefix("some ") {
        return ident(rest);
    }
    let v = ident(t)?;
    t[v.len()..].trim_start().starts_with(":=").then_some(v)
}

fn shorten(v: &Value) -> String {
    // Objects show their plain members first (a decision's verdict and message before its chain).
    let json = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    let one_line = match &json {
        serde_json::Value::Object(m) => {
            let (plain, nested): (Vec<_>, Vec<_>) = m
                .iter()
                .partition(|(_, x)| !(x.is_object() || x.is_array()));
            let members: Vec<String> = plain
                .into_iter()
                .chain(nested)
                .map(|(k, x)| format!("{}:{x}", serde_json::Value::String(k.clone())))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        other => other.to_string(),
    };
    if one_line.chars().count() > 400 {
        let cut: String = one_line.chars().take(400).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}

/// Re-runs the test body one statement more at a time (as extra rules in the test's package) to
/// find the first statement that does not hold and the values bound before it.
fn explain_failure(
    base: &Engine,
    source: &str,
    package: &str,
    name: &str,
) -> Option<FailureDetail> {
    let (stmts, imports) = body_of(source, name)?;
    let mut engine = base.clone();
    let mut probe = format!("package {package}\n\n{}\n", imports.join("\n"));
    for k in 1..=stmts.len() {
        let body: Vec<&str> = stmts[..k].iter().map(|(_, s)| s.as_str()).collect();
        let vars: Vec<String> = stmts[..k]
            .iter()
            .filter_map(|(_, s)| bound_var(s))
            .collect();
        let obj: Vec<String> = vars.iter().map(|v| format!("\"{v}\": {v}")).collect();
        probe.push_str(&format!(
            "\n__cwl_probe_{k} := {{{}}} if {{\n{}\n}}\n",
            obj.join(", "),
            body.join("\n")
        ));
    }
    engine
        .add_policy(format!("{package}.__cwl_probe.rego"), probe)
        .ok()?;
    let mut before: Option<Value> = None;
    for k in 1..=stmts.len() {
        match engine.eval_rule(format!("data.{package}.__cwl_probe_{k}")) {
            Ok(Value::Undefined) | Err(_) => {
                let (line, statement) = stmts[k - 1].clone();
                let bindings = match before {
                    Some(Value::Object(m)) => m
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_string().map(|s| s.to_string()).unwrap_or_default(),
                                shorten(v),
                            )
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                return Some(FailureDetail {
                    line,
                    statement: statement.trim().to_string(),
                    bindings,
                });
            }
            Ok(v) => before = Some(v),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(path: &str, text: &str) -> PolicySource {
        PolicySource {
            path: path.into(),
            text: text.into(),
        }
    }

    #[test]
    fn runs_passing_failing_and_todo_tests() {
        let sources = vec![
            src("p.rego", "package p\nallow if input.x == 1\n"),
            src(
                "p_test.rego",
                "package p_test\nimport data.p\ntest_ok if p.allow with input as {\"x\": 1}\ntest_bad if p.allow with input as {\"x\": 2}\ntodo_later if false\n",
            ),
        ];
        let cases = run(&sources).unwrap();
        let got: Vec<(&str, &TestOutcome)> = cases
            .iter()
            .map(|c| (c.name.as_str(), &c.outcome))
            .collect();
        assert_eq!(got[0], ("test_ok", &TestOutcome::Pass));
        assert!(matches!(got[1], ("test_bad", TestOutcome::Fail(_))));
        assert_eq!(got[2], ("todo_later", &TestOutcome::Skip));
    }

    #[test]
    fn syntax_error_names_the_file() {
        let e = run(&[src("broken_test.rego", "package x\ntest_a if {\n")]).unwrap_err();
        assert!(e.to_string().starts_with("broken_test.rego"), "{e}");
    }

    #[test]
    fn run_filter_coverage_and_failure_details() {
        let sources = vec![
            src("p.rego", "package p\n\nallow if {\n\tinput.x == 1\n\tinput.y == 3\n}\n"),
            src(
                "p_test.rego",
                "package p_test\n\nimport data.p\n\ntest_ok if p.allow with input as {\"x\": 1}\n\ntest_bad if {\n\tv := {\"x\": 2}\n\tn := v.x\n\tp.allow with input as v\n\tn == 2\n}\n",
            ),
        ];
        let opts = TestOptions {
            run: Some(regex::Regex::new("bad").unwrap()),
            coverage: true,
            explain_failures: true,
        };
        let r = run_with(&sources, &opts).unwrap();
        assert_eq!(r.cases.len(), 1, "--run selects by package.rule");
        assert_eq!(r.cases[0].name, "test_bad");
        let (name, d) = &r.details[0];
        assert_eq!(name, "p_test.test_bad");
        assert_eq!(d.line, 10);
        assert_eq!(d.statement, "p.allow with input as v");
        assert_eq!(
            d.bindings,
            vec![
                ("n".to_string(), "2".to_string()),
                ("v".to_string(), "{\"x\":2}".to_string())
            ]
        );
        let cov = r.coverage.unwrap();
        assert_eq!(cov.len(), 1, "{cov:?}");
        assert_eq!(cov[0].path, "p.rego");
        assert!(cov[0].covered > 0 && cov[0].not_covered > 0, "{cov:?}");
    }
}
