//! Text for people: the one sanitizer of every human-readable output (text reports, `remediate`
//! comments, `diff`, `explain`, `rules`, and every warning and error line of the CLI), the
//! source excerpt shown under a policy's syntax error ([`excerpt`]), and the distance between a
//! name and the one meant, for "did you mean" ([`edit_distance`]).
//!
//! Snapshot and policy strings are hostile until shown otherwise. On a terminal, control characters
//! are escape sequences (colours, cursor moves, window titles); bidirectional controls reorder what
//! a reader sees ("Trojan Source", CVE-2021-42574); and a line or paragraph separator ends a line
//! in YAML 1.1 and in many viewers, so a name could start a line of its own in a comment; and a
//! zero-width character makes two different names look the same. Each of
//! these is replaced by a space, so the text keeps its length in characters and its words apart.
//! Machine formats (JSON, SARIF, OCSF, ASFF) keep strings exact: their serializers escape. JUnit is
//! cleaned too: its only readers are test-report pages that show it to a person.
use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a reader as it is.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
                // Zero-width and invisible characters: `Root\u{200B}Alarm` must not read as
                // `RootAlarm`.
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{180E}'
                | '\u{FEFF}'
                | '\u{00AD}'
                // The rest of Unicode's format characters (Cf) and default-ignorable code points:
                // shown as nothing (or as blanks) by most renderers, so `Root\u{E0041}Alarm` would
                // read as `RootAlarm`. Tags, interlinear annotation, musical and Egyptian format
                // controls, variation selectors, Hangul and Mongolian fillers, invisible operators.
                | '\u{034F}'
                | '\u{0600}'..='\u{0605}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{08E2}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180D}'
                | '\u{180F}'
                | '\u{2065}'
                | '\u{206A}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// `s` with every [`is_hidden`] character replaced by a space; borrowed when there is none.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if is_hidden(c) { ' ' } else { c })
            .collect(),
    )
}

/// Text of several lines: each line [`clean`]ed, the line feeds kept.
pub fn clean_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.split('\n')
            .map(|l| clean(l).into_owned())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// At most this many characters of a source line are shown under a diagnostic.
pub const EXCERPT_WIDTH: usize = 100;

