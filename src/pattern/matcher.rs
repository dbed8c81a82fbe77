//! Does a pattern match one log event? The semantics, rule by rule, with the part of the AWS
//! CloudWatch Logs User Guide each rule comes from ("matching terms in JSON log events" unless
//! stated otherwise). `cover.rs` evaluates conditions with the same functions, so coverage and
//! matching cannot disagree.
use super::ast::*;
use serde_json::Value as Json;

/// A log event: its raw text and, when the text is a JSON object, the parsed object.
#[derive(Debug, Clone)]
pub struct Event {
    pub raw: String,
    pub json: Option<Json>,
}

impl Event {
    /// A JSON event (a CloudTrail record). Its raw text is the compact JSON serialization, which
    /// is how CloudTrail delivers one record per log event to CloudWatch Logs.
    pub fn from_json(v: &Json) -> Event {
        match v {
            Json::String(s) => Event::from_text(s),
            other => Event {
                raw: other.to_string(),
                json: Some(other.clone()),
            },
        }
    }

    /// A raw log line; JSON patterns see it as JSON when it parses as a JSON object.
    pub fn from_text(s: &str) -> Event {
        let json = serde_json::from_str::<Json>(s.trim())
            .ok()
            .filter(Json::is_object);
        Event {
            raw: s.to_string(),
            json,
        }
    }
}

/// Does `pattern` match `event`?
pub fn matches(pattern: &Pattern, event: &Event) -> bool {
    match pattern {
        Pattern::All => true,
        // A JSON pattern never matches an event that is not JSON.
        Pattern::Json(e) => event.json.as_ref().is_some_and(|j| eval_expr(e, j)),
        Pattern::Text(t) => eval_text(t, &|term| contains_term(&event.raw, term)),
        Pattern::Regex(r) => r.compiled.is_match(&event.raw),
        Pattern::Delimited(fields) => eval_delimited(fields, &event.raw),
    }
}

fn eval_expr(e: &Expr, j: &Json) -> bool {
    match e {
        Expr::And(es) => es.iter().all(|e| eval_expr(e, j)),
        Expr::Or(es) => es.iter().any(|e| eval_expr(e, j)),
        Expr::Cond(c) => {
            let nodes = resolve(&c.selector, j);
            eval_test_nodes(&c.test, nodes.iter().map(|n| node_of(n)))
        }
    }
}

/// Every node a selector reaches: none when a step is missing, one per element for `[*]`.
/// "If arrayKey is not an array this will be false" (2019 guide, JSON metric filter examples).
pub(crate) fn resolve<'j>(sel: &Selector, root: &'j Json) -> Vec<&'j Json> {
    let mut cur = vec![root];
    for step in &sel.0 {
        let mut next = Vec::new();
        for v in cur {
            match (step, v) {
                (Segment::Key(k), Json::Object(m)) => next.extend(m.get(k)),
                (Segment::Index(i), Json::Array(a)) => next.extend(a.get(*i)),
                (Segment::AnyIndex, Json::Array(a)) => next.extend(a.iter()),
                _ => {}
            }
        }
        cur = next;
    }
    cur
}

/// What a selector found, as far as conditions can tell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Node<'a> {
    Str(&'a str),
    Num(f64),
    Bool(bool),
    Null,
    /// An object or array: "If a property selector points to an array or object, the metric
    /// filter won't match the log format."
    Container,
}

pub(crate) fn node_of(v: &Json) -> Node<'_> {
    match v {
        Json::String(s) => Node::Str(s),
        Json::Number(n) => Node::Num(n.as_f64().unwrap_or(f64::NAN)),
        Json::Bool(b) => Node::Bool(*b),
        Json::Null => Node::Null,
        Json::Array(_) | Json::Object(_) => Node::Container,
    }
}

