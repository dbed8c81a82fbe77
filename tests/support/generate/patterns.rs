//! Metric filter patterns by family. A family is what a pattern means (the CIS reference, the
//! reference with an extra exclusion, ...); its class for each rule is known by construction from
//! the rule text (shared/cwl014.md) and docs/filter-patterns.md, never by asking the coverage engine.
//! Every family can be spelled many ways (whitespace, newlines, parentheses, clause order, quoting,
//! keyword case): the spelling is random, the meaning is not.
use super::rng::Rng;

pub const ROOT: &str = "CWL-014";
pub const TRAIL_CHANGES: &str = "CIS-4.5";
pub const KMS: &str = "CWL-015";

/// The rules the generator checks, with what the chain needs to know about them.
pub struct RuleInfo {
    pub id: &'static str,
    /// A filter that also matches other identities' events fails (root usage only).
    pub reject_non_root: bool,
    pub reference: Family,
    pub filter_name: &'static str,
    pub metric_name: &'static str,
    pub alarm_name: &'static str,
    pub topic_name: &'static str,
    /// How often changes target this rule's chain.
    pub weight: u32,
}

pub const RULES: [RuleInfo; 3] = [
    RuleInfo {
        id: ROOT,
        reject_non_root: true,
        reference: Family::RootCis,
        filter_name: "RootAccountUsage",
        metric_name: "RootAccountUsageEventCount",
        alarm_name: "RootAccountUsageAlarm",
        topic_name: "RootAccountUsageAlerts",
        weight: 4,
    },
    RuleInfo {
        id: TRAIL_CHANGES,
        reject_non_root: false,
        reference: Family::TrailRef,
        filter_name: "CloudTrailChanges",
        metric_name: "CloudTrailEventCount",
        alarm_name: "CloudTrailChangesAlarm",
        topic_name: "CloudTrailChangesAlerts",
        weight: 1,
    },
    RuleInfo {
        id: KMS,
        reject_non_root: false,
        reference: Family::KmsRef,
        filter_name: "DisableOrDeleteCMK",
        metric_name: "DisableOrDeleteCMKEventCount",
        alarm_name: "DisableOrDeleteCMKAlarm",
        topic_name: "KmsAlerts",
        weight: 1,
    },
];

pub fn rule(id: &str) -> &'static RuleInfo {
    RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("unknown rule {id}"))
}

/// What a filter does for one rule's reference pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Matches every reference event (maybe more, but no other identity's events for root).
    Covers,
    /// Matches every reference event and also events of identities other than root: fails
    /// CWL-014 (the alarm stays in ALARM), a superset (passes with a note) for the other rules.
    NonRoot,
    /// Misses some reference events.
    Misses,
    /// CloudWatch Logs rejects the pattern.
    Invalid,
    /// Documented as too complex to decide (a regex on a free field): unknown, never pass.
    Undecided,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// CIS reference for root usage.
    RootCis,
    /// CIS, with `!= AwsServiceEvent` written as the five other documented event types.
    RootEnumerated,
    /// `type = Root` alone: also counts service-invoked root events (a note, still a pass).
    RootOnly,
    /// `type = Root && eventType != AwsServiceEvent`: also counts service-invoked calls (a note).
    RootNotService,
    RootWrongCase,
    RootExcludesIp,
    RootExcludesConsoleLogin,
    RootRequiresIp,
    RootEqualsServiceEvent,
    /// Every `&&` of CIS replaced by `||`.
    RootOr,
    /// `type = Root || type = IAMUser` in place of `type = Root`.
    RootOrIamUser,
    RootWildcard,
    /// The text term `Root`.
    RootTerm,
    /// The empty pattern: every event.
    Empty,
    /// CIS with every space removed: `invokedByNOTEXISTS` is not an operator.
    RootSquashed,
    /// CIS plus a regex condition on a free field: documented as undecidable.
    RootRegex,
    TrailRef,
    /// The reference plus one more CloudTrail event name.
    TrailSuperset,
    TrailDropsStopLogging,
    TrailWrongCase,
    KmsRef,
    /// `src && (a || b)` distributed as `(src && a) || (src && b)`.
    KmsDistributed,
    /// Both event names from any source: a superset (a note).
    KmsAnySource,
    KmsDropsSchedule,
    KmsWrongSource,
}