/// A source line under a diagnostic, like rustc's: a gutter with the line number, the line, and a
/// caret under column `col` (1-based, counted as regorus does: a character's UTF-8 bytes, four for
/// a tab; past the end, the caret follows the last character).
///
/// ```text
///   |
/// 4 |     x := 1 +* 2
///   |       ^
/// ```
///
/// Tabs are shown as four spaces, so the caret stays under the column; a line longer than
/// [`EXCERPT_WIDTH`] is cut around the column, `...` marking each cut; every character is
/// [`clean`]ed. (A character two cells wide, as in CJK, still counts as one.)
pub fn excerpt(line_no: usize, col: usize, line: &str) -> [String; 3] {
    // The shown characters, and the index among them of the one at `col`.
    let mut shown: Vec<char> = Vec::with_capacity(line.len());
    let mut caret = None;
    let mut units = 0usize;
    for c in line.chars() {
        if caret.is_none() && units + 1 >= col {
            caret = Some(shown.len());
        }
        if c == '\t' {
            units += 4;
            shown.extend([' '; 4]);
        } else {
            units += c.len_utf8();
            shown.push(c);
        }
    }
    let mut caret = caret.unwrap_or(shown.len());
    let mut text: String = if shown.len() > EXCERPT_WIDTH {
        let start = caret
            .saturating_sub(EXCERPT_WIDTH / 2)
            .min(shown.len() - EXCERPT_WIDTH);
        let end = start + EXCERPT_WIDTH;
        caret -= start;
        let mut t = String::new();
        if start > 0 {
            t.push_str("...");
            caret += 3;
        }
        t.extend(&shown[start..end]);
        if end < shown.len() {
            t.push_str("...");
        }
        t
    } else {
        shown.into_iter().collect()
    };
    text = clean(&text).into_owned();
    let number = line_no.to_string();
    let pad = " ".repeat(number.len());
    let source = if text.is_empty() {
        format!("{number} |")
    } else {
        format!("{number} | {text}")
    };
    [
        format!("{pad} |"),
        source,
        format!("{pad} | {}^", " ".repeat(caret)),
    ]
}

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`: how far a name is
/// from the one meant, for a "did you mean" (names are short).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// `s` as one word of a POSIX shell command (remediation scripts, the HTML report's commands): as it is when it holds only characters no shell treats
/// specially, else in single quotes (inside which nothing is special; a `'` is written `'\''`).
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with(['-', '~', '#'])
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=,@+%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `s` as one word of a fish command (the completion script): fish's single quotes end at a `'`
/// and take `\\` and `\'` as escapes, unlike a POSIX shell's.
pub fn fish_word(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// serde_json's text with every hidden character ([`is_hidden`]: controls, DEL and C1, line and
/// paragraph separators, bidi, invisible) written as a `\uXXXX` escape, the same value to a JSON
/// parser. serde_json escapes only U+0000 to U+001F; the rest would reach a terminal, an editor or
/// a reader that splits lines on Unicode line breaks as they are. Outside strings JSON text holds
/// none of them except the newlines of indentation, which stay (inside a string a newline is
/// already `\n`). A character beyond U+FFFF is written as its UTF-16 surrogate pair, as JSON
/// requires (`\ue0041` would be U+E004 and a `1`).
pub fn escape_hidden_in_json(text: String) -> String {
    if !text.chars().any(|c| is_hidden(c) && c != '\n') {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) && c != '\n' {
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `1 account`, `2 accounts`: the one plural of every message (English words that take `s`).
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", plural_s(n))
}

/// The `s` of a plural, for a count already written (`{n} file{}`).
pub fn plural_s(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hidden characters become escapes that parse back to the same value, including those
    /// beyond U+FFFF (a tag character), which need a surrogate pair.
    #[test]
    fn hidden_characters_in_json_are_escapes_of_the_same_value() {
        let v = serde_json::json!({"a": "R\u{e0041}o\u{2028}t\u{85}\u{202e}\u{1b}", "b": [1]});
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let text = escape_hidden_in_json(pretty.clone());
        assert!(!text.chars().any(|c| is_hidden(c) && c != '\n'), "{text}");
        assert!(text.contains("\\udb40\\udc41"), "{text}");
        assert_eq!(text.lines().count(), pretty.lines().count());
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
    }

    /// A word is left as it is only when no shell reads anything special in it; a leading `-`
    /// would be an option, `~` a home directory and `#` a comment.
    #[test]
    fn shell_words() {
        assert_eq!(
            shell_word("snapshots/1/us-east-1.json"),
            "snapshots/1/us-east-1.json"
        );
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's;rm"), r"'it'\''s;rm'");
        assert_eq!(shell_word("$(id)"), "'$(id)'");
        for lead in ["-x", "~root", "#x"] {
            assert_eq!(shell_word(lead), format!("'{lead}'"));
        }
        assert_eq!(shell_word(""), "''");
    }

    /// Invisible format characters beyond the bidi and zero-width ones never reach a reader.
    #[test]
    fn tags_annotations_fillers_and_selectors_are_hidden() {
        let hostile = "Root\u{E0041}\u{E0001}\u{FFF9}\u{3164}\u{034F}\u{FE0F}\u{1D173}\u{E0100}X";
        assert_eq!(clean(hostile), format!("Root{}X", " ".repeat(8)));
        assert_eq!(clean("é ü 日本 🙂"), "é ü 日本 🙂", "visible text is kept");
    }

    #[test]
    fn edit_distance_counts_a_swap_as_one_edit() {
        assert_eq!(edit_distance("decision", "decision"), 0);
        assert_eq!(edit_distance("decisions", "decision"), 1);
        assert_eq!(edit_distance("desicion", "decision"), 2);
        assert_eq!(edit_distance("decisoin", "decision"), 1);
        assert_eq!(edit_distance("eu-wst-1", "eu-west-1"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn excerpt_puts_the_caret_under_the_column() {
        assert_eq!(
            excerpt(3, 16, "decision := 1 +"),
            ["  |", "3 | decision := 1 +", "  |                ^"]
        );
        // A tab is four columns for regorus, and four spaces here.
        assert_eq!(
            excerpt(12, 7, "\tx := 1 +* 2"),
            ["   |", "12 |     x := 1 +* 2", "   |       ^"]
        );
        // Past the end (an unclosed brace is reported on the empty line after the last).
        assert_eq!(excerpt(4, 1, ""), ["  |", "4 |", "  | ^"]);
        // Columns count bytes: the caret is under the character after "é" (two bytes).
        assert_eq!(
            excerpt(1, 8, "x := \"é\" +"),
            ["  |", "1 | x := \"é\" +", "  |        ^"]
        );
    }

    #[test]
    fn excerpt_of_a_long_line_is_cut_around_the_column() {
        let line = format!("msg := \"{}\" + + 1", "a".repeat(300));
        let [_, source, caret] = excerpt(3, 313, &line);
        let shown = source.strip_prefix("3 | ").unwrap();
        assert!(
            shown.starts_with("...a") && !shown.ends_with("..."),
            "{shown}"
        );
        assert_eq!(shown.chars().count(), 3 + EXCERPT_WIDTH);
        let at = caret.find('^').unwrap() - "  | ".len();
        assert_eq!(&shown[at..at + 3], "+ 1", "{source}\n{caret}");
        // Cut at both ends when the column is in the middle.
        let line = "b".repeat(1000);
        let [_, source, caret] = excerpt(1, 500, &line);
        assert!(
            source.ends_with("...") && source.contains("| ...b"),
            "{source}"
        );
        assert_eq!(caret.find('^'), Some("1 | ".len() + 3 + EXCERPT_WIDTH / 2));
    }

    #[test]
    fn excerpt_is_clean() {
        // Column 11: `:=`, after a three-byte bidi override; each hidden character is one space.
        let [_, source, caret] = excerpt(1, 11, "a\u{202E}b\u{1b}[2J := x");
        assert_eq!(source, "1 | a b [2J := x");
        assert_eq!(caret, "  |         ^");
    }

    #[test]
    fn hostile_characters_become_spaces() {
        for (hostile, shown) in [
            ("a\u{1b}[31mred", "a [31mred"),
            ("line\nbreak\r", "line break "),
            ("tab\there", "tab here"),
            ("nel\u{85}x", "nel x"),
            ("rtl\u{202E}evil\u{202C}", "rtl evil "),
            ("isolate\u{2066}x\u{2069}", "isolate x "),
            ("mark\u{200F}", "mark "),
            ("sep\u{2028}para\u{2029}", "sep para "),
            ("nul\0", "nul "),
            ("Root\u{200B}Alarm\u{FEFF}", "Root Alarm "),
        ] {
            assert_eq!(clean(hostile), shown, "{hostile:?}");
        }
        assert!(matches!(
            clean("plain: ü, 日本, emoji 🚨"),
            Cow::Borrowed(_)
        ));
    }
}
