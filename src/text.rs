//! Text for people: the one sanitizer of every human-readable output (text reports, `remediate`
//! comments, `diff`, `explain`, `rules`, and every warning and error line of the CLI).
//!
//! Snapshot and policy strings are hostile until shown otherwise. On a terminal, control characters
//! are escape sequences (colours, cursor moves, window titles); bidirectional controls reorder what
//! a reader sees ("Trojan Source", CVE-2021-42574); and a line or paragraph separator ends a line
//! in YAML 1.1 and in many viewers, so a name could start a line of its own in a comment; and a
//! zero-width character makes two different names look the same. Each of
//! these is replaced by a space, so the text keeps its length in characters and its words apart.
//! Machine formats (JSON, SARIF, JUnit, OCSF, ASFF) keep strings exact: their serializers escape.
use std::borrow::Cow;

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
                | '\u{2060}'
                | '\u{FEFF}'
                | '\u{00AD}'
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

#[cfg(test)]
mod tests {
    use super::*;

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
