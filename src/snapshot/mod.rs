//! Snapshots: find the files, parse each once, check it against the v1 contract, and say exactly where
//! a bad file is wrong. See `docs/snapshot-format.md`.
mod discover;
pub mod index;
mod locate;
mod parse;
mod scan;
mod schema;

pub use discover::{discover, is_manifest_path};
pub use locate::{line_col, locate, locate_many, pointer_at};
pub use parse::json_error_words;
pub use scan::{scan, Scan};

use crate::fsutil::display_path;
use regorus::Value;
use std::fmt;
use std::path::Path;

/// The only format this build reads.
pub const FORMAT_V1: &str = "cwl-audit.snapshot/v1";

/// One account in one region, parsed and checked.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The path as the user gave it (relative stays relative), with `/` separators.
    pub path: String,
    pub account_id: String,
    pub partition: String,
    pub region: String,
    /// What the collector could not read (snapshot `errors`).
    pub errors: Vec<CollectionError>,
    /// The whole document, with `path` added, as policies see it.
    pub doc: Value,
}

/// A call the collector could not make, as recorded in the snapshot's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CollectionError {
    pub service: String,
    pub operation: String,
    pub resource: Option<String>,
    pub code: String,
    pub message: String,
}

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// JSON pointer (RFC 6901) of the offending value, when the text parsed.
    pub pointer: Option<String>,
    /// 1-based line and column, when known.
    pub line_col: Option<(usize, usize)>,
}

/// A file that could not be used, and why. Displays as one line: `path:line:col: pointer: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub path: String,
    pub place: Option<Place>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(place) = &self.place {
            if let Some((line, col)) = place.line_col {
                write!(f, ":{line}:{col}")?;
            }
            write!(f, ":")?;
            if let Some(pointer) = &place.pointer {
                write!(
                    f,
                    " {}:",
                    if pointer.is_empty() {
                        "(document)"
                    } else {
                        pointer
                    }
                )?;
            }
        } else {
            write!(f, ":")?;
        }
        write!(f, " {}", self.message)
    }
}

impl LoadError {
    pub fn new(path: &str, message: impl Into<String>) -> Self {
        LoadError {
            path: path.to_string(),
            place: None,
            message: message.into(),
        }
    }
}

/// The largest snapshot file `eval` reads. The biggest real account-region snapshots are a few MB
/// (thousands of alarms at ~2 KB each); anything far larger is not a snapshot, and parsing it would
/// cost memory out of proportion (a parsed value takes several times its text).
pub const MAX_FILE_BYTES: u64 = 128 * 1024 * 1024;

/// Reads and checks one snapshot file.
pub fn load_file(path: &Path) -> Result<Snapshot, LoadError> {
    let shown = display_path(path);
    let bytes = read_file(path)?;
    load_bytes(&shown, &bytes)
}

/// The text of a snapshot file, if it is a regular file within [`MAX_FILE_BYTES`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    let shown = display_path(path);
    let meta = std::fs::metadata(path)
        .map_err(|e| LoadError::new(&shown, format!("cannot read file: {e}")))?;
    // A FIFO or device named *.json would block the run or never end: only regular files are read.
    if !meta.is_file() {
        return Err(LoadError::new(&shown, "not a regular file (skipped)"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(LoadError::new(
            &shown,
            format!(
                "file is {} MB, larger than the {} MB an input file (snapshot or run manifest) may be (skipped)",
                meta.len().div_ceil(1024 * 1024),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    std::fs::read(path).map_err(|e| LoadError::new(&shown, format!("cannot read file: {e}")))
}

/// Parses and checks snapshot text that came from `shown`.
pub fn load_bytes(shown: &str, bytes: &[u8]) -> Result<Snapshot, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, col) = line_col(bytes, e.valid_up_to());
        LoadError {
            path: shown.to_string(),
            place: Some(Place {
                pointer: None,
                line_col: Some((line, col)),
            }),
            message: "not valid UTF-8 (a snapshot is UTF-8 JSON)".to_string(),
        }
    })?;
    // A byte order mark is no JSON (RFC 8259 forbids it); serde_json said only "expected value"
    // at 1:1. Editors on Windows and PowerShell's `Out-File` write one.
    if text.starts_with('\u{feff}') {
        return Err(LoadError {
            path: shown.to_string(),
            place: Some(Place {
                pointer: None,
                line_col: Some((1, 1)),
            }),
            message: "the file starts with a byte order mark (U+FEFF), which JSON does not allow: save it as UTF-8 without BOM".into(),
        });
    }
    if text.trim().is_empty() {
        return Err(LoadError::new(
            shown,
            "empty file (expected a JSON snapshot object)",
        ));
    }
    let doc: Value = parse::parse(text).map_err(|e| {
        let msg = parse::json_error_words(&e);
        LoadError {
            path: shown.to_string(),
            place: Some(Place {
                pointer: None,
                line_col: Some((e.line().max(1), e.column().max(1))),
            }),
            message: format!("invalid JSON: {msg}"),
        }
    })?;
    checked(shown, doc, Some(text))
}

/// A snapshot document that is already parsed (a working copy in memory), checked as a file is.
pub fn load_value(shown: &str, doc: Value) -> Result<Snapshot, LoadError> {
    checked(shown, doc, None)
}

/// The schema check, the lookup index and `path`; `text` (when there is one) places a problem.
fn checked(shown: &str, mut doc: Value, text: Option<&str>) -> Result<Snapshot, LoadError> {
    let header = schema::check(&doc).map_err(|problem| LoadError {
        path: shown.to_string(),
        place: Some(Place {
            line_col: text.and_then(|t| locate(t, &problem.pointer)),
            pointer: Some(problem.pointer),
        }),
        message: problem.message,
    })?;
    let lookup = index::build(&doc);
    if let Ok(obj) = doc.as_object_mut() {
        obj.insert(Value::from("path"), Value::from(shown));
        obj.insert(Value::from("index"), lookup);
    }
    Ok(Snapshot {
        path: shown.to_string(),
        account_id: header.account_id,
        partition: header.partition,
        region: header.region,
        errors: header.errors,
        doc,
    })
}
