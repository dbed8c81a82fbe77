//! Everything the CLI tells a person besides the report: one format, one sanitizer.
//!
//! - Per-item diagnostics, like rustc's: `error: …` (an input that could not be used; the run goes
//!   on), `warning: …`, `note: …`.
//! - The one reason a command stopped, printed once by `cli::main`: `cwl-audit: error: …`; for a
//!   policy that does not compile, followed by the source line and a caret under the column.
//!
//! Every line is passed through [`cwl_audit::text::clean`]: file names, account ids and messages
//! from input never put a control or bidi character on the terminal.
use cwl_audit::engine::EngineError;
use std::io::Write as _;
use std::sync::atomic::{AtomicI8, Ordering};

/// -q = -1, default 0, -v = 1, -vv = 2 (set once in main).
static VERBOSITY: AtomicI8 = AtomicI8::new(0);

pub fn set_verbosity(v: i8) {
    VERBOSITY.store(v, Ordering::Relaxed);
}

pub fn verbosity() -> i8 {
    VERBOSITY.load(Ordering::Relaxed)
}

fn line(prefix: &str, message: &str) {
    // A closed or full stderr is not worth a panic (eprintln! would): the exit code still says.
    let _ = writeln!(
        std::io::stderr().lock(),
        "{prefix}{}",
        cwl_audit::text::clean(message)
    );
}

/// An input that could not be used; always printed.
pub fn error(message: impl AsRef<str>) {
    line("error: ", message.as_ref());
}

/// Printed unless --quiet.
pub fn warning(message: impl AsRef<str>) {
    if verbosity() >= 0 {
        line("warning: ", message.as_ref());
    }
}

/// Printed unless --quiet. (Only `collect` has notes today.)
#[cfg_attr(not(feature = "collect"), allow(dead_code))]
pub fn note(message: impl AsRef<str>) {
    if verbosity() >= 0 {
        line("note: ", message.as_ref());
    }
}

/// A status line without a level (summaries, timings); the caller decides when.
pub fn status(message: impl AsRef<str>) {
    line("", message.as_ref());
}

/// A line of a command's own text output on stdout (`rules`, `test`), sanitized line by line. A
/// closed pipe (`cwl-audit rules | head -1`) is not an error worth a message (`println!` panicked);
/// any other write error (a full disk) stops the command with exit 2, like a report that cannot be
/// written: a listing cut short must not look complete.
pub fn print(text: impl AsRef<str>) -> anyhow::Result<()> {
    let mut line = cwl_audit::text::clean_lines(text.as_ref()).into_owned();
    line.push('\n');
    super::output::emit(None, line.as_bytes())
}

/// The reason the command stopped (its whole error chain, on one line), and under it the source
/// excerpt of a policy that does not compile ([`fail_engine`]).
pub fn fatal(e: &anyhow::Error) {
    line("cwl-audit: error: ", &format!("{e:#}"));
    if let Some(x) = e.downcast_ref::<Excerpted>() {
        for l in &x.excerpt {
            line("", l);
        }
    }
}

/// A command's error from anything displayable: its text, as the user reads it.
pub fn fail(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::msg(e.to_string())
}

/// [`fail`] for an engine error: a policy that does not compile keeps the line regorus placed
/// the error on, which [`fatal`] prints under the message with a caret (`text::excerpt`).
pub fn fail_engine(e: &EngineError) -> anyhow::Error {
    match e {
        EngineError::Compile { at: Some(at), .. } => anyhow::Error::new(Excerpted {
            message: e.to_string(),
            excerpt: cwl_audit::text::excerpt(at.line, at.col, &at.text),
        }),
        _ => fail(e),
    }
}

/// An error's one line and the source excerpt to print under it.
#[derive(Debug)]
struct Excerpted {
    message: String,
    excerpt: [String; 3],
}

impl std::fmt::Display for Excerpted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Excerpted {}
