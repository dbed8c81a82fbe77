//! Coverage by construction: does a candidate pattern match every record a reference matches?
//!
//! 1. Collect the atoms of both patterns: JSON conditions, grouped by selector ("slots"), and text
//!    terms. Identical conditions are one atom.
//! 2. For each slot, build a finite set of values that realises every combination of truth values
//!    its conditions can take over the event space (`space.rs`): each constant, a value that is no
//!    constant, strings made from wildcards, numbers between and around the numeric constants,
//!    absent/null/true/false/object/array where the field allows them. When no such finite set is
//!    known to be complete (two wildcards that may match numbers on a free field, a regex on a free
//!    field, `[*]`), the question is undecided, never guessed.
//! 3. Keep one value per *class*: values that give the same truth to every part of the patterns
//!    that reads only this slot (its "features", e.g. the whole `||` of 4,000 `$.eventName = ...`
//!    conditions) cannot be told apart by either pattern, whatever the other fields hold. So a
//!    disjunction of thousands of conditions on one field costs two classes, not thousands of
//!    values, and each value's features are updated from the few conditions it changes rather
//!    than recomputed.
//! 4. Test every consistent combination of classes (and, for text terms, every presence vector
//!    that some record realises), up to [`MAX_COMBINATIONS`].
//!
//! Every "no" comes with a record that was re-checked with the matcher; a "yes" holds because the
//! value sets are complete and classes only merge values no condition distinguishes, so no class
//! of records was left out. Every loop that grows with the patterns spends from a [`Budget`], so
//! a caller's deadline stops the work wherever it is.
use super::ast::*;
use super::explain;
use super::matcher::{contains_term, eval_test, glob_match, matches, number_text, Event, Node};
use super::space::{self, FieldKind};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Instant;

/// At most this many combinations of slot classes (times text presence vectors) are tested.
pub const MAX_COMBINATIONS: u64 = 200_000;
/// At most this many distinct text terms across both patterns.
pub const MAX_TERMS: usize = 10;
/// At most this many attempts to build a record with a given set of terms.
const MAX_REALISE: usize = 4_000;

/// Why a decision stopped short of an answer.
#[derive(Debug)]
pub(crate) enum Stop {
    /// This method cannot decide the question (the reason, in words).
    Undecided(String),
    /// The caller's deadline passed first.
    TimedOut,
}

impl From<String> for Stop {
    fn from(reason: String) -> Self {
        Stop::Undecided(reason)
    }
}

#[cfg(test)]
thread_local! {
    /// Tests compare the answers with every value its own class and the product automaton always
    /// used for several wildcards: the shortcuts must never change an answer.
    pub(crate) static EXACT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn exact() -> bool {
    EXACT.get()
}

#[cfg(not(test))]
fn exact() -> bool {
    false
}

/// Work units between two readings of the clock: reading it costs far more than one unit.
const CHECK_EVERY: usize = 1 << 14;

/// The time a decision may take. Work is counted in rough units (a condition evaluated, a position
/// of a wildcard stepped); the clock is read every [`CHECK_EVERY`] of them.
pub(crate) struct Budget {
    deadline: Option<Instant>,
    spent: usize,
}

impl Budget {
    pub(crate) fn new(deadline: Option<Instant>) -> Self {
        Budget { deadline, spent: 0 }
    }

    pub(crate) fn spend(&mut self, units: usize) -> Result<(), Stop> {
        self.spent += units;
        if self.spent >= CHECK_EVERY {
            self.spent = 0;
            self.check()?;
        }
        Ok(())
    }

    pub(crate) fn check(&self) -> Result<(), Stop> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(Stop::TimedOut),
            _ => Ok(()),
        }
    }
}

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
    /// One value per class, in the order counter-examples prefer (see [`domain`]).
    pub domain: Vec<Val>,
    /// For each value of `domain`, the truth of each of the slot's features.
    feats: Vec<Vec<bool>>,
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

/// A JSON expression over features: what is left of it once every part that reads one slot only
/// is a leaf. `a = 1 || a = 2 || b = 3` is `Or[Feature(a = 1 || a = 2), Feature(b = 3)]`.
enum Skel {
    And(Vec<Skel>),
    Or(Vec<Skel>),
    Feature(usize),
}

pub(crate) struct Atom {
    pub slot: usize,
    pub test: Test,
}

/// A part of the patterns that reads one slot only.
struct Feature {
    slot: usize,
    /// Its position among the slot's features (in [`Slot::feats`]).
    local: usize,
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
}

pub(crate) struct Model {
    pub slots: Vec<Slot>,
    pub atoms: Vec<Atom>,
    pub terms: Vec<Term>,
    constraints: Vec<Constraint>,
    features: Vec<Feature>,
    type_slot: usize,
}

/// A compiled pattern and, for a JSON one, its skeleton over features.
struct Compiled {
    pat: CPat,
    skel: Option<Skel>,
}

/// Decide coverage of `reference` by `candidate` (both parsed) within `budget`.
pub(crate) fn decide(
    candidate: &Pattern,
    reference: &Pattern,
    budget: &mut Budget,
) -> Result<Decision, Stop> {
    for p in [candidate, reference] {
        match p {
            Pattern::Regex(_) => {
                return Err(Stop::Undecided(
                    "a regular expression over the whole event text".to_string(),
                ))
            }
            Pattern::Delimited(_) => {
                return Err(Stop::Undecided(
                    "a space-delimited pattern on JSON records".to_string(),
                ))
            }
            _ => {}
        }
    }
    let mut b = Builder::default();
    b.slot_of(&Selector(vec![
        Segment::Key("userIdentity".into()),
        Segment::Key("type".into()),
    ]))?;
    let cand = b.compile(candidate, budget)?;
    let refr = b.compile(reference, budget)?;
    if b.terms.len() > MAX_TERMS {
        return Err(format!("more than {MAX_TERMS} text terms").into());
    }
    let mut features = Features {
        list: Vec::new(),
        exprs: (0..b.sels.len()).map(|_| Vec::new()).collect(),
        index: HashMap::new(),
    };
    let mut skel_of = |p: &CPat| match p {
        CPat::Json(e) => Some(skeleton(e, &b.atoms, &mut features)),
        _ => None,
    };
    let cand = Compiled {
        skel: skel_of(&cand),
        pat: cand,
    };
    let refr = Compiled {
        skel: skel_of(&refr),
        pat: refr,
    };
    let model = b.finish(features.list, features.exprs, budget)?;
    let mut total: u64 = 1;
    for s in &model.slots {
        total = total.saturating_mul(s.domain.len() as u64);
    }
    total = total.saturating_mul(1u64 << model.terms.len());
    if total > MAX_COMBINATIONS {
        return Err(format!(
            "{total} combinations of field values to test (the limit is {MAX_COMBINATIONS})"
        )
        .into());
    }
    search(&model, &cand, &refr, candidate, reference, budget)
}