/// A test over the nodes a selector found (none when the field is missing). With `[*]` there can
/// be several; the test holds when it holds for one of them (our reading of `[*]`; the guide does
/// not define it).
pub(crate) fn eval_test_nodes<'a>(test: &Test, mut nodes: impl Iterator<Item = Node<'a>>) -> bool {
    match test {
        // "NOT EXISTS ... return[s] JSON logs that don't contain specific fields in the log data."
        Test::NotExists => nodes.next().is_none(),
        // EXISTS: the field is there, whatever its value (also null, objects and arrays).
        Test::Exists => nodes.next().is_some(),
        _ => nodes.any(|n| eval_test(test, Some(n))),
    }
}

/// One test on one node (`None`: the field is missing).
pub(crate) fn eval_test(test: &Test, node: Option<Node<'_>>) -> bool {
    match (test, node) {
        (Test::NotExists, n) => n.is_none(),
        (Test::Exists, n) => n.is_some(),
        // "The IS variable can match fields that contain the values NULL, TRUE, or FALSE."
        (Test::IsNull, Some(Node::Null)) => true,
        (Test::IsTrue, Some(Node::Bool(true))) => true,
        (Test::IsFalse, Some(Node::Bool(false))) => true,
        (Test::IsNull | Test::IsTrue | Test::IsFalse, _) => false,
        // A comparison needs a value node. On a missing field even `!=` does not match: CloudWatch
        // evaluates `{ $.user.phone != "080..." }` to false when `phone` is absent (Classmethod,
        // "cloudwatch-logs-json-notexists-false", 2023; the documented fix is `|| NOT EXISTS`),
        // and "both {$.users = 1} and {$.users != 1} will fail to match a log event where users is
        // an array" (2019 guide, JSON special considerations). null and booleans are not value
        // nodes either ("Value nodes can be strings or numbers").
        (Test::Cmp(op, value), Some(Node::Str(s))) => cmp_str(*op, value, s),
        (Test::Cmp(op, value), Some(Node::Num(n))) => cmp_num(*op, value, n),
        (Test::Cmp(..), _) => false,
    }
}

fn cmp_str(op: Op, value: &Value, s: &str) -> bool {
    match op {
        Op::Eq => value_matches_text(value, s),
        Op::Ne => !value_matches_text(value, s),
        // Numeric comparisons compare numbers ("{ PropertySelector NumericOperator Number }");
        // a string value is not a number, whatever it spells.
        _ => false,
    }
}

/// `=` on a string: exact and case-sensitive ("The items in the JSON log event data must exactly
/// match the metric filter", 2019 guide), `*` matching any text ("Use the asterisk (*) as a wild
/// card to match text"), or a regex search for `%...%`.
fn value_matches_text(value: &Value, s: &str) -> bool {
    match value {
        Value::Regex(r) => r.compiled.is_match(s),
        Value::Lit { text, glob, .. } => {
            if *glob {
                glob_match(text, s)
            } else {
                text == s
            }
        }
    }
}

fn cmp_num(op: Op, value: &Value, n: f64) -> bool {
    let eq = || match value {
        // `{ $.errorCode = 400 }`: numeric equality, so 400 also equals 4.0e2.
        Value::Lit {
            num: Some(m),
            glob: false,
            ..
        } => n == *m,
        // "Use the asterisk (*) as a wild card to match numbers": the number's text.
        Value::Lit {
            text, glob: true, ..
        } => glob_match(text, &number_text(n)),
        Value::Regex(r) => r.compiled.is_match(&number_text(n)),
        Value::Lit { num: None, .. } => false,
    };
    let ordered = |f: fn(f64, f64) -> bool| match value {
        Value::Lit { num: Some(m), .. } => f(n, *m),
        _ => false,
    };
    match op {
        Op::Eq => eq(),
        Op::Ne => !eq(),
        Op::Lt => ordered(|a, b| a < b),
        Op::Le => ordered(|a, b| a <= b),
        Op::Gt => ordered(|a, b| a > b),
        Op::Ge => ordered(|a, b| a >= b),
    }
}

