//! The catalogue of changes to a compliant organization. Each one edits the model and says, in
//! words, what it did and what it would do to a compliant account alone (its declared effect);
//! the oracle, not the declaration, decides the expectation of a combination, and
//! `each_change_alone` in tests/it/generative.rs checks every declaration against the oracle.
//!
//! Changes marked KNOWN DEFECT are the ones issue #12 lists as being fixed now: the test fails on
//! them until the fix lands (GEN_SKIP_KNOWN=1 leaves them out). Changes marked OPEN are
//! disagreements found by this generator that the lead must decide; they are left out unless
//! GEN_OPEN=1.
use super::model::*;
use super::patterns::{rule, Family, RuleInfo, RULES};
use super::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Harmless,
    Fail,
    Unknown,
    /// Depends on where it lands; not declared.
    Depends,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    Plain,
    /// Issue #12 item 7, known defect being fixed by another engineer (number as in the brief).
    KnownDefect(u8),
    /// Found by this generator; reported to the lead, excluded by default.
    Open(&'static str),
}

/// What a change did.
#[derive(Clone, Debug)]
pub struct Applied {
    pub name: &'static str,
    pub text: String,
    pub effect: Effect,
    /// The rules the declared effect applies to (on the primary account); the others keep passing.
    pub rules: Vec<&'static str>,
    pub tag: Tag,
}

pub struct ChangeDef {
    pub name: &'static str,
    pub harmless: bool,
    pub weight: u32,
    pub tag: Tag,
    pub apply: fn(&mut Ctx) -> Option<Done>,
}

/// What a change function returns; `Applied` adds the catalogue's name and tag.
pub struct Done {
    text: String,
    effect: Effect,
    rules: Vec<&'static str>,
}

fn done(text: String, effect: Effect, rules: Vec<&'static str>) -> Option<Done> {
    Some(Done {
        text,
        effect,
        rules,
    })
}

fn all_rules() -> Vec<&'static str> {
    RULES.iter().map(|r| r.id).collect()
}

pub struct Ctx<'a> {
    pub w: &'a mut World,
    pub rng: Rng,
}

impl Ctx<'_> {
    fn pick_rule(&mut self) -> &'static RuleInfo {
        let weights: Vec<u32> = RULES.iter().map(|r| r.weight).collect();
        &RULES[self.rng.weighted(&weights)]
    }

    fn pick<T: Clone>(&mut self, v: &[T]) -> Option<T> {
        if v.is_empty() {
            None
        } else {
            Some(self.rng.pick(v).clone())
        }
    }

    /// A filter built for a rule (the rule's chain, or a second chain for it).
    fn rule_filter(&mut self) -> Option<(usize, &'static str)> {
        let r = self.pick_rule().id;
        let v: Vec<usize> = (0..self.w.filters.len())
            .filter(|&i| self.w.filters[i].rule == Some(r))
            .collect();
        self.pick(&v).map(|i| (i, r))
    }

    fn rule_alarm(&mut self) -> Option<(usize, &'static str)> {
        let r = self.pick_rule().id;
        let v: Vec<usize> = (0..self.w.alarms.len())
            .filter(|&i| self.w.alarms[i].rule == Some(r))
            .collect();
        self.pick(&v).map(|i| (i, r))
    }

    fn trail(&mut self) -> Option<usize> {
        let v: Vec<usize> = (0..self.w.trails.len()).collect();
        self.pick(&v)
    }

    fn region_other_than(&mut self, r: &str) -> String {
        self.w.other_region(r, &mut self.rng)
    }

    /// Rules whose alarms notify `topic` (the rules a topic change affects).
    fn rules_of_topic(&self, topic: &TopicRef) -> Vec<&'static str> {
        RULES
            .iter()
            .map(|r| r.id)
            .filter(|r| self.w.topics_of(r).contains(topic))
            .collect()
    }

    /// Rules whose alarms notify some topic in `loc`.
    fn rules_of_topics_at(&self, loc: &Loc) -> Vec<&'static str> {
        RULES
            .iter()
            .map(|r| r.id)
            .filter(|r| self.w.topics_of(r).iter().any(|t| &t.loc == loc))
            .collect()
    }

    /// A topic some rule's alarm notifies.
    fn rule_topic(&mut self) -> Option<TopicRef> {
        let r = self.pick_rule().id;
        let v: Vec<TopicRef> = self.w.topics_of(r).into_iter().collect();
        self.pick(&v)
    }

    /// Effect of a change to the metric-filter listing of `loc`: the rules whose filters live
    /// there.
    fn rules_at(&self, loc: &Loc) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self
            .w
            .filters
            .iter()
            .filter(|f| &f.loc == loc)
            .filter_map(|f| f.rule)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Makes the trail an organization trail of the organization-trail owner: the trail and
    /// everything in its home snapshot move to that account; the primary account lists it as a
    /// member. An isomorphism: no verdict of the primary account changes.
    fn make_org_trail(&mut self, ti: usize) -> Option<String> {
        let t = self.w.trails[ti].clone();
        if t.owner != self.w.primary || self.w.trails.iter().any(|x| x.owner == self.w.org_owner) {
            return None;
        }
        let from = t.home_loc();
        let to = Loc::new(&self.w.org_owner, &t.home);
        let map = |l: &Loc| if *l == from { to.clone() } else { l.clone() };
        {
            let tr = &mut self.w.trails[ti];
            tr.owner = to.acct.clone();
            tr.organization = true;
            tr.members = vec![from.acct.clone()];
        }
        // Only the moved trail, filters, alarms and topics follow; the primary account keeps
        // its (now empty) snapshot, with the errors recorded there.
        for tr in &mut self.w.trails {
            if let Some((l, _)) = &mut tr.log_group {
                *l = map(l);
            }
        }
        for f in &mut self.w.filters {
            f.loc = map(&f.loc);
        }
        for a in &mut self.w.alarms {
            a.loc = map(&a.loc);
            for acts in [
                &mut a.alarm_actions,
                &mut a.ok_actions,
                &mut a.insufficient_actions,
            ] {
                for x in acts.iter_mut() {
                    if let Action::Topic(tp) = x {
                        tp.loc = map(&tp.loc);
                    }
                }
            }
        }
        for s in &mut self.w.subs {
            s.topic.loc = map(&s.topic.loc);
        }
        let gaps = self
            .w
            .snaps
            .get(&from)
            .map(|s| s.gaps.clone())
            .unwrap_or_default();
        self.w.load(&to);
        // The per-trail errors of the moved trail were recorded in its home snapshot.
        for ((op, tr), g) in gaps {
            if tr == Some(ti) {
                if let Some(s) = self.w.snaps.get_mut(&from) {
                    s.gaps.remove(&(op, tr));
                }
                if let Some(s) = self.w.snaps.get_mut(&to) {
                    s.gaps.insert((op, tr), g);
                }
            }
        }
        Some(format!(
            "trail {} becomes an organization trail of account {} (its home snapshot {} moves there and is loaded)",
            t.name, to.acct, t.home
        ))
    }

    fn org_trail(&mut self) -> Option<(usize, String)> {
        if let Some(i) = self
            .w
            .trails
            .iter()
            .position(|t| t.owner == self.w.org_owner)
        {
            return Some((i, String::new()));
        }
        let own: Vec<usize> = (0..self.w.trails.len())
            .filter(|&i| self.w.trails[i].owner == self.w.primary)
            .collect();
        let ti = self.pick(&own)?;
        let text = self.make_org_trail(ti)?;
        Some((ti, format!("{text}; then ")))
    }

    /// Moves `topic` to the topic-owner account in its region (alarms notify topics of their own
    /// region); alarms follow the ARN.
    fn make_cross_account(&mut self, topic: &TopicRef) -> TopicRef {
        let to = TopicRef {
            loc: Loc::new(&self.w.topic_owner, &topic.loc.region),
            name: topic.name.clone(),
        };
        for a in &mut self.w.alarms {
            for acts in [
                &mut a.alarm_actions,
                &mut a.ok_actions,
                &mut a.insufficient_actions,
            ] {
                for x in acts.iter_mut() {
                    if matches!(x, Action::Topic(t) if t == topic) {
                        *x = Action::Topic(to.clone());
                    }
                }
            }
        }
        for s in &mut self.w.subs {
            if &s.topic == topic {
                s.topic = to.clone();
            }
        }
        self.w.load(&to.loc);
        to
    }
}