impl Family {
    pub fn class(self, rule: &str) -> Class {
        use Class::*;
        use Family::*;
        match self {
            Empty => {
                if rule == ROOT {
                    NonRoot
                } else {
                    Covers
                }
            }
            RootSquashed => Invalid,
            RootRegex => Undecided,
            _ => {
                let (for_rule, class) = match self {
                    RootCis | RootEnumerated | RootOnly | RootNotService => (ROOT, Covers),
                    RootOr | RootOrIamUser | RootWildcard | RootTerm => (ROOT, NonRoot),
                    RootWrongCase
                    | RootExcludesIp
                    | RootExcludesConsoleLogin
                    | RootRequiresIp
                    | RootEqualsServiceEvent => (ROOT, Misses),
                    TrailRef | TrailSuperset => (TRAIL_CHANGES, Covers),
                    TrailDropsStopLogging | TrailWrongCase => (TRAIL_CHANGES, Misses),
                    KmsRef | KmsDistributed | KmsAnySource => (KMS, Covers),
                    KmsDropsSchedule | KmsWrongSource => (KMS, Misses),
                    Empty | RootSquashed | RootRegex => unreachable!("handled above"),
                };
                // A family written for one rule's events misses the other rules' events: none of
                // them constrains only fields the other references leave free.
                if rule == for_rule {
                    class
                } else {
                    Misses
                }
            }
        }
    }

