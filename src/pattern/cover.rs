//! Coverage by construction: does a candidate pattern match every record a reference matches?
//!
//! 1. Collect the atoms of both patterns: JSON conditions, grouped by selector ("slots"), and text
//!    terms.
//! 2. For each slot, build a finite set of values that realises every combination of truth values
//!    its conditions can take over the event space (`space.rs`): each constant, a value that is no
//!    constant, strings made from a wildcard, numbers between and around the numeric constants,
//!    absent/null/true/false/object/array where the field allows them. When no such finite set is
//!    known to be complete (two wildcards on a free field, a regex on a free field, `[*]`), the
//!    question is undecided, never guessed.
//! 3. Test every consistent combination of slot values (and, for text terms, every presence
//!    vector that some record realises), up to [`MAX_COMBINATIONS`].
//!
//! Every "no" comes with a record that was re-checked with the matcher; a "yes" holds because the
//! value sets are complete, so no class of records was left out.
use super::ast::*;
use super::explain;
use super::matcher::{contains_term, eval_test, glob_match, matches, number_text, Event, Node};
use super::space::{self, FieldKind};
use serde_json::{Map, Value as Json};

/// At most this many combinations of slot values (times text presence vectors) are tested.
pub const MAX_COMBINATIONS: u64 = 200_000;
/// At most this many distinct text terms across both patterns.
pub const MAX_TERMS: usize = 10;
/// At most this many attempts to build a record with a given set of terms.
const MAX_REALISE: usize = 4_000;

/// The value a slot holds in one combination.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Absent,
    Null,
    Bool(bool),
    Str(String),
    Num(f64),
    Object,
    Array,
}

impl Val {
    fn node(&self) -> Option<Node<'_>> {
        match self {
            Val::Absent => None,
            Val::Null => Some(Node::Null),
            Val::Bool(b) => Some(Node::Bool(*b)),
            Val::Str(s) => Some(Node::Str(s)),
            Val::Num(n) => Some(Node::Num(*n)),
            Val::Object | Val::Array => Some(Node::Container),
        }
    }
    fn present(&self) -> bool {
        !matches!(self, Val::Absent)
    }
}

pub(crate) struct Slot {
    pub sel: Selector,
    pub domain: Vec<Val>,
}

/// A compiled pattern over slot atoms and term indices.
pub(crate) enum CPat {
    True,
    Json(CExpr),
    Text {
        all: Vec<usize>,
        any: Vec<usize>,
        none: Vec<usize>,
    },
}

pub(crate) enum CExpr {
    And(Vec<CExpr>),
    Or(Vec<CExpr>),
    Atom(usize),
}

pub(crate) struct Atom {
    pub slot: usize,
    pub test: Test,
}

enum Constraint {
    /// `child` present requires `parent` to be this container.
    Parent {
        child: usize,
        parent: usize,
        array: bool,
    },
    /// Not both present (one needs an object, the other an array at the same place).
    Exclusive(usize, usize),
    /// `later` present requires `earlier` present (arrays have no holes).
    Before { later: usize, earlier: usize },
}

/// The answer of [`decide`].
#[derive(Debug, Default)]
pub struct Decision {
    pub covers: bool,
    pub counterexample: Option<Json>,
    pub missed: Option<String>,
    pub matches_non_root: bool,
    pub non_root_example: Option<Json>,
    pub matches_extra_root: bool,
    /// Why the question could not be decided.
    pub undecided: Option<String>,
}

pub(crate) struct Model {
    pub slots: Vec<Slot>,
    pub atoms: Vec<Atom>,
    pub terms: Vec<Term>,
    constraints: Vec<Constraint>,
    type_slot: usize,
}

/// Decide coverage of `reference` by `candidate` (both parsed).
pub fn decide(candidate: &Pattern, reference: &Pattern) -> Decision {
    match decide_inner(candidate, reference) {
        Ok(d) => d,
        Err(reason) => Decision {
            undecided: Some(reason),
            ..Decision::default()
        },
    }
}