fn seal(def: &ChangeDef, d: Done) -> Applied {
    Applied {
        name: def.name,
        text: d.text,
        effect: d.effect,
        rules: d.rules,
        tag: def.tag,
    }
}

pub fn apply(def: &ChangeDef, ctx: &mut Ctx) -> Option<Applied> {
    (def.apply)(ctx).map(|d| seal(def, d))
}

// ------------------------------------------------------------------ harmless

fn respell(c: &mut Ctx) -> Option<Done> {
    let v: Vec<usize> = (0..c.w.filters.len()).collect();
    let i = c.pick(&v)?;
    let f = &mut c.w.filters[i];
    f.pattern = f.family.spell(&mut c.rng);
    done(
        format!(
            "filter {} respelled ({}): {:?}",
            f.name,
            f.family.describe(),
            f.pattern
        ),
        Effect::Harmless,
        vec![],
    )
}

fn equivalent_filter(c: &mut Ctx) -> Option<Done> {
    let (i, r) = c.rule_filter()?;
    let fam = *c.rng.pick(Family::equivalents(r));
    let f = &mut c.w.filters[i];
    f.family = fam;
    f.pattern = fam.spell(&mut c.rng);
    done(
        format!(
            "filter {} becomes {} (still catches every event): {:?}",
            f.name,
            fam.describe(),
            f.pattern
        ),
        Effect::Harmless,
        vec![],
    )
}

fn decoy_alarm(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let mut a = c.w.alarms[ai].clone();
    a.name = c.w.fresh("DecoyAlarm");
    a.rule = None;
    let what = match c.rng.below(4) {
        0 => {
            a.watch.name = c.w.fresh("OtherMetric");
            "on another metric".to_string()
        }
        1 => {
            a.actions_enabled = false;
            "on the same metric, with ActionsEnabled=false".into()
        }
        2 => {
            a.threshold = 2.0;
            "on the same metric, with threshold 2".into()
        }
        _ => {
            a.ok_actions = std::mem::take(&mut a.alarm_actions);
            "on the same metric, with only OKActions".into()
        }
    };
    let text = format!("decoy alarm {} for {r} {what}", a.name);
    c.w.alarms.push(a);
    done(text, Effect::Harmless, vec![])
}

/// A decoy alarm on the metric's name in another namespace or region. With the real alarm also
/// misplaced, the tool's hint finds two and crashed: KNOWN DEFECT #3's path.
fn decoy_alarm_misplaced(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let mut a = c.w.alarms[ai].clone();
    a.name = c.w.fresh("DecoyAlarm");
    a.rule = None;
    let what = if c.rng.chance(1, 2) {
        a.watch.namespace = c.w.fresh("OtherNamespace");
        "on the same metric name in another namespace".to_string()
    } else {
        let region = c.region_other_than(&a.loc.region);
        a.loc.region = region.clone();
        c.w.load(&a.loc);
        format!("on the same metric in {region} (loaded)")
    };
    let text = format!("decoy alarm {} for {r} {what}", a.name);
    c.w.alarms.push(a);
    done(text, Effect::Harmless, vec![])
}

fn decoy_filter(c: &mut Ctx) -> Option<Done> {
    let (fi, _) = c.rule_filter()?;
    let mut f = c.w.filters[fi].clone();
    let pool: Vec<Family> = RULES
        .iter()
        .flat_map(|r| Family::weakened(r.id).iter().copied())
        .chain([Family::RootRegex])
        .collect();
    let fam = *c.rng.pick(&pool);
    f.family = fam;
    f.pattern = fam.spell(&mut c.rng);
    f.name = c.w.fresh("Decoy");
    f.rule = None;
    f.metric.name = c.w.fresh("DecoyMetric");
    let elsewhere = c.rng.chance(1, 3);
    if elsewhere {
        f.log_group = c.w.fresh("other-log-group-");
    }
    let text = format!(
        "decoy filter {} ({}) on {} without an alarm",
        f.name,
        fam.describe(),
        if elsewhere {
            "another log group"
        } else {
            "the same log group"
        }
    );
    c.w.filters.push(f);
    done(text, Effect::Harmless, vec![])
}

fn decoy_trail(c: &mut Ctx) -> Option<Done> {
    let primary = c.w.primary.clone();
    let home = c.rng.pick(&REGIONS).to_string();
    let name = c.w.fresh("decoy-trail-");
    let mut t = Trail {
        owner: primary.clone(),
        home: home.clone(),
        name: name.clone(),
        multi_region: true,
        organization: false,
        members: Vec::new(),
        logging: true,
        selectors: Selectors::Basic(vec![BasicSelector::all()]),
        log_group: Some((Loc::new(&primary, &home), c.w.fresh("decoy-logs-"))),
    };
    let how = match c.rng.below(5) {
        0 => {
            t.multi_region = false;
            "single-region"
        }
        1 => {
            t.logging = false;
            "stopped"
        }
        2 => {
            t.log_group = None;
            "without a log group"
        }
        3 => {
            t.selectors = Selectors::Basic(vec![BasicSelector {
                include_management: false,
                rw: Rw::All,
                exclude_sources: vec![],
                data_s3: true,
            }]);
            "data events only"
        }
        _ => "delivering to a log group without filters",
    };
    let loaded = c.rng.chance(2, 3);
    if loaded {
        c.w.load(&Loc::new(&primary, &home));
    }
    c.w.trails.push(t);
    done(
        format!(
            "decoy trail {name} ({how}) with home {home}{}",
            if loaded {
                ""
            } else {
                " (that snapshot may be missing)"
            }
        ),
        // Its home may be missing: unknown for it, but the real chain still passes.
        Effect::Harmless,
        vec![],
    )
}

fn decoy_topic(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let loc = c.w.alarms[ai].loc.clone();
    let (action, what) = match c.rng.below(3) {
        0 => {
            let t = TopicRef {
                loc,
                name: c.w.fresh("EmptyTopic"),
            };
            (Action::Topic(t), "a topic without subscriptions")
        }
        1 => {
            let t = TopicRef {
                loc,
                name: c.w.fresh("PendingTopic"),
            };
            c.w.subs.push(Subscription {
                topic: t.clone(),
                confirmed: false,
                protocol: "email".into(),
            });
            (Action::Topic(t), "a topic with only a pending subscription")
        }
        _ => (
            Action::Other(format!(
                "arn:aws:lambda:{}:{}:function:page-oncall",
                loc.region, loc.acct
            )),
            "a Lambda function",
        ),
    };
    let a = &mut c.w.alarms[ai];
    let pos = c.rng.below(a.alarm_actions.len() + 1);
    a.alarm_actions.insert(pos, action);
    done(
        format!("alarm {} ({r}) also notifies {what}", a.name),
        Effect::Harmless,
        vec![],
    )
}