    pub fn describe(self) -> &'static str {
        use Family::*;
        match self {
            RootCis => "the CIS root-usage pattern",
            RootEnumerated => "CIS with eventType enumerated",
            RootOnly => "type = Root alone",
            RootNotService => "type = Root and not AwsServiceEvent",
            RootWrongCase => "wrong case \"root\"",
            RootExcludesIp => "extra clause excluding a source IP",
            RootExcludesConsoleLogin => "extra clause excluding ConsoleLogin",
            RootRequiresIp => "extra clause requiring sourceIPAddress",
            RootEqualsServiceEvent => "= AwsServiceEvent where != belongs",
            RootOr => "|| in place of every &&",
            RootOrIamUser => "type = Root || type = IAMUser",
            RootWildcard => "type = \"Ro*\" (also Role)",
            RootTerm => "the text term Root",
            Empty => "the empty pattern",
            RootSquashed => "CIS with every space removed (invalid)",
            RootRegex => "CIS plus a regex on a free field (undecidable)",
            TrailRef => "the CIS 4.5 pattern",
            TrailSuperset => "CIS 4.5 plus one more event name",
            TrailDropsStopLogging => "CIS 4.5 without StopLogging",
            TrailWrongCase => "CIS 4.5 with stoplogging in lower case",
            KmsRef => "the CIS 4.7 pattern",
            KmsDistributed => "CIS 4.7 with && distributed over ||",
            KmsAnySource => "CIS 4.7 event names from any source",
            KmsDropsSchedule => "CIS 4.7 without ScheduleKeyDeletion",
            KmsWrongSource => "CIS 4.7 with source kms.amazonaws.co",
        }
    }

    /// Families that keep the filter working for `rule` (used for harmless re-writes).
    pub fn equivalents(rule: &str) -> &'static [Family] {
        use Family::*;
        match rule {
            ROOT => &[RootCis, RootEnumerated, RootOnly, RootNotService],
            TRAIL_CHANGES => &[TrailRef, TrailSuperset],
            _ => &[KmsRef, KmsDistributed, KmsAnySource],
        }
    }

    /// Families that make the filter fail for `rule` (the undecidable family is separate: it
    /// gives unknown).
    pub fn weakened(rule: &str) -> &'static [Family] {
        use Family::*;
        match rule {
            ROOT => &[
                RootWrongCase,
                RootExcludesIp,
                RootExcludesConsoleLogin,
                RootRequiresIp,
                RootEqualsServiceEvent,
                RootOr,
                RootOrIamUser,
                RootWildcard,
                RootTerm,
                Empty,
                RootSquashed,
            ],
            TRAIL_CHANGES => &[TrailDropsStopLogging, TrailWrongCase, RootCis, RootSquashed],
            _ => &[KmsDropsSchedule, KmsWrongSource, TrailRef, RootSquashed],
        }
    }

    /// A random spelling of the family.
    pub fn spell(self, rng: &mut Rng) -> String {
        use Family::*;
        match self {
            Empty => String::new(),
            RootTerm => {
                if rng.chance(1, 2) {
                    "Root".into()
                } else {
                    "\"Root\"".into()
                }
            }
            // Fixed texts: their point is the exact characters.
            RootSquashed => r#"{$.userIdentity.type="Root"&&$.userIdentity.invokedByNOTEXISTS&&$.eventType!="AwsServiceEvent"}"#.into(),
            _ => Spelling::new(rng).pattern(&self.expr()),
        }
    }

    /// The plain spelling: single spaces, every value quoted, no extra parentheses, clauses in
    /// their usual order (for the root family, exactly the CIS text).
    pub fn canonical(self) -> String {
        let mut rng = Rng::new(0);
        match self {
            Family::Empty | Family::RootTerm | Family::RootSquashed => self.spell(&mut rng),
            _ => Spelling {
                rng: &mut rng,
                spacing: 1,
                quote: 0,
                parens: 0,
                reorder: false,
                keyword_case: 0,
            }
            .pattern(&self.expr()),
        }
    }

    fn expr(self) -> Expr {
        use Family::*;
        let root = || eq("$.userIdentity.type", "Root");
        let not_invoked = || Expr::Cond("$.userIdentity.invokedBy", Test::NotExists);
        let not_service = || ne("$.eventType", "AwsServiceEvent");
        let cis = |extra: Vec<Expr>| {
            let mut v = vec![root(), not_invoked(), not_service()];
            v.extend(extra);
            Expr::And(v)
        };
        let names =
            |ns: &[&'static str]| Expr::Or(ns.iter().map(|n| eq("$.eventName", n)).collect());
        const TRAIL: [&str; 5] = [
            "CreateTrail",
            "UpdateTrail",
            "DeleteTrail",
            "StartLogging",
            "StopLogging",
        ];
        let kms_src = || eq("$.eventSource", "kms.amazonaws.com");
        match self {
            RootCis => cis(vec![]),
            RootEnumerated => Expr::And(vec![
                root(),
                not_invoked(),
                Expr::Or(
                    [
                        "AwsApiCall",
                        "AwsConsoleAction",
                        "AwsConsoleSignIn",
                        "AwsCloudTrailInsight",
                        "AwsVpceEvent",
                    ]
                    .iter()
                    .map(|t| eq("$.eventType", t))
                    .collect(),
                ),
            ]),
            RootOnly => root(),
            RootNotService => Expr::And(vec![root(), not_service()]),
            RootWrongCase => Expr::And(vec![
                eq("$.userIdentity.type", "root"),
                not_invoked(),
                not_service(),
            ]),
            RootExcludesIp => cis(vec![ne("$.sourceIPAddress", "10.0.0.1")]),
            RootExcludesConsoleLogin => cis(vec![ne("$.eventName", "ConsoleLogin")]),
            RootRequiresIp => cis(vec![Expr::Cond("$.sourceIPAddress", Test::Exists)]),
            RootEqualsServiceEvent => Expr::And(vec![
                root(),
                not_invoked(),
                eq("$.eventType", "AwsServiceEvent"),
            ]),
            RootOr => Expr::Or(vec![root(), not_invoked(), not_service()]),
            RootOrIamUser => Expr::And(vec![
                Expr::Or(vec![root(), eq("$.userIdentity.type", "IAMUser")]),
                not_invoked(),
                not_service(),
            ]),
            RootWildcard => Expr::And(vec![
                Expr::Cond("$.userIdentity.type", Test::Raw("=", "\"Ro*\"")),
                not_invoked(),
                not_service(),
            ]),
            RootRegex => cis(vec![Expr::Cond(
                "$.requestParameters.name",
                Test::Raw("!=", "%^tmp%"),
            )]),
            TrailRef => names(&TRAIL),
            TrailSuperset => {
                let mut v = TRAIL.to_vec();
                v.push("DeleteEventDataStore");
                names(&v)
            }
            TrailDropsStopLogging => names(&TRAIL[..4]),
            TrailWrongCase => names(&[
                "CreateTrail",
                "UpdateTrail",
                "DeleteTrail",
                "StartLogging",
                "stoplogging",
            ]),
            KmsRef => Expr::And(vec![
                kms_src(),
                names(&["DisableKey", "ScheduleKeyDeletion"]),
            ]),
            KmsDistributed => Expr::Or(vec![
                Expr::And(vec![kms_src(), eq("$.eventName", "DisableKey")]),
                Expr::And(vec![kms_src(), eq("$.eventName", "ScheduleKeyDeletion")]),
            ]),
            KmsAnySource => names(&["DisableKey", "ScheduleKeyDeletion"]),
            KmsDropsSchedule => Expr::And(vec![kms_src(), eq("$.eventName", "DisableKey")]),
            KmsWrongSource => Expr::And(vec![
                eq("$.eventSource", "kms.amazonaws.co"),
                names(&["DisableKey", "ScheduleKeyDeletion"]),
            ]),
            Empty | RootTerm | RootSquashed => unreachable!("spelled as fixed text"),
        }
    }
}