fn decide_inner(candidate: &Pattern, reference: &Pattern) -> Result<Decision, String> {
    for p in [candidate, reference] {
        match p {
            Pattern::Regex(_) => {
                return Err("a regular expression over the whole event text".to_string())
            }
            Pattern::Delimited(_) => {
                return Err("a space-delimited pattern on JSON records".to_string())
            }
            _ => {}
        }
    }
    let mut b = Builder::default();
    b.slot_of(&Selector(vec![
        Step::Key("userIdentity".into()),
        Step::Key("type".into()),
    ]))?;
    let cand = b.compile(candidate)?;
    let refr = b.compile(reference)?;
    if b.terms.len() > MAX_TERMS {
        return Err(format!("more than {MAX_TERMS} text terms"));
    }
    let model = b.finish()?;
    let mut total: u64 = 1;
    for s in &model.slots {
        total = total.saturating_mul(s.domain.len() as u64);
    }
    total = total.saturating_mul(1u64 << model.terms.len());
    if total > MAX_COMBINATIONS {
        return Err(format!(
            "{total} combinations of field values to test (the limit is {MAX_COMBINATIONS})"
        ));
    }
    search(&model, &cand, &refr, candidate, reference)
}

#[derive(Default)]
struct Builder {
    sels: Vec<Selector>,
    atoms: Vec<Atom>,
    terms: Vec<Term>,
}

impl Builder {
    fn slot_of(&mut self, sel: &Selector) -> Result<usize, String> {
        if sel.has_any_index() {
            return Err(format!("the selector $.{sel} uses [*]"));
        }
        if let Some(i) = self.sels.iter().position(|s| s == sel) {
            return Ok(i);
        }
        self.sels.push(sel.clone());
        Ok(self.sels.len() - 1)
    }

    fn term_of(&mut self, t: &Term) -> usize {
        if let Some(i) = self.terms.iter().position(|x| x == t) {
            return i;
        }
        self.terms.push(t.clone());
        self.terms.len() - 1
    }

    fn compile(&mut self, p: &Pattern) -> Result<CPat, String> {
        Ok(match p {
            Pattern::All => CPat::True,
            Pattern::Json(e) => CPat::Json(self.expr(e)?),
            Pattern::Text(t) => CPat::Text {
                all: t.all.iter().map(|x| self.term_of(x)).collect(),
                any: t.any.iter().map(|x| self.term_of(x)).collect(),
                none: t.none.iter().map(|x| self.term_of(x)).collect(),
            },
            Pattern::Regex(_) | Pattern::Delimited(_) => {
                return Err("unsupported pattern form".to_string())
            }
        })
    }

    fn expr(&mut self, e: &Expr) -> Result<CExpr, String> {
        Ok(match e {
            Expr::And(es) => CExpr::And(es.iter().map(|e| self.expr(e)).collect::<Result<_, _>>()?),
            Expr::Or(es) => CExpr::Or(es.iter().map(|e| self.expr(e)).collect::<Result<_, _>>()?),
            Expr::Cond(c) => {
                if let Test::Cmp(
                    _,
                    Value::Lit {
                        text, glob: true, ..
                    },
                ) = &c.test
                {
                    let inner = text.trim_matches('*');
                    if inner.contains('*') {
                        // The 2019 guide says "Ev*ent will only match the actual string Ev*ent";
                        // the current one calls `*` a wildcard. Do not guess which AWS applies.
                        return Err(format!(
                            "the value \"{text}\" has a '*' inside it (the AWS guides disagree on its meaning there)"
                        ));
                    }
                }
                let slot = self.slot_of(&c.selector)?;
                self.atoms.push(Atom {
                    slot,
                    test: c.test.clone(),
                });
                CExpr::Atom(self.atoms.len() - 1)
            }
        })
    }

