//! The parsed form of a CloudWatch Logs filter pattern.
use std::fmt;

/// A whole filter pattern. Which form it is follows from its first character, as in CloudWatch Logs:
/// `{` a JSON pattern, `[` a space-delimited pattern, `%...%` a regular expression, anything else
/// terms; an empty pattern matches every event.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// The empty pattern (or only whitespace): every log event.
    All,
    /// `{ ... }`: conditions on the fields of a JSON event.
    Json(Expr),
    /// Terms, quoted phrases, `?` alternatives and `-` exclusions, matched against the raw text.
    Text(TextPattern),
    /// `%regex%` on its own: searched in the raw text.
    Regex(Regex),
    /// `[a, b=1, ...]`: fields of a space-delimited event.
    Delimited(Vec<DelimField>),
}

/// A boolean expression of a JSON pattern. Precedence as documented: `()` > `&&` > `||`.
///
/// `And` and `Or` hold all their operands (two or more) in one list, nested operators of the same
/// kind flattened: a chain of 4,000 `||` is one node, not a tree 4,000 deep, so every walk over an
/// expression (matching, coverage, dropping it) recurses only as deep as the parentheses nest,
/// which the parser bounds ([`MAX_NESTING`](crate::pattern::MAX_NESTING)).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cond(Cond),
}

/// One condition: a selector and what it must satisfy.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    pub selector: Selector,
    pub test: Test,
}

/// `$.a.b[0]`: the path from the root of the event. `[*]` is any element.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Selector(pub Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
    AnyIndex,
}

impl Selector {
    pub fn has_any_index(&self) -> bool {
        self.0.iter().any(|s| matches!(s, Segment::AnyIndex))
    }
}

impl fmt::Display for Selector {
    /// The path without the leading `$.`, as people say it: `userIdentity.type`, `a[0].b`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::AnyIndex => write!(f, "[*]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
    pub fn is_ordering(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Cmp(Op, Value),
    IsTrue,
    IsFalse,
    IsNull,
    Exists,
    NotExists,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A quoted or unquoted value. `num` is set when the text is a number as the documentation
    /// defines it (sign, decimals, exponent); `glob` when it contains the `*` wildcard.
    Lit {
        text: String,
        num: Option<f64>,
        glob: bool,
    },
    /// `%regex%`.
    Regex(Regex),
}

impl Value {
    /// `*` alone: any value.
    pub fn is_match_any(&self) -> bool {
        matches!(self, Value::Lit { text, glob: true, .. } if text.chars().all(|c| c == '*'))
    }
}

/// A compiled `%...%` expression (compared by its source).
#[derive(Debug, Clone)]
pub struct Regex {
    pub source: String,
    pub compiled: regex::Regex,
}

impl PartialEq for Regex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// Terms of an unstructured pattern: every `all` term, at least one `any` term (when there are
/// some), and no `none` term must occur in the raw event text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextPattern {
    pub all: Vec<Term>,
    pub any: Vec<Term>,
    pub none: Vec<Term>,
}

/// A term or quoted phrase, matched as a case-sensitive substring.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term(pub String);

/// A field of a space-delimited pattern: a name, optionally with conditions, or `...`.
#[derive(Debug, Clone, PartialEq)]
pub enum DelimField {
    Ellipsis,
    Named {
        name: String,
        cond: Option<DelimExpr>,
    },
}

/// Conditions inside a space-delimited field: `status=4* && bytes>1000`, `w1=ERROR || w1=WARN`.
/// There are no parentheses there, so with `&&` binding tighter than `||` the conditions are always
/// an `||` of `&&` groups: kept as such, flat, however many there are.
#[derive(Debug, Clone, PartialEq)]
pub struct DelimExpr {
    /// At least one group; the expression holds when every comparison of some group holds.
    pub any: Vec<Vec<DelimCmp>>,
}

/// One comparison of a space-delimited field.
#[derive(Debug, Clone, PartialEq)]
pub struct DelimCmp {
    pub field: String,
    pub op: Op,
    pub value: Value,
}