fn move_region(c: &mut Ctx) -> Option<Done> {
    let accounts: Vec<String> =
        c.w.accounts()
            .iter()
            .map(|s| s.to_string())
            .filter(|a| !c.w.loaded_regions(a).is_empty())
            .collect();
    let acct = c.pick(&accounts)?;
    let used = c.w.loaded_regions(&acct);
    let r1 = c.pick(&used)?;
    let r2 = c.region_other_than(&r1);
    c.w.map_locs(&|l: &Loc| {
        if l.acct != acct {
            l.clone()
        } else if l.region == r1 {
            Loc::new(&acct, &r2)
        } else if l.region == r2 {
            Loc::new(&acct, &r1)
        } else {
            l.clone()
        }
    });
    done(
        format!("account {acct}: everything in {r1} and {r2} swaps regions"),
        Effect::Harmless,
        vec![],
    )
}

fn org_trail(c: &mut Ctx) -> Option<Done> {
    let own: Vec<usize> = (0..c.w.trails.len())
        .filter(|&i| c.w.trails[i].owner == c.w.primary)
        .collect();
    let ti = c.pick(&own)?;
    let text = c.make_org_trail(ti)?;
    if c.rng.chance(1, 3) {
        let extra = c.region_other_than(&c.w.trails[ti].home.clone());
        let owner = c.w.org_owner.clone();
        c.w.load(&Loc::new(&owner, &extra));
    }
    done(text, Effect::Harmless, vec![])
}

fn cross_account_topic(c: &mut Ctx) -> Option<Done> {
    let t = c.rule_topic()?;
    if t.loc.acct == c.w.topic_owner {
        return None;
    }
    let to = c.make_cross_account(&t);
    done(
        format!(
            "topic {} moves to account {} (same region {}, loaded)",
            t.name, to.loc.acct, to.loc.region
        ),
        Effect::Harmless,
        vec![],
    )
}

fn extra_subscriptions(c: &mut Ctx) -> Option<Done> {
    let t = c.rule_topic()?;
    let n = 1 + c.rng.below(3);
    for _ in 0..n {
        let (confirmed, protocol) = *c.rng.pick(&[
            (false, "email"),
            (false, "sms"),
            (true, "sms"),
            (true, "lambda"),
        ]);
        let pos = c.rng.below(c.w.subs.len() + 1);
        c.w.subs.insert(
            pos,
            Subscription {
                topic: t.clone(),
                confirmed,
                protocol: protocol.into(),
            },
        );
    }
    done(
        format!(
            "topic {} gets {n} more subscriptions (some PendingConfirmation)",
            t.name
        ),
        Effect::Harmless,
        vec![],
    )
}

fn extra_region(c: &mut Ctx) -> Option<Done> {
    let acct = c.w.primary.clone();
    let r = c.rng.pick(&REGIONS).to_string();
    let loc = Loc::new(&acct, &r);
    if c.w.loaded(&loc) {
        return None;
    }
    c.w.load(&loc);
    done(
        format!("account {acct}: {r} collected too"),
        Effect::Harmless,
        vec![],
    )
}

fn rename_metric(c: &mut Ctx) -> Option<Done> {
    let (fi, _) = c.rule_filter()?;
    let f = c.w.filters[fi].clone();
    let ns = if c.rng.chance(1, 2) {
        "Security".to_string()
    } else {
        f.metric.namespace.clone()
    };
    let name = c.w.fresh("Metric");
    let fname = c.w.fresh("cis-filter-");
    for a in &mut c.w.alarms {
        if a.loc == f.loc
            && a.watch.namespace == f.metric.namespace
            && a.watch.name == f.metric.name
        {
            a.watch.namespace = ns.clone();
            a.watch.name = name.clone();
        }
    }
    let g = &mut c.w.filters[fi];
    g.metric.namespace = ns.clone();
    g.metric.name = name.clone();
    g.name = fname.clone();
    done(
        format!(
            "filter {} renamed {fname}, its metric {ns}/{name}, alarms follow",
            f.name
        ),
        Effect::Harmless,
        vec![],
    )
}

fn math_alarm(c: &mut Ctx) -> Option<Done> {
    let (ai, _) = c.rule_alarm()?;
    let shape = *c.rng.pick(&[MathShape::Direct, MathShape::Fill]);
    let a = &mut c.w.alarms[ai];
    if a.watch.math.is_some() {
        return None;
    }
    a.watch.math = Some(shape);
    done(
        format!("alarm {} becomes a metric-math alarm ({shape:?})", a.name),
        Effect::Harmless,
        vec![],
    )
}

fn alarm_equivalent(c: &mut Ctx) -> Option<Done> {
    let (ai, _) = c.rule_alarm()?;
    let variant = c.rng.below(8);
    let a = c.w.alarms[ai].clone();
    let text = match variant {
        0 => {
            let a = &mut c.w.alarms[ai];
            a.comparison = "GreaterThanThreshold".into();
            a.threshold = 0.0;
            "Sum > 0".to_string()
        }
        1 => {
            c.w.alarms[ai].threshold = 0.5;
            ">= 0.5".into()
        }
        2 => {
            // SampleCount counts data points: any positive metric value makes one.
            c.w.alarms[ai].stat = "SampleCount".into();
            for f in &mut c.w.filters {
                if f.loc == a.loc
                    && f.metric.namespace == a.watch.namespace
                    && f.metric.name == a.watch.name
                {
                    f.metric.value = "5".into();
                }
            }
            "SampleCount, metric value 5".into()
        }
        3 => {
            c.w.alarms[ai].stat = "Maximum".into();
            "Maximum".into()
        }
        4 => {
            let a = &mut c.w.alarms[ai];
            a.evaluation_periods = 3;
            a.datapoints = Some(1);
            "1 of 3 datapoints".into()
        }
        5 => {
            let t = c
                .rng
                .pick(&[None, Some("missing"), Some("ignore")])
                .map(str::to_string);
            c.w.alarms[ai].treat_missing = t.clone();
            format!("TreatMissingData {t:?}")
        }
        6 => {
            // A percentile of one data point is that point.
            c.w.alarms[ai].stat = "p99".into();
            "ExtendedStatistic p99".into()
        }
        _ => {
            c.w.alarms[ai].period = 60;
            c.w.alarms[ai].datapoints = None;
            "Period 60, DatapointsToAlarm left to EvaluationPeriods 1".into()
        }
    };
    done(
        format!("alarm {}: {text} (still fires on one event)", a.name),
        Effect::Harmless,
        vec![],
    )
}

fn advanced_selectors(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let mgmt = vec![("eventCategory".to_string(), vec!["Management".to_string()])];
    let data = vec![
        ("eventCategory".to_string(), vec!["Data".to_string()]),
        (
            "resources.type".to_string(),
            vec!["AWS::S3::Object".to_string()],
        ),
    ];
    let with_data = c.rng.chance(1, 2);
    let mut list = vec![mgmt];
    if with_data {
        list.push(data);
        c.rng.shuffle(&mut list);
    }
    let t = &mut c.w.trails[ti];
    t.selectors = Selectors::Advanced(list);
    done(
        format!(
            "trail {} uses advanced event selectors for all management events{}",
            t.name,
            if with_data { " and S3 data events" } else { "" }
        ),
        Effect::Harmless,
        vec![],
    )
}

/// KNOWN DEFECT #2: two basic selectors, ReadOnly and WriteOnly, together record every
/// management event; the tool crashed ("function produced multiple outputs").
fn read_write_selectors(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let mut list = vec![
        BasicSelector {
            rw: Rw::ReadOnly,
            ..BasicSelector::all()
        },
        BasicSelector {
            rw: Rw::WriteOnly,
            ..BasicSelector::all()
        },
    ];
    c.rng.shuffle(&mut list);
    let t = &mut c.w.trails[ti];
    t.selectors = Selectors::Basic(list);
    done(
        format!(
            "trail {}: two basic selectors, ReadOnly and WriteOnly management events",
            t.name
        ),
        Effect::Harmless,
        vec![],
    )
}