    fn finish(self) -> Result<Model, String> {
        let n = self.sels.len();
        let mut slots = Vec::with_capacity(n);
        for (i, sel) in self.sels.iter().enumerate() {
            let tests: Vec<&Test> = self
                .atoms
                .iter()
                .filter(|a| a.slot == i)
                .map(|a| &a.test)
                .collect();
            let has_index_child = self.sels.iter().any(|o| {
                o.0.len() > sel.0.len()
                    && o.0.starts_with(&sel.0)
                    && matches!(o.0[sel.0.len()], Step::Index(_))
            });
            let kind = space::kind_of(sel);
            let domain = domain(sel, kind, &tests, has_index_child)?;
            slots.push(Slot {
                sel: sel.clone(),
                domain,
            });
        }
        let mut constraints = Vec::new();
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let (a, b) = (&self.sels[i].0, &self.sels[j].0);
                if b.len() > a.len() && b.starts_with(a) {
                    constraints.push(Constraint::Parent {
                        child: j,
                        parent: i,
                        array: matches!(b[a.len()], Step::Index(_)),
                    });
                    continue;
                }
                let common = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
                if common < a.len() && common < b.len() {
                    match (&a[common], &b[common]) {
                        (Step::Key(_), Step::Index(_)) if i < j => {
                            constraints.push(Constraint::Exclusive(i, j))
                        }
                        (Step::Index(x), Step::Index(y)) if x < y && a.len() == common + 1 => {
                            constraints.push(Constraint::Before {
                                later: j,
                                earlier: i,
                            })
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(Model {
            slots,
            atoms: self.atoms,
            terms: self.terms,
            constraints,
            type_slot: 0,
        })
    }
}

/// Characters a canonical JSON number text (`-?digits(.digits)?`) can contain.
fn glob_may_match_number(glob: &str) -> bool {
    let lead = glob.len() - glob.trim_start_matches('*').len();
    let mut dots = 0;
    for (i, c) in glob.char_indices() {
        match c {
            '*' | '0'..='9' => {}
            '.' => dots += 1,
            '-' if i == lead => {}
            _ => return false,
        }
    }
    dots <= 1
}

/// Numbers for a free field: each numeric constant, and in each interval between them a number
/// (with a wildcard that may match numbers: one it matches and one it does not).
fn number_reps(
    sel: &Selector,
    glob: Option<&String>,
    mut numbers: Vec<f64>,
) -> Result<Vec<Val>, String> {
    numbers.sort_by(f64::total_cmp);
    numbers.dedup();
    let mut intervals: Vec<(Option<f64>, Option<f64>)> = Vec::new();
    let mut prev = None;
    for &c in &numbers {
        intervals.push((prev, Some(c)));
        prev = Some(c);
    }
    intervals.push((prev, None));
    let inside = |x: f64, (lo, hi): (Option<f64>, Option<f64>)| {
        lo.into_iter().all(|l| x > l) && hi.into_iter().all(|h| x < h)
    };
    let default = |(lo, hi): (Option<f64>, Option<f64>)| match (lo, hi) {
        (None, None) => 7.0,
        (None, Some(h)) => h - 1.0,
        (Some(l), None) => l + 1.0,
        (Some(l), Some(h)) => (l + h) / 2.0,
    };
    let mut pool: Vec<f64> = vec![0.0, 1.0, 7.0, -3.0, 0.25, 12345.0, 98765.5];
    if let Some(g) = glob {
        for filler in [
            "", "0", "1", "5", "9", "00", "05", "5.5", ".5", "0.5", "123",
        ] {
            if let Some(n) = super::parse::parse_number(&g.replace('*', filler)) {
                pool.push(n);
            }
        }
    }
    let mut out: Vec<Val> = numbers.iter().map(|n| Val::Num(*n)).collect();
    for iv in intervals {
        let d = default(iv);
        match glob {
            None => out.push(Val::Num(d)),
            Some(g) => {
                let mut cands = pool.clone();
                cands.push(d);
                let pick = |want: bool| {
                    cands
                        .iter()
                        .copied()
                        .find(|&x| inside(x, iv) && glob_match(g, &number_text(x)) == want)
                        .ok_or_else(|| {
                            format!(
                                "the wildcard value \"{g}\" on $.{sel} may also match some numbers"
                            )
                        })
                };
                out.push(Val::Num(pick(true)?));
                out.push(Val::Num(pick(false)?));
            }
        }
    }
    Ok(out)
}

/// At most this many states of the product automaton of a field's wildcards.
const MAX_GLOB_STATES: usize = 4_096;

/// Strings that realise every combination of several wildcard values on one field in which at
/// least one of them matches (the combination "none" is realised by the caller's other string):
/// one string per reachable combination, none of them a constant.
///
/// Each wildcard value is a small automaton over its characters (`*` any run, every other character
/// itself); their product, over the characters of the wildcards plus one character none contains,
/// reaches every combination some string realises (any other character acts like that fresh one).
/// A breadth-first walk that visits each product state up to `constants + 1` times finds, for each
/// state, that many distinct strings if it has them, so one is no constant. Every combination
/// reachable is represented; none is guessed: beyond [`MAX_GLOB_STATES`] the answer is undecided.
pub(crate) fn glob_witnesses(
    sel: &Selector,
    globs: &[String],
    constants: &[String],
) -> Result<Vec<String>, String> {
    use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
    let toks: Vec<Vec<Option<char>>> = globs
        .iter()
        .map(|g| g.chars().map(|c| (c != '*').then_some(c)).collect())
        .collect();
    let mut alphabet: BTreeSet<char> = toks.iter().flatten().flatten().copied().collect();
    let fresh = ['~', '#', 'q', 'Z', '%', '_', '!']
        .into_iter()
        .find(|c| !alphabet.contains(c))
        .unwrap_or('\u{2603}');
    alphabet.insert(fresh);
    // A state of one automaton: the sorted positions it may be at (closed over `*` matching nothing).
    let close = |t: &[Option<char>], mut ps: Vec<usize>| {
        let mut i = 0;
        while i < ps.len() {
            let p = ps[i];
            if p < t.len() && t[p].is_none() && !ps.contains(&(p + 1)) {
                ps.push(p + 1);
            }
            i += 1;
        }
        ps.sort_unstable();
        ps.dedup();
        ps
    };
    let step = |t: &[Option<char>], ps: &[usize], c: char| {
        let mut next = Vec::new();
        for &p in ps {
            match t.get(p) {
                Some(None) => next.push(p),
                Some(Some(x)) if *x == c => next.push(p + 1),
                _ => {}
            }
        }
        close(t, next)
    };
    type State = Vec<Vec<usize>>;
    let start: State = toks.iter().map(|t| close(t, vec![0])).collect();
    let accepts = |s: &State| -> Vec<bool> {
        s.iter()
            .zip(&toks)
            .map(|(ps, t)| ps.contains(&t.len()))
            .collect()
    };
    let per_state = constants.len() + 1;
    let mut seen: HashMap<State, usize> = HashMap::new();
    let mut queue: VecDeque<(State, String)> = VecDeque::new();
    seen.insert(start.clone(), 1);
    queue.push_back((start, String::new()));
    let mut found: BTreeMap<Vec<bool>, String> = BTreeMap::new();
    while let Some((state, s)) = queue.pop_front() {
        let vector = accepts(&state);
        if vector.iter().any(|&b| b) && !constants.contains(&s) {
            found.entry(vector).or_insert_with(|| s.clone());
        }
        for &c in &alphabet {
            let next: State = state
                .iter()
                .zip(&toks)
                .map(|(ps, t)| step(t, ps, c))
                .collect();
            let n = seen.entry(next.clone()).or_insert(0);
            if *n >= per_state {
                continue;
            }
            *n += 1;
            if seen.len() > MAX_GLOB_STATES {
                return Err(format!(
                    "several wildcard values on $.{sel} (more than {MAX_GLOB_STATES} combinations to explore)"
                ));
            }
            let mut t = s.clone();
            t.push(c);
            queue.push_back((next, t));
        }
    }
    // Re-checked with the matcher: each string realises the combination it stands for.
    for (vector, s) in &found {
        let got: Vec<bool> = globs.iter().map(|g| glob_match(g, s)).collect();
        if &got != vector {
            return Err(format!("several wildcard values on $.{sel}"));
        }
    }
    Ok(found.into_values().collect())
}

/// The values to try at a slot: enough to realise every combination of its tests.
fn domain(
    sel: &Selector,
    kind: FieldKind,
    tests: &[&Test],
    index_child: bool,
) -> Result<Vec<Val>, String> {
    let strs = |list: &[&str]| list.iter().map(|s| Val::Str((*s).to_string())).collect();
    match kind {
        FieldKind::IdentityType => return Ok(strs(space::IDENTITY_TYPES)),
        FieldKind::EventType => return Ok(strs(space::EVENT_TYPES)),
        FieldKind::AlwaysObject => return Ok(vec![Val::Object]),
        FieldKind::Never => return Ok(vec![Val::Absent]),
        FieldKind::AlwaysString | FieldKind::Free => {}
    }
    let mut constants: Vec<String> = Vec::new();
    let mut globs: Vec<String> = Vec::new();
    let mut numbers: Vec<f64> = Vec::new();
    for t in tests {
        match t {
            Test::Cmp(_, Value::Regex(r)) => {
                return Err(format!(
                    "the regular expression %{}% on $.{sel}, which can hold any value",
                    r.source
                ))
            }
            Test::Cmp(_, v @ Value::Lit { text, num, glob }) => {
                if let Some(n) = num {
                    numbers.push(*n);
                }
                if v.is_match_any() {
                    continue;
                }
                if *glob {
                    if !globs.contains(text) {
                        globs.push(text.clone());
                    }
                } else if !constants.contains(text) {
                    constants.push(text.clone());
                }
            }
            _ => {}
        }
    }
    // With several wildcards, the strings that realise each combination of them come from their
    // product automaton (see [`glob_witnesses`]); with one, a string it matches suffices.
    let glob = if globs.len() == 1 {
        globs.first()
    } else {
        None
    };
    let mut out: Vec<Val> = constants.iter().map(|c| Val::Str(c.clone())).collect();
    let is_new = |s: &str, out: &[Val]| !out.iter().any(|v| matches!(v, Val::Str(x) if x == s));
    let no_glob = |s: &str| globs.iter().all(|g| !glob_match(g, s));
    // A string that is no constant (and matches no wildcard): prefer the realistic value.
    let avoid = if globs.is_empty() {
        'x'
    } else {
        ['~', '#', 'q', 'Z', '%']
            .into_iter()
            .find(|c| !globs.iter().any(|g| g.contains(*c)))
            .unwrap_or('\u{2603}')
    };
    let mut other: Option<String> =
        space::template_string(sel).filter(|s| is_new(s, &out) && no_glob(s));
    let mut k = 1;
    while other.is_none() {
        let s = if !globs.is_empty() {
            avoid.to_string().repeat(k)
        } else {
            format!("example-{k}")
        };
        if is_new(&s, &out) && no_glob(&s) {
            other = Some(s);
        }
        k += 1;
    }
    let other = other.unwrap_or_default();
    if let Some(g) = glob {
        // A string the wildcard matches that is no constant.
        for k in 0..=constants.len() + 1 {
            let s = g.replace('*', &"q".repeat(k));
            if is_new(&s, &out) {
                out.push(Val::Str(s));
                break;
            }
        }
    } else if globs.len() > 1 {
        for s in glob_witnesses(sel, &globs, &constants)? {
            if is_new(&s, &out) {
                out.push(Val::Str(s));
            }
        }
    }
    if kind == FieldKind::AlwaysString {
        out.push(Val::Str(other));
        return Ok(out);
    }
    // Absent early: "misses root events without X" is the plainest counter-example.
    out.extend([
        Val::Absent,
        Val::Str(other),
        Val::Null,
        Val::Bool(true),
        Val::Bool(false),
    ]);
    let numeric_globs: Vec<&String> = globs.iter().filter(|g| glob_may_match_number(g)).collect();
    if numeric_globs.len() > 1 {
        return Err(format!(
            "several wildcard values on $.{sel} that may also match numbers"
        ));
    }
    out.extend(number_reps(sel, numeric_globs.first().copied(), numbers)?);
    out.push(Val::Object);
    if index_child {
        out.push(Val::Array);
    }
    Ok(out)
}

impl Model {
    fn consistent(&self, vals: &[&Val]) -> bool {
        self.constraints.iter().all(|c| match *c {
            Constraint::Parent {
                child,
                parent,
                array,
            } => {
                !vals[child].present()
                    || if array {
                        *vals[parent] == Val::Array
                    } else {
                        *vals[parent] == Val::Object
                    }
            }
            Constraint::Exclusive(a, b) => !(vals[a].present() && vals[b].present()),
            Constraint::Before { later, earlier } => {
                !vals[later].present() || vals[earlier].present()
            }
        })
    }

    /// A complete record from a template with every slot set to its value.
    fn build(&self, vals: &[&Val], base: Json) -> Json {
        let mut rec = base;
        let mut order: Vec<usize> = (0..self.slots.len()).collect();
        order.sort_by_key(|&i| self.slots[i].sel.0.len());
        for i in order {
            set_path(&mut rec, &self.slots[i].sel.0, vals[i]);
        }
        rec
    }

    fn identity<'v>(&self, vals: &[&'v Val]) -> &'v str {
        match vals[self.type_slot] {
            Val::Str(s) => s,
            _ => space::ROOT,
        }
    }

