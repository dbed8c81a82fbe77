//! The Rego side: our one use of regorus. Policies are compiled once into an engine that is cloned
//! per worker; each account is one `input`, every loaded account is in `data.cwl_audit.accounts`.
pub mod benchmark;
pub mod builtins;
mod chain;
pub use chain::counts as chain_counts;
pub mod metadata;

use crate::findings::RuleMeta;
pub use metadata::MetadataError;

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_policies.rs"));
}

/// The Rego rule every policy package defines: one decision object per account.
pub const DECISION_RULE: &str = "decision";

/// A line of a policy file and a column in it, where a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    /// 1-based.
    pub line: usize,
    /// 1-based, as regorus counts: a character's UTF-8 bytes, four for a tab.
    pub col: usize,
    /// The line as it is in the file (control characters included: clean it to show it).
    pub text: String,
}

/// A Rego file: where it came from and its text.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub path: String,
    pub text: String,
}

impl PolicySource {
    /// Tests and their fixtures (`*_test.rego`, `*_fixture.rego`): compiled by `cwl-audit test`
    /// only, never into an evaluation (a fixture is data for tests, and costs every run its
    /// compilation).
    pub fn is_test(&self) -> bool {
        self.is_test_file() || self.path.ends_with("_fixture.rego")
    }