/// A number as it is written in JSON: integers without a fraction.
pub(crate) fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// `*` matches any run of characters (also none); everything else literally.
pub(crate) fn glob_match(glob: &str, s: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    if parts.len() == 1 {
        return glob == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Terms are case-sensitive substrings of the raw event text: "ERROR" matches "Exiting with
/// ERRORCODE: -1" (unstructured log events). A quoted phrase of only spaces matches every event
/// ("You can match everything in your log events with double quotation marks: \" \"").
pub(crate) fn contains_term(raw: &str, term: &Term) -> bool {
    term.0.trim().is_empty() || raw.contains(term.0.as_str())
}

/// All `all` terms, one of the `?` terms (if any), none of the `-` terms (unstructured log events:
/// "?ERROR ?ARGUMENTS", "ERROR -ARGUMENTS").
pub(crate) fn eval_text(t: &TextPattern, has: &dyn Fn(&Term) -> bool) -> bool {
    t.all.iter().all(has) && (t.any.is_empty() || t.any.iter().any(has)) && !t.none.iter().any(has)
}

// ---------------------------------------------------------------------- space-delimited

/// Splits a line into fields: "The characters between a pair of square brackets [] or two double
/// quotes ("") are treated as a single field" (space-delimited log events).
pub(crate) fn split_fields(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut close: Option<char> = None;
    for c in raw.chars() {
        match close {
            Some(end) if c == end => {
                close = None;
            }
            Some(_) => cur.push(c),
            None if c == '"' => close = Some('"'),
            None if c == '[' => close = Some(']'),
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn eval_delimited(fields: &[DelimField], raw: &str) -> bool {
    let tokens = split_fields(raw);
    let ellipsis = fields
        .iter()
        .position(|f| matches!(f, DelimField::Ellipsis));
    let named = |f: &DelimField| matches!(f, DelimField::Named { .. });
    let mut bound: Vec<(&str, &str)> = Vec::new();
    match ellipsis {
        None => {
            if tokens.len() != fields.len() {
                return false;
            }
            for (f, t) in fields.iter().zip(&tokens) {
                if let DelimField::Named { name, .. } = f {
                    bound.push((name, t));
                }
            }
        }
        Some(at) => {
            let before = &fields[..at];
            let after = &fields[at + 1..];
            if tokens.len() < before.iter().filter(|f| named(f)).count() + after.len() {
                return false;
            }
            for (f, t) in before.iter().zip(&tokens) {
                if let DelimField::Named { name, .. } = f {
                    bound.push((name, t));
                }
            }
            for (f, t) in after.iter().zip(&tokens[tokens.len() - after.len()..]) {
                if let DelimField::Named { name, .. } = f {
                    bound.push((name, t));
                }
            }
        }
    }
    fields.iter().all(|f| match f {
        DelimField::Named { cond: Some(c), .. } => eval_delim_expr(c, &bound),
        _ => true,
    })
}

fn eval_delim_expr(e: &DelimExpr, bound: &[(&str, &str)]) -> bool {
    e.any
        .iter()
        .any(|group| group.iter().all(|c| eval_delim_cmp(c, bound)))
}

fn eval_delim_cmp(c: &DelimCmp, bound: &[(&str, &str)]) -> bool {
    let DelimCmp { field, op, value } = c;
    let Some((_, tok)) = bound.iter().find(|(n, _)| n == field) else {
        return false;
    };
    // "For numeric fields, you can use the >, <, >=, <=, =, and != operators": a field that
    // reads as a number is compared as one when the value is a number.
    match (value, super::parse::parse_number(tok)) {
        (
            Value::Lit {
                num: Some(_),
                glob: false,
                ..
            },
            Some(n),
        ) => cmp_num(*op, value, n),
        _ => cmp_str(*op, value, tok),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::parse::parse;
    use serde_json::json;

    fn m(pattern: &str, event: Json) -> bool {
        let p = parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        matches(&p, &Event::from_json(&event))
    }

    /// The JSON example of "Matching terms in JSON log events" and the filters the guide says match.
    #[test]
    fn guide_json_examples() {
        let ev = json!({
            "eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
            "arrayKey": ["value", "another value"],
            "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
            "SomeObject": null, "ThisFlag": true
        });
        for p in [
            r#"{ $.eventType = "UpdateTrail" }"#,
            "{ $.sourceIPAddress != 123.123.* }",
            r#"{ $.arrayKey[0] = "value" }"#,
            "{ $.objectList[1].id = 2 }",
            "{ $.SomeObject IS NULL }",
            "{ $.SomeOtherObject NOT EXISTS }",
            "{ $.ThisFlag IS TRUE }",
        ] {
            assert!(m(p, ev.clone()), "{p}");
        }
        assert!(!m("{ $.ThisFlag IS FALSE }", ev.clone()));
        assert!(!m("{ $.eventType NOT EXISTS }", ev.clone()));
    }

    /// "Using compound expressions to match terms in JSON objects": the four documented outcomes.
    #[test]
    fn guide_compound_examples() {
        let ev = json!({
            "user": {"id": 1, "email": "John.Stiles@example.com"},
            "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
            "actions": ["GET", "PUT", "DELETE"],
            "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
        });
        assert!(m(
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            ev.clone()
        ));
        assert!(m(
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
            ev.clone()
        ));
        assert!(!m(
            r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
            ev.clone()
        ));
        assert!(!m(
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            ev.clone()
        ));
        assert!(m("{ $.coordinates[1][2] = 6 }", ev));
    }

    /// "JSON special considerations": a selector on an array or object matches neither = nor !=.
    #[test]
    fn containers_and_missing_fields_match_no_comparison() {
        let ev = json!({"users": [1, 2, 3], "n": null, "f": false});
        for p in [
            "{ $.users = 1 }",
            "{ $.users != 1 }",
            "{ $.missing != 1 }",
            r#"{ $.missing != "x" }"#,
            "{ $.n != 1 }",
            "{ $.f != 1 }",
            "{ $.users IS NULL }",
        ] {
            assert!(!m(p, ev.clone()), "{p}");
        }
        assert!(m("{ $.users EXISTS }", ev.clone()));
        assert!(m("{ $.n EXISTS }", ev.clone()));
        assert!(m("{ $.f IS FALSE }", ev.clone()));
        assert!(m("{ $.users[*] = 2 }", ev.clone()));
        assert!(!m("{ $.users[*] = 4 }", ev));
    }

    /// Strings are case-sensitive; `*` is a wildcard in quoted and unquoted values.
    #[test]
    fn strings_case_and_wildcards() {
        let ev = json!({"userIdentity": {"type": "Root"}, "eventName": "PutEvent"});
        assert!(m(r#"{ $.userIdentity.type = "Root" }"#, ev.clone()));
        assert!(m("{ $.userIdentity.type = Root }", ev.clone()));
        assert!(!m(r#"{ $.userIdentity.type = "root" }"#, ev.clone()));
        assert!(m(r#"{ $.eventName = "*Event" }"#, ev.clone()));
        assert!(m("{ $.eventName = Put* }", ev.clone()));
        assert!(m("{ $.eventName = P*t*t }", ev.clone()));
        assert!(!m("{ $.eventName = Get* }", ev.clone()));
        assert!(m("{ $.eventName = * }", ev.clone()));
        assert!(!m("{ $.nothing = * }", ev));
    }

    /// Numbers: "=, !=, <, >, <=, >=" on numeric values, with sign and scientific notation.
    #[test]
    fn numbers() {
        let ev = json!({"latency": 500, "ratio": 0.001, "code": "400", "errorCode": 400});
        assert!(m("{ $.latency >= 500 }", ev.clone()));
        assert!(m("{ $.latency > +499.5 }", ev.clone()));
        assert!(!m("{ $.latency < 5e2 }", ev.clone()));
        assert!(m("{ $.latency = 5e2 }", ev.clone()));
        assert!(m("{ $.ratio = 1e-3 }", ev.clone()));
        assert!(m("{ $.errorCode != 500 }", ev.clone()));
        assert!(m("{ $.errorCode = 4* }", ev.clone()));
        // A string that spells a number equals the same text, but is not ordered.
        assert!(m("{ $.code = 400 }", ev.clone()));
        assert!(!m("{ $.code > 1 }", ev.clone()));
        assert!(!m("{ $.code = 4e2 }", ev));
    }

    #[test]
    fn regex_values_and_patterns() {
        let ev = json!({"eventName": "ConsoleLogin", "msg": "[ERROR 401] UNAUTHORIZED REQUEST"});
        assert!(m("{ $.eventName = %^Console% }", ev.clone()));
        assert!(!m("{ $.eventName = %^Login% }", ev.clone()));
        assert!(!m("{ $.eventName != %Login$% }", ev.clone()));
        // "%AUTHORIZED%" matches "[ERROR 401] UNAUTHORIZED REQUEST" (regex: a search, not anchored).
        let line = Event::from_text("[ERROR 401] UNAUTHORIZED REQUEST");
        assert!(matches(&parse("%AUTHORIZED%").unwrap(), &line));
    }

    /// "Matching terms in unstructured log events": the guide's three log lines.
    #[test]
    fn terms_on_text() {
        let lines = ["ERROR WARN message", "ERROR message", "WARN message"].map(Event::from_text);
        let hits = |p: &str| {
            let p = parse(p).unwrap();
            lines.iter().map(|l| matches(&p, l)).collect::<Vec<_>>()
        };
        assert_eq!(hits("ERROR"), [true, true, false]);
        assert_eq!(hits("?ERROR ?WARN"), [true, true, true]);
        assert_eq!(hits("ERROR WARN"), [true, false, false]);
        assert_eq!(hits("ERROR -WARN"), [false, true, false]);
        assert_eq!(hits("error"), [false, false, false]);
        assert_eq!(hits("\"ERROR message\""), [false, true, false]);
        assert_eq!(hits("\" \""), [true, true, true]);
        // Substring, not word: "ERROR" matches "ERRORCODE".
        assert!(matches(
            &parse("ERROR").unwrap(),
            &Event::from_text("Exiting with ERRORCODE: -1")
        ));
    }

    /// Terms on a JSON event search its raw (compact JSON) text.
    #[test]
    fn terms_on_json_events() {
        let ev = json!({"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall"});
        assert!(m("Root", ev.clone()));
        assert!(m(r#""\"type\":\"Root\"""#, ev.clone()));
        assert!(!m("Root -AwsApiCall", ev.clone()));
        assert!(!m("root", ev));
    }

    /// "Matching terms in space-delimited log events": the guide's Apache lines.
    #[test]
    fn space_delimited() {
        let line = Event::from_text(
            r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534"#,
        );
        let yes = |p: &str| matches(&parse(p).unwrap_or_else(|e| panic!("{p}: {e}")), &line);
        assert!(yes(
            "[ip, user, username, timestamp, request, status_code, bytes]"
        ));
        assert!(yes(
            "[ip, user, username, timestamp, request, status_code = 4*, bytes]"
        ));
        assert!(yes("[..., status_code = 404, bytes > 1000]"));
        assert!(yes("[ip, user, ...]"));
        assert!(yes("[ip, user, username, timestamp, request = *gif*, status_code = 4* && status_code != 403, bytes]"));
        assert!(!yes(
            "[ip, user, username, timestamp, request, status_code = 200, bytes]"
        ));
        assert!(!yes("[ip, user]"));
        assert!(yes("[w1=127* || w1=WARN, ...]"));
    }

    #[test]
    fn glob() {
        assert!(glob_match("a*b*c", "aXbYc"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(!glob_match("a*b*c", "acb"));
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("**", ""));
    }
}