/// Related to KNOWN DEFECT #1: a zero default value never breaches a Sum >= 1 alarm, but it
/// does make a SampleCount alarm count a data point every period.
fn default_zero(c: &mut Ctx) -> Option<Done> {
    let (fi, _) = c.rule_filter()?;
    let f = &mut c.w.filters[fi];
    f.metric.default = Some(0.0);
    done(
        format!("filter {}: defaultValue 0", f.name),
        Effect::Harmless,
        vec![],
    )
}

fn partial_listing(c: &mut Ctx) -> Option<Done> {
    let locs = c.w.loaded_locs();
    let loc = c.pick(&locs)?;
    let op = *c.rng.pick(&[
        Op::DescribeMetricFilters,
        Op::DescribeAlarms,
        Op::ListSubscriptions,
        Op::ListRegions,
    ]);
    c.w.snaps
        .entry(loc.clone())
        .or_default()
        .gaps
        .insert((op, None), Gap::Partial);
    done(
        format!(
            "{}/{}: {} throttled part way (what it listed is kept)",
            loc.acct,
            loc.region,
            op.name()
        ),
        // What was listed still proves the chain; absence would prove nothing. Except for metric
        // filters: an unlisted one may publish the chain's metric too.
        if op == Op::DescribeMetricFilters {
            Effect::Depends
        } else {
            Effect::Harmless
        },
        vec![],
    )
}

fn denial_anywhere(c: &mut Ctx) -> Option<Done> {
    let locs = c.w.loaded_locs();
    let loc = c.pick(&locs)?;
    let op = *c.rng.pick(&[
        Op::DescribeTrails,
        Op::GetTrailStatus,
        Op::GetEventSelectors,
        Op::DescribeMetricFilters,
        Op::DescribeAlarms,
        Op::ListSubscriptions,
        Op::ListRegions,
    ]);
    c.w.snaps
        .entry(loc.clone())
        .or_default()
        .gaps
        .insert((op, None), Gap::Denied);
    done(
        format!("{}/{}: {} denied", loc.acct, loc.region, op.name()),
        Effect::Depends,
        vec![],
    )
}

fn data_selector(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let t = &mut c.w.trails[ti];
    match &mut t.selectors {
        Selectors::Basic(list) => list.push(BasicSelector {
            include_management: false,
            rw: Rw::All,
            exclude_sources: vec![],
            data_s3: true,
        }),
        Selectors::Advanced(list) => list.push(vec![
            ("eventCategory".into(), vec!["Data".into()]),
            (
                "resources.type".into(),
                vec!["AWS::Lambda::Function".into()],
            ),
        ]),
    }
    done(
        format!("trail {}: one more selector, for data events only", t.name),
        Effect::Harmless,
        vec![],
    )
}

/// OPEN: two `All` selectors excluding different sources record every management event (an
/// event is recorded when any selector selects it).
fn exclusion_union(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let t = &mut c.w.trails[ti];
    t.selectors = Selectors::Basic(vec![
        BasicSelector {
            exclude_sources: vec!["kms.amazonaws.com".into()],
            ..BasicSelector::all()
        },
        BasicSelector {
            exclude_sources: vec!["rdsdata.amazonaws.com".into()],
            ..BasicSelector::all()
        },
    ]);
    done(
        format!(
            "trail {}: two All selectors, one excluding kms, one excluding rdsdata",
            t.name
        ),
        Effect::Harmless,
        vec![],
    )
}

/// OPEN: advanced selectors for read-only and for write-only management events together
/// record every management event.
fn advanced_read_write(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let sel = |ro: &str| {
        vec![
            ("eventCategory".to_string(), vec!["Management".to_string()]),
            ("readOnly".to_string(), vec![ro.to_string()]),
        ]
    };
    let t = &mut c.w.trails[ti];
    t.selectors = Selectors::Advanced(vec![sel("true"), sel("false")]);
    done(
        format!(
            "trail {}: advanced selectors readOnly=true and readOnly=false",
            t.name
        ),
        Effect::Harmless,
        vec![],
    )
}

/// A complete second chain for a rule: a decoy that works. Breaking one of the two chains
/// afterwards is harmless.
fn second_chain(c: &mut Ctx) -> Option<Done> {
    let r = c.pick_rule();
    let trails: Vec<usize> = (0..c.w.trails.len())
        .filter(|&i| c.w.trails[i].log_group.is_some())
        .collect();
    let new_trail = trails.is_empty() || c.rng.chance(1, 3);
    let (lg_loc, lg, via) = if new_trail {
        let primary = c.w.primary.clone();
        let home = c.w.loaded_regions(&primary).first().cloned()?;
        let name = c.w.fresh("second-trail-");
        let loc = Loc::new(&primary, &home);
        let lg = c.w.fresh("second-logs-");
        c.w.trails.push(Trail {
            owner: primary,
            home,
            name: name.clone(),
            multi_region: true,
            organization: false,
            members: vec![],
            logging: true,
            selectors: Selectors::Basic(vec![BasicSelector::all()]),
            log_group: Some((loc.clone(), lg.clone())),
        });
        (loc, lg, format!("a new trail {name}"))
    } else {
        let ti = *c.rng.pick(&trails);
        let t = &c.w.trails[ti];
        let (l, g) = t.log_group.clone()?;
        (l, g, format!("trail {}", t.name))
    };
    let metric = c.w.fresh("SecondMetric");
    let fname = c.w.fresh("SecondFilter");
    let aname = c.w.fresh("SecondAlarm");
    let family = *c.rng.pick(Family::equivalents(r.id));
    let pattern = family.spell(&mut c.rng);
    c.w.filters.push(Filter {
        loc: lg_loc.clone(),
        log_group: lg.clone(),
        name: fname.clone(),
        family,
        pattern,
        metric: Metric {
            namespace: "CloudTrailMetrics".into(),
            name: metric.clone(),
            value: "1".into(),
            default: None,
            dimensions: false,
            unit: None,
        },
        rule: Some(r.id),
    });
    let topic = TopicRef {
        loc: lg_loc.clone(),
        name: c.w.fresh("SecondTopic"),
    };
    c.w.subs.push(Subscription {
        topic: topic.clone(),
        confirmed: true,
        protocol: "email".into(),
    });
    c.w.alarms.push(Alarm::on(
        &lg_loc,
        &aname,
        Some(r.id),
        "CloudTrailMetrics",
        &metric,
        topic,
    ));
    done(
        format!(
            "a second complete {} chain through {via}: filter {fname} -> alarm {aname}",
            r.id
        ),
        Effect::Harmless,
        vec![],
    )
}

// ------------------------------------------------------------------ breaking: fail

fn trail_single_region(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let t = &mut c.w.trails[ti];
    t.multi_region = false;
    done(
        format!("trail {} single-region", t.name),
        Effect::Fail,
        all_rules(),
    )
}

fn trail_stopped(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let t = &mut c.w.trails[ti];
    t.logging = false;
    done(
        format!("trail {} stopped (IsLogging=false)", t.name),
        Effect::Fail,
        all_rules(),
    )
}