    /// A file of tests (`*_test.rego`), whose `test_*` rules `cwl-audit test` runs.
    pub fn is_test_file(&self) -> bool {
        self.path.ends_with("_test.rego")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{path}: cannot read policy: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// `message` starts with `path:line:col` when regorus gave a position; `at` is that line of
    /// the file, for an excerpt under the message (`text::excerpt`).
    #[error("{message}")]
    Compile {
        path: String,
        message: String,
        at: Option<SourceLine>,
    },
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error("rule {id} is defined twice: {first} and {second}")]
    DuplicateRule {
        id: String,
        first: String,
        second: String,
    },
    #[error(transparent)]
    MissingDecision(#[from] MissingDecision),
    #[error("unknown rule {0} (see `cwl-audit rules` for the ids)")]
    UnknownRule(String),
    #[error("unknown benchmark {0} (choose one of {ids})", ids = crate::findings::benchmark::ids())]
    UnknownBenchmark(String),
    #[error("{0}")]
    Internal(String),
}

/// The policies compiled into this binary (rules, libraries and their tests).
pub fn builtin_sources() -> Vec<PolicySource> {
    embedded::EMBEDDED
        .iter()
        .map(|(p, t)| PolicySource {
            path: (*p).to_string(),
            text: (*t).to_string(),
        })
        .collect()
}

/// Every `.rego` file below `dir`, sorted.
pub fn sources_in(dir: &Path) -> Result<Vec<PolicySource>, EngineError> {
    if !dir.is_dir() {
        let why = if dir.exists() {
            "not a directory"
        } else {
            "no such directory"
        };
        return Err(EngineError::Read {
            path: crate::fsutil::display_path(dir),
            source: std::io::Error::other(why),
        });
    }
    let shown = crate::fsutil::display_path(dir);
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| EngineError::Read {
            path: e
                .path()
                .map_or_else(|| shown.clone(), crate::fsutil::display_path),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("directory symlink loop")),
        })?;
        let p = entry.path();
        if entry.file_type().is_file() && p.extension().is_some_and(|e| e == "rego") {
            let path = crate::fsutil::display_path(p);
            let text = std::fs::read_to_string(p).map_err(|source| EngineError::Read {
                path: path.clone(),
                source,
            })?;
            out.push(PolicySource { path, text });
        }
    }
    if out.is_empty() && !dir.is_dir() {
        return Err(EngineError::Read {
            path: shown,
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    Ok(out)
}

/// The built-in policies plus those in `dirs`. A file in `dirs` with the same path as a built-in one
/// (running from a checkout with `--policy-dir policies`) replaces it instead of defining it twice.
pub fn all_sources(dirs: &[PathBuf], builtin: bool) -> Result<Vec<PolicySource>, EngineError> {
    let mut sources = if builtin {
        builtin_sources()
    } else {
        Vec::new()
    };
    for d in dirs {
        for s in sources_in(d)? {
            sources.retain(|existing| existing.path != s.path);
            sources.push(s);
        }
    }
    Ok(sources)
}

/// One line out of regorus's multi-line error text: `file:line:col: message`.
pub fn compact_error(text: &str) -> String {
    let (location, message) = error_parts(text);
    match (location, message) {
        (Some(loc), Some(msg)) => format!("{loc}: {msg}"),
        (None, Some(msg)) => msg.to_string(),
        _ => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// The `--> file:line:col` and the `error:` message of regorus's error text. It quotes the policy
/// line between them (`3 | msg := "error: x"`): quoted lines are skipped, or a policy's own
/// text would be taken for the message.
fn error_parts(text: &str) -> (Option<&str>, Option<&str>) {
    let mut location = None;
    let mut message = None;
    for line in text.lines() {
        let l = line.trim();
        let quoted = l
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start()
            .starts_with('|');
        if quoted {
            continue;
        }
        if let Some(rest) = l.strip_prefix("-->") {
            location.get_or_insert(rest.trim());
        } else if let Some(idx) = l.find("error:") {
            message.get_or_insert(l[idx + "error:".len()..].trim());
        }
    }
    (location, message)
}

/// Where regorus placed an error in `source`: its line (1-based) and column (1-based, as regorus
/// counts them: a character's UTF-8 bytes, four for a tab), with the text of that line (empty
/// past the end: an unclosed brace is reported on the line after the last).
fn located_in(text: &str, source: &PolicySource) -> Option<SourceLine> {
    let (location, _) = error_parts(text);
    let mut parts = location?.rsplitn(3, ':');
    let col = parts.next()?.parse().ok()?;
    let line: usize = parts.next()?.parse().ok()?;
    if parts.next()? != source.path || line == 0 {
        return None;
    }
    let text = source.text.lines().nth(line - 1).unwrap_or_default();
    Some(SourceLine {
        line,
        col,
        text: text.to_string(),
    })
}

/// How long one policy evaluation (the rules of one account, or one rule when they are retried
/// one at a time) may run before it is stopped. CWL-014
/// decides a large account in milliseconds; the bound is for user policies that loop over huge
/// comprehensions, so a run ends with an error instead of hanging CI.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10);

fn timer(limit: Duration) -> ExecutionTimerConfig {
    ExecutionTimerConfig {
        limit,
        // Checking the clock every 64 work units costs nothing measurable and stops a runaway
        // evaluation within microseconds of its limit.
        check_interval: NonZeroU32::MIN.saturating_add(63),
    }
}

/// A new regorus engine with our builtins, the given modules and [`DEFAULT_TIME_LIMIT`].
pub fn compile(sources: &[PolicySource]) -> Result<Engine, EngineError> {
    let mut engine = Engine::new();
    engine.set_execution_timer_config(timer(DEFAULT_TIME_LIMIT));
    builtins::register(&mut engine).map_err(|e| EngineError::Internal(e.to_string()))?;
    for s in sources {
        engine
            .add_policy(s.path.clone(), s.text.clone())
            .map_err(|e| {
                let message = compact_error(&e.to_string());
                let message = if message.starts_with(&s.path) {
                    message
                } else {
                    format!("{}: {message}", s.path)
                };
                EngineError::Compile {
                    path: s.path.clone(),
                    message,
                    at: located_in(&e.to_string(), s),
                }
            })?;
    }
    Ok(engine)
}

/// The files among `sources` that define a top-level `decision` and have no rule METADATA.
pub fn decisions_without_metadata(sources: &[PolicySource]) -> Vec<String> {
    sources
        .iter()
        .filter(|s| !s.is_test())
        .filter(|s| matches!(metadata::parse_rule(&s.path, &s.text), Ok(None)))
        .filter(|s| rule_heads(&s.text).any(|(_, name)| name == DECISION_RULE))
        .map(|s| s.path.clone())
        .collect()
}

/// The rule heads of a Rego text, as (1-based line, name): a line that starts (in column 0, as
/// `opa fmt` writes them) with a name, or `default` and a name, followed by `:=`, `=`, `if`, `{`,
/// `contains`, `[` or `.` (a rule, not a function). A scan of the text, not a parse: it finds the
/// name a rule was given where regorus only says a path is undefined.
fn rule_heads(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = l.strip_prefix("default ").map_or(l, str::trim_start);
        let end = l
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(l.len());
        let (name, rest) = l.split_at(end);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let rest = rest.trim_start();
        let word = |w: &str| {
            rest.strip_prefix(w)
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '{']))
        };
        let head = rest.starts_with(":=")
            || (rest.starts_with('=') && !rest.starts_with("=="))
            || rest.starts_with(['{', '[', '.'])
            || word("if")
            || word("contains");
        head.then_some((i + 1, name))
    })
}

