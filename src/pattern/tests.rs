//! Table tests: parser (valid and invalid, with positions) and coverage of many pattern variants.
use super::*;
use serde_json::json;

/// The CIS root-usage reference, read from its policy (policies/aws/cloudwatch/root_usage_alarm.rego).
fn cis() -> &'static str {
    crate::testing::builtin_reference("CWL-014")
}

#[test]
fn parser_accepts() {
    for p in [
        "",
        "   ",
        cis(),
        r#"{$.userIdentity.type="Root"&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!="AwsServiceEvent"}"#,
        "{\n  $.userIdentity.type = \"Root\"\n  && $.userIdentity.invokedBy NOT EXISTS\n}",
        "{ (($.a = 1)) }",
        "{ $.a[0].b[12] = x || $.c[*] != y }",
        "{ $.a is null && $.b Is True && $.c IS FALSE && $.d EXISTS && $.e not exists }",
        "{ $.latency >= -1.5e3 }",
        "{ $.x = %^ab[0-9]+$% }",
        "{ $.ip != 123.123.* }",
        r#"{ $.msg = "say \"hi\"" }"#,
        "ERROR",
        "?ERROR ?WARN -DEBUG \"exact phrase\"",
        "%AUTHORIZED%",
        "[ip, user, ..., status_code = 4* && bytes > 1000]",
        "[..., request=*.html*, status_code=4*,]",
    ] {
        assert!(parse(p).is_ok(), "{p:?}: {:?}", parse(p));
    }
}

#[test]
fn parser_rejects_with_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("{ $.a = }", 9, "expected a value after '='"),
        ("{ $.a = 1", 1, "'{' is never closed"),
        ("{ }", 3, "expected a condition"),
        ("{ a = 1 }", 3, "expected a selector starting with '$.'"),
        ("{ $a = 1 }", 3, "a selector must start with '$.'"),
        ("{ $.a. = 1 }", 7, "expected a property name after '.'"),
        ("{ $.a[x] = 1 }", 6, "expected an array index"),
        ("{ $.a = 1 && }", 14, "expected a selector"),
        ("{ $.a = 1 $.b = 2 }", 11, "expected '&&', '||' or '}'"),
        ("{ ($.a = 1 }", 3, "'(' is never closed"),
        ("{ $.a > abc }", 9, "expected a number after '>'"),
        ("{ $.a IS NOT NULL }", 10, "IS NOT is not supported"),
        ("{ $.a IS MAYBE }", 10, "expected TRUE, FALSE or NULL"),
        ("{ $.a NOT THERE }", 11, "expected EXISTS after NOT"),
        (
            "{ $.a ~ 1 }",
            7,
            "expected =, !=, <, <=, >, >=, IS, EXISTS or NOT EXISTS after $.a",
        ),
        (
            "{ $.aNOTEXISTS }",
            16,
            "expected =, !=, <, <=, >, >=, IS, EXISTS or NOT EXISTS after $.aNOTEXISTS",
        ),
        (
            CIS_SPACES_REMOVED,
            63,
            "after $.userIdentity.invokedByNOTEXISTS",
        ),
        ("{ $.a = \"open }", 9, "unterminated quoted string"),
        ("{ $.a = %ab(c)% }", 12, "character '(' is not supported"),
        ("{ $.a = %abc }", 9, "never closed with '%'"),
        ("{ $.a = 1 } trailing", 13, "unexpected text after the end"),
        ("ERROR ?", 7, "expected a term"),
        ("[a, b", 1, "'[' is never closed"),
        ("[a b]", 4, "expected ',' or ']'"),
        ("[a, b > x]", 9, "expected a number after '>'"),
    ];
    for (p, col, msg) in cases {
        let e = parse(p).expect_err(p);
        assert_eq!(e.column, *col, "{p:?}: {e}");
        assert!(e.message.contains(msg), "{p:?}: {e}");
        assert!(e.to_string().starts_with(&format!("column {col}: ")));
    }
}

/// What coverage must say about a candidate, against the CIS reference.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// Covers, no non-root match, no extra root events.
    Exact,
    /// Covers and also counts extra root events (a note).
    Noisy,
    /// Covers but also matches non-root identities (fails (b)).
    NonRoot,
    /// Misses root events; the words must contain this.
    Misses(&'static str),
    /// Invalid pattern.
    Invalid,
    /// Too complex / unsupported: unknown.
    Undecided,
}
use Want::*;

