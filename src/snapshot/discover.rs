//! Which files a run reads: named files as they are, directories searched recursively for `*.json`.
use super::{display_path, LoadError};
use std::path::{Path, PathBuf};

/// Files to load, in a stable order, and the paths that could not be searched.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<LoadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
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
        for entry in walker.filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name())) {
            match entry {
                Ok(e) if e.file_type().is_file() && is_json(e.path()) => files.push(e.into_path()),
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
    }
    files.dedup();
    (files, errors)
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|s| s.starts_with('.'))
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}