/// Whether `name` looks like a misspelt `decision`: another case, or at most two edits away
/// (`decisions`, `decison`, `desicion`).
fn near_decision(name: &str) -> bool {
    name != DECISION_RULE
        && crate::text::edit_distance(&name.to_ascii_lowercase(), DECISION_RULE) <= 2
}

/// A rule whose package defines no `decision`: every account would be an error, so the run stops
/// before it starts. `near` is the rule the file defines instead (`decisions`, `Decision`), with
/// its file and line; without one, `path` and `line` are the rule's `package` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {}", match near {
    Some(n) => format!("rule {id} defines `{n}` but no `{DECISION_RULE}`: did you mean `{DECISION_RULE}`?"),
    None => format!("rule {id} defines no `{DECISION_RULE}` (docs/writing-policies.md)"),
})]
pub struct MissingDecision {
    pub path: String,
    pub line: usize,
    pub id: String,
    pub near: Option<String>,
}

/// The `rules` whose package defines no `decision` in `sources` (tests and fixtures left out), by
/// a scan of the text ([`rule_heads`]): `rules` and `test` warn with it, and [`Evaluator`]
/// confirms each with the compiled policies before it stops.
pub fn missing_decisions(sources: &[PolicySource], rules: &[RuleMeta]) -> Vec<MissingDecision> {
    let mut out = Vec::new();
    for r in rules {
        let files: Vec<&PolicySource> = sources
            .iter()
            .filter(|s| !s.is_test())
            .filter(|s| {
                s.path == r.source || metadata::package_of(&s.text).is_some_and(|p| p == r.package)
            })
            .collect();
        if files
            .iter()
            .any(|s| rule_heads(&s.text).any(|(_, n)| n == DECISION_RULE))
        {
            continue;
        }
        // The rule's own file first: that is where the decision belongs.
        let mut ordered = files.clone();
        ordered.sort_by_key(|s| s.path != r.source);
        let near = ordered.iter().find_map(|s| {
            rule_heads(&s.text)
                .find(|(_, n)| near_decision(n))
                .map(|(line, n)| (s.path.clone(), line, n.to_string()))
        });
        let (path, line, near) = match near {
            Some((path, line, n)) => (path, line, Some(n)),
            None => {
                let line = ordered
                    .first()
                    .and_then(|s| {
                        s.text
                            .lines()
                            .position(|l| l.trim_start().starts_with("package "))
                    })
                    .map_or(1, |i| i + 1);
                (r.source.clone(), line, None)
            }
        };
        out.push(MissingDecision {
            path,
            line,
            id: r.id.clone(),
            near,
        });
    }
    out
}