#[derive(Default)]
struct Builder {
    sels: Vec<Selector>,
    sel_index: HashMap<Selector, usize>,
    atoms: Vec<Atom>,
    atom_index: HashMap<(usize, String), usize>,
    terms: Vec<Term>,
    term_index: HashMap<String, usize>,
}

/// What tells two tests apart: equal keys on one slot are the same condition (`"1"` and `1` too).
fn test_key(t: &Test) -> String {
    match t {
        Test::Cmp(op, Value::Lit { text, .. }) => format!("{}\u{0}{text}", op.symbol()),
        Test::Cmp(op, Value::Regex(r)) => format!("{}\u{0}%{}", op.symbol(), r.source),
        Test::IsTrue => "IS TRUE".to_string(),
        Test::IsFalse => "IS FALSE".to_string(),
        Test::IsNull => "IS NULL".to_string(),
        Test::Exists => "EXISTS".to_string(),
        Test::NotExists => "NOT EXISTS".to_string(),
    }
}

impl Builder {
    fn slot_of(&mut self, sel: &Selector) -> Result<usize, String> {
        if sel.has_any_index() {
            return Err(format!("the selector $.{sel} uses [*]"));
        }
        if let Some(&i) = self.sel_index.get(sel) {
            return Ok(i);
        }
        self.sels.push(sel.clone());
        self.sel_index.insert(sel.clone(), self.sels.len() - 1);
        Ok(self.sels.len() - 1)
    }

    fn term_of(&mut self, t: &Term) -> usize {
        if let Some(&i) = self.term_index.get(&t.0) {
            return i;
        }
        self.terms.push(t.clone());
        self.term_index.insert(t.0.clone(), self.terms.len() - 1);
        self.terms.len() - 1
    }

    fn compile(&mut self, p: &Pattern, budget: &mut Budget) -> Result<CPat, Stop> {
        Ok(match p {
            Pattern::All => CPat::True,
            Pattern::Json(e) => CPat::Json(self.expr(e, budget)?),
            Pattern::Text(t) => CPat::Text {
                all: t.all.iter().map(|x| self.term_of(x)).collect(),
                any: t.any.iter().map(|x| self.term_of(x)).collect(),
                none: t.none.iter().map(|x| self.term_of(x)).collect(),
            },
            Pattern::Regex(_) | Pattern::Delimited(_) => {
                return Err(Stop::Undecided("unsupported pattern form".to_string()))
            }
        })
    }

    fn expr(&mut self, e: &Expr, budget: &mut Budget) -> Result<CExpr, Stop> {
        Ok(match e {
            Expr::And(es) => CExpr::And(
                es.iter()
                    .map(|e| self.expr(e, budget))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(es) => CExpr::Or(
                es.iter()
                    .map(|e| self.expr(e, budget))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Cond(c) => {
                budget.spend(1)?;
                let slot = self.slot_of(&c.selector)?;
                let key = (slot, test_key(&c.test));
                let atom = match self.atom_index.get(&key) {
                    Some(&a) => a,
                    None => {
                        self.atoms.push(Atom {
                            slot,
                            test: c.test.clone(),
                        });
                        self.atom_index.insert(key, self.atoms.len() - 1);
                        self.atoms.len() - 1
                    }
                };
                CExpr::Atom(atom)
            }
        })
    }
}

/// Stands for the asterisk itself in the 2019 reading (see [`literal_reading`]): a private-use
/// character no pattern may contain (the caller checks), so that renaming every `*` of an event to
/// it, and back, is a bijection.
pub(crate) const LITERAL_STAR: char = '\u{E02A}';

/// Whether a value's text has a `*` between other characters (`Ev*ent`).
fn inner_star(text: &str) -> bool {
    text.trim_matches('*').contains('*')
}

/// The values of `p` with a `*` inside them, in the order written.
pub(crate) fn inner_star_values(p: &Pattern, out: &mut Vec<String>) {
    fn walk(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| walk(e, out)),
            Expr::Cond(Cond {
                test: Test::Cmp(_, Value::Lit { text, .. }),
                ..
            }) if inner_star(text) && !out.contains(text) => out.push(text.clone()),
            Expr::Cond(_) => {}
        }
    }
    if let Pattern::Json(e) = p {
        walk(e, out);
    }
}

/// `p` as the 2019 guide reads it: "You can use the asterisk '*' wildcard character to match any
/// text at, before, or after a search term ... Ev*ent will only match the actual string Ev*ent".
/// The stars at the ends of a value stay wildcards; those inside become [`LITERAL_STAR`], and so
/// do the stars of text terms (always the character itself). Deciding the result with the usual
/// semantics decides the 2019 reading for the same events with every `*` renamed to that
/// character; [`unrename`] turns what is found back.
pub(crate) fn literal_reading(p: &Pattern) -> Pattern {
    fn value(v: &Value) -> Value {
        match v {
            Value::Lit { text, .. } if inner_star(text) => {
                let lead = text.len() - text.trim_start_matches('*').len();
                let inner = text.trim_matches('*');
                let trail = text.len() - lead - inner.len();
                let text = format!(
                    "{}{}{}",
                    "*".repeat(lead),
                    inner.replace('*', &LITERAL_STAR.to_string()),
                    "*".repeat(trail)
                );
                Value::Lit {
                    num: super::parse::parse_number(&text),
                    glob: text.contains('*'),
                    text,
                }
            }
            other => other.clone(),
        }
    }
    fn expr(e: &Expr) -> Expr {
        match e {
            Expr::And(es) => Expr::And(es.iter().map(expr).collect()),
            Expr::Or(es) => Expr::Or(es.iter().map(expr).collect()),
            Expr::Cond(c) => Expr::Cond(Cond {
                selector: c.selector.clone(),
                test: match &c.test {
                    Test::Cmp(op, v) => Test::Cmp(*op, value(v)),
                    t => t.clone(),
                },
            }),
        }
    }
    let term = |t: &Term| Term(t.0.replace('*', &LITERAL_STAR.to_string()));
    match p {
        Pattern::Json(e) => Pattern::Json(expr(e)),
        Pattern::Text(t) => Pattern::Text(TextPattern {
            all: t.all.iter().map(term).collect(),
            any: t.any.iter().map(term).collect(),
            none: t.none.iter().map(term).collect(),
        }),
        other => other.clone(),
    }
}

/// A text found under [`literal_reading`], with its asterisks back.
pub(crate) fn unrename(s: &str) -> String {
    s.replace(LITERAL_STAR, "*")
}

/// A record found under [`literal_reading`], with its asterisks back.
pub(crate) fn unrename_json(v: &mut Json) {
    match v {
        Json::String(s) if s.contains(LITERAL_STAR) => *s = unrename(s),
        Json::Array(a) => a.iter_mut().for_each(unrename_json),
        Json::Object(m) => m.values_mut().for_each(unrename_json),
        _ => {}
    }
}

