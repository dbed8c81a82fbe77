//! Parser for the CloudWatch Logs filter-pattern language.
//!
//! Reference: AWS CloudWatch Logs User Guide, "Filter pattern syntax for metric filters, subscription
//! filters, filter log events, and Live Tail" (FilterAndPatternSyntax.html) and its sub-pages
//! "Using filter patterns to match terms in JSON log events" (matching-terms-json-log-events.html),
//! "... in unstructured log events", "... in space-delimited log events" and "Supported regular
//! expressions (regex) syntax". Section names are quoted in the comments below.
//!
//! Positions are 1-based character columns of the pattern as written (before any trimming).
//! Patterns stored in AWS were accepted by AWS, so the parser is strict only where a pattern is
//! clearly malformed (unbalanced braces, a missing value, an unknown operator); where AWS's exact
//! lexical rules are undocumented (which characters an unquoted value may contain) it is lenient.
use super::ast::*;
use super::PatternError;

/// Parse a filter pattern.
pub fn parse(src: &str) -> Result<Pattern, PatternError> {
    let chars: Vec<char> = src.chars().collect();
    let mut p = Parser {
        s: &chars,
        i: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.eof() {
        // "an empty filter pattern matches all log events" (PutMetricFilter, filterPattern).
        return Ok(Pattern::All);
    }
    let pattern = match p.peek() {
        Some('{') => p.json()?,
        Some('[') => p.delimited()?,
        Some('%') => p.standalone_regex()?,
        _ => p.text()?,
    };
    p.skip_ws();
    if !p.eof() {
        return Err(p.err("unexpected text after the end of the pattern"));
    }
    Ok(pattern)
}

/// How deep parentheses may nest in a JSON pattern. CloudWatch Logs stores at most 1,024
/// characters of pattern, and every level takes two of them (`(` and `)`), so no pattern AWS can
/// hold nests deeper than this.
pub const MAX_NESTING: usize = 512;

struct Parser<'a> {
    s: &'a [char],
    i: usize,
    /// Parentheses open at `i`.
    depth: usize,
}

/// One operand as itself, several as an `&&` or `||` of them.
fn join(mut operands: Vec<Expr>, node: fn(Vec<Expr>) -> Expr) -> Expr {
    if operands.len() == 1 {
        if let Some(e) = operands.pop() {
            return e;
        }
    }
    node(operands)
}

/// Characters that end an unquoted value or term inside a JSON expression.
fn ends_bare(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '{' | '}' | '"')
}