fn trail_partial_management(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let (sel, what) = match c.rng.below(6) {
        0 => (
            Selectors::Basic(vec![BasicSelector {
                rw: Rw::WriteOnly,
                ..BasicSelector::all()
            }]),
            "write-only management events",
        ),
        1 => (
            Selectors::Basic(vec![BasicSelector {
                rw: Rw::ReadOnly,
                ..BasicSelector::all()
            }]),
            "read-only management events",
        ),
        2 => (
            Selectors::Basic(vec![BasicSelector {
                include_management: false,
                ..BasicSelector::all()
            }]),
            "no management events",
        ),
        3 => (
            Selectors::Basic(vec![BasicSelector {
                exclude_sources: vec!["kms.amazonaws.com".into()],
                ..BasicSelector::all()
            }]),
            "management events except kms.amazonaws.com",
        ),
        4 => (
            Selectors::Advanced(vec![vec![
                ("eventCategory".into(), vec!["Management".into()]),
                ("readOnly".into(), vec!["true".into()]),
            ]]),
            "advanced: read-only management events",
        ),
        _ => (
            Selectors::Advanced(vec![vec![
                ("eventCategory".into(), vec!["Data".into()]),
                ("resources.type".into(), vec!["AWS::S3::Object".into()]),
            ]]),
            "advanced: S3 data events only",
        ),
    };
    let t = &mut c.w.trails[ti];
    t.selectors = sel;
    done(
        format!("trail {} records {what}", t.name),
        Effect::Fail,
        all_rules(),
    )
}

fn trail_no_log_group(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let t = &mut c.w.trails[ti];
    t.log_group = None;
    done(
        format!("trail {} delivers to no CloudWatch Logs group", t.name),
        Effect::Fail,
        all_rules(),
    )
}

fn trail_log_group_elsewhere(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let (loc, name) = c.w.trails[ti].log_group.clone()?;
    let text;
    let effect;
    if c.rng.chance(1, 2) {
        let region = c.region_other_than(&loc.region);
        let to = Loc::new(&loc.acct, &region);
        effect = if c.w.loaded(&to) {
            Effect::Fail
        } else {
            Effect::Unknown
        };
        text = format!(
            "trail {} delivers to log group {name} in {region} (the filters stay in {}; {region} {})",
            c.w.trails[ti].name,
            loc.region,
            if c.w.loaded(&to) { "loaded" } else { "not loaded" }
        );
        c.w.trails[ti].log_group = Some((to, name));
    } else {
        let other = c.w.fresh("renamed-logs-");
        text = format!(
            "trail {} delivers to log group {other}, which has no filters",
            c.w.trails[ti].name
        );
        effect = Effect::Fail;
        c.w.trails[ti].log_group = Some((loc, other));
    }
    done(text, effect, all_rules())
}

fn org_flag_cleared(c: &mut Ctx) -> Option<Done> {
    let (ti, pre) = c.org_trail()?;
    let t = &mut c.w.trails[ti];
    t.organization = false;
    done(
        format!(
            "{pre}trail {} has IsOrganizationTrail=false but member {} lists it",
            t.name, c.w.primary
        ),
        Effect::Fail,
        all_rules(),
    )
}

fn filter_weaken(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let fam = *c.rng.pick(Family::weakened(r));
    let f = &mut c.w.filters[fi];
    f.family = fam;
    f.pattern = fam.spell(&mut c.rng);
    done(
        format!(
            "filter {} ({r}) weakened: {}: {:?}",
            f.name,
            fam.describe(),
            f.pattern
        ),
        Effect::Fail,
        vec![r],
    )
}

fn filter_undecidable(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let f = &mut c.w.filters[fi];
    f.family = Family::RootRegex;
    f.pattern = Family::RootRegex.spell(&mut c.rng);
    done(
        format!(
            "filter {} ({r}) becomes {}: {:?}",
            f.name,
            Family::RootRegex.describe(),
            f.pattern
        ),
        Effect::Unknown,
        vec![r],
    )
}

fn filter_other_log_group(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let other = c.w.fresh("other-logs-");
    let f = &mut c.w.filters[fi];
    f.log_group = other.clone();
    done(
        format!("filter {} ({r}) is on log group {other} instead", f.name),
        Effect::Fail,
        vec![r],
    )
}

fn filter_other_region(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let region = c.region_other_than(&c.w.filters[fi].loc.region.clone());
    let loaded = c.rng.chance(1, 2);
    let f = &mut c.w.filters[fi];
    f.loc.region = region.clone();
    let (name, loc) = (f.name.clone(), f.loc.clone());
    if loaded {
        c.w.load(&loc);
    }
    done(
        format!(
            "filter {name} ({r}) sits on the same log-group name in {region}{}",
            if loaded { " (loaded)" } else { "" }
        ),
        Effect::Fail,
        vec![r],
    )
}

fn metric_breaks(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let f = &mut c.w.filters[fi];
    let what = match c.rng.below(3) {
        0 => {
            f.metric.value = "0".into();
            "metric value 0"
        }
        1 => {
            f.metric.value = "$.requestParameters.count".into();
            "metric value taken from the event"
        }
        _ => {
            f.metric.dimensions = true;
            "metric dimensions from event fields"
        }
    };
    done(
        format!("filter {} ({r}): {what}", f.name),
        Effect::Fail,
        vec![r],
    )
}

/// KNOWN DEFECT #1: a default value that breaches the alarm every quiet period.
fn default_value_breaks(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let f = c.w.filters[fi].clone();
    let sample_count = c.rng.chance(1, 2);
    let d = if sample_count {
        *c.rng.pick(&[0.0, 1.0])
    } else {
        *c.rng.pick(&[1.0, 5.0])
    };
    c.w.filters[fi].metric.default = Some(d);
    if sample_count {
        for a in &mut c.w.alarms {
            if a.loc == f.loc
                && a.watch.namespace == f.metric.namespace
                && a.watch.name == f.metric.name
            {
                a.stat = "SampleCount".into();
            }
        }
    }
    done(
        format!(
            "filter {} ({r}): defaultValue {d}{}",
            f.name,
            if sample_count {
                ", its alarms use SampleCount"
            } else {
                ", alarms Sum >= 1"
            }
        ),
        Effect::Fail,
        vec![r],
    )
}

fn alarm_wrong_namespace(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let a = &mut c.w.alarms[ai];
    a.watch.namespace = "LogMetrics".into();
    done(
        format!("alarm {} ({r}) watches namespace LogMetrics", a.name),
        Effect::Fail,
        vec![r],
    )
}

fn alarm_other_region(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let region = c.region_other_than(&c.w.alarms[ai].loc.region.clone());
    let a = &mut c.w.alarms[ai];
    a.loc.region = region.clone();
    let (name, loc) = (a.name.clone(), a.loc.clone());
    if c.rng.chance(1, 2) {
        c.w.load(&loc);
    }
    done(
        format!("alarm {name} ({r}) moves to {region}"),
        Effect::Fail,
        vec![r],
    )
}

/// KNOWN DEFECT #3: two alarms on the metric name in other namespaces or other regions, none in
/// the right place: fail (the tool crashed building its hint).
fn alarms_elsewhere(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let a = c.w.alarms[ai].clone();
    let mut copy = a.clone();
    copy.name = c.w.fresh("MisplacedAlarm");
    copy.rule = None;
    let text = if c.rng.chance(1, 2) {
        c.w.alarms[ai].watch.namespace = "LogMetrics".into();
        copy.watch.namespace = "CISBenchmark".into();
        format!(
            "alarm {} ({r}) watches namespace LogMetrics, {} namespace CISBenchmark",
            a.name, copy.name
        )
    } else {
        let r1 = c.region_other_than(&a.loc.region);
        let others: Vec<String> = REGIONS
            .iter()
            .filter(|x| **x != a.loc.region && **x != r1)
            .map(|x| x.to_string())
            .collect();
        let r2 = c.pick(&others)?;
        c.w.alarms[ai].loc.region = r1.clone();
        copy.loc.region = r2.clone();
        c.w.load(&Loc::new(&a.loc.acct, &r1));
        c.w.load(&Loc::new(&a.loc.acct, &r2));
        format!(
            "alarm {} ({r}) moves to {r1}, a copy {} sits in {r2} (both loaded)",
            a.name, copy.name
        )
    };
    c.w.alarms.push(copy);
    done(text, Effect::Fail, vec![r])
}