/// A sub-expression: reading one slot only (`Local`), or several (`Mixed`, as a skeleton).
enum Part {
    Local(usize, CExpr),
    Mixed(Skel),
}

/// The features of both patterns, each once: the same part written in both (a filter that repeats
/// the reference) is one feature, so the combinations of features a slot must realise are fewer.
struct Features {
    list: Vec<Feature>,
    /// Per slot, the expression of each of its features.
    exprs: Vec<Vec<CExpr>>,
    /// (slot, written form) -> feature.
    index: HashMap<(usize, String), usize>,
}

impl Features {
    fn add(&mut self, slot: usize, expr: CExpr) -> Skel {
        let mut key = String::new();
        expr_key(&expr, &mut key);
        if let Some(&f) = self.index.get(&(slot, key.clone())) {
            return Skel::Feature(f);
        }
        let list = &mut self.exprs[slot];
        self.list.push(Feature {
            slot,
            local: list.len(),
        });
        list.push(expr);
        self.index.insert((slot, key), self.list.len() - 1);
        Skel::Feature(self.list.len() - 1)
    }
}

fn expr_key(e: &CExpr, out: &mut String) {
    match e {
        CExpr::Atom(a) => out.push_str(&a.to_string()),
        CExpr::And(es) | CExpr::Or(es) => {
            out.push(if matches!(e, CExpr::And(_)) { '&' } else { '|' });
            out.push('(');
            for x in es {
                expr_key(x, out);
                out.push(',');
            }
            out.push(')');
        }
    }
}

/// The skeleton of `e`: each maximal part that reads one slot, and in an `&&` or `||` that reads
/// several the operands that read the same slot taken together, becomes one feature of that slot.
fn skeleton(e: &CExpr, atoms: &[Atom], features: &mut Features) -> Skel {
    let mut feature = |slot: usize, expr: CExpr| features.add(slot, expr);
    match part(e, atoms, &mut feature) {
        Part::Local(slot, expr) => feature(slot, expr),
        Part::Mixed(s) => s,
    }
}

fn part(e: &CExpr, atoms: &[Atom], feature: &mut dyn FnMut(usize, CExpr) -> Skel) -> Part {
    let (es, and) = match e {
        CExpr::Atom(a) => return Part::Local(atoms[*a].slot, CExpr::Atom(*a)),
        CExpr::And(es) => (es, true),
        CExpr::Or(es) => (es, false),
    };
    let node = |v: Vec<CExpr>| if and { CExpr::And(v) } else { CExpr::Or(v) };
    let mut locals: BTreeMap<usize, Vec<CExpr>> = BTreeMap::new();
    let mut mixed: Vec<Skel> = Vec::new();
    for x in es {
        match part(x, atoms, feature) {
            Part::Local(slot, expr) => locals.entry(slot).or_default().push(expr),
            Part::Mixed(s) => mixed.push(s),
        }
    }
    if mixed.is_empty() && locals.len() == 1 {
        if let Some((slot, list)) = locals.pop_first() {
            return Part::Local(slot, node(list));
        }
    }
    let mut children: Vec<Skel> = Vec::with_capacity(locals.len() + mixed.len());
    for (slot, mut list) in locals {
        let expr = if list.len() == 1 {
            list.pop().unwrap_or_else(|| node(Vec::new()))
        } else {
            node(list)
        };
        children.push(feature(slot, expr));
    }
    children.extend(mixed);
    Part::Mixed(if and {
        Skel::And(children)
    } else {
        Skel::Or(children)
    })
}

/// The features of one slot as one tree of nodes, children before parents, so that every feature
/// can be evaluated for all atoms at once, or updated from the few atoms a value changes.
struct Arena {
    kind: Vec<NodeKind>,
    parent: Vec<Option<usize>>,
    children: Vec<u32>,
    /// Each feature's node.
    roots: Vec<usize>,
    /// The leaves of each atom (an atom may occur several times).
    leaves: HashMap<usize, Vec<usize>>,
}

#[derive(Clone, Copy)]
enum NodeKind {
    And,
    Or,
    Leaf(usize),
}

/// Every node's truth and its number of true children.
#[derive(Clone)]
struct Eval {
    value: Vec<bool>,
    true_children: Vec<u32>,
}

impl Arena {
    fn new(exprs: &[CExpr]) -> Arena {
        let mut a = Arena {
            kind: Vec::new(),
            parent: Vec::new(),
            children: Vec::new(),
            roots: Vec::new(),
            leaves: HashMap::new(),
        };
        for e in exprs {
            let r = a.add(e);
            a.roots.push(r);
        }
        a
    }

    fn add(&mut self, e: &CExpr) -> usize {
        let (kind, kids) = match e {
            CExpr::Atom(x) => (NodeKind::Leaf(*x), Vec::new()),
            CExpr::And(es) => (NodeKind::And, es.iter().map(|c| self.add(c)).collect()),
            CExpr::Or(es) => (NodeKind::Or, es.iter().map(|c| self.add(c)).collect()),
        };
        let id = self.kind.len();
        self.kind.push(kind);
        self.parent.push(None);
        self.children.push(kids.len() as u32);
        for k in kids {
            self.parent[k] = Some(id);
        }
        if let NodeKind::Leaf(x) = kind {
            self.leaves.entry(x).or_default().push(id);
        }
        id
    }

    fn holds(&self, node: usize, true_children: u32) -> bool {
        match self.kind[node] {
            NodeKind::And => true_children == self.children[node],
            NodeKind::Or => true_children > 0,
            NodeKind::Leaf(_) => false,
        }
    }

    /// Every node under `truth` of the atoms.
    fn eval(&self, truth: &dyn Fn(usize) -> bool) -> Eval {
        let n = self.kind.len();
        let mut ev = Eval {
            value: vec![false; n],
            true_children: vec![0; n],
        };
        for i in 0..n {
            let v = match self.kind[i] {
                NodeKind::Leaf(x) => truth(x),
                _ => self.holds(i, ev.true_children[i]),
            };
            ev.value[i] = v;
            if let (true, Some(p)) = (v, self.parent[i]) {
                ev.true_children[p] += 1;
            }
        }
        ev
    }

    /// The features (by position) that read one of `atoms`.
    fn features_reading(&self, atoms: &HashSet<usize>) -> Vec<usize> {
        let mut reads = vec![false; self.kind.len()];
        for i in 0..self.kind.len() {
            if let NodeKind::Leaf(a) = self.kind[i] {
                reads[i] = atoms.contains(&a);
            }
            if let (true, Some(p)) = (reads[i], self.parent[i]) {
                reads[p] = true;
            }
        }
        (0..self.roots.len())
            .filter(|&f| reads[self.roots[f]])
            .collect()
    }