impl<'a> Parser<'a> {
    fn eof(&self) -> bool {
        self.i >= self.s.len()
    }
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }
    fn starts_with(&self, lit: &str) -> bool {
        lit.chars()
            .enumerate()
            .all(|(k, c)| self.peek_at(k) == Some(c))
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }
    fn err(&self, message: impl Into<String>) -> PatternError {
        PatternError::invalid(self.i + 1, message)
    }
    fn err_at(&self, at: usize, message: impl Into<String>) -> PatternError {
        PatternError::invalid(at + 1, message)
    }
    fn describe_here(&self) -> String {
        match self.peek() {
            None => "the end of the pattern".to_string(),
            Some(_) => {
                let rest: String = self.s[self.i..].iter().take(12).collect();
                format!("'{rest}'")
            }
        }
    }

    // ------------------------------------------------------------------ JSON patterns

    /// "Enclose metric filters in curly braces" (matching terms in JSON log events).
    fn json(&mut self) -> Result<Pattern, PatternError> {
        let open = self.i;
        self.i += 1;
        self.skip_ws();
        if self.peek() == Some('}') {
            return Err(self.err("expected a condition inside '{ }'"));
        }
        let e = self.or_expr()?;
        self.skip_ws();
        match self.peek() {
            Some('}') => {
                self.i += 1;
                Ok(Pattern::Json(e))
            }
            None => Err(self.err_at(open, "'{' is never closed with '}'")),
            Some(_) => Err(self.err(format!(
                "expected '&&', '||' or '}}', found {}",
                self.describe_here()
            ))),
        }
    }

    /// "Compound expressions support the use of parentheses and the following standard order of
    /// operations: () > && > ||".
    fn or_expr(&mut self) -> Result<Expr, PatternError> {
        let mut operands = Vec::new();
        loop {
            match self.and_expr()? {
                Expr::Or(inner) => operands.extend(inner),
                e => operands.push(e),
            }
            self.skip_ws();
            if !self.starts_with("||") {
                break;
            }
            self.i += 2;
        }
        Ok(join(operands, Expr::Or))
    }

    fn and_expr(&mut self) -> Result<Expr, PatternError> {
        let mut operands = Vec::new();
        loop {
            match self.unary()? {
                Expr::And(inner) => operands.extend(inner),
                e => operands.push(e),
            }
            self.skip_ws();
            if !self.starts_with("&&") {
                break;
            }
            self.i += 2;
        }
        Ok(join(operands, Expr::And))
    }

    fn unary(&mut self) -> Result<Expr, PatternError> {
        self.skip_ws();
        match self.peek() {
            Some('(') => {
                let open = self.i;
                // Each level of parentheses is a level of recursion here and in every walk over
                // the expression: bounded, so a hostile pattern is an error instead of a stack
                // overflow that would abort the whole run.
                if self.depth >= MAX_NESTING {
                    return Err(PatternError::unsupported(
                        open + 1,
                        format!("parentheses nested more than {MAX_NESTING} deep"),
                    ));
                }
                self.depth += 1;
                self.i += 1;
                let e = self.or_expr()?;
                self.depth -= 1;
                self.skip_ws();
                if self.peek() == Some(')') {
                    self.i += 1;
                    Ok(e)
                } else if self.eof() || self.peek() == Some('}') {
                    Err(self.err_at(open, "'(' is never closed with ')'"))
                } else {
                    Err(self.err(format!(
                        "expected '&&', '||' or ')', found {}",
                        self.describe_here()
                    )))
                }
            }
            Some('$') => self.cond(),
            _ => Err(self.err(format!(
                "expected a selector starting with '$.' or '(', found {}",
                self.describe_here()
            ))),
        }
    }

    /// "Set off property selectors with a dollar sign followed by a period ($.). Property selectors
    /// are alphanumeric strings that support hyphen (-) and underscore (_) characters ... Enclose
    /// [array] elements in brackets ([])."
    fn selector(&mut self) -> Result<Selector, PatternError> {
        let start = self.i;
        self.i += 1; // '$'
        if self.peek() != Some('.') {
            return Err(self.err_at(start, "a selector must start with '$.'"));
        }
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.i += 1;
                    let key_start = self.i;
                    while self
                        .peek()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '@')
                    {
                        self.i += 1;
                    }
                    if self.i == key_start {
                        return Err(self.err("expected a property name after '.'"));
                    }
                    steps.push(Segment::Key(self.s[key_start..self.i].iter().collect()));
                }
                Some('[') => {
                    if steps.is_empty() {
                        return Err(self.err("an array index must follow a property name"));
                    }
                    let open = self.i;
                    self.i += 1;
                    if self.peek() == Some('*') && self.peek_at(1) == Some(']') {
                        self.i += 2;
                        steps.push(Segment::AnyIndex);
                        continue;
                    }
                    let n_start = self.i;
                    while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        self.i += 1;
                    }
                    if self.i == n_start || self.peek() != Some(']') {
                        return Err(self.err_at(open, "expected an array index like [0] or [*]"));
                    }
                    let digits: String = self.s[n_start..self.i].iter().collect();
                    let n = digits
                        .parse::<usize>()
                        .map_err(|_| self.err_at(n_start, "array index is too large"))?;
                    self.i += 1;
                    steps.push(Segment::Index(n));
                }
                _ => break,
            }
        }
        Ok(Selector(steps))
    }

    fn keyword(&mut self) -> Option<(usize, String)> {
        let start = self.i;
        let mut j = self.i;
        while self.s.get(j).is_some_and(|c| c.is_ascii_alphabetic()) {
            j += 1;
        }
        if j == start {
            return None;
        }
        let word: String = self.s[start..j].iter().collect();
        self.i = j;
        Some((start, word.to_ascii_uppercase()))
    }

    fn cond(&mut self) -> Result<Expr, PatternError> {
        let sel_start = self.i;
        let selector = self.selector()?;
        let after_selector = self.i;
        self.skip_ws();
        let op = if self.starts_with("!=") {
            Some((Op::Ne, 2))
        } else if self.starts_with("<=") {
            Some((Op::Le, 2))
        } else if self.starts_with(">=") {
            Some((Op::Ge, 2))
        } else if self.starts_with("<") {
            Some((Op::Lt, 1))
        } else if self.starts_with(">") {
            Some((Op::Gt, 1))
        } else if self.starts_with("=") {
            Some((Op::Eq, 1))
        } else {
            None
        };
        if let Some((op, len)) = op {
            let op_at = self.i;
            self.i += len;
            let value = self.json_value(op, op_at)?;
            return Ok(Expr::Cond(Cond {
                selector,
                test: Test::Cmp(op, value),
            }));
        }
        // Keywords need whitespace after the selector: `$.aNOT EXISTS` is the selector `$.aNOT`.
        let shown: String = self.s[sel_start..after_selector].iter().collect();
        let expected =
            || format!("expected =, !=, <, <=, >, >=, IS, EXISTS or NOT EXISTS after {shown}");
        if self.i == after_selector {
            return Err(self.err(expected()));
        }
        let Some((kw_at, kw)) = self.keyword() else {
            return Err(self.err(expected()));
        };
        // "The IS variable can match fields that contain the values NULL, TRUE, or FALSE";
        // "NOT EXISTS ... return[s] JSON logs that don't contain specific fields".
        let test = match kw.as_str() {
            "IS" => {
                self.skip_ws();
                match self.keyword() {
                    Some((_, w)) if w == "TRUE" => Test::IsTrue,
                    Some((_, w)) if w == "FALSE" => Test::IsFalse,
                    Some((_, w)) if w == "NULL" => Test::IsNull,
                    Some((at, w)) if w == "NOT" => {
                        // "The variables IS NOT and EXISTS currently aren't supported" (2022 guide).
                        return Err(
                            self.err_at(at, "IS NOT is not supported; use != or NOT EXISTS")
                        );
                    }
                    Some((at, _)) => {
                        return Err(self.err_at(at, "expected TRUE, FALSE or NULL after IS"))
                    }
                    None => return Err(self.err("expected TRUE, FALSE or NULL after IS")),
                }
            }
            "EXISTS" => Test::Exists,
            "NOT" => {
                self.skip_ws();
                match self.keyword() {
                    Some((_, w)) if w == "EXISTS" => Test::NotExists,
                    Some((at, _)) => return Err(self.err_at(at, "expected EXISTS after NOT")),
                    None => return Err(self.err("expected EXISTS after NOT")),
                }
            }
            _ => return Err(self.err_at(kw_at, expected())),
        };
        Ok(Expr::Cond(Cond { selector, test }))
    }

    /// "You can enclose strings in double quotation marks ... Use the asterisk (*) as a wild card";
    /// numbers: "integers that contain plus (+) or minus (-) symbols and follow scientific notation".
    fn json_value(&mut self, op: Op, op_at: usize) -> Result<Value, PatternError> {
        self.skip_ws();
        let start = self.i;
        let value = match self.peek() {
            Some('"') => {
                let text = self.quoted()?;
                let glob = text.contains('*');
                Value::Lit {
                    num: parse_number(&text),
                    text,
                    glob,
                }
            }
            Some('%') => Value::Regex(self.regex()?),
            _ => {
                while let Some(c) = self.peek() {
                    if ends_bare(c) || self.starts_with("&&") || self.starts_with("||") {
                        break;
                    }
                    self.i += 1;
                }
                let text: String = self.s[start..self.i].iter().collect();
                if text.is_empty() {
                    return Err(self.err(format!("expected a value after '{}'", op.symbol())));
                }
                if let Some(bad) = text.chars().find(|c| matches!(c, '=' | '!' | '<' | '>')) {
                    return Err(self.err_at(
                        start,
                        format!(
                            "unexpected '{bad}' in value {text:?} (quote values that contain it)"
                        ),
                    ));
                }
                let glob = text.contains('*');
                Value::Lit {
                    num: parse_number(&text),
                    text,
                    glob,
                }
            }
        };
        if op.is_ordering() {
            match &value {
                Value::Lit {
                    num: Some(_),
                    glob: false,
                    ..
                } => {}
                _ => {
                    return Err(self.err_at(
                        start.max(op_at),
                        format!("expected a number after '{}'", op.symbol()),
                    ))
                }
            }
        }
        Ok(value)
    }

    /// A double-quoted string; `\"` and `\\` are escapes, other backslashes are kept.
    fn quoted(&mut self) -> Result<String, PatternError> {
        let open = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err_at(open, "unterminated quoted string")),
                Some('"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some('\\') if matches!(self.peek_at(1), Some('"') | Some('\\')) => {
                    out.push(self.s[self.i + 1]);
                    self.i += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// "When using regex to search and filter log data, you must surround your expressions with %."
    /// "Filter patterns with regex can only include the following: alphanumeric characters,
    /// supported symbol characters (_ # = @ / ; , -) and supported operators (^ $ ? [ ] { } | \ * + .).
    /// The ( and ) operators are not supported. Multi-byte characters are not supported."
    fn regex(&mut self) -> Result<Regex, PatternError> {
        let open = self.i;
        self.i += 1;
        let start = self.i;
        while self.peek().is_some_and(|c| c != '%') {
            self.i += 1;
        }
        if self.eof() {
            return Err(self.err_at(open, "regular expression is never closed with '%'"));
        }
        let source: String = self.s[start..self.i].iter().collect();
        self.i += 1;
        if source.is_empty() {
            return Err(self.err_at(open, "empty regular expression"));
        }
        for (k, c) in source.chars().enumerate() {
            let allowed = c.is_ascii_alphanumeric()
                || "_#=@/;,-:".contains(c)
                || "^$?[]{}|\\*+.".contains(c)
                || c == ' ';
            if !allowed {
                return Err(self.err_at(
                    start + k,
                    format!(
                        "character '{c}' is not supported in a CloudWatch Logs regular expression"
                    ),
                ));
            }
        }
        let compiled = regex::Regex::new(&source).map_err(|e| {
            self.err_at(
                start,
                format!("invalid regular expression: {}", first_line(&e.to_string())),
            )
        })?;
        Ok(Regex { source, compiled })
    }

    fn standalone_regex(&mut self) -> Result<Pattern, PatternError> {
        let r = self.regex()?;
        Ok(Pattern::Regex(r))
    }

    // ------------------------------------------------------------------ terms

    /// "Filter patterns are case sensitive. Enclose exact phrases and terms that include
    /// non-alphanumeric characters in double quotation marks"; "Place a question mark (?) before
    /// the terms that you want to match" (any of them); "Place a minus symbol (-) before the terms
    /// that you want to exclude" (matching terms in unstructured log events).
    fn text(&mut self) -> Result<Pattern, PatternError> {
        let mut t = TextPattern::default();
        loop {
            self.skip_ws();
            let Some(c) = self.peek() else { break };
            let prefix_at = self.i;
            let kind = match c {
                '?' => {
                    self.i += 1;
                    1
                }
                '-' if self
                    .peek_at(1)
                    .is_some_and(|n| n == '"' || !n.is_whitespace()) =>
                {
                    self.i += 1;
                    2
                }
                _ => 0,
            };
            let term =
                match self.peek() {
                    Some('"') => self.quoted()?,
                    Some(c) if c.is_whitespace() => {
                        return Err(self.err_at(prefix_at, "expected a term right after '?' or '-'"))
                    }
                    None => return Err(self.err_at(prefix_at, "expected a term after '?' or '-'")),
                    Some('{') | Some('[') | Some('%') => return Err(self.err(
                        "JSON, space-delimited and regex patterns cannot be combined with terms",
                    )),
                    _ => {
                        let start = self.i;
                        while self.peek().is_some_and(|c| !c.is_whitespace() && c != '"') {
                            self.i += 1;
                        }
                        self.s[start..self.i].iter().collect()
                    }
                };
            let term = Term(term);
            match kind {
                1 => t.any.push(term),
                2 => t.none.push(term),
                _ => t.all.push(term),
            }
        }
        if t.all.is_empty() && t.any.is_empty() && !t.none.is_empty() {
            // A pattern of exclusions only: every event without the terms.
            return Ok(Pattern::Text(t));
        }
        Ok(Pattern::Text(t))
    }

    // ------------------------------------------------------------------ space-delimited

    /// "To specify a metric filter pattern that parses space-delimited events, the metric filter
    /// pattern has to specify the fields with a name, separated by commas, with the entire pattern
    /// enclosed in square brackets"; "..." stands for any number of fields.
    fn delimited(&mut self) -> Result<Pattern, PatternError> {
        let open = self.i;
        self.i += 1;
        let mut fields = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.err_at(open, "'[' is never closed with ']'")),
                Some(']') if fields.is_empty() => {
                    return Err(self.err("expected a field name inside '[ ]'"))
                }
                _ => {}
            }
            if self.starts_with("...") || self.starts_with("…") {
                self.i += if self.starts_with("…") { 1 } else { 3 };
                fields.push(DelimField::Ellipsis);
            } else {
                let name = self.delim_name()?;
                self.skip_ws();
                let cond = if matches!(self.peek(), Some('=' | '!' | '<' | '>')) {
                    let first = self.delim_cmp(name.clone())?;
                    Some(self.delim_rest(first)?)
                } else {
                    None
                };
                fields.push(DelimField::Named { name, cond });
            }
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.i += 1;
                    self.skip_ws();
                    if self.peek() == Some(']') {
                        // A trailing comma, as in the documentation's `[..., request=*.html*, status_code=4*,]`.
                        self.i += 1;
                        break;
                    }
                }
                Some(']') => {
                    self.i += 1;
                    break;
                }
                None => return Err(self.err_at(open, "'[' is never closed with ']'")),
                Some(_) => {
                    return Err(self.err(format!(
                        "expected ',' or ']', found {}",
                        self.describe_here()
                    )))
                }
            }
        }
        if fields
            .iter()
            .filter(|f| matches!(f, DelimField::Ellipsis))
            .count()
            > 1
        {
            return Err(PatternError::unsupported(
                open + 1,
                "more than one '...' in a space-delimited pattern",
            ));
        }
        Ok(Pattern::Delimited(fields))
    }

    fn delim_name(&mut self) -> Result<String, PatternError> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            self.i += 1;
        }
        if self.i == start {
            return Err(self.err(format!(
                "expected a field name, found {}",
                self.describe_here()
            )));
        }
        Ok(self.s[start..self.i].iter().collect())
    }

    fn delim_cmp(&mut self, field: String) -> Result<DelimCmp, PatternError> {
        let (op, len) = if self.starts_with("!=") {
            (Op::Ne, 2)
        } else if self.starts_with("<=") {
            (Op::Le, 2)
        } else if self.starts_with(">=") {
            (Op::Ge, 2)
        } else if self.starts_with("<") {
            (Op::Lt, 1)
        } else if self.starts_with(">") {
            (Op::Gt, 1)
        } else if self.starts_with("=") {
            (Op::Eq, 1)
        } else {
            return Err(self.err("expected =, !=, <, <=, > or >="));
        };
        let op_at = self.i;
        self.i += len;
        self.skip_ws();
        let start = self.i;
        let value = match self.peek() {
            Some('"') => {
                let text = self.quoted()?;
                Value::Lit {
                    num: parse_number(&text),
                    glob: text.contains('*'),
                    text,
                }
            }
            Some('%') => Value::Regex(self.regex()?),
            _ => {
                while let Some(c) = self.peek() {
                    if c.is_whitespace()
                        || c == ','
                        || c == ']'
                        || self.starts_with("&&")
                        || self.starts_with("||")
                    {
                        break;
                    }
                    self.i += 1;
                }
                let text: String = self.s[start..self.i].iter().collect();
                if text.is_empty() {
                    return Err(self.err(format!("expected a value after '{}'", op.symbol())));
                }
                Value::Lit {
                    num: parse_number(&text),
                    glob: text.contains('*'),
                    text,
                }
            }
        };
        if op.is_ordering()
            && !matches!(
                value,
                Value::Lit {
                    num: Some(_),
                    glob: false,
                    ..
                }
            )
        {
            return Err(self.err_at(
                start.max(op_at),
                format!("expected a number after '{}'", op.symbol()),
            ));
        }
        Ok(DelimCmp { field, op, value })
    }

    fn delim_rest(&mut self, first: DelimCmp) -> Result<DelimExpr, PatternError> {
        // && binds tighter than ||, as in JSON patterns: `||` starts a new group.
        let mut any: Vec<Vec<DelimCmp>> = vec![vec![first]];
        loop {
            self.skip_ws();
            let and = self.starts_with("&&");
            let or = self.starts_with("||");
            if !and && !or {
                break;
            }
            self.i += 2;
            self.skip_ws();
            let name = self.delim_name()?;
            self.skip_ws();
            let next = self.delim_cmp(name)?;
            match any.last_mut() {
                Some(group) if and => group.push(next),
                _ => any.push(vec![next]),
            }
        }
        Ok(DelimExpr { any })
    }
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

/// "An integer with an optional + or - sign, a decimal with an optional + or - sign, or a number
/// in scientific notation" (numeric comparisons in JSON log events).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}
