//! `cwl-audit test`: runs Rego unit tests the way `opa test` does. In every `*_test.rego` file, each
//! rule named `test_*` passes when it evaluates to `true`; `todo_*` rules are reported as skipped.
//! Tests run on the same engine and builtins as `eval`, so they test what users run.
use crate::engine::metadata::package_of;
use crate::engine::{self, compact_error, EngineError, PolicySource};
use regorus::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    Skip,
}

#[derive(Debug, Clone)]
pub struct TestCase {
    pub file: String,
    pub package: String,
    pub name: String,
    pub outcome: Outcome,
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

/// Compiles `sources` (policies and tests together) and runs every test.
pub fn run(sources: &[PolicySource]) -> Result<Vec<TestCase>, EngineError> {
    let mut engine = engine::compile(sources)?;
    let mut cases = Vec::new();
    for s in sources.iter().filter(|s| s.is_test()) {
        let Some(package) = package_of(&s.text) else {
            continue;
        };
        for name in test_names(&s.text) {
            let outcome = if name.starts_with("todo_") {
                Outcome::Skip
            } else {
                match engine.eval_rule(format!("data.{package}.{name}")) {
                    Ok(Value::Bool(true)) => Outcome::Pass,
                    Ok(Value::Undefined) => Outcome::Fail(
                        "undefined (a condition in the test body did not hold)".into(),
                    ),
                    Ok(other) => Outcome::Fail(format!("evaluated to {other}, not true")),
                    Err(e) => Outcome::Fail(compact_error(&e.to_string())),
                }
            };
            cases.push(TestCase {
                file: s.path.clone(),
                package: package.clone(),
                name,
                outcome,
            });
        }
    }
    Ok(cases)
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
        let got: Vec<(&str, &Outcome)> = cases
            .iter()
            .map(|c| (c.name.as_str(), &c.outcome))
            .collect();
        assert_eq!(got[0], ("test_ok", &Outcome::Pass));
        assert!(matches!(got[1], ("test_bad", Outcome::Fail(_))));
        assert_eq!(got[2], ("todo_later", &Outcome::Skip));
    }

    #[test]
    fn syntax_error_names_the_file() {
        let e = run(&[src("broken_test.rego", "package x\ntest_a if {\n")]).unwrap_err();
        assert!(e.to_string().starts_with("broken_test.rego"), "{e}");
    }
}