    fn features(&self, ev: &Eval) -> Vec<bool> {
        self.roots.iter().map(|&r| ev.value[r]).collect()
    }

    /// The features when the atoms in `flipped` (distinct) have the opposite truth of `base`: only
    /// the nodes above them are visited.
    fn features_flipped(
        &self,
        base: &Eval,
        flipped: &[usize],
        scratch: &mut HashMap<usize, (bool, u32)>,
    ) -> Vec<bool> {
        scratch.clear();
        let mut changed: Vec<(usize, bool)> = Vec::new();
        for a in flipped {
            for &leaf in self.leaves.get(a).into_iter().flatten() {
                let v = !base.value[leaf];
                scratch.insert(leaf, (v, 0));
                changed.push((leaf, v));
            }
        }
        while let Some((node, v)) = changed.pop() {
            let Some(p) = self.parent[node] else { continue };
            let e = scratch
                .entry(p)
                .or_insert((base.value[p], base.true_children[p]));
            if v {
                e.1 += 1;
            } else {
                e.1 = e.1.saturating_sub(1);
            }
            let now = self.holds(p, e.1);
            if now != e.0 {
                e.0 = now;
                changed.push((p, now));
            }
        }
        self.roots
            .iter()
            .map(|r| scratch.get(r).map_or(base.value[*r], |e| e.0))
            .collect()
    }
}

/// How an atom's truth on a value of one kind (string or number) is found: fixed for the kind
/// unless the value equals its constant or matches its wildcard, or evaluated for each value.
struct Truths {
    /// Atoms true on a string that equals no constant and matches no wildcard.
    base_str: Vec<bool>,
    /// Atoms true on a number that equals no numeric constant (ordering and the like aside).
    base_num: Vec<bool>,
    /// String constants and the atoms that compare with them.
    by_text: HashMap<String, Vec<usize>>,
    /// Numeric constants (by the bits of the number) and the atoms that compare with them.
    by_number: HashMap<u64, Vec<usize>>,
    /// Distinct wildcard values (not `*` alone) and their atoms, in the order given to
    /// [`glob_witnesses`].
    globs: Vec<(String, Vec<usize>)>,
    /// Atoms evaluated on every string, and on every number.
    direct_str: Vec<usize>,
    direct_num: Vec<usize>,
}

fn number_key(n: f64) -> u64 {
    // -0 equals 0.
    if n == 0.0 {
        0
    } else {
        n.to_bits()
    }
}

impl Truths {
    fn new(atoms: &[Atom], of_slot: &[usize]) -> Truths {
        let mut t = Truths {
            base_str: vec![false; atoms.len()],
            base_num: vec![false; atoms.len()],
            by_text: HashMap::new(),
            by_number: HashMap::new(),
            globs: Vec::new(),
            direct_str: Vec::new(),
            direct_num: Vec::new(),
        };
        let mut glob_index: HashMap<&str, usize> = HashMap::new();
        for &a in of_slot {
            let test = &atoms[a].test;
            // The same rules as `matcher::eval_test` on a string and on a number node.
            match test {
                Test::Cmp(op, v @ Value::Lit { text, num, glob }) if !op.is_ordering() => {
                    let ne = *op == Op::Ne;
                    if *glob && v.is_match_any() {
                        t.base_str[a] = !ne;
                        t.direct_num.push(a);
                    } else if *glob {
                        t.base_str[a] = ne;
                        let g = match glob_index.get(text.as_str()) {
                            Some(&g) => g,
                            None => {
                                t.globs.push((text.clone(), Vec::new()));
                                glob_index.insert(text, t.globs.len() - 1);
                                t.globs.len() - 1
                            }
                        };
                        t.globs[g].1.push(a);
                        if glob_may_match_number(text) {
                            t.direct_num.push(a);
                        } else {
                            t.base_num[a] = ne;
                        }
                    } else {
                        t.base_str[a] = ne;
                        t.base_num[a] = ne;
                        t.by_text.entry(text.clone()).or_default().push(a);
                        if let Some(n) = num {
                            t.by_number.entry(number_key(*n)).or_default().push(a);
                        }
                    }
                }
                Test::Cmp(_, Value::Regex(_)) => {
                    t.direct_str.push(a);
                    t.direct_num.push(a);
                }
                // An ordering never holds on a string.
                Test::Cmp(..) => t.direct_num.push(a),
                Test::Exists => {
                    t.base_str[a] = true;
                    t.base_num[a] = true;
                }
                Test::NotExists | Test::IsNull | Test::IsTrue | Test::IsFalse => {}
            }
        }
        t
    }
}

/// The atoms whose truth on `v` differs from the base of its kind (`None`: not a string or a
/// number, every atom is evaluated). `accepted`: the wildcards `v` matches, when known.
fn flipped_atoms(
    t: &Truths,
    atoms: &[Atom],
    v: &Val,
    accepted: Option<&[u32]>,
    budget: &mut Budget,
) -> Result<Option<Vec<usize>>, Stop> {
    let mut out: Vec<usize> = Vec::new();
    match v {
        Val::Str(s) => {
            out.extend(t.by_text.get(s).into_iter().flatten());
            match accepted {
                Some(acc) => {
                    for &g in acc {
                        out.extend(t.globs.get(g as usize).into_iter().flat_map(|x| &x.1));
                    }
                }
                None => {
                    budget.spend(t.globs.len())?;
                    for (g, list) in &t.globs {
                        if glob_match(g, s) {
                            out.extend(list);
                        }
                    }
                }
            }
            for &a in &t.direct_str {
                if eval_test(&atoms[a].test, v.node()) != t.base_str[a] {
                    out.push(a);
                }
            }
        }
        Val::Num(n) => {
            out.extend(t.by_number.get(&number_key(*n)).into_iter().flatten());
            budget.spend(t.direct_num.len())?;
            for &a in &t.direct_num {
                if eval_test(&atoms[a].test, v.node()) != t.base_num[a] {
                    out.push(a);
                }
            }
        }
        _ => return Ok(None),
    }
    out.sort_unstable();
    out.dedup();
    Ok(Some(out))
}

/// Values of a slot, each with the wildcards (indices into the slot's distinct wildcard values) it
/// is known to match, when known.
type Values = Vec<(Val, Option<Vec<u32>>)>;

/// Everything needed to find the features of any value of one slot.
struct SlotEval {
    arena: Arena,
    truths: Truths,
    base_str: Eval,
    base_num: Eval,
    /// The slot's atoms.
    atoms: Vec<usize>,
}

impl SlotEval {
    fn new(atoms: &[Atom], of_slot: &[usize], exprs: &[CExpr]) -> SlotEval {
        let arena = Arena::new(exprs);
        let truths = Truths::new(atoms, of_slot);
        let base_str = arena.eval(&|a| truths.base_str[a]);
        let base_num = arena.eval(&|a| truths.base_num[a]);
        SlotEval {
            arena,
            truths,
            base_str,
            base_num,
            atoms: of_slot.to_vec(),
        }
    }

