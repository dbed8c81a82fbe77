//! Where SARIF artifact URIs point. GitHub code scanning maps a result to a file of the repository
//! only through a URI relative to the checkout, and the SARIF multitool rejects bare absolute paths
//! (SARIF1004), yet CI often passes `$GITHUB_WORKSPACE/snapshots`. So every snapshot path is made
//! absolute and then written relative to a source root, named by the `%SRCROOT%` base id in
//! `originalUriBaseIds`; a file outside that root gets an absolute `file://` URI instead, which
//! viewers can still open and which never pretends to be part of the repository.
//!
//! The root is, in order: `--source-root DIR`; the git work tree (the nearest ancestor with a
//! `.git` entry, a directory or a worktree's file) of the first snapshot path; the current
//! directory. The `.git` entry is looked up rather than `git` run: the evaluator needs no git binary.
use std::path::{Component, Path, PathBuf};

/// The base id every relative artifact URI is resolved against.
pub const SRCROOT: &str = "%SRCROOT%";

/// The directory relative URIs are relative to, absolute (symlinks resolved where it exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRoot {
    dir: PathBuf,
}

/// An artifact location: a URI and, when it is relative, the base it is relative to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub uri: String,
    pub base: Option<&'static str>,
}

impl SourceRoot {
    /// `dir` as the root (`--source-root`): made absolute against the current directory.
    pub fn new(dir: &Path) -> SourceRoot {
        SourceRoot {
            dir: resolve(&absolute(dir)),
        }
    }

    /// The git work tree containing the first of `paths`, else the current directory.
    pub fn discover(paths: &[PathBuf]) -> SourceRoot {
        let work_tree = paths.first().and_then(|p| {
            let start = resolve(&absolute(p));
            start
                .ancestors()
                .find(|d| d.join(".git").symlink_metadata().is_ok())
                .map(Path::to_path_buf)
        });
        match work_tree {
            Some(dir) => SourceRoot { dir },
            None => SourceRoot::new(Path::new(".")),
        }
    }

    /// The root as an absolute `file://` URI ending in `/`, as SARIF requires of a base URI.
    pub fn uri(&self) -> String {
        let mut u = file_uri(&self.dir);
        if !u.ends_with('/') {
            u.push('/');
        }
        u
    }

    /// The URI of `path` (as the user gave it: relative to the current directory, or absolute).
    pub fn locate(&self, path: &str) -> Located {
        let abs = resolve(&absolute(Path::new(path)));
        match abs.strip_prefix(&self.dir) {
            Ok(rel) if !rel.as_os_str().is_empty() => Located {
                uri: percent_encode(&crate::fsutil::display_path(rel)),
                base: Some(SRCROOT),
            },
            _ => Located {
                uri: file_uri(&abs),
                base: None,
            },
        }
    }
}

/// `p` joined to the current directory when relative (the current directory unknown: as given).
fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(p),
        Err(_) => p.to_path_buf(),
    }
}

/// Symlinks resolved when the path exists (a snapshot under a symlinked checkout is still inside
/// it); otherwise `.` and `..` removed by hand, so a path that vanished since still maps.
fn resolve(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `file:///abs/path`, escaped; a Windows drive path gets the extra `/` RFC 8089 puts before it.
fn file_uri(p: &Path) -> String {
    let s = crate::fsutil::display_path(p);
    let s = if s.starts_with('/') {
        s
    } else {
        format!("/{s}")
    };
    format!("file://{}", percent_encode(&s))
}

/// Bytes outside RFC 3986's unreserved set (and `/`) percent-encoded: a file name from a
/// snapshot directory may hold spaces, `#`, `?` or non-ASCII, none of which may stand raw in a URI.
pub fn percent_encode(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_is_relative_outside_is_a_file_uri() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("snaps/a b")).unwrap();
        std::fs::write(root.join("snaps/a b/ü.json"), "{}").unwrap();
        let r = SourceRoot::discover(&[root.join("snaps")]);
        let inside = r.locate(&root.join("snaps/a b/ü.json").to_string_lossy());
        assert_eq!(inside.uri, "snaps/a%20b/%C3%BC.json");
        assert_eq!(inside.base, Some(SRCROOT));
        let outside = r.locate(&dir.path().join("other.json").to_string_lossy());
        assert!(outside.uri.starts_with("file:///"), "{outside:?}");
        assert!(outside.uri.ends_with("/other.json"), "{outside:?}");
        assert_eq!(outside.base, None);
        assert!(r.uri().starts_with("file:///") && r.uri().ends_with("/repo/"));
    }

    /// On Unix a `\` is part of a name: the URI keeps it, encoded, so it names the same file.
    #[cfg(unix)]
    #[test]
    fn a_backslash_in_a_name_is_encoded_not_a_separator() {
        let dir = tempfile::tempdir().unwrap();
        let r = SourceRoot::new(dir.path());
        let p = dir.path().join("snap/back\\slash/us-east-1.json");
        assert_eq!(
            r.locate(&p.to_string_lossy()).uri,
            "snap/back%5Cslash/us-east-1.json"
        );
    }

    #[test]
    fn dot_dot_and_missing_files_still_map() {
        let dir = tempfile::tempdir().unwrap();
        let r = SourceRoot::new(dir.path());
        let p = dir.path().join("x/../gone/y.json");
        assert_eq!(r.locate(&p.to_string_lossy()).uri, "gone/y.json");
    }
}