    /// Terms that every record of this combination contains: inside `"key":"value"` of a slot with
    /// a fixed value, or a key CloudTrail always writes.
    fn forced(&self, vals: &[&Val], term: &Term) -> bool {
        if term.0.trim().is_empty() {
            return true;
        }
        let mut frags: Vec<String> = space::ALWAYS_STRINGS
            .iter()
            .chain(["eventType", "userIdentity", "type"].iter())
            .map(|k| format!("\"{k}\":"))
            .collect();
        for (slot, v) in self.slots.iter().zip(vals) {
            let value = match v {
                Val::Str(s) => Json::String(s.clone()).to_string(),
                Val::Bool(b) => b.to_string(),
                Val::Null => "null".to_string(),
                _ => continue,
            };
            match slot.sel.0.last() {
                Some(Step::Key(k)) => frags.push(format!("{}:{value}", Json::String(k.clone()))),
                _ => frags.push(value),
            }
        }
        frags.iter().any(|f| f.contains(term.0.as_str()))
    }

    /// A record of this combination whose text has exactly the terms of `want`, if one is found.
    fn realise(&self, vals: &[&Val], want: u32) -> Option<Json> {
        let ty = self.identity(vals);
        for base in [space::template(ty), space::minimal(ty)] {
            let mut rec = self.build(vals, base);
            let mut text = rec.to_string();
            let missing: Vec<&str> = (0..self.terms.len())
                .filter(|&i| want & (1 << i) != 0 && !contains_term(&text, &self.terms[i]))
                .map(|i| self.terms[i].0.as_str())
                .collect();
            if !missing.is_empty() {
                let carrier = [
                    "additionalEventData",
                    "serviceEventDetails",
                    "responseElements",
                    "requestParameters",
                ]
                .into_iter()
                .find(|c| {
                    !self
                        .slots
                        .iter()
                        .any(|s| matches!(s.sel.0.first(), Some(Step::Key(k)) if k == c))
                })?;
                // Each term as JSON text where it parses as such (`"type":"Root"` as an object
                // member), else as a string.
                let mut carried = Map::new();
                for (k, t) in missing.iter().enumerate() {
                    let v = serde_json::from_str::<Json>(&format!("{{{t}}}"))
                        .or_else(|_| serde_json::from_str::<Json>(t))
                        .unwrap_or_else(|_| Json::String((*t).to_string()));
                    carried.insert(format!("n{k}"), v);
                }
                if let Json::Object(m) = &mut rec {
                    m.insert(carrier.to_string(), Json::Object(carried));
                }
                text = rec.to_string();
            }
            let got = self.presence(&text);
            if got == want {
                return Some(rec);
            }
        }
        None
    }