    /// The truth of each feature on `v` (`accepted`: the wildcards `v` matches, when known).
    fn features(
        &self,
        atoms: &[Atom],
        v: &Val,
        accepted: Option<&[u32]>,
        scratch: &mut HashMap<usize, (bool, u32)>,
        budget: &mut Budget,
    ) -> Result<Vec<bool>, Stop> {
        Ok(
            match flipped_atoms(&self.truths, atoms, v, accepted, budget)? {
                Some(flipped) => {
                    budget.spend(1 + flipped.len())?;
                    let base = if matches!(v, Val::Num(_)) {
                        &self.base_num
                    } else {
                        &self.base_str
                    };
                    self.arena.features_flipped(base, &flipped, scratch)
                }
                None => {
                    budget.spend(1 + self.atoms.len() + self.arena.kind.len())?;
                    let node = v.node();
                    let truth: HashMap<usize, bool> = self
                        .atoms
                        .iter()
                        .map(|&a| (a, eval_test(&atoms[a].test, node)))
                        .collect();
                    self.arena.features(
                        &self
                            .arena
                            .eval(&|a| truth.get(&a).copied().unwrap_or(false)),
                    )
                }
            },
        )
    }
}

/// At most this many strings made from single wildcards are tried before the product automaton.
const MAX_CHEAP_STRINGS: usize = 64;

