//! Which files a run reads: named files as they are, directories searched recursively for `*.json`.
use super::LoadError;
use crate::fsutil::display_path;
use std::path::{Path, PathBuf};

/// What a directory without snapshots is told as (the path is in front of it).
const NO_SNAPSHOT: &str =
    "no snapshot found: no *.json file in this directory (hidden files and directories are skipped)";

/// Files to load, in a stable order, and the paths that could not be searched.
///
/// A directory that holds no `*.json` file is an error, not an empty result: a run over nothing
/// would pass everything, and its SARIF, uploaded, would close every open alert. So each directory
/// named must yield a snapshot (a mistyped path, a checkout without the snapshots, a collection that
/// wrote nothing), and the run that reports it is marked failed like any other with unusable input.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<LoadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        let (files_before, errors_before) = (files.len(), errors.len());
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                errors.push(LoadError::new(
                    &display_path(root),
                    format!("cannot read: {e}"),
                ));
                continue;
            }
        };
        if !meta.is_dir() {
            files.push(root.clone());
            continue;
        }
        // follow_links so a linked directory of snapshots is read; walkdir reports link loops as errors.
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        for entry in walker.filter_entry(|e| e.depth() == 0 || !is_dotfile(e.file_name())) {
            match entry {
                Ok(e) if e.file_type().is_file() && is_json(e.path()) => files.push(e.into_path()),
                // A *.json that is not a regular file (a FIFO, a device, a link to one) is read as
                // a file so that its error is reported: skipped in silence, a run manifest that is
                // not a file would make its failed accounts disappear.
                Ok(e) if !e.file_type().is_dir() && is_json(e.path()) => files.push(e.into_path()),
                Ok(e) if e.file_type().is_dir() && is_manifest_path(e.path()) => {
                    errors.push(LoadError::new(
                        &display_path(e.path()),
                        "a directory named like a run manifest: the manifest of this collection is not usable",
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    let at = e.path().map_or_else(|| display_path(root), display_path);
                    let why = if e.loop_ancestor().is_some() {
                        "directory symlink loop (skipped)".to_string()
                    } else {
                        format!(
                            "cannot read: {}",
                            e.io_error()
                                .map_or_else(|| e.to_string(), |io| io.to_string())
                        )
                    };
                    errors.push(LoadError::new(&at, why));
                }
            }
        }
        // An unreadable part of the directory already says why nothing was found.
        if files.len() == files_before && errors.len() == errors_before {
            errors.push(LoadError::new(&display_path(root), NO_SNAPSHOT));
        }
    }
    // A path that is not UTF-8 cannot be named by any report (JSON strings, SARIF URIs): every
    // finding in it would point at a file that does not exist, with U+FFFD for the bytes. Refused,
    // named as well as it can be.
    files.retain(|f| {
        let named = f.to_str().is_some();
        if !named {
            errors.push(LoadError::new(
                &display_path(f),
                "file name is not valid UTF-8, so no report could name it: rename it (skipped)",
            ));
        }
        named
    });
    // The same file reached twice (`eval d d`, `eval d d/123456789012`) is read once: it is not
    // a second snapshot of its account and region. Only several roots can overlap, so one root
    // (the usual run, thousands of files) costs no path resolution.
    if paths.len() > 1 {
        let mut seen = std::collections::HashSet::new();
        files.retain(|f| seen.insert(f.canonicalize().unwrap_or_else(|_| f.clone())));
    }
    (files, errors)
}

fn is_dotfile(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|s| s.starts_with('.'))
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Is this file a run manifest (by name)? Snapshots live at `<account>/<region>.json`, so the names
/// never collide; `eval` reads such files as manifests, never as snapshots. Decided here, where
/// inputs are found, so that finding files needs nothing from `manifest` (which names its files
/// `cwl-audit-manifest[.shard-I-of-N].json`; a test there keeps the two in step).
pub fn is_manifest_path(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("cwl-audit-manifest") && n.ends_with(".json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "{}").unwrap();
    }

    #[test]
    fn a_directory_without_snapshots_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let (empty, other, full) = (
            dir.path().join("empty"),
            dir.path().join("other"),
            dir.path().join("full"),
        );
        std::fs::create_dir_all(&empty).unwrap();
        // Neither counts: not *.json, and hidden.
        write(&other.join("notes.txt"));
        write(&other.join(".cache/a.json"));
        write(&full.join("111111111111/us-east-1.json"));
        let (files, errors) = discover(&[empty.clone(), full.clone(), other.clone()]);
        assert_eq!(files, vec![full.join("111111111111/us-east-1.json")]);
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            vec![
                format!("{}: {NO_SNAPSHOT}", display_path(&empty)),
                format!("{}: {NO_SNAPSHOT}", display_path(&other)),
            ]
        );
    }

    #[test]
    fn a_missing_path_is_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let (_, errors) = discover(&[dir.path().join("nope")]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.starts_with("cannot read:"), "{errors:?}");
    }
}
