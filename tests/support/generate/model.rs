//! The organization a case describes, as facts rather than JSON: trails, filters, alarms,
//! subscriptions and which snapshots were collected (and which calls failed). Changes edit these
//! facts; `render` turns them into snapshot files and `oracle` derives the verdicts from them, so
//! the two never read each other's output.
use super::patterns::{Family, RULES};
use super::rng::Rng;
use crate::support::snapshot;
use std::collections::{BTreeMap, BTreeSet};

pub const REGIONS: [&str; 5] = [
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "us-west-2",
    "eu-central-1",
];

/// One account in one region: where a snapshot, a log group, a filter, an alarm or a topic lives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub acct: String,
    pub region: String,
}

impl Loc {
    pub fn new(acct: &str, region: &str) -> Self {
        Loc {
            acct: acct.to_string(),
            region: region.to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TopicRef {
    pub loc: Loc,
    pub name: String,
}

impl TopicRef {
    pub fn arn(&self) -> String {
        snapshot::topic_arn(&self.loc.acct, &self.loc.region, &self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rw {
    All,
    ReadOnly,
    WriteOnly,
}

impl Rw {
    pub fn as_str(self) -> &'static str {
        match self {
            Rw::All => "All",
            Rw::ReadOnly => "ReadOnly",
            Rw::WriteOnly => "WriteOnly",
        }
    }
}

#[derive(Clone, Debug)]
pub struct BasicSelector {
    pub include_management: bool,
    pub rw: Rw,
    pub exclude_sources: Vec<String>,
    /// Also selects S3 data events (irrelevant to management events).
    pub data_s3: bool,
}

impl BasicSelector {
    pub fn all() -> Self {
        BasicSelector {
            include_management: true,
            rw: Rw::All,
            exclude_sources: Vec::new(),
            data_s3: false,
        }
    }
}

/// One advanced event selector: its field selectors as (Field, Equals).
pub type Advanced = Vec<(String, Vec<String>)>;

#[derive(Clone, Debug)]
pub enum Selectors {
    Basic(Vec<BasicSelector>),
    Advanced(Vec<Advanced>),
}

#[derive(Clone, Debug)]
pub struct Trail {
    pub owner: String,
    pub home: String,
    pub name: String,
    pub multi_region: bool,
    pub organization: bool,
    /// Accounts other than the owner whose DescribeTrails lists the trail (organization members).
    pub members: Vec<String>,
    pub logging: bool,
    pub selectors: Selectors,
    pub log_group: Option<(Loc, String)>,
}

impl Trail {
    pub fn arn(&self) -> String {
        snapshot::trail_arn(&self.owner, &self.home, &self.name)
    }

    pub fn home_loc(&self) -> Loc {
        Loc::new(&self.owner, &self.home)
    }

    /// Whether DescribeTrails(includeShadowTrails) in `loc` lists the trail: in the owner's and
    /// the members' accounts, in every region for a multi-region trail, else in its home only.
    pub fn listed_in(&self, loc: &Loc) -> bool {
        (loc.acct == self.owner || self.members.contains(&loc.acct))
            && (self.multi_region || loc.region == self.home)
    }
}

#[derive(Clone, Debug)]
pub struct Metric {
    pub namespace: String,
    pub name: String,
    pub value: String,
    pub default: Option<f64>,
    /// Dimensions taken from event fields.
    pub dimensions: bool,
    /// The unit the transformation names (`None`: none, which CloudWatch stores as "None").
    pub unit: Option<&'static str>,
}

impl Metric {
    /// The unit its data points carry.
    pub fn unit_or_none(&self) -> &'static str {
        self.unit.unwrap_or("None")
    }
}

#[derive(Clone, Debug)]
pub struct Filter {
    pub loc: Loc,
    pub log_group: String,
    pub name: String,
    pub family: Family,
    pub pattern: String,
    pub metric: Metric,
    /// The rule the filter was built for, if any (decoys have none).
    pub rule: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathShape {
    /// The MetricStat query itself returns data.
    Direct,
    /// `FILL(m1, 0)` returns data.
    Fill,
    /// `m1 - 1`: not provably firing on one event.
    MinusOne,
    /// The MetricStat query and an expression both return data: two series.
    TwoSeries,
}

#[derive(Clone, Debug)]
pub struct Watch {
    pub namespace: String,
    pub name: String,
    pub dims: Vec<(String, String)>,
    pub math: Option<MathShape>,
    /// The unit the alarm (or its MetricStat) names: it reads only data points of that unit.
    pub unit: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Topic(TopicRef),
    /// Not an SNS topic (a Lambda function, an SSM OpsItem): ignored for notification.
    Other(String),
}

#[derive(Clone, Debug)]
pub struct Alarm {
    pub loc: Loc,
    pub name: String,
    pub rule: Option<&'static str>,
    pub watch: Watch,
    pub stat: String,
    pub period: u32,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<Action>,
    pub ok_actions: Vec<Action>,
    pub insufficient_actions: Vec<Action>,
    pub threshold: f64,
    pub comparison: String,
    pub evaluation_periods: u32,
    pub datapoints: Option<u32>,
    pub treat_missing: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Subscription {
    pub topic: TopicRef,
    pub confirmed: bool,
    pub protocol: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    DescribeTrails,
    GetTrailStatus,
    GetEventSelectors,
    DescribeMetricFilters,
    DescribeAlarms,
    ListSubscriptions,
    /// A call no rule needs (recorded by some collectors): never a reason for `unknown`.
    ListRegions,
}

impl Op {
    pub fn service(self) -> &'static str {
        match self {
            Op::DescribeTrails | Op::GetTrailStatus | Op::GetEventSelectors => "cloudtrail",
            Op::DescribeMetricFilters => "logs",
            Op::DescribeAlarms => "cloudwatch",
            Op::ListSubscriptions => "sns",
            Op::ListRegions => "account",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::DescribeTrails => "DescribeTrails",
            Op::GetTrailStatus => "GetTrailStatus",
            Op::GetEventSelectors => "GetEventSelectors",
            Op::DescribeMetricFilters => "DescribeMetricFilters",
            Op::DescribeAlarms => "DescribeAlarms",
            Op::ListSubscriptions => "ListSubscriptions",
            Op::ListRegions => "ListRegions",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    /// The call was denied: the section is absent.
    Denied,
    /// The listing stopped part way (throttled): what was listed is there, absence proves nothing.
    Partial,
}

/// A collected (or not collected) snapshot.
#[derive(Clone, Debug, Default)]
pub struct Snap {
    pub loaded: bool,
    /// Failed calls: (operation, trail index for per-trail calls) -> how it failed.
    pub gaps: BTreeMap<(Op, Option<usize>), Gap>,
}

/// Everything one case holds. The primary account is the one the case is about; the owner of an
/// organization trail and the owner of a cross-account topic are decided too.
#[derive(Clone, Debug)]
pub struct World {
    pub primary: String,
    pub org_owner: String,
    pub topic_owner: String,
    pub trails: Vec<Trail>,
    pub filters: Vec<Filter>,
    pub alarms: Vec<Alarm>,
    pub subs: Vec<Subscription>,
    pub snaps: BTreeMap<Loc, Snap>,
    /// For unique names of added things.
    pub counter: u32,
}

pub fn log_group_arn(loc: &Loc, name: &str) -> String {
    snapshot::log_group_arn(&loc.acct, &loc.region, name)
}

pub fn alarm_arn(loc: &Loc, name: &str) -> String {
    snapshot::alarm_arn(&loc.acct, &loc.region, name)
}

impl World {
    /// Conformity's remediation for every generated rule, in one account and region, with a
    /// random home region, maybe a shadow region, and one shared topic or one per rule.
    pub fn compliant(base: u64, rng: &mut Rng) -> World {
        let primary = format!("{:012}", base + 1);
        let home = rng.pick(&REGIONS).to_string();
        let loc = Loc::new(&primary, &home);
        let lg = "CloudTrail/management-events".to_string();
        let mut w = World {
            primary: primary.clone(),
            org_owner: format!("{:012}", base + 2),
            topic_owner: format!("{:012}", base + 3),
            trails: vec![Trail {
                owner: primary.clone(),
                home: home.clone(),
                name: "management-events".into(),
                multi_region: true,
                organization: false,
                members: Vec::new(),
                logging: true,
                selectors: Selectors::Basic(vec![BasicSelector::all()]),
                log_group: Some((loc.clone(), lg.clone())),
            }],
            filters: Vec::new(),
            alarms: Vec::new(),
            subs: Vec::new(),
            snaps: BTreeMap::new(),
            counter: 0,
        };
        w.load(&loc);
        if rng.chance(1, 3) {
            let other = w.other_region(&home, rng);
            w.load(&Loc::new(&primary, &other));
        }
        let shared = rng.chance(1, 2);
        for r in &RULES {
            let topic = TopicRef {
                loc: loc.clone(),
                name: if shared {
                    "SecurityAlerts".into()
                } else {
                    r.topic_name.into()
                },
            };
            if !w.subs.iter().any(|s| s.topic == topic) {
                w.subs.push(Subscription {
                    topic: topic.clone(),
                    confirmed: true,
                    protocol: "email".into(),
                });
            }
            w.filters.push(Filter {
                loc: loc.clone(),
                log_group: lg.clone(),
                name: r.filter_name.into(),
                family: r.reference,
                pattern: r.reference.canonical(),
                metric: Metric {
                    namespace: "CloudTrailMetrics".into(),
                    name: r.metric_name.into(),
                    value: "1".into(),
                    default: None,
                    dimensions: false,
                    unit: None,
                },
                rule: Some(r.id),
            });
            w.alarms.push(Alarm::on(
                &loc,
                r.alarm_name,
                Some(r.id),
                "CloudTrailMetrics",
                r.metric_name,
                topic,
            ));
        }
        w
    }

    pub fn accounts(&self) -> [&str; 3] {
        [&self.primary, &self.org_owner, &self.topic_owner]
    }

    pub fn role(&self, acct: &str) -> &'static str {
        if acct == self.primary {
            "primary"
        } else if acct == self.org_owner {
            "organization trail owner"
        } else {
            "topic owner"
        }
    }

    pub fn load(&mut self, loc: &Loc) {
        self.snaps.entry(loc.clone()).or_default().loaded = true;
    }

    pub fn loaded(&self, loc: &Loc) -> bool {
        self.snaps.get(loc).is_some_and(|s| s.loaded)
    }

    pub fn loaded_locs(&self) -> Vec<Loc> {
        self.snaps
            .iter()
            .filter(|(_, s)| s.loaded)
            .map(|(l, _)| l.clone())
            .collect()
    }

    pub fn loaded_regions(&self, acct: &str) -> Vec<String> {
        self.loaded_locs()
            .into_iter()
            .filter(|l| l.acct == acct)
            .map(|l| l.region)
            .collect()
    }

    pub fn gap(&self, loc: &Loc, op: Op, trail: Option<usize>) -> Option<Gap> {
        let s = self.snaps.get(loc)?;
        s.gaps
            .get(&(op, trail))
            .or_else(|| s.gaps.get(&(op, None)))
            .copied()
    }

    pub fn denied(&self, loc: &Loc, op: Op, trail: Option<usize>) -> bool {
        self.gap(loc, op, trail) == Some(Gap::Denied)
    }

    /// A listing that is present and recorded no error.
    pub fn complete(&self, loc: &Loc, op: Op) -> bool {
        self.gap(loc, op, None).is_none()
    }

    pub fn other_region(&self, not: &str, rng: &mut Rng) -> String {
        let others: Vec<&str> = REGIONS.iter().copied().filter(|r| *r != not).collect();
        rng.pick(&others).to_string()
    }

    pub fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    /// Every place a location is named, so a change can rename one consistently.
    pub fn map_locs(&mut self, f: &dyn Fn(&Loc) -> Loc) {
        for t in &mut self.trails {
            let h = f(&Loc::new(&t.owner, &t.home));
            t.owner = h.acct;
            t.home = h.region;
            if let Some((l, _)) = &mut t.log_group {
                *l = f(l);
            }
        }
        for x in &mut self.filters {
            x.loc = f(&x.loc);
        }
        for a in &mut self.alarms {
            a.loc = f(&a.loc);
            for acts in [
                &mut a.alarm_actions,
                &mut a.ok_actions,
                &mut a.insufficient_actions,
            ] {
                for act in acts.iter_mut() {
                    if let Action::Topic(t) = act {
                        t.loc = f(&t.loc);
                    }
                }
            }
        }
        for s in &mut self.subs {
            s.topic.loc = f(&s.topic.loc);
        }
        let snaps = std::mem::take(&mut self.snaps);
        self.snaps = snaps.into_iter().map(|(l, s)| (f(&l), s)).collect();
    }

    /// SNS topics the alarms built for `rule` notify.
    pub fn topics_of(&self, rule: &str) -> BTreeSet<TopicRef> {
        self.alarms
            .iter()
            .filter(|a| a.rule == Some(rule))
            .flat_map(|a| a.alarm_actions.iter())
            .filter_map(|a| match a {
                Action::Topic(t) => Some(t.clone()),
                Action::Other(_) => None,
            })
            .collect()
    }
}

impl Alarm {
    /// The remediation's alarm: Sum over 300 s >= 1, one period, notifying `topic`.
    pub fn on(
        loc: &Loc,
        name: &str,
        rule: Option<&'static str>,
        namespace: &str,
        metric: &str,
        topic: TopicRef,
    ) -> Alarm {
        Alarm {
            loc: loc.clone(),
            name: name.into(),
            rule,
            watch: Watch {
                namespace: namespace.into(),
                name: metric.into(),
                dims: Vec::new(),
                math: None,
                unit: None,
            },
            stat: "Sum".into(),
            period: 300,
            actions_enabled: true,
            alarm_actions: vec![Action::Topic(topic)],
            ok_actions: Vec::new(),
            insufficient_actions: Vec::new(),
            threshold: 1.0,
            comparison: "GreaterThanOrEqualToThreshold".into(),
            evaluation_periods: 1,
            datapoints: Some(1),
            treat_missing: Some("notBreaching".into()),
        }
    }
}