/// Strings that, with the slot's other values, realise every combination of its features that a
/// string can realise, for a slot with several wildcard values.
///
/// The constants are values of the slot already, so only strings that are no constant are missing.
/// On those, every equality with a constant has its base truth, and the features that read no
/// wildcard are fixed: only the combinations of the features that read one can differ. First the
/// cheap way: each wildcard with its `*` removed (or filled), one at a time. When these strings
/// and the slot's other string show every combination of those features (both truths of a single
/// `||` of 4,000 wildcards: two strings), nothing can be missing, and no automaton is needed.
/// Otherwise some combination may be unreachable or reachable only by a string that matches
/// several wildcards at once, and [`glob_witnesses`] decides which.
fn glob_strings(
    sel: &Selector,
    eval: &SlotEval,
    atoms: &[Atom],
    head: &Values,
    tail: &Values,
    globs: &[String],
    budget: &mut Budget,
) -> Result<Values, Stop> {
    let glob_atoms: HashSet<usize> = eval
        .truths
        .globs
        .iter()
        .flat_map(|g| g.1.iter().copied())
        .collect();
    let reading = eval.arena.features_reading(&glob_atoms);
    let k = reading.len();
    let project = |f: Vec<bool>| -> Vec<bool> { reading.iter().map(|&i| f[i]).collect() };
    let mut scratch = HashMap::new();
    let mut strings: HashSet<String> = HashSet::new();
    let mut vectors: HashSet<Vec<bool>> = HashSet::new();
    for (v, _) in head {
        if let Val::Str(s) = v {
            strings.insert(s.clone());
        }
    }
    for (v, accepted) in tail {
        if let Val::Str(s) = v {
            strings.insert(s.clone());
            vectors.insert(project(eval.features(
                atoms,
                v,
                accepted.as_deref(),
                &mut scratch,
                budget,
            )?));
        }
    }
    let all = |vectors: &HashSet<Vec<bool>>| !exact() && k < 16 && vectors.len() == 1 << k;
    let mut extra = Vec::new();
    for g in globs.iter().take(MAX_CHEAP_STRINGS) {
        if all(&vectors) {
            return Ok(extra);
        }
        let Some(s) = ["", "q", "qq"]
            .iter()
            .map(|fill| g.replace('*', fill))
            .find(|s| !strings.contains(s))
        else {
            continue;
        };
        let v = Val::Str(s.clone());
        let f = eval.features(atoms, &v, None, &mut scratch, budget)?;
        strings.insert(s);
        if vectors.insert(project(f)) {
            extra.push((v, None));
        }
    }
    if all(&vectors) {
        return Ok(extra);
    }
    let constants: HashSet<String> = head
        .iter()
        .filter_map(|(v, _)| match v {
            Val::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    Ok(glob_witnesses(sel, globs, &constants, budget)?
        .into_iter()
        .map(|(s, accepted)| (Val::Str(s), Some(accepted)))
        .collect())
}

impl Builder {
    fn finish(
        self,
        features: Vec<Feature>,
        local_exprs: Vec<Vec<CExpr>>,
        budget: &mut Budget,
    ) -> Result<Model, Stop> {
        let n = self.sels.len();
        let mut of_slot: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, a) in self.atoms.iter().enumerate() {
            of_slot[a.slot].push(i);
        }
        // Selectors below the same top-level field may constrain each other (a parent must be an
        // object, array elements have no holes): their classes keep presence and container kind.
        let mut by_top: HashMap<&Segment, Vec<usize>> = HashMap::new();
        for (i, sel) in self.sels.iter().enumerate() {
            if let Some(first) = sel.0.first() {
                by_top.entry(first).or_default().push(i);
            }
        }
        let structural: Vec<bool> = self
            .sels
            .iter()
            .map(|s| {
                s.0.first()
                    .and_then(|f| by_top.get(f))
                    .is_some_and(|g| g.len() > 1)
            })
            .collect();
        // Paths some selector indexes into (`a` for `$.a[0]`): those fields may be arrays.
        let mut indexed: HashSet<&[Segment]> = HashSet::new();
        for sel in &self.sels {
            for (k, step) in sel.0.iter().enumerate() {
                if matches!(step, Segment::Index(_)) {
                    indexed.insert(&sel.0[..k]);
                }
            }
        }
        let mut slots = Vec::with_capacity(n);
        for (i, sel) in self.sels.iter().enumerate() {
            let tests: Vec<&Test> = of_slot[i].iter().map(|&a| &self.atoms[a].test).collect();
            let has_index_child = indexed.contains(sel.0.as_slice());
            let kind = space::kind_of(sel);
            let eval = SlotEval::new(&self.atoms, &of_slot[i], &local_exprs[i]);
            let globs: Vec<String> = eval.truths.globs.iter().map(|g| g.0.clone()).collect();
            let (head, tail) = domain(sel, kind, &tests, &globs, has_index_child, budget)?;
            let extra = if globs.len() > 1 {
                glob_strings(sel, &eval, &self.atoms, &head, &tail, &globs, budget)?
            } else {
                Vec::new()
            };
            let values = head.into_iter().chain(extra).chain(tail).collect();
            let (domain, feats) = classes(&self, i, values, &eval, structural[i], budget)?;
            slots.push(Slot {
                sel: sel.clone(),
                domain,
                feats,
            });
        }
        let mut constraints = Vec::new();
        for group in by_top.values() {
            for &i in group {
                for &j in group {
                    if i == j {
                        continue;
                    }
                    budget.spend(1)?;
                    let (a, b) = (&self.sels[i].0, &self.sels[j].0);
                    if b.len() > a.len() && b.starts_with(a) {
                        constraints.push(Constraint::Parent {
                            child: j,
                            parent: i,
                            array: matches!(b[a.len()], Segment::Index(_)),
                        });
                        continue;
                    }
                    let common = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
                    if common < a.len() && common < b.len() {
                        match (&a[common], &b[common]) {
                            // One node cannot be both an object and an array (`$.a.b` and
                            // `$.a[0]`), whichever of the two selectors the pattern names first.
                            (Segment::Key(_), Segment::Index(_))
                            | (Segment::Index(_), Segment::Key(_))
                                if i < j =>
                            {
                                constraints.push(Constraint::Exclusive(i, j))
                            }
                            (Segment::Index(x), Segment::Index(y))
                                if x < y && a.len() == common + 1 =>
                            {
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
        }
        Ok(Model {
            slots,
            atoms: self.atoms,
            terms: self.terms,
            constraints,
            features,
            type_slot: 0,
        })
    }
}

/// One value per class of `values` (the first, so the preferred order of counter-examples is
/// kept), and each class's features. Two values are in one class when every feature of the slot
/// has the same truth on both, and, where it matters, they agree on what else the search reads:
/// presence and container kind (for constraints between selectors), the identity type itself,
/// and which text terms the value's `"key":value` text contains (for text patterns).
fn classes(
    b: &Builder,
    slot: usize,
    values: Values,
    eval: &SlotEval,
    structural: bool,
    budget: &mut Budget,
) -> Result<(Vec<Val>, Vec<Vec<bool>>), Stop> {
    let mut scratch = HashMap::new();
    let mut seen: HashSet<(Vec<bool>, u8, u32, Option<String>)> = HashSet::new();
    let mut domain = Vec::new();
    let mut feats = Vec::new();
    let sel = &b.sels[slot];
    for (v, accepted) in values {
        let f = eval.features(&b.atoms, &v, accepted.as_deref(), &mut scratch, budget)?;
        let shape = if structural {
            match v {
                Val::Absent => 1,
                Val::Object => 2,
                Val::Array => 3,
                _ => 4,
            }
        } else {
            0
        };
        let terms = if b.terms.is_empty() {
            0
        } else {
            let frag = fragment(sel, &v);
            b.terms
                .iter()
                .enumerate()
                .filter(|(_, t)| frag.as_deref().is_some_and(|x| x.contains(t.0.as_str())))
                .fold(0u32, |acc, (i, _)| acc | (1 << i))
        };
        let identity = match &v {
            Val::Str(s) if slot == 0 => Some(s.clone()),
            _ => None,
        };
        let identity = if exact() {
            Some(format!("{}:{v:?}", domain.len()))
        } else {
            identity
        };
        if seen.insert((f.clone(), shape, terms, identity)) {
            domain.push(v);
            feats.push(f);
        }
    }
    Ok((domain, feats))
}

/// The text a slot's value adds to a record's compact JSON where the key and value are adjacent:
/// `"key":"value"` (or the value alone in an array).
fn fragment(sel: &Selector, v: &Val) -> Option<String> {
    let value = match v {
        Val::Str(s) => Json::String(s.clone()).to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Null => "null".to_string(),
        _ => return None,
    };
    Some(match sel.0.last() {
        Some(Segment::Key(k)) => format!("{}:{value}", Json::String(k.clone())),
        _ => value,
    })
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
const MAX_GLOB_STATES: usize = 65_536;
/// At most this many automaton positions stepped while exploring them.
const MAX_GLOB_WORK: usize = 2_000_000;

/// The positions one wildcard value's automaton may be at: `Dead` (no extension matches),
/// `Always` (every extension matches: the rest of the value is `*`), or a sorted set of positions
/// (closed over `*` matching nothing).
fn close(t: &[Option<char>], mut ps: Vec<u32>) -> Vec<u32> {
    let mut i = 0;
    while i < ps.len() {
        let p = ps[i] as usize;
        if p < t.len() && t[p].is_none() && !ps.contains(&(p as u32 + 1)) {
            ps.push(p as u32 + 1);
        }
        i += 1;
    }
    ps.sort_unstable();
    ps.dedup();
    ps
}

/// A state of the product automaton, kept sparse: only the wildcards still undecided are listed
/// with their positions; those that match every extension are in `always`; the others (that no
/// extension matches) are left out. With thousands of `Prefix*` values a state lists the few that
/// share its prefix, not all of them.
#[derive(Clone, PartialEq, Eq, Hash)]
struct GlobState {
    live: Vec<(u32, Vec<u32>)>,
    always: Vec<u32>,
}

/// Strings that realise every combination of several wildcard values on one field in which at
/// least one of them matches (the combination "none" is realised by the caller's other string):
/// one string per reachable combination, none of them a constant, each with the (sorted) indices
/// of the wildcards it matches.
///
/// Each wildcard value is a small automaton over its characters (`*` any run, every other character
/// itself); their product, over the characters of the wildcards plus one character none contains,
/// reaches every combination some string realises (any other character acts like that fresh one).
/// A breadth-first walk that visits each product state up to `k + 1` times, `k` the number of
/// constants some wildcard matches (only they can take a state's string), finds for each state that
/// many distinct strings if it has them, so one is no constant. Every combination reachable is
/// represented; none is guessed: beyond [`MAX_GLOB_STATES`] states or [`MAX_GLOB_WORK`] steps the
/// answer is undecided.
pub(crate) fn glob_witnesses(
    sel: &Selector,
    globs: &[String],
    constants: &HashSet<String>,
    budget: &mut Budget,
) -> Result<Vec<(String, Vec<u32>)>, Stop> {
    let toks: Vec<Vec<Option<char>>> = globs
        .iter()
        .map(|g| g.chars().map(|c| (c != '*').then_some(c)).collect())
        .collect();
    // From this position on, the value is only `*`: every extension matches.
    let tail: Vec<usize> = toks
        .iter()
        .map(|t| t.len() - t.iter().rev().take_while(|c| c.is_none()).count())
        .collect();
    let mut alphabet: Vec<char> = {
        let set: std::collections::BTreeSet<char> =
            toks.iter().flatten().flatten().copied().collect();
        set.into_iter().collect()
    };
    let fresh = ['~', '#', 'q', 'Z', '%', '_', '!']
        .into_iter()
        .find(|c| !alphabet.contains(c))
        .unwrap_or('\u{2603}');
    alphabet.push(fresh);
    let too_many = || {
        Stop::Undecided(format!(
            "several wildcard values on $.{sel} (more than {MAX_GLOB_STATES} combinations to explore)"
        ))
    };
    let mut work = 0usize;
    // Classify one wildcard's positions: None = dead, Some(None) = always, Some(Some(ps)) = live.
    let settle = |g: usize, ps: Vec<u32>| -> Option<Option<Vec<u32>>> {
        if ps.is_empty() {
            None
        } else if tail[g] < toks[g].len() && ps.iter().any(|&p| p as usize >= tail[g]) {
            Some(None)
        } else {
            Some(Some(ps))
        }
    };
    let mut start = GlobState {
        live: Vec::new(),
        always: Vec::new(),
    };
    for (g, t) in toks.iter().enumerate() {
        match settle(g, close(t, vec![0])) {
            None => {}
            Some(None) => start.always.push(g as u32),
            Some(Some(ps)) => start.live.push((g as u32, ps)),
        }
    }
    let accepts = |s: &GlobState| -> Vec<u32> {
        let mut v: Vec<u32> = s
            .live
            .iter()
            .filter(|(g, ps)| ps.contains(&(toks[*g as usize].len() as u32)))
            .map(|(g, _)| *g)
            .chain(s.always.iter().copied())
            .collect();
        v.sort_unstable();
        v
    };
    // Only a constant some wildcard matches can be the string of a state worth recording.
    let mut spoilers = 0usize;
    for c in constants {
        budget.spend(globs.len())?;
        if globs.iter().any(|g| glob_match(g, c)) {
            spoilers += 1;
        }
    }
    let per_state = spoilers + 1;
    let mut seen: HashMap<GlobState, usize> = HashMap::new();
    let mut queue: VecDeque<(GlobState, String)> = VecDeque::new();
    seen.insert(start.clone(), 1);
    queue.push_back((start, String::new()));
    let mut found: HashMap<Vec<u32>, String> = HashMap::new();
    let mut order: Vec<Vec<u32>> = Vec::new();
    while let Some((state, s)) = queue.pop_front() {
        let vector = accepts(&state);
        if !vector.is_empty() && !constants.contains(&s) && !found.contains_key(&vector) {
            found.insert(vector.clone(), s.clone());
            order.push(vector);
        }
        // Nothing undecided is left: every extension realises the same combination.
        if state.live.is_empty() {
            continue;
        }
        for &c in &alphabet {
            let mut next = GlobState {
                live: Vec::with_capacity(state.live.len()),
                always: state.always.clone(),
            };
            for (g, ps) in &state.live {
                let t = &toks[*g as usize];
                work += ps.len();
                let mut moved = Vec::new();
                for &p in ps {
                    match t.get(p as usize) {
                        Some(None) => moved.push(p),
                        Some(Some(x)) if *x == c => moved.push(p + 1),
                        _ => {}
                    }
                }
                match settle(*g as usize, close(t, moved)) {
                    None => {}
                    Some(None) => next.always.push(*g),
                    Some(Some(ps)) => next.live.push((*g, ps)),
                }
            }
            next.always.sort_unstable();
            budget.spend(state.live.len() + next.always.len())?;
            if work > MAX_GLOB_WORK {
                return Err(too_many());
            }
            let n = seen.entry(next.clone()).or_insert(0);
            if *n >= per_state {
                continue;
            }
            *n += 1;
            if seen.len() > MAX_GLOB_STATES {
                return Err(too_many());
            }
            let mut t = s.clone();
            t.push(c);
            queue.push_back((next, t));
        }
    }
    // Re-checked with the matcher: each string realises the combination it stands for. With
    // thousands of wildcards a full check is quadratic; the wildcards a string is said to match
    // are still checked, and the construction above is the same for every size.
    let full = order.len().saturating_mul(globs.len()) <= 65_536;
    let mut out = Vec::with_capacity(order.len());
    for vector in order {
        let Some(s) = found.remove(&vector) else {
            continue;
        };
        budget.spend(if full { globs.len() } else { vector.len() })?;
        let ok = if full {
            let got: Vec<u32> = (0..globs.len() as u32)
                .filter(|&g| glob_match(&globs[g as usize], &s))
                .collect();
            got == vector
        } else {
            vector.iter().all(|&g| glob_match(&globs[g as usize], &s))
        };
        if !ok {
            return Err(format!("several wildcard values on $.{sel}").into());
        }
        out.push((s, vector));
    }
    Ok(out)
}

/// The values to try at a slot, in the order counter-examples prefer, around the place where the
/// strings for several wildcard values go (see [`glob_strings`]): `(head, tail)`. Enough, with
/// those strings, to realise every combination of the slot's tests. A string may come with the
/// wildcards (indices into `globs`) it is known to match.
fn domain(
    sel: &Selector,
    kind: FieldKind,
    tests: &[&Test],
    globs: &[String],
    index_child: bool,
    budget: &mut Budget,
) -> Result<(Values, Values), Stop> {
    let plain = |v: Vec<Val>| (v.into_iter().map(|v| (v, None)).collect(), Vec::new());
    let strs = |list: &[&str]| list.iter().map(|s| Val::Str((*s).to_string())).collect();
    match kind {
        FieldKind::IdentityType => return Ok(plain(strs(space::IDENTITY_TYPES))),
        FieldKind::EventType => return Ok(plain(strs(space::EVENT_TYPES))),
        FieldKind::AlwaysObject => return Ok(plain(vec![Val::Object])),
        FieldKind::Never => return Ok(plain(vec![Val::Absent])),
        FieldKind::AlwaysString | FieldKind::Free => {}
    }
    let mut constants: Vec<String> = Vec::new();
    let mut strings: HashSet<String> = HashSet::new();
    let mut numbers: Vec<f64> = Vec::new();
    for t in tests {
        match t {
            Test::Cmp(_, Value::Regex(r)) => {
                return Err(format!(
                    "the regular expression %{}% on $.{sel}, which can hold any value",
                    r.source
                )
                .into())
            }
            Test::Cmp(_, v @ Value::Lit { text, num, glob }) => {
                if let Some(n) = num {
                    numbers.push(*n);
                }
                if !*glob && !v.is_match_any() && strings.insert(text.clone()) {
                    constants.push(text.clone());
                }
            }
            _ => {}
        }
    }
    budget.spend(constants.len())?;
    let mut head: Values = constants
        .iter()
        .map(|c| (Val::Str(c.clone()), None))
        .collect();
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
    budget.spend(globs.len())?;
    let mut other: Option<String> =
        space::template_string(sel).filter(|s| !strings.contains(s) && no_glob(s));
    let mut k = 1;
    while other.is_none() {
        let s = if !globs.is_empty() {
            avoid.to_string().repeat(k)
        } else {
            format!("example-{k}")
        };
        budget.spend(globs.len())?;
        if !strings.contains(&s) && no_glob(&s) {
            other = Some(s);
        }
        k += 1;
    }
    let other = other.unwrap_or_default();
    strings.insert(other.clone());
    if let [g] = globs {
        // A string the wildcard matches that is no constant.
        for k in 0..=constants.len() + 1 {
            let s = g.replace('*', &"q".repeat(k));
            if strings.insert(s.clone()) {
                head.push((Val::Str(s), Some(vec![0])));
                break;
            }
        }
    }
    if kind == FieldKind::AlwaysString {
        return Ok((head, vec![(Val::Str(other), Some(Vec::new()))]));
    }
    // Absent early: "misses root events without X" is the plainest counter-example.
    let mut tail: Values = vec![(Val::Absent, None)];
    tail.push((Val::Str(other), Some(Vec::new())));
    tail.extend([Val::Null, Val::Bool(true), Val::Bool(false)].map(|v| (v, None)));
    let numeric_globs: Vec<&String> = globs.iter().filter(|g| glob_may_match_number(g)).collect();
    if numeric_globs.len() > 1 {
        return Err(
            format!("several wildcard values on $.{sel} that may also match numbers").into(),
        );
    }
    budget.spend(numbers.len())?;
    tail.extend(
        number_reps(sel, numeric_globs.first().copied(), numbers)?
            .into_iter()
            .map(|v| (v, None)),
    );
    tail.push((Val::Object, None));
    if index_child {
        tail.push((Val::Array, None));
    }
    Ok((head, tail))
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
            frags.extend(fragment(&slot.sel, v));
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
                        .any(|s| matches!(s.sel.0.first(), Some(Segment::Key(k)) if k == c))
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

fn set_path(rec: &mut Json, steps: &[Segment], v: &Val) {
    let Some((last, parents)) = steps.split_last() else {
        return;
    };
    let mut cur = rec;
    for (k, step) in parents.iter().enumerate() {
        let next_is_index = matches!(steps[k + 1], Segment::Index(_));
        let fresh = || {
            if next_is_index {
                Json::Array(Vec::new())
            } else {
                Json::Object(Map::new())
            }
        };
        let slot: &mut Json = match step {
            Segment::Key(key) => {
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
            Segment::Index(i) => {
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
            Segment::AnyIndex => return,
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
                (Segment::Key(k), Json::Object(m)) => {
                    m.remove(k);
                }
                (Segment::Index(i), Json::Array(a)) => a.truncate(*i),
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
        Segment::Key(k) => {
            if !cur.is_object() {
                *cur = Json::Object(Map::new());
            }
            if let Json::Object(m) = cur {
                if !m.get(k).is_some_and(keep) {
                    m.insert(k.clone(), value);
                }
            }
        }
        Segment::Index(i) => {
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
        Segment::AnyIndex => {}
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

fn eval_skel(s: &Skel, feat: &dyn Fn(usize) -> bool) -> bool {
    match s {
        Skel::And(es) => es.iter().all(|e| eval_skel(e, feat)),
        Skel::Or(es) => es.iter().any(|e| eval_skel(e, feat)),
        Skel::Feature(f) => feat(*f),
    }
}

/// Whether `p` matches a record of the combination whose JSON part is `json` (the skeleton's
/// value) and whose text has the terms of `present`.
fn eval_pat(p: &CPat, json: bool, present: u32) -> bool {
    match p {
        CPat::True => true,
        CPat::Json(_) => json,
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
    cand: &Compiled,
    refr: &Compiled,
    candidate: &Pattern,
    reference: &Pattern,
    budget: &mut Budget,
) -> Result<Decision, Stop> {
    let n = model.slots.len();
    let vectors: u32 = 1 << model.terms.len();
    let mut idx = vec![0usize; n];
    let mut miss = Found::default();
    let mut non_root = Found::default();
    let mut extra = Found::default();
    let mut realise_budget = MAX_REALISE;
    let size = |s: &Option<Skel>| s.as_ref().map_or(1, skel_size);
    let cost = 1 + size(&cand.skel) + size(&refr.skel) + vectors as usize;
    'outer: loop {
        budget.spend(cost)?;
        let vals: Vec<&Val> = (0..n).map(|i| &model.slots[i].domain[idx[i]]).collect();
        if model.consistent(&vals) {
            let feat = |f: usize| {
                let Feature { slot, local } = model.features[f];
                model.slots[slot].feats[idx[slot]][local]
            };
            let json = |c: &Compiled| c.skel.as_ref().is_some_and(|s| eval_skel(s, &feat));
            let (cj, rj) = (json(cand), json(refr));
            let root = model.identity(&vals) == space::ROOT;
            for present in 0..vectors {
                let r = eval_pat(&refr.pat, rj, present);
                let c = eval_pat(&cand.pat, cj, present);
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
                    budget.spend(64)?;
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
            return Err(Stop::Undecided(
                "internal check of a counter-example failed".to_string(),
            ));
        }
        let vals: Vec<&Val> = (0..n).map(|i| &model.slots[i].domain[at[i]]).collect();
        d.missed = Some(explain::missed(model, &cand.pat, &vals, present));
        d.counterexample = Some(rec);
        d.covers = false;
    } else if miss.unsettled {
        return Err(Stop::Undecided(
            "the text terms could not all be placed in or kept out of a record".to_string(),
        ));
    } else {
        d.covers = true;
    }
    if let Some((rec, ..)) = non_root.example.take() {
        if !check(&rec, None, true) {
            return Err(Stop::Undecided(
                "internal check of a non-root example failed".to_string(),
            ));
        }
        d.matches_non_root = true;
        d.non_root_example = Some(rec);
    } else if non_root.unsettled && d.covers {
        return Err(Stop::Undecided(
            "could not settle whether non-root records match".to_string(),
        ));
    }
    if let Some((rec, ..)) = extra.example.take() {
        d.matches_extra_root = check(&rec, Some(false), true);
    }
    Ok(d)
}

fn skel_size(s: &Skel) -> usize {
    match s {
        Skel::And(es) | Skel::Or(es) => 1 + es.iter().map(skel_size).sum::<usize>(),
        Skel::Feature(_) => 1,
    }
}

impl Model {
    pub(crate) fn truth(&self, vals: &[&Val]) -> Vec<bool> {
        self.atoms
            .iter()
            .map(|a| eval_test(&a.test, vals[a.slot].node()))
            .collect()
    }
}

/// The candidate's JSON conditions that are false in a combination (why it does not match), each
/// once, in the order the pattern names them.
pub(crate) fn false_atoms(e: &CExpr, truth: &[bool], out: &mut Vec<usize>) {
    let mut seen = vec![false; truth.len()];
    false_atoms_into(e, truth, &mut seen, out);
}

fn false_atoms_into(e: &CExpr, truth: &[bool], seen: &mut [bool], out: &mut Vec<usize>) {
    match e {
        CExpr::And(es) | CExpr::Or(es) => {
            for e in es {
                false_atoms_into(e, truth, seen, out);
            }
        }
        CExpr::Atom(i) => {
            if !truth[*i] && !seen[*i] {
                seen[*i] = true;
                out.push(*i);
            }
        }
    }
}