    fn presence(&self, text: &str) -> u32 {
        (0..self.terms.len())
            .filter(|&i| contains_term(text, &self.terms[i]))
            .fold(0, |acc, i| acc | (1 << i))
    }
}

fn set_path(rec: &mut Json, steps: &[Step], v: &Val) {
    let Some((last, parents)) = steps.split_last() else {
        return;
    };
    let mut cur = rec;
    for (k, step) in parents.iter().enumerate() {
        let next_is_index = matches!(steps[k + 1], Step::Index(_));
        let fresh = || {
            if next_is_index {
                Json::Array(Vec::new())
            } else {
                Json::Object(Map::new())
            }
        };
        let slot: &mut Json = match step {
            Step::Key(key) => {
                if !cur.is_object() {
                    if !v.present() {
                        return;
                    }
                    *cur = Json::Object(Map::new());
                }
                let Json::Object(m) = cur else { return };
                if !v.present() && !m.contains_key(key) {
                    return;
                }
                m.entry(key.clone()).or_insert_with(fresh)
            }
            Step::Index(i) => {
                if !cur.is_array() {
                    if !v.present() {
                        return;
                    }
                    *cur = Json::Array(Vec::new());
                }
                let Json::Array(a) = cur else { return };
                if !v.present() && a.len() <= *i {
                    return;
                }
                while a.len() <= *i {
                    a.push(Json::Null);
                }
                &mut a[*i]
            }
            Step::AnyIndex => return,
        };
        let wants_array = next_is_index;
        if v.present() && (wants_array != slot.is_array() || !(slot.is_array() || slot.is_object()))
        {
            *slot = fresh();
        }
        cur = slot;
    }
    let value = match v {
        Val::Absent => {
            match (last, cur) {
                (Step::Key(k), Json::Object(m)) => {
                    m.remove(k);
                }
                (Step::Index(i), Json::Array(a)) => a.truncate(*i),
                _ => {}
            }
            return;
        }
        Val::Null => Json::Null,
        Val::Bool(b) => Json::Bool(*b),
        Val::Str(s) => Json::String(s.clone()),
        Val::Num(n) => number_json(*n),
        Val::Object => Json::Object(Map::new()),
        Val::Array => Json::Array(Vec::new()),
    };
    let keep = |old: &Json| match v {
        Val::Object => old.is_object(),
        Val::Array => old.is_array(),
        _ => false,
    };
    match last {
        Step::Key(k) => {
            if !cur.is_object() {
                *cur = Json::Object(Map::new());
            }
            if let Json::Object(m) = cur {
                if !m.get(k).is_some_and(keep) {
                    m.insert(k.clone(), value);
                }
            }
        }
        Step::Index(i) => {
            if !cur.is_array() {
                *cur = Json::Array(Vec::new());
            }
            if let Json::Array(a) = cur {
                while a.len() <= *i {
                    a.push(Json::Null);
                }
                if !keep(&a[*i]) {
                    a[*i] = value;
                }
            }
        }
        Step::AnyIndex => {}
    }
}