fn alarm_dimensions(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let a = &mut c.w.alarms[ai];
    a.watch.dims = vec![("Account".into(), a.loc.acct.clone())];
    done(
        format!("alarm {} ({r}) has dimensions the metric lacks", a.name),
        Effect::Fail,
        vec![r],
    )
}

fn alarm_disabled(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let a = &mut c.w.alarms[ai];
    a.actions_enabled = false;
    done(
        format!("alarm {} ({r}) ActionsEnabled=false", a.name),
        Effect::Fail,
        vec![r],
    )
}

fn alarm_only_ok_actions(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let insufficient = c.rng.chance(1, 3);
    let a = &mut c.w.alarms[ai];
    let acts = std::mem::take(&mut a.alarm_actions);
    if insufficient {
        a.insufficient_actions = acts;
    } else {
        a.ok_actions = acts;
    }
    done(
        format!(
            "alarm {} ({r}) notifies only on {}",
            a.name,
            if insufficient {
                "INSUFFICIENT_DATA"
            } else {
                "OK"
            }
        ),
        Effect::Fail,
        vec![r],
    )
}

fn alarm_no_sns(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let a = &mut c.w.alarms[ai];
    a.alarm_actions = if c.rng.chance(1, 2) {
        vec![]
    } else {
        vec![Action::Other(format!(
            "arn:aws:ssm:{}:{}:opsitem:3",
            a.loc.region, a.loc.acct
        ))]
    };
    done(
        format!("alarm {} ({r}) has no SNS topic in AlarmActions", a.name),
        Effect::Fail,
        vec![r],
    )
}

fn alarm_fires_late(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let v = c.rng.below(6);
    let a = &mut c.w.alarms[ai];
    let what = match v {
        0 => {
            a.threshold = 2.0;
            "threshold 2 with one period"
        }
        1 => {
            a.comparison = "GreaterThanThreshold".into();
            "Sum > 1"
        }
        2 => {
            a.comparison = "LessThanThreshold".into();
            "LessThanThreshold"
        }
        3 => {
            a.evaluation_periods = 3;
            a.datapoints = Some(2);
            "2 of 3 datapoints"
        }
        4 => {
            a.evaluation_periods = 2;
            a.datapoints = None;
            "2 evaluation periods, DatapointsToAlarm defaulting to them"
        }
        _ => {
            a.treat_missing = Some("breaching".into());
            "missing data breaching"
        }
    };
    done(
        format!("alarm {} ({r}): {what}", a.name),
        Effect::Fail,
        vec![r],
    )
}

fn alarm_on_filter_name(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let fname = rule(r).filter_name;
    let a = &mut c.w.alarms[ai];
    if a.watch.name == fname {
        return None;
    }
    a.watch.name = fname.into();
    done(
        format!(
            "alarm {} ({r}) watches the filter name {fname}, not its metric",
            a.name
        ),
        Effect::Fail,
        vec![r],
    )
}

fn math_unprovable(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let shape = *c.rng.pick(&[MathShape::MinusOne, MathShape::TwoSeries]);
    let a = &mut c.w.alarms[ai];
    a.watch.math = Some(shape);
    done(
        format!("alarm {} ({r}) metric math {shape:?}", a.name),
        Effect::Fail,
        vec![r],
    )
}

fn topic_pending(c: &mut Ctx) -> Option<Done> {
    let t = c.rule_topic()?;
    let mut n = 0;
    for s in &mut c.w.subs {
        if s.topic == t {
            s.confirmed = false;
            n += 1;
        }
    }
    if n == 0 {
        return None;
    }
    let rules = c.rules_of_topic(&t);
    done(
        format!(
            "topic {}: all {n} subscriptions PendingConfirmation",
            t.name
        ),
        Effect::Fail,
        rules,
    )
}

fn topic_no_subs(c: &mut Ctx) -> Option<Done> {
    let t = c.rule_topic()?;
    c.w.subs.retain(|s| s.topic != t);
    let rules = c.rules_of_topic(&t);
    done(
        format!("topic {} has no subscriptions", t.name),
        Effect::Fail,
        rules,
    )
}

// ------------------------------------------------------------------ breaking: unknown

fn deny_on_chain(c: &mut Ctx) -> Option<Done> {
    let choice = c.rng.below(6);
    let (loc, key, rules, what) = match choice {
        0..=2 => {
            let ti = c.trail()?;
            let t = &c.w.trails[ti];
            let op = [
                Op::GetTrailStatus,
                Op::GetEventSelectors,
                Op::DescribeTrails,
            ][choice];
            let per_trail = op != Op::DescribeTrails && c.rng.chance(1, 2);
            (
                t.home_loc(),
                (op, if per_trail { Some(ti) } else { None }),
                all_rules(),
                format!("{} of trail {}'s home", op.name(), t.name),
            )
        }
        3 | 4 => {
            let (fi, _) = c.rule_filter()?;
            let loc = c.w.filters[fi].loc.clone();
            let op = if choice == 3 {
                Op::DescribeMetricFilters
            } else {
                Op::DescribeAlarms
            };
            let rules = c.rules_at(&loc);
            (loc, (op, None), rules, op.name().to_string())
        }
        _ => {
            let t = c.rule_topic()?;
            // The listing is per region: every topic there loses its subscriptions.
            let rules = c.rules_of_topics_at(&t.loc);
            (
                t.loc.clone(),
                (Op::ListSubscriptions, None),
                rules,
                format!("ListSubscriptions in the region of topic {}", t.name),
            )
        }
    };
    c.w.snaps
        .entry(loc.clone())
        .or_default()
        .gaps
        .insert(key, Gap::Denied);
    done(
        format!("{what} denied ({}/{})", loc.acct, loc.region),
        Effect::Unknown,
        rules,
    )
}

fn org_owner_not_loaded(c: &mut Ctx) -> Option<Done> {
    let (ti, pre) = c.org_trail()?;
    let owner = c.w.org_owner.clone();
    let only_home = c.rng.chance(1, 3);
    let home = c.w.trails[ti].home.clone();
    if only_home {
        // Another region of the owner stays loaded: the home is what the trail needs.
        let other = c.region_other_than(&home);
        c.w.load(&Loc::new(&owner, &other));
    }
    for (l, s) in c.w.snaps.iter_mut() {
        if l.acct == owner && (!only_home || l.region == home) {
            s.loaded = false;
        }
    }
    done(
        format!(
            "{pre}organization trail owner {owner}: {} not loaded",
            if only_home {
                format!("home region {home}")
            } else {
                "no snapshot".to_string()
            }
        ),
        Effect::Unknown,
        all_rules(),
    )
}

fn home_not_loaded(c: &mut Ctx) -> Option<Done> {
    let primary = c.w.primary.clone();
    let own: Vec<usize> = (0..c.w.trails.len())
        .filter(|&i| c.w.trails[i].owner == primary && c.w.trails[i].multi_region)
        .collect();
    let ti = c.pick(&own)?;
    let home = c.w.trails[ti].home.clone();
    let other = c.region_other_than(&home);
    c.w.load(&Loc::new(&primary, &other));
    if let Some(s) = c.w.snaps.get_mut(&Loc::new(&primary, &home)) {
        s.loaded = false;
    }
    done(
        format!(
            "trail {}: home region {home} not loaded ({other} is)",
            c.w.trails[ti].name
        ),
        Effect::Unknown,
        all_rules(),
    )
}