/// The reference itself, then [`VARIANTS`].
fn variants() -> Vec<(&'static str, Want)> {
    let mut v = vec![(cis(), Exact)];
    v.extend_from_slice(VARIANTS);
    v
}

/// Rows 2 and 3 of the scenario table, and many more.
const VARIANTS: &[(&str, Want)] = &[
    // --- row 2: same meaning, other spelling (the reference itself: see `variants`)
    (r#"{$.userIdentity.type="Root"&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!="AwsServiceEvent"}"#, Exact),
    ("{\n  $.userIdentity.type = \"Root\"\n  && $.userIdentity.invokedBy NOT EXISTS\n  && $.eventType != \"AwsServiceEvent\"\n}", Exact),
    (r#"{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }"#, Exact),
    (r#"{ (($.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS) && $.eventType != "AwsServiceEvent") }"#, Exact),
    (r#"{ $.eventType != "AwsServiceEvent" && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = "Root" }"#, Exact),
    (r#"{ $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }"#, Exact),
    ("{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }", Exact),
    ("{ $.userIdentity.type = Root && $.userIdentity.invokedBy not exists && $.eventType != AwsServiceEvent }", Exact),
    ("{\t$.userIdentity.type\t=\t\"Root\"\t&&\t$.userIdentity.invokedBy\tNOT   EXISTS\t&&\t$.eventType\t!=\t\"AwsServiceEvent\"\t}", Exact),
    // Equivalent by meaning: the event types other than AwsServiceEvent, listed.
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && ($.eventType = "AwsApiCall" || $.eventType = "AwsConsoleAction" || $.eventType = "AwsConsoleSignIn" || $.eventType = "AwsCloudTrailInsight" || $.eventType = "AwsVpceEvent") }"#, Exact),
    // Wildcards that only Root fits among the documented identity types.
    // "Ro*" also fits the documented type "Role": it matches non-root records.
    (r#"{ $.userIdentity.type = "Ro*" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#, NonRoot),
    (r#"{ $.userIdentity.type = "*oot" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#, Exact),
    (r#"{ $.userIdentity.type = %^Root$% && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#, Exact),
    // A '*' inside a value: the AWS guides disagree on whether it is a wildcard there.
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "Aws*Event" }"#, Undecided),
    // --- broader filters: still catch every root event
    (r#"{ $.userIdentity.type = "Root" }"#, Noisy),
    (r#"{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }"#, Noisy),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }"#, Noisy),
    (r#"{ $.userIdentity.type = "Root" || $.userIdentity.type = "IAMUser" }"#, NonRoot),
    ("", NonRoot),
    ("{ $.eventVersion = * }", NonRoot),
    // --- row 3: weakened
    (r#"{ $.userIdentity.type = "root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#, Misses("whose userIdentity.type is \"Root\"")),
    (r#"{ $.userIdentity.type = "ROOT" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#, Misses("userIdentity.type")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.sourceIPAddress != "203.0.113.7" }"#, Misses("whose sourceIPAddress is \"203.0.113.7\"")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.sourceIPAddress != "10.*" }"#, Misses("sourceIPAddress")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType = "AwsApiCall" }"#, Misses("whose eventType is \"AwsConsoleAction\"")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.eventName != "ConsoleLogin" }"#, Misses("whose eventName is \"ConsoleLogin\"")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.errorCode NOT EXISTS }"#, Misses("whose errorCode is")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.sourceIPAddress EXISTS }"#, Misses("without sourceIPAddress")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.readOnly IS FALSE }"#, Misses("readOnly")),
    (r#"{ $.userIdentity.type != "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#, Misses("whose userIdentity.type is \"Root\"")),
    (r#"{ $.userIdentity.type = "Root" || $.userIdentity.invokedBy NOT EXISTS || $.eventType != "AwsServiceEvent" }"#, NonRoot),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS || $.eventType != "AwsServiceEvent" }"#, NonRoot),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.userIdentity.arn = "arn:aws:iam::*" }"#, Misses("without userIdentity.arn")),
    (r#"{ $.userIdentity.Type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#, Misses("without userIdentity.Type")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy != "*" && $.eventType != "AwsServiceEvent" }"#, Misses("without userIdentity.invokedBy")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy IS NULL && $.eventType != "AwsServiceEvent" }"#, Misses("without userIdentity.invokedBy")),
    // Numbers: a number constant never equals a string field.
    ("{ $.userIdentity.type = 1 }", Misses("userIdentity.type")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.apiVersion > 2 }"#, Misses("apiVersion")),
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && ($.apiVersion > 2 || $.apiVersion <= 2 || $.apiVersion NOT EXISTS) }"#, Misses("apiVersion")),
    // --- text forms: terms search the raw record
    ("Root", NonRoot),
    (r#""\"type\":\"Root\"""#, NonRoot),
    ("root", Misses("whose text does not contain \"root\"")),
    ("?Root ?IAMUser", NonRoot),
    ("Root -AwsServiceEvent", Misses("whose text contains \"AwsServiceEvent\"")),
    ("-nothing", Misses("whose text contains \"nothing\"")),
    ("\" \"", NonRoot),
    // --- invalid and undecided
    (r#"{ $.userIdentity.type = "Root" && }"#, Invalid),
    (CIS_SPACES_REMOVED, Invalid),
    // Several wildcards on one field are decided (an unsatisfiable candidate misses everything);
    // two that may both match numbers are not.
    ("{ $.a = \"x\" && $.a = \"y*\" && $.a = \"*z\" }", Misses("whose a is \"x\"")),
    ("{ $.a = \"1*\" && $.a = \"*2\" }", Undecided),
    ("{ $.requestParameters.name = %^a% }", Undecided),
    ("{ $.resources[*].type = \"AWS::IAM::Role\" }", Undecided),
    ("%Root%", Undecided),
    // userIdentity is always an object: it has no element 0.
    (r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.userIdentity[0] NOT EXISTS }"#, Exact),
    ("[version, account, ...]", Undecided),
    // A `*` inside a value: the same answer under both readings of the guides.
    ("{ $.a = \"x*y\" }", Misses("without a")),
];

/// `cis().replace(' ', "")`: `$.userIdentity.invokedByNOTEXISTS` is one selector with no operator,
/// which CloudWatch rejects too.
const CIS_SPACES_REMOVED: &str = r#"{$.userIdentity.type="Root"&&$.userIdentity.invokedByNOTEXISTS&&$.eventType!="AwsServiceEvent"}"#;

#[test]
fn coverage_table_rows_2_and_3_and_more() {
    let variants = variants();
    assert!(variants.len() >= 40, "{} variants", variants.len());
    for (pattern, want) in variants {
        let c = covers(pattern, cis());
        let ctx = format!("{pattern}\n  -> {c:?}");
        match want {
            Exact => assert!(
                c.covers && !c.matches_non_root && !c.matches_extra_root && c.error.is_none(),
                "{ctx}"
            ),
            Noisy => assert!(
                c.covers && !c.matches_non_root && c.matches_extra_root,
                "{ctx}"
            ),
            NonRoot => {
                assert!(c.covers && c.matches_non_root, "{ctx}");
                let ex = c.non_root_example.as_ref().expect("example");
                assert_ne!(ex["userIdentity"]["type"], json!("Root"), "{ctx}");
                assert_eq!(matches(pattern, ex), Ok(true), "{ctx}");
            }
            Misses(words) => {
                assert!(!c.covers && c.error.is_none(), "{ctx}");
                let missed = c.missed.as_deref().unwrap_or_default();
                assert!(missed.contains(words), "{ctx}\n  missed: {missed}");
                // The counter-example is a record the reference matches and the filter does not.
                let ex = c.counterexample.as_ref().expect("counterexample");
                assert_eq!(matches(cis(), ex), Ok(true), "{ctx}");
                assert_eq!(matches(pattern, ex), Ok(false), "{ctx}");
                for f in space::ALWAYS_STRINGS {
                    assert!(ex[f].is_string(), "{ctx}: {f}");
                }
            }
            Invalid => assert!(
                !c.covers
                    && !c.undecided
                    && c.error.as_deref().is_some_and(|e| e.starts_with("column ")),
                "{ctx}"
            ),
            Undecided => assert!(
                !c.covers
                    && c.undecided
                    && c.error
                        .as_deref()
                        .is_some_and(|e| e.starts_with("too complex to decide")),
                "{ctx}"
            ),
        }
    }
}

#[test]
fn wording_of_the_sourceip_exclusion() {
    let c = covers(
        &cis().replace(" }", " && $.sourceIPAddress != \"203.0.113.7\" }"),
        cis(),
    );
    assert_eq!(
        c.missed.as_deref(),
        Some("whose sourceIPAddress is \"203.0.113.7\"")
    );
    let c = covers(
        &cis().replace(" }", " && $.sourceIPAddress != \"10.0.0.1\" }"),
        cis(),
    );
    assert_eq!(
        c.missed.as_deref(),
        Some("whose sourceIPAddress is \"10.0.0.1\"")
    );
}

#[test]
fn coverage_of_other_references() {
    // The CloudTrail-changes reference of the README, written differently.
    let reference = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }";
    let reordered = "{ $.eventName = StopLogging || $.eventName = StartLogging || $.eventName = DeleteTrail || $.eventName = UpdateTrail || $.eventName = CreateTrail }";
    assert!(covers(reordered, reference).covers);
    let c = covers("{ $.eventName = *Trail }", reference);
    assert!(!c.covers);
    assert!(
        c.missed.as_deref().is_some_and(|m| m.contains("Logging")),
        "{c:?}"
    );
    // A pattern always covers itself.
    for (p, want) in variants() {
        if matches!(want, Invalid | Undecided) {
            continue;
        }
        let c = covers(p, p);
        assert!(c.covers, "{p}: {c:?}");
    }
}

#[test]
fn too_complex_is_bounded_and_fast() {
    // 12 free fields with 3 constants each: far beyond the bound, answered at once.
    let clauses: Vec<String> = (0..12)
        .map(|i| format!("($.f{i} = a || $.f{i} = b || $.f{i} = c)"))
        .collect();
    let p = format!("{{ {} }}", clauses.join(" && "));
    let t = std::time::Instant::now();
    let c = covers(&p, cis());
    assert!(c.undecided, "{c:?}");
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
}

/// The realistic CloudTrail records in tests/data/cloudtrail: which the cis() reference matches.
#[test]
fn realistic_records() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cloudtrail");
    let cases = [
        ("root-console-signin.json", true),
        ("root-cli-api-call.json", true),
        ("root-assume-root-session.json", true),
        ("root-invoked-by-service.json", false),
        ("root-aws-service-event.json", false),
        ("iam-user.json", false),
        ("assumed-role.json", false),
        ("federated-user.json", false),
        ("identity-center-user.json", false),
    ];
    for (file, want) in cases {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).expect(file);
        let rec: serde_json::Value = serde_json::from_str(&text).expect(file);
        assert_eq!(matches(cis(), &rec), Ok(want), "{file}");
        // Also as the raw log line CloudTrail delivers (one compact JSON record).
        assert_eq!(matches(cis(), &json!(rec.to_string())), Ok(want), "{file}");
        // `{ $.userIdentity.type = "Root" }` counts the service-invoked ones too.
        let root = rec["userIdentity"]["type"] == json!("Root");
        assert_eq!(
            matches(r#"{ $.userIdentity.type = "Root" }"#, &rec),
            Ok(root),
            "{file}"
        );
    }
}

/// Several wildcard values on one field (cis() 4.1 has `*UnauthorizedOperation` and `AccessDenied*`
/// on `errorCode`): decided through the strings that realise each combination of them.
#[test]
fn several_wildcards_on_one_field() {
    let r41 = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;
    // (candidate, reference, covers, words the "missed" text contains)
    let cases: &[(&str, &str, bool, &str)] = &[
        (r41, r41, true, ""),
        (
            r#"{ $.errorCode = "AccessDenied*" || $.errorCode = "*UnauthorizedOperation" }"#,
            r41,
            true,
            "",
        ),
        (
            r#"{ $.errorCode = "AccessDenied*" }"#,
            r41,
            false,
            "UnauthorizedOperation",
        ),
        (
            r#"{ $.errorCode = "*UnauthorizedOperation" }"#,
            r41,
            false,
            "AccessDenied",
        ),
        (
            r#"{ $.errorCode = "*Denied*" || $.errorCode = "*Unauthorized*" }"#,
            r41,
            true,
            "",
        ),
        (r#"{ $.errorCode = "*" }"#, r41, true, ""),
        // Both wildcards at once: a string matching both must be realised.
        (
            r#"{ $.errorCode = "AccessDenied*" && $.errorCode != "*UnauthorizedOperation" }"#,
            r#"{ $.errorCode = "AccessDenied*" }"#,
            false,
            "AccessDeniedUnauthorizedOperation",
        ),
        (
            r#"{ $.a = "ab*" || $.a = "*yz" || $.a = "*mid*" }"#,
            r#"{ $.a = "ab*" || $.a = "*yz" || $.a = "*mid*" }"#,
            true,
            "",
        ),
        (
            r#"{ $.a = "ab*" || $.a = "*yz" }"#,
            r#"{ $.a = "ab*" || $.a = "*yz" || $.a = "*mid*" }"#,
            false,
            "mid",
        ),
        // A constant that also matches a wildcard; the other strings avoid it.
        (
            r#"{ $.a = "abyz" || $.a = "ab*" }"#,
            r#"{ $.a = "ab*" && $.a = "*yz" }"#,
            true,
            "",
        ),
        (
            r#"{ $.a = "abyz" }"#,
            r#"{ $.a = "ab*" && $.a = "*yz" }"#,
            false,
            "",
        ),
    ];
    for &(cand, refr, want, words) in cases {
        let c = covers(cand, refr);
        let ctx = format!("{cand} vs {refr}\n  -> {c:?}");
        assert!(!c.undecided && c.error.is_none(), "{ctx}");
        assert_eq!(c.covers, want, "{ctx}");
        if !want {
            let ex = c.counterexample.as_ref().expect("counterexample");
            assert_eq!(matches(refr, ex), Ok(true), "{ctx}");
            assert_eq!(matches(cand, ex), Ok(false), "{ctx}");
            let missed = c.missed.as_deref().unwrap_or_default();
            assert!(missed.contains(words), "{ctx}\n  missed: {missed}");
        }
    }
}

#[test]
fn glob_witnesses_realise_every_combination() {
    let sel = crate::pattern::ast::Selector(vec![crate::pattern::ast::Segment::Key("a".into())]);
    let globs = ["ab*".to_string(), "*yz".to_string(), "*b*".to_string()];
    let none = std::collections::HashSet::new();
    let mut budget = cover::Budget::new(None);
    let w = cover::glob_witnesses(&sel, &globs, &none, &mut budget).unwrap();
    let vectors: std::collections::BTreeSet<Vec<bool>> = w
        .iter()
        .map(|(s, accepted)| {
            let v: Vec<bool> = globs.iter().map(|g| matcher::glob_match(g, s)).collect();
            let said: Vec<bool> = (0..globs.len() as u32)
                .map(|g| accepted.contains(&g))
                .collect();
            assert_eq!(v, said, "{s}");
            v
        })
        .collect();
    // Every combination with at least one match except "ab* without *b*" (impossible).
    assert_eq!(vectors.len(), 5, "{w:?}");
    assert!(!vectors.contains(&vec![true, false, false]));
    assert!(!vectors.contains(&vec![true, true, false]));
    // Constants are never the witness.
    let ab = std::collections::HashSet::from(["ab".to_string()]);
    let w2 = cover::glob_witnesses(
        &sel,
        &["ab*".to_string(), "*b".to_string()],
        &ab,
        &mut budget,
    )
    .unwrap();
    assert!(w2.iter().all(|(s, _)| s != "ab"), "{w2:?}");
    assert!(
        w2.iter()
            .any(|(s, a)| a == &vec![0, 1] && s.starts_with("ab") && s.ends_with('b')),
        "a string other than the constant matches both: {w2:?}"
    );
}

/// Parentheses nested far deeper than any pattern CloudWatch Logs can store (7,000 levels, 14 KB)
/// are an error naming the limit, not a stack overflow that aborts the process.
#[test]
fn deep_parentheses_are_an_error_not_a_crash() {
    let deep = format!(
        "{{ {}$.eventName = \"x\"{} }}",
        "(".repeat(7_000),
        ")".repeat(7_000)
    );
    let e = parse(&deep).expect_err("too deep");
    assert!(e.unsupported, "{e:?}");
    // `{ ` then 512 accepted parentheses: the 513th is at column 515.
    assert_eq!(e.column, 3 + MAX_NESTING, "{e}");
    assert!(e.message.contains("nested more than 512 deep"), "{e}");
    let c = covers(&deep, cis());
    assert!(!c.covers && c.undecided, "{c:?}");
    let msg = c.error.as_deref().unwrap_or_default();
    assert!(
        msg.starts_with(
            "too complex to decide: the filter uses parentheses nested more than 512 deep"
        ) && msg.contains("14021 characters long, and CloudWatch Logs stores at most 1024"),
        "{msg}"
    );
    assert!(matches(&deep, &json!({"eventName": "x"})).is_err());
    // The same against a deep reference: undecided too, nothing recursed without bound.
    assert!(covers(cis(), &deep).undecided);
}

/// The deepest nesting accepted, alternating `||` and `&&` so that no level flattens away, is
/// parsed, matched and decided.
#[test]
fn the_deepest_accepted_nesting_is_decided() {
    let mut p = String::from("$.eventName = \"x\"");
    for i in 0..MAX_NESTING {
        let op = if i % 2 == 0 { "||" } else { "&&" };
        p = format!("($.eventName = \"v\" {op} {p})");
    }
    let p = format!("{{ {p} }}");
    assert!(parse(&p).is_ok());
    assert_eq!(matches(&p, &json!({"eventName": "v"})), Ok(true));
    assert_eq!(matches(&p, &json!({"eventName": "w"})), Ok(false));
    let c = covers(&p, cis());
    assert!(c.error.is_none() && !c.covers, "{c:?}");
    assert!(
        c.missed.as_deref().is_some_and(|m| m.contains("eventName")),
        "{c:?}"
    );
}

/// Long chains of one operator are one flat node: matching and dropping them recurses no deeper
/// than one level, however many operands there are.
#[test]
fn long_chains_do_not_recurse() {
    let or: Vec<String> = (0..50_000)
        .map(|i| format!("$.eventName = \"E{i}\""))
        .collect();
    let p = format!("{{ {} }}", or.join(" || "));
    assert_eq!(matches(&p, &json!({"eventName": "E49999"})), Ok(true));
    assert_eq!(matches(&p, &json!({"eventName": "F"})), Ok(false));
    let and: Vec<String> = (0..50_000).map(|i| format!("f{i} != {i}")).collect();
    let p = format!("[f, ..., g = 1 && {}]", and.join(" && "));
    assert!(parse(&p).is_ok());
    assert_eq!(matches(&p, &json!("x 1")), Ok(false));
}

/// Thousands of `&&` groups over six fields, or the cis() conditions: covers, but only after every
/// one of some 150,000 combinations of field values is tested against all the groups (seconds).
fn slow_pattern(groups: usize) -> String {
    let clauses: Vec<String> = (0..groups)
        .map(|i| {
            let conds: Vec<String> = (0..6)
                .map(|f| {
                    let op = if (i >> f) & 1 == 1 { "=" } else { "!=" };
                    format!("$.f{f} {op} \"a\"")
                })
                .collect();
            format!("({})", conds.join(" && "))
        })
        .collect();
    format!(
        "{{ ($.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\") || {} }}",
        clauses.join(" || ")
    )
}

/// A deadline stops coverage wherever the work is; with none, the same question is answered.
#[test]
fn a_deadline_stops_coverage() {
    let past = std::time::Instant::now();
    assert_eq!(covers_until(cis(), cis(), Some(past)), Err(TimedOut));
    let soon = std::time::Instant::now() + std::time::Duration::from_millis(20);
    assert_eq!(
        covers_until(&slow_pattern(4_000), cis(), Some(soon)),
        Err(TimedOut)
    );
    let small = slow_pattern(8);
    assert_eq!(covers_until(&small, cis(), None), Ok(covers(&small, cis())));
    assert!(covers(&small, cis()).covers);
}

/// A disjunction of thousands of simple conditions on one field is decided (two classes of values
/// for the field, whatever the number of conditions), with wildcards at either end, inside or
/// none, and the reverse question too.
#[test]
fn long_disjunctions_are_decided() {
    for clause in [
        |i: usize| format!("$.eventName = \"Abc{i}*\""),
        |i: usize| format!("$.eventName = \"*Abc{i}\""),
        |i: usize| format!("$.eventName = \"*Abc{i}*\""),
        |i: usize| format!("$.eventName = \"Abc{i}\""),
        |i: usize| format!("$.f{} = \"Abc{i}*\"", i % 3),
    ] {
        let p = format!(
            "{{ {} }}",
            (1..=4_000).map(clause).collect::<Vec<_>>().join(" || ")
        );
        let c = covers(&p, cis());
        assert!(c.error.is_none() && !c.covers, "{}: {c:?}", &p[..40]);
        let ex = c.counterexample.as_ref().expect("counterexample");
        assert_eq!(matches(&p, ex), Ok(false));
        let r = covers(cis(), &p);
        assert!(r.error.is_none() && !r.covers, "{}: {r:?}", &p[..40]);
        // The cis() 4.4 reference, 16 constants on the same field, against it: still no automaton.
        let iam = "{ ($.eventSource = iam.amazonaws.com) && (($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = PutUserPolicy)) }";
        let c = covers(&p, iam);
        assert!(c.error.is_none() && !c.covers, "{}: {c:?}", &p[..40]);
    }
}

/// A `*` inside a value is a wildcard for the current guide and the asterisk itself for the 2019
/// one ("Ev*ent will only match the actual string Ev*ent"): decided when both readings give the
/// same answer, with a note; undecided, saying which reading gives which, when they do not.
#[test]
fn a_star_inside_a_value_is_decided_under_both_readings() {
    let inner = &cis()[2..cis().len() - 2];
    let sso = "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*";
    let note = format!("the '*' inside \"{sso}\" is a wildcard for the current AWS guide and the asterisk itself for the 2019 guide; the answer is the same under both readings");

    // Exact under both: the second group adds nothing to the first.
    let p = format!("{{ ({inner}) || ({inner} && $.userIdentity.arn = \"{sso}\") }}");
    let c = covers(&p, cis());
    assert!(
        c.covers && !c.matches_non_root && !c.matches_extra_root && c.error.is_none(),
        "{c:?}"
    );
    assert_eq!(c.note.as_deref(), Some(note.as_str()));

    // Misses under both, different records: both are said, and the record shown is one the
    // matcher (wildcard reading) confirms.
    let p = format!("{{ {inner} && $.userIdentity.arn != \"{sso}\" }}");
    let c = covers(&p, cis());
    assert!(!c.covers && c.error.is_none(), "{c:?}");
    assert_eq!(c.note.as_deref(), Some(note.as_str()));
    let missed = c.missed.as_deref().unwrap_or_default();
    assert!(
        missed.starts_with("whose userIdentity.arn is \"arn:aws:iam::")
            && missed.contains(&format!(
                "(or, reading the '*' inside \"{sso}\" as the asterisk itself, those whose userIdentity.arn is \"arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/"
            )),
        "{missed}"
    );
    let ex = c.counterexample.as_ref().expect("counterexample");
    assert_eq!(matches(cis(), ex), Ok(true));
    assert_eq!(matches(&p, ex), Ok(false));

    // The readings disagree: excluding "aqb" too is redundant only if `a*b` is a wildcard.
    let refr = format!("{{ {inner} && $.x != \"a*b\" }}");
    let cand = format!("{{ {inner} && $.x != \"a*b\" && $.x != \"aqb\" }}");
    let c = covers(&cand, &refr);
    assert!(c.undecided && !c.covers && c.note.is_none(), "{c:?}");
    assert_eq!(
        c.error.as_deref(),
        Some("too complex to decide: the '*' inside \"a*b\" is a wildcard in the current AWS guide and the asterisk itself in the 2019 guide, and the answer depends on it: as a wildcard the filter catches every record the reference catches; as the asterisk itself it misses records whose x is \"aqb\"")
    );
    // No `*` inside a value: no note.
    assert_eq!(covers(cis(), cis()).note, None);
}

mod shortcuts {
    //! Classes of values and the cheap strings for several wildcards are shortcuts: with every
    //! value its own class and the product automaton always used, the answers must be the same.
    use super::*;
    use proptest::prelude::*;

    fn cond() -> impl Strategy<Value = String> {
        let sel = prop::sample::select(vec![
            "$.userIdentity.type",
            "$.userIdentity.invokedBy",
            "$.eventType",
            "$.eventName",
            "$.errorCode",
            "$.a",
            "$.a.b",
            "$.a[0]",
            "$.a[1]",
        ]);
        let value = prop::sample::select(vec![
            "\"Root\"",
            "\"IAMUser\"",
            "\"AwsServiceEvent\"",
            "\"x\"",
            "\"xy\"",
            "\"x*\"",
            "\"*y\"",
            "\"*x*\"",
            "\"Ro*\"",
            "\"*Event\"",
            "1",
            "2",
            "1*",
            "*",
        ]);
        prop_oneof![
            4 => (sel.clone(), prop::sample::select(vec!["=", "!="]), value)
                .prop_map(|(s, op, v)| format!("{s} {op} {v}")),
            1 => (sel.clone(), prop::sample::select(vec!["<", ">="]), prop::sample::select(vec!["1", "2"]))
                .prop_map(|(s, op, v)| format!("{s} {op} {v}")),
            1 => (sel, prop::sample::select(vec!["EXISTS", "NOT EXISTS", "IS NULL", "IS TRUE"]))
                .prop_map(|(s, t)| format!("{s} {t}")),
        ]
    }

    fn pattern() -> impl Strategy<Value = String> {
        let expr = cond().prop_recursive(3, 16, 4, |inner| {
            (
                prop::collection::vec(inner, 2..4),
                prop::sample::select(vec![" && ", " || "]),
            )
                .prop_map(|(es, op)| format!("({})", es.join(op)))
        });
        prop_oneof![
            6 => expr.prop_map(|e| format!("{{ {e} }}")),
            1 => prop::sample::select(vec!["Root", "-AwsServiceEvent", "?Root ?IAMUser", "Root -invokedBy"])
                .prop_map(str::to_string),
        ]
    }

    fn answer(c: &Coverage) -> (bool, bool, bool, Option<String>) {
        (
            c.covers,
            c.matches_non_root,
            c.matches_extra_root,
            c.error.clone(),
        )
    }

    /// Found by `shortcuts_never_change_an_answer`: `$.a[0]` and `$.a.b` cannot both be present
    /// (one node is an array or an object), but the model only knew it when the object selector
    /// came first, so with every value its own class (exact mode) it built a record that had only
    /// one of them and failed its own check.
    #[test]
    fn exact_mode_builds_a_non_root_example_for_an_array_and_an_object_under_one_key() {
        let cand =
            r#"{ ($.a[0] = "x*" || $.a[0] != "*y" || ($.a.b < 1 || $.eventType NOT EXISTS)) }"#;
        cover::EXACT.set(false);
        let quick = covers(cand, cis());
        cover::EXACT.set(true);
        let exact = covers(cand, cis());
        cover::EXACT.set(false);
        assert!(!quick.undecided && !quick.covers, "{quick:?}");
        assert_eq!(answer(&quick), answer(&exact), "{exact:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        #[test]
        fn shortcuts_never_change_an_answer(cand in pattern(), refr in prop_oneof![Just(cis().to_string()), pattern()]) {
            cover::EXACT.set(false);
            let quick = covers(&cand, &refr);
            cover::EXACT.set(true);
            let exact = covers(&cand, &refr);
            cover::EXACT.set(false);
            // Without classes more combinations are tested: beyond the bound there is no answer
            // to compare with.
            if !exact.undecided {
                prop_assert_eq!(answer(&quick), answer(&exact), "{} vs {}", cand, refr);
            } else if !quick.undecided {
                prop_assert!(exact.error.as_deref().is_some_and(|e| e.contains("combinations")), "{:?}", exact);
            }
        }
    }
}