/// A JSON filter pattern's expression, just enough to respell it.
#[derive(Clone, Debug)]
enum Expr {
    Cond(&'static str, Test),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Clone, Debug)]
enum Test {
    Eq(&'static str),
    Ne(&'static str),
    Exists,
    NotExists,
    /// An operator and a value written exactly so (wildcards, regexes).
    Raw(&'static str, &'static str),
}

fn eq(sel: &'static str, v: &'static str) -> Expr {
    Expr::Cond(sel, Test::Eq(v))
}

fn ne(sel: &'static str, v: &'static str) -> Expr {
    Expr::Cond(sel, Test::Ne(v))
}

/// One random writing style, drawn per pattern.
struct Spelling<'a> {
    rng: &'a mut Rng,
    /// How much whitespace: 0 none where optional, 1 single spaces, 2 anything (newlines, tabs).
    spacing: u32,
    quote: u32,
    parens: u32,
    reorder: bool,
    keyword_case: u32,
}

impl<'a> Spelling<'a> {
    fn new(rng: &'a mut Rng) -> Self {
        let spacing = rng.below(3) as u32;
        let quote = rng.below(3) as u32;
        let parens = rng.below(3) as u32;
        let reorder = rng.chance(1, 2);
        let keyword_case = rng.below(3) as u32;
        Spelling {
            rng,
            spacing,
            quote,
            parens,
            reorder,
            keyword_case,
        }
    }

    /// Whitespace between two tokens; `required` where the tokens would otherwise merge.
    fn ws(&mut self, required: bool) -> String {
        let options: &[&str] = match self.spacing {
            0 => &[""],
            1 => &[" "],
            _ => &["", " ", "  ", "\n", "\t", "\n    ", " \n  ", "\r\n"],
        };
        let w = *self.rng.pick(options);
        if required && w.is_empty() {
            " ".into()
        } else {
            w.into()
        }
    }

    fn pattern(&mut self, e: &Expr) -> String {
        let open = self.ws(false);
        let body = self.expr(e, Ctx::Top);
        let close = self.ws(false);
        format!("{{{open}{body}{close}}}")
    }

    fn keyword(&mut self, k: &str) -> String {
        match self.keyword_case {
            0 => k.to_string(),
            1 => k.to_lowercase(),
            _ => k
                .chars()
                .map(|c| {
                    if self.rng.chance(1, 2) {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    }
                })
                .collect(),
        }
    }

    /// Plain words may be written without quotes; values starting with a digit stay quoted, so
    /// an unquoted value can never read as a number.
    fn value(&mut self, v: &str) -> (String, bool) {
        let plain = v.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
        let unquoted = plain
            && match self.quote {
                0 => false,
                1 => true,
                _ => self.rng.chance(1, 2),
            };
        if unquoted {
            (v.to_string(), true)
        } else {
            (format!("\"{v}\""), false)
        }
    }

    fn cond(&mut self, sel: &str, t: &Test) -> String {
        match t {
            Test::Eq(v) | Test::Ne(v) => {
                let op = if matches!(t, Test::Eq(_)) { "=" } else { "!=" };
                let a = self.ws(false);
                let b = self.ws(false);
                let (val, unquoted) = self.value(v);
                // An unquoted word runs until whitespace or a parenthesis; keep one after it.
                let tail = if unquoted { " " } else { "" };
                format!("{sel}{a}{op}{b}{val}{tail}")
            }
            Test::Raw(op, val) => {
                let a = self.ws(false);
                let b = self.ws(false);
                format!("{sel}{a}{op}{b}{val} ")
            }
            Test::Exists => {
                let a = self.ws(true);
                let k = self.keyword("EXISTS");
                format!("{sel}{a}{k}")
            }
            Test::NotExists => {
                let a = self.ws(true);
                let b = self.ws(true);
                let n = self.keyword("NOT");
                let k = self.keyword("EXISTS");
                format!("{sel}{a}{n}{b}{k}")
            }
        }
    }

    fn maybe_paren(&mut self, s: String, needed: bool, odds: u32) -> String {
        let extra = match self.parens {
            0 => false,
            1 => self.rng.chance(1, odds),
            _ => self.rng.chance(2, 3),
        };
        if needed || extra {
            let a = self.ws(false);
            let b = self.ws(false);
            format!("({a}{s}{b})")
        } else {
            s
        }
    }

    fn expr(&mut self, e: &Expr, parent: Ctx) -> String {
        match e {
            Expr::Cond(sel, t) => {
                let c = self.cond(sel, t);
                self.maybe_paren(c, false, 3)
            }
            Expr::And(items) | Expr::Or(items) => {
                let is_and = matches!(e, Expr::And(_));
                let mut items = items.clone();
                // && and || are commutative: clause order changes nothing.
                if self.reorder {
                    self.rng.shuffle(&mut items);
                }
                // Regroup a run of clauses of the same operator: (a && b) && c is a && b && c.
                let parts: Vec<String> = if items.len() >= 3 && self.rng.chance(1, 4) {
                    let k = 2 + self.rng.below(items.len() - 2);
                    let inner = if is_and {
                        Expr::And(items[..k].to_vec())
                    } else {
                        Expr::Or(items[..k].to_vec())
                    };
                    let inner = self.expr(&inner, if is_and { Ctx::And } else { Ctx::Or });
                    let inner = self.maybe_paren(inner, true, 1);
                    std::iter::once(inner)
                        .chain(
                            items[k..]
                                .iter()
                                .map(|x| self.expr(x, if is_and { Ctx::And } else { Ctx::Or })),
                        )
                        .collect()
                } else {
                    items
                        .iter()
                        .map(|x| self.expr(x, if is_and { Ctx::And } else { Ctx::Or }))
                        .collect()
                };
                let op = if is_and { "&&" } else { "||" };
                let mut s = String::new();
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        let a = self.ws(false);
                        let b = self.ws(false);
                        s.push_str(&format!("{a}{op}{b}"));
                    }
                    s.push_str(p);
                }
                // `&&` binds tighter than `||`: an `||` inside `&&` needs its parentheses.
                let needed = !is_and && parent == Ctx::And;
                self.maybe_paren(s, needed, 4)
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Top,
    And,
    Or,
}