/// The rules found in `sources` (package METADATA with `custom.id`), optionally only `selected`.
pub fn rules(sources: &[PolicySource], selected: &[String]) -> Result<Vec<RuleMeta>, EngineError> {
    let mut found: Vec<RuleMeta> = Vec::new();
    for s in sources.iter().filter(|s| !s.is_test()) {
        if let Some(meta) = metadata::parse_rule(&s.path, &s.text)? {
            if let Some(first) = found.iter().find(|m| m.id == meta.id) {
                return Err(EngineError::DuplicateRule {
                    id: meta.id,
                    first: first.source.clone(),
                    second: meta.source,
                });
            }
            found.push(meta);
        }
    }
    for id in selected {
        if !found.iter().any(|m| m.id.eq_ignore_ascii_case(id)) {
            return Err(EngineError::UnknownRule(id.clone()));
        }
    }
    found
        .retain(|m| selected.is_empty() || selected.iter().any(|id| m.id.eq_ignore_ascii_case(id)));
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// The package of the module that gathers every selected rule's decision (see [`all_module`]):
/// a name no policy of ours or a user's would take.
const ALL_PACKAGE: &str = "cwl_audit_internal.all_rules";

/// A module whose rule `decisions` is every selected rule's decision, in order (`[]` where a
/// rule decides nothing, `[d]` otherwise). Evaluated as a rule (`eval_rule`), it is decided
/// without the parsing and analysis regorus does for every query string, once per account.
fn all_module(rules: &[RuleMeta]) -> String {
    format!(
        "package {ALL_PACKAGE}\n\n{}\n\ndecisions := [{}]\n",
        decision_lines(rules),
        (0..rules.len())
            .map(|i| format!("d{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Rules binding `d<i>` to `[decision]` of rule `i` (`[]` when it decides nothing, so one silent
/// rule does not make the whole module undefined). One rule per line: regorus bounds a line's
/// length. A package segment that is not an identifier is quoted; the others stay dotted, which
/// regorus resolves to the rule statically (a quoted reference was slower).
fn decision_lines(rules: &[RuleMeta]) -> String {
    rules
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let path: String = c
                .package
                .split('.')
                .chain([DECISION_RULE])
                .map(|p| {
                    let plain = p.starts_with(|ch: char| ch.is_ascii_alphabetic() || ch == '_')
                        && p.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
                    if plain {
                        format!(".{p}")
                    } else {
                        format!("[{}]", serde_json::Value::from(p))
                    }
                })
                .collect();
            format!("d{i} := [x | x := data{path}]")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Compiled rules, ready to decide accounts. Clone it per worker: clones share the compiled modules.
#[derive(Clone)]
pub struct Evaluator {
    engine: Engine,
    pub rules: Vec<RuleMeta>,
    /// The benchmark whose reference patterns decide (an id of [`benchmark::BENCHMARKS`]).
    pub benchmark: String,
    /// The rule that decides every rule at once (see `decide_all`).
    all_rule: String,
    /// Bound of one evaluation, for regorus and for the coverage builtins.
    time_limit: Duration,
    /// Policy files that define `decision` but are no rule (no METADATA with `custom.id`): each
    /// run says so, or a forgotten block would be a rule silently never decided.
    pub not_rules: Vec<String>,
}

impl Evaluator {
    /// Compiles `sources` to decide the `selected` rules (all when empty) by the default benchmark.
    pub fn new(sources: &[PolicySource], selected: &[String]) -> Result<Self, EngineError> {
        Self::with_benchmark(sources, selected, crate::findings::benchmark::DEFAULT)
    }

    /// [`Evaluator::new`] deciding by the reference patterns `benchmark` prescribes (an id of
    /// [`benchmark::BENCHMARKS`]), given to policies as `data.cwl_audit` (see benchmark.rs).
    pub fn with_benchmark(
        sources: &[PolicySource],
        selected: &[String],
        benchmark: &str,
    ) -> Result<Self, EngineError> {
        if crate::findings::benchmark::find(benchmark).is_none() {
            return Err(EngineError::UnknownBenchmark(benchmark.to_string()));
        }
        let eval_sources: Vec<PolicySource> =
            sources.iter().filter(|s| !s.is_test()).cloned().collect();
        // Every rule's references, not only the selected ones': a policy may decide by another
        // rule's patterns.
        let all = rules(&eval_sources, &[])?;
        let rules = rules(&eval_sources, selected)?;
        let mut engine = compile(&eval_sources)?;
        // A rule without `decision` would be an error for every account ("not a valid rule
        // path"): the run stops at once and says what the file defines instead. regorus has the
        // last word on whether the rule is declared (the scan only reads column-0 heads).
        for m in missing_decisions(&eval_sources, &rules) {
            let Some(r) = rules.iter().find(|r| r.id == m.id) else {
                continue;
            };
            let declared = eval_sources
                .iter()
                .filter(|s| metadata::package_of(&s.text).as_deref() == Some(r.package.as_str()))
                .any(|s| {
                    engine
                        .has_declared_rule_rooted_at(&s.path, DECISION_RULE)
                        .unwrap_or(true)
                });
            if !declared {
                return Err(m.into());
            }
        }
        engine
            .add_data(benchmark::data(&all, benchmark))
            .map_err(|e| EngineError::Internal(compact_error(&e.to_string())))?;
        engine
            .add_policy(format!("<{ALL_PACKAGE}>.rego"), all_module(&rules))
            .map_err(|e| EngineError::Internal(compact_error(&e.to_string())))?;
        let all_rule = format!("data.{ALL_PACKAGE}.decisions");
        Ok(Evaluator {
            engine,
            rules,
            benchmark: benchmark.to_string(),
            all_rule,
            time_limit: DEFAULT_TIME_LIMIT,
            not_rules: decisions_without_metadata(&eval_sources),
        })
    }

    /// Bounds each evaluation (one account's rules, or one rule) to `limit` of wall-clock time:
    /// regorus stops a policy that runs longer, and a coverage question still open near the end is
    /// answered "undecided" (see [`builtins::time_bound`]).
    pub fn set_time_limit(&mut self, limit: Duration) {
        self.engine.set_execution_timer_config(timer(limit));
        self.time_limit = limit;
    }

    /// Makes `accounts` (those other snapshots refer to) visible to policies as
    /// `data.cwl_audit.accounts`.
    pub fn set_accounts(&mut self, accounts: Value) -> Result<(), EngineError> {
        let wrap = |key: &str, v: Value| {
            Value::from(std::collections::BTreeMap::from([(Value::from(key), v)]))
        };
        let data = wrap("cwl_audit", wrap("accounts", accounts));
        self.engine
            .add_data(data)
            .map_err(|e| EngineError::Internal(compact_error(&e.to_string())))?;
        self.prepare()
    }

    /// Has regorus analyze the modules now (it does before the first evaluation after a change
    /// of policies or data), so that clones, one per worker and batch, start prepared: each
    /// clone analyzed them again, a tenth of the decisions' time at organization scale.
    pub fn prepare(&mut self) -> Result<(), EngineError> {
        self.engine
            .eval_query("true".to_string(), false)
            .map(|_| ())
            .map_err(|e| EngineError::Internal(compact_error(&e.to_string())))
    }

    pub fn set_input(&mut self, input: Value) {
        self.engine.set_input(input);
    }

    /// The decisions of every rule for the current input, in the order of `rules`, from one
    /// query: what the rules share (the trails, their status and home snapshots, in `lib.chain`)
    /// is then computed once per account instead of once per rule. `Err` when the query fails as
    /// a whole (one rule's error or time limit fails them all); the caller then decides rule by
    /// rule, so the report names the rule at fault.
    pub fn decide_all(&mut self) -> Result<Vec<Value>, String> {
        let _bound = builtins::time_bound(self.time_limit);
        let all = self
            .engine
            .eval_rule(self.all_rule.clone())
            .map_err(|e| compact_error(&e.to_string()))?;
        let all = all
            .as_array()
            .map_err(|_| "the combined rule produced no result".to_string())?;
        Ok((0..self.rules.len())
            .map(|i| match all.get(i).map(Value::as_array) {
                Some(Ok(v)) if v.len() == 1 => v[0].clone(),
                _ => Value::Undefined,
            })
            .collect())
    }

    /// The value of Rego rule `name` in `rule`'s package (e.g. a custom policy's `reference`, which
    /// names its pattern in Rego only), when it is defined and evaluates without input.
    pub fn rule_value(&mut self, rule: &RuleMeta, name: &str) -> Option<Value> {
        let _bound = builtins::time_bound(self.time_limit);
        self.engine
            .eval_rule(format!("data.{}.{name}", rule.package))
            .ok()
            .filter(|v| *v != Value::Undefined)
    }

    /// The decision of `rule` for the current input. `Undefined` when the policy decided nothing.
    pub fn decide(&mut self, rule: &RuleMeta) -> Result<Value, String> {
        let _bound = builtins::time_bound(self.time_limit);
        self.engine
            .eval_rule(format!("data.{}.{}", rule.package, DECISION_RULE))
            .map_err(|e| compact_error(&e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &str, text: &str) -> PolicySource {
        PolicySource {
            path: path.into(),
            text: text.into(),
        }
    }

    const META: &str =
        "# METADATA\n# title: t\n# custom:\n#   id: X-1\n#   severity: LOW\npackage x.y\n\n";

    fn missing(files: &[(&str, &str)]) -> Vec<MissingDecision> {
        let sources: Vec<PolicySource> = files.iter().map(|(p, t)| source(p, t)).collect();
        missing_decisions(&sources, &rules(&sources, &[]).unwrap())
    }

    #[test]
    fn rule_heads_are_names_defined_in_column_0() {
        let text = "package p\nimport rego.v1\n\ndecision := 1\ndefault allow := false\nallow if {\n\tx == 1\n}\nd contains x if { x := 1 }\nf(x) := x\nobj.a := 1\n  indented := 2\nn == 1\n";
        let heads: Vec<(usize, &str)> = rule_heads(text).collect();
        assert_eq!(
            heads,
            [
                (4, "decision"),
                (5, "allow"),
                (6, "allow"),
                (9, "d"),
                (11, "obj")
            ]
        );
    }

    #[test]
    fn near_misses_of_decision() {
        for n in [
            "decisions",
            "Decision",
            "DECISION",
            "decison",
            "desicion",
            "decisio",
        ] {
            assert!(near_decision(n), "{n}");
        }
        for n in ["decision", "reference", "decide", "allow", "deny", "chain"] {
            assert!(!near_decision(n), "{n}");
        }
    }

    #[test]
    fn a_misspelt_decision_is_named_with_its_line() {
        let m = missing(&[("r.rego", &format!("{META}decisions := {{}}\n"))]);
        assert_eq!(
            m,
            [MissingDecision {
                path: "r.rego".into(),
                line: 8,
                id: "X-1".into(),
                near: Some("decisions".into()),
            }]
        );
        assert_eq!(
            m[0].to_string(),
            "r.rego:8: rule X-1 defines `decisions` but no `decision`: did you mean `decision`?"
        );
        let m = missing(&[("r.rego", &format!("{META}helper := 1\n"))]);
        assert_eq!(
            m[0].to_string(),
            "r.rego:6: rule X-1 defines no `decision` (docs/writing-policies.md)"
        );
    }

    #[test]
    fn a_decision_in_another_file_of_the_package_counts() {
        let m = missing(&[
            ("r.rego", &format!("{META}helper := 1\n")),
            ("more.rego", "package x.y\n\ndefault decision := {}\n"),
        ]);
        assert_eq!(m, []);
        // Tests do not define it for the rule.
        let m = missing(&[
            ("r.rego", &format!("{META}helper := 1\n")),
            ("r_test.rego", "package x.y\n\ndecision := {}\n"),
        ]);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn a_compile_error_keeps_its_line_and_regorus_message_not_the_quoted_policy() {
        // regorus quotes the line (`3 | msg := "error: no" +* 1`) before its own `error:` line.
        let line = "msg := \"error: no\" +* 1";
        let Err(EngineError::Compile { message, at, .. }) =
            compile(&[source("p.rego", &format!("package p\n\n{line}\n"))])
        else {
            panic!("not a compile error")
        };
        assert!(message.starts_with("p.rego:3:"), "{message}");
        assert!(!message.contains("no\""), "{message}");
        let at = at.expect("a position");
        assert_eq!((at.line, at.text.as_str()), (3, line));
        // An unclosed brace: the line after the last, which the file does not have.
        let e = compile(&[source("b.rego", "package b\n\nd := {\n")]).err();
        let Some(EngineError::Compile { at: Some(at), .. }) = e else {
            panic!("{e:?}")
        };
        assert_eq!((at.line, at.col, at.text.as_str()), (4, 1, ""));
    }

    #[test]
    fn the_evaluator_stops_on_a_missing_decision() {
        let sources = [source("r.rego", &format!("{META}Decision := {{}}\n"))];
        assert!(matches!(
            Evaluator::new(&sources, &[]),
            Err(EngineError::MissingDecision(_))
        ));
        // The scan reads column 0 only; regorus has the last word on an indented head.
        let sources = [source("r.rego", &format!("{META}  decision := {{}}\n"))];
        assert!(Evaluator::new(&sources, &[]).is_ok());
    }
}