fn number_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

fn eval_cexpr(e: &CExpr, truth: &[bool]) -> bool {
    match e {
        CExpr::And(es) => es.iter().all(|e| eval_cexpr(e, truth)),
        CExpr::Or(es) => es.iter().any(|e| eval_cexpr(e, truth)),
        CExpr::Atom(i) => truth[*i],
    }
}

fn eval_cpat(p: &CPat, truth: &[bool], present: u32) -> bool {
    match p {
        CPat::True => true,
        CPat::Json(e) => eval_cexpr(e, truth),
        CPat::Text { all, any, none } => {
            let has = |i: &usize| present & (1 << i) != 0;
            all.iter().all(has) && (any.is_empty() || any.iter().any(has)) && !none.iter().any(has)
        }
    }
}

/// What one search category found: a record, or that some case could not be settled.
#[derive(Default)]
struct Found {
    example: Option<(Json, Vec<usize>, u32)>,
    unsettled: bool,
}

fn search(
    model: &Model,
    cand: &CPat,
    refr: &CPat,
    candidate: &Pattern,
    reference: &Pattern,
) -> Result<Decision, String> {
    let n = model.slots.len();
    let vectors: u32 = 1 << model.terms.len();
    let mut idx = vec![0usize; n];
    let mut miss = Found::default();
    let mut non_root = Found::default();
    let mut extra = Found::default();
    let mut realise_budget = MAX_REALISE;
    let mut truth = vec![false; model.atoms.len()];
    'outer: loop {
        let vals: Vec<&Val> = (0..n).map(|i| &model.slots[i].domain[idx[i]]).collect();
        if model.consistent(&vals) {
            for (a, t) in model.atoms.iter().zip(truth.iter_mut()) {
                *t = eval_test(&a.test, vals[a.slot].node());
            }
            let root = model.identity(&vals) == space::ROOT;
            for present in 0..vectors {
                let r = eval_cpat(refr, &truth, present);
                let c = eval_cpat(cand, &truth, present);
                for (want, found) in [
                    (r && !c, &mut miss),
                    (!root && c, &mut non_root),
                    (root && !r && c, &mut extra),
                ] {
                    if !want || found.example.is_some() {
                        continue;
                    }
                    if model.terms.is_empty() {
                        let rec = model.build(&vals, space::template(model.identity(&vals)));
                        found.example = Some((rec, idx.clone(), present));
                        continue;
                    }
                    if (0..model.terms.len())
                        .any(|i| present & (1 << i) == 0 && model.forced(&vals, &model.terms[i]))
                    {
                        continue; // no record of this combination lacks that term
                    }
                    if realise_budget == 0 {
                        found.unsettled = true;
                        continue;
                    }
                    realise_budget -= 1;
                    match model.realise(&vals, present) {
                        Some(rec) => found.example = Some((rec, idx.clone(), present)),
                        None => found.unsettled = true,
                    }
                }
            }
            if miss.example.is_some() && non_root.example.is_some() && extra.example.is_some() {
                break 'outer;
            }
        }
        // Next combination (the last slot turns fastest).
        let mut k = n;
        loop {
            if k == 0 {
                break 'outer;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < model.slots[k].domain.len() {
                break;
            }
            idx[k] = 0;
        }
    }

    // Every example is re-checked with the matcher; a disagreement means our model is wrong here.
    let check = |rec: &Json, want_ref: Option<bool>, want_cand: bool| {
        let ev = Event::from_json(rec);
        want_ref.into_iter().all(|w| matches(reference, &ev) == w)
            && matches(candidate, &ev) == want_cand
    };
    let mut d = Decision::default();
    if let Some((rec, at, present)) = miss.example.take() {
        if !check(&rec, Some(true), false) {
            return Err("internal check of a counter-example failed".to_string());
        }
        let vals: Vec<&Val> = (0..n).map(|i| &model.slots[i].domain[at[i]]).collect();
        d.missed = Some(explain::missed(model, cand, &vals, present));
        d.counterexample = Some(rec);
        d.covers = false;
    } else if miss.unsettled {
        return Err(
            "the text terms could not all be placed in or kept out of a record".to_string(),
        );
    } else {
        d.covers = true;
    }
    if let Some((rec, ..)) = non_root.example.take() {
        if !check(&rec, None, true) {
            return Err("internal check of a non-root example failed".to_string());
        }
        d.matches_non_root = true;
        d.non_root_example = Some(rec);
    } else if non_root.unsettled && d.covers {
        return Err("could not settle whether non-root records match".to_string());
    }
    if let Some((rec, ..)) = extra.example.take() {
        d.matches_extra_root = check(&rec, Some(false), true);
    }
    Ok(d)
}

impl Model {
    pub(crate) fn truth(&self, vals: &[&Val]) -> Vec<bool> {
        self.atoms
            .iter()
            .map(|a| eval_test(&a.test, vals[a.slot].node()))
            .collect()
    }
}

/// The candidate's JSON conditions that are false in a combination (why it does not match).
pub(crate) fn false_atoms(e: &CExpr, truth: &[bool], out: &mut Vec<usize>) {
    match e {
        CExpr::And(es) | CExpr::Or(es) => {
            for e in es {
                false_atoms(e, truth, out);
            }
        }
        CExpr::Atom(i) => {
            if !truth[*i] && !out.contains(i) {
                out.push(*i);
            }
        }
    }
}