fn topic_owner_not_loaded(c: &mut Ctx) -> Option<Done> {
    let t = c.rule_topic()?;
    let (t, pre) = if t.loc.acct == c.w.topic_owner {
        (t, String::new())
    } else {
        let to = c.make_cross_account(&t);
        let pre = format!(
            "topic {} moves to account {} region {}; ",
            t.name, to.loc.acct, to.loc.region
        );
        (to, pre)
    };
    if let Some(s) = c.w.snaps.get_mut(&t.loc) {
        s.loaded = false;
    }
    let rules = c.rules_of_topics_at(&t.loc);
    done(
        format!(
            "{pre}topic {}'s snapshot {}/{} not loaded",
            t.name, t.loc.acct, t.loc.region
        ),
        Effect::Unknown,
        rules,
    )
}

/// Names with the characters AWS allows and a careless reader trips on: `/`, spaces, `#`, `.`,
/// `:` and non-ASCII; every reference follows the rename.
fn exotic_names(c: &mut Ctx) -> Option<Done> {
    let v = c.rng.below(5);
    let text = match v {
        0 => {
            let (fi, r) = c.rule_filter()?;
            let f = c.w.filters[fi].clone();
            // Unique per change: two filters publishing one metric share its data points, which
            // is a breaking change (a filter for other events then feeds the alarm), not a rename.
            let ns = "CIS/Monitoring v1";
            let name = format!("Root Account Usage #{} (count)", c.w.counter);
            c.w.counter += 1;
            let name = name.as_str();
            for a in &mut c.w.alarms {
                if a.loc == f.loc
                    && a.watch.namespace == f.metric.namespace
                    && a.watch.name == f.metric.name
                {
                    a.watch.namespace = ns.into();
                    a.watch.name = name.into();
                }
            }
            let g = &mut c.w.filters[fi];
            g.metric.namespace = ns.into();
            g.metric.name = name.into();
            format!(
                "filter {} ({r}) publishes {ns}/{name}, alarms follow",
                f.name
            )
        }
        1 => {
            let ti = c.trail()?;
            let (loc, old) = c.w.trails[ti].log_group.clone()?;
            let new = format!("/aws/cloudtrail/org#{}.logs", c.w.counter);
            c.w.counter += 1;
            for t in &mut c.w.trails {
                if t.log_group == Some((loc.clone(), old.clone())) {
                    t.log_group = Some((loc.clone(), new.clone()));
                }
            }
            for f in &mut c.w.filters {
                if f.loc == loc && f.log_group == old {
                    f.log_group = new.clone();
                }
            }
            format!("log group {old} renamed {new}, trails and filters follow")
        }
        2 => {
            let (ai, r) = c.rule_alarm()?;
            let name = format!("Root usage: page on-call \u{260E} \u{e9} {}", c.w.counter);
            c.w.counter += 1;
            let a = &mut c.w.alarms[ai];
            let old = std::mem::replace(&mut a.name, name);
            format!("alarm {old} ({r}) renamed {:?}", a.name)
        }
        3 => {
            let t = c.rule_topic()?;
            let to = TopicRef {
                loc: t.loc.clone(),
                name: c.w.fresh("Security_Alerts-"),
            };
            for a in &mut c.w.alarms {
                for acts in [
                    &mut a.alarm_actions,
                    &mut a.ok_actions,
                    &mut a.insufficient_actions,
                ] {
                    for x in acts.iter_mut() {
                        if matches!(x, Action::Topic(y) if *y == t) {
                            *x = Action::Topic(to.clone());
                        }
                    }
                }
            }
            for s in &mut c.w.subs {
                if s.topic == t {
                    s.topic = to.clone();
                }
            }
            format!(
                "topic {} renamed {}, alarms and subscriptions follow",
                t.name, to.name
            )
        }
        _ => {
            let (fi, r) = c.rule_filter()?;
            let f = &mut c.w.filters[fi];
            let old = std::mem::replace(&mut f.name, "CIS 4.x — \"monitoring\" filter/1".into());
            format!("filter {old} ({r}) renamed {:?}", f.name)
        }
    };
    done(text, Effect::Harmless, vec![])
}

fn metric_value_equivalent(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let v = *c.rng.pick(&["1.0", "2", "10"]);
    let f = &mut c.w.filters[fi];
    f.metric.value = v.into();
    done(
        format!(
            "filter {} ({r}): metric value {v} (one event still reaches 1)",
            f.name
        ),
        Effect::Harmless,
        vec![],
    )
}

/// The alarm must be in the log group's account: metrics do not cross accounts.
fn alarm_other_account(c: &mut Ctx) -> Option<Done> {
    let (ai, r) = c.rule_alarm()?;
    let to = Loc::new(&c.w.topic_owner, &c.w.alarms[ai].loc.region);
    if c.w.alarms[ai].loc.acct == to.acct {
        return None;
    }
    c.w.alarms[ai].loc = to.clone();
    c.w.load(&to);
    done(
        format!(
            "alarm {} ({r}) sits in account {} instead (same region, loaded)",
            c.w.alarms[ai].name, to.acct
        ),
        Effect::Fail,
        vec![r],
    )
}

/// A log group of the same name in another account is another log group.
fn filter_other_account(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let to = Loc::new(&c.w.topic_owner, &c.w.filters[fi].loc.region);
    if c.w.filters[fi].loc.acct == to.acct {
        return None;
    }
    c.w.filters[fi].loc = to.clone();
    c.w.load(&to);
    done(
        format!(
            "filter {} ({r}) sits on a log group of the same name in account {} (loaded)",
            c.w.filters[fi].name, to.acct
        ),
        Effect::Fail,
        vec![r],
    )
}

/// OPEN (same cause as exclusion_union): two `All` selectors that both exclude kms miss its
/// events: fail, but the tool crashes on the two different exclusion lists.
fn exclusions_overlap(c: &mut Ctx) -> Option<Done> {
    let ti = c.trail()?;
    let t = &mut c.w.trails[ti];
    t.selectors = Selectors::Basic(vec![
        BasicSelector {
            exclude_sources: vec!["kms.amazonaws.com".into()],
            ..BasicSelector::all()
        },
        BasicSelector {
            exclude_sources: vec!["kms.amazonaws.com".into(), "rdsdata.amazonaws.com".into()],
            ..BasicSelector::all()
        },
    ]);
    done(
        format!(
            "trail {}: two All selectors, both excluding kms (one also rdsdata)",
            t.name
        ),
        Effect::Fail,
        all_rules(),
    )
}

/// Units CloudWatch accepts that the changes below give metrics and alarms ("None" is a unit of
/// its own, the one a transformation without a unit publishes in).
const UNITS: [&str; 4] = ["Count", "None", "Seconds", "Bytes"];

impl Ctx<'_> {
    /// The alarms on filter `fi`'s metric in its account and region.
    fn alarms_on_metric(&self, fi: usize) -> Vec<usize> {
        let f = &self.w.filters[fi];
        (0..self.w.alarms.len())
            .filter(|&i| {
                let a = &self.w.alarms[i];
                a.loc == f.loc
                    && a.watch.namespace == f.metric.namespace
                    && a.watch.name == f.metric.name
            })
            .collect()
    }

    /// A unit other than `u`.
    fn unit_other_than(&mut self, u: &str) -> &'static str {
        let others: Vec<&'static str> = UNITS.iter().copied().filter(|x| *x != u).collect();
        let picked: &&'static str = self.rng.pick(&others);
        picked
    }

    /// Adds a filter on another log group of the filter's account and region that publishes the
    /// same metric, with value 1 for every event (the empty pattern), in a unit other than the
    /// filter's. Returns its unit and name.
    fn other_unit_publisher(&mut self, fi: usize) -> (&'static str, String) {
        let mut g = self.w.filters[fi].clone();
        let unit = self.unit_other_than(g.metric.unit_or_none());
        g.name = self.w.fresh("OtherUnit");
        g.log_group = self.w.fresh("other-unit-logs-");
        g.family = Family::Empty;
        g.pattern = Family::Empty.spell(&mut self.rng);
        g.rule = None;
        g.metric.value = "1".into();
        g.metric.default = None;
        g.metric.unit = Some(unit);
        let name = g.name.clone();
        self.w.filters.push(g);
        (unit, name)
    }
}

/// A rule's filter publishes in a unit, and each alarm on its metric names that unit or none.
fn units_agree(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let unit = *c.rng.pick(&UNITS);
    let named = c.rng.chance(1, 2);
    c.w.filters[fi].metric.unit = if unit == "None" && c.rng.chance(1, 2) {
        None
    } else {
        Some(unit)
    };
    for ai in c.alarms_on_metric(fi) {
        c.w.alarms[ai].watch.unit = if named || c.rng.chance(1, 3) {
            Some(unit)
        } else {
            None
        };
    }
    done(
        format!(
            "filter {} ({r}) publishes in unit {unit}; its alarms name it{}",
            c.w.filters[fi].name,
            if named { "" } else { " or no unit" }
        ),
        Effect::Harmless,
        vec![],
    )
}

/// A rule's alarm expects a unit its filter does not publish in: it never sees a data point.
fn unit_mismatch(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let alarms = c.alarms_on_metric(fi);
    let ai = c.pick(&alarms)?;
    let unit = c.unit_other_than(c.w.filters[fi].metric.unit_or_none());
    c.w.alarms[ai].watch.unit = Some(unit);
    done(
        format!(
            "alarm {} ({r}) expects unit {unit}, its filter publishes {}",
            c.w.alarms[ai].name,
            c.w.filters[fi].metric.unit_or_none()
        ),
        Effect::Fail,
        vec![r],
    )
}

/// Another filter publishes the rule's metric in another unit, for every event; the rule's alarms
/// name the rule's unit, so they never read those data points.
fn other_unit_ignored(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let (unit, name) = c.other_unit_publisher(fi);
    let own = c.w.filters[fi].metric.unit_or_none();
    for ai in c.alarms_on_metric(fi) {
        c.w.alarms[ai].watch.unit = Some(own);
    }
    done(
        format!(
            "filter {name} also publishes the metric of {} ({r}) for every event, in unit {unit}; \
             the rule's alarms name unit {own}",
            c.w.filters[fi].name
        ),
        Effect::Harmless,
        vec![],
    )
}

/// Another filter publishes the rule's metric in another unit, and the rule's alarms name no
/// unit: how they behave is undefined (PutMetricAlarm), so nothing proves they fire.
fn several_units_no_unit(c: &mut Ctx) -> Option<Done> {
    let (fi, r) = c.rule_filter()?;
    let (unit, name) = c.other_unit_publisher(fi);
    for ai in c.alarms_on_metric(fi) {
        c.w.alarms[ai].watch.unit = None;
    }
    done(
        format!(
            "filter {name} also publishes the metric of {} ({r}) in unit {unit}; its alarms name \
             no unit",
            c.w.filters[fi].name
        ),
        Effect::Fail,
        vec![r],
    )
}

macro_rules! def {
    ($name:ident, $harmless:expr, $weight:expr) => {
        def!($name, $harmless, $weight, Tag::Plain)
    };
    ($name:ident, $harmless:expr, $weight:expr, $tag:expr) => {
        ChangeDef {
            name: stringify!($name),
            harmless: $harmless,
            weight: $weight,
            tag: $tag,
            apply: $name,
        }
    };
}

pub const HARMLESS: bool = true;
pub const BREAKING: bool = false;

/// The catalogue. Weights are relative within harmless and within breaking changes.
pub fn catalogue() -> Vec<ChangeDef> {
    vec![
        def!(respell, HARMLESS, 6),
        def!(equivalent_filter, HARMLESS, 3),
        def!(decoy_alarm, HARMLESS, 3),
        def!(decoy_alarm_misplaced, HARMLESS, 1, Tag::KnownDefect(3)),
        def!(decoy_filter, HARMLESS, 3),
        def!(decoy_trail, HARMLESS, 3),
        def!(decoy_topic, HARMLESS, 2),
        def!(move_region, HARMLESS, 3),
        def!(org_trail, HARMLESS, 3),
        def!(cross_account_topic, HARMLESS, 2),
        def!(extra_subscriptions, HARMLESS, 2),
        def!(extra_region, HARMLESS, 2),
        def!(rename_metric, HARMLESS, 2),
        def!(math_alarm, HARMLESS, 2),
        def!(alarm_equivalent, HARMLESS, 3),
        def!(advanced_selectors, HARMLESS, 2),
        def!(read_write_selectors, HARMLESS, 1, Tag::KnownDefect(2)),
        def!(default_zero, HARMLESS, 1, Tag::KnownDefect(1)),
        def!(partial_listing, HARMLESS, 2),
        def!(denial_anywhere, HARMLESS, 1),
        def!(data_selector, HARMLESS, 1),
        def!(
            exclusion_union,
            HARMLESS,
            1,
            Tag::Open("selector union with exclusions")
        ),
        def!(
            advanced_read_write,
            HARMLESS,
            1,
            Tag::Open("advanced readOnly union")
        ),
        def!(second_chain, HARMLESS, 3),
        def!(metric_value_equivalent, HARMLESS, 1),
        def!(exotic_names, HARMLESS, 2),
        def!(units_agree, HARMLESS, 2),
        def!(other_unit_ignored, HARMLESS, 2),
        def!(trail_single_region, BREAKING, 2),
        def!(trail_stopped, BREAKING, 2),
        def!(trail_partial_management, BREAKING, 3),
        def!(trail_no_log_group, BREAKING, 1),
        def!(trail_log_group_elsewhere, BREAKING, 2),
        def!(org_flag_cleared, BREAKING, 1),
        def!(filter_weaken, BREAKING, 6),
        def!(filter_undecidable, BREAKING, 1),
        def!(filter_other_log_group, BREAKING, 1),
        def!(filter_other_region, BREAKING, 2),
        def!(metric_breaks, BREAKING, 2),
        def!(default_value_breaks, BREAKING, 2, Tag::KnownDefect(1)),
        def!(alarm_wrong_namespace, BREAKING, 2),
        def!(alarm_other_region, BREAKING, 2),
        def!(alarms_elsewhere, BREAKING, 2, Tag::KnownDefect(3)),
        def!(alarm_dimensions, BREAKING, 1),
        def!(alarm_other_account, BREAKING, 1),
        def!(filter_other_account, BREAKING, 1),
        def!(
            exclusions_overlap,
            BREAKING,
            1,
            Tag::Open("selector union with exclusions")
        ),
        def!(alarm_disabled, BREAKING, 2),
        def!(alarm_only_ok_actions, BREAKING, 1),
        def!(alarm_no_sns, BREAKING, 1),
        def!(alarm_fires_late, BREAKING, 3),
        def!(alarm_on_filter_name, BREAKING, 1),
        def!(unit_mismatch, BREAKING, 1),
        def!(several_units_no_unit, BREAKING, 1),
        def!(math_unprovable, BREAKING, 1),
        def!(topic_pending, BREAKING, 2),
        def!(topic_no_subs, BREAKING, 1),
        def!(deny_on_chain, BREAKING, 3),
        def!(org_owner_not_loaded, BREAKING, 2),
        def!(home_not_loaded, BREAKING, 1),
        def!(topic_owner_not_loaded, BREAKING, 1),
    ]
}
