//! Files: output that never leaves a half-written file behind, and how a path is shown in
//! messages and reports.
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed, then renamed
/// over the target, so a reader (or a crash) sees the old file or the new one, never a mix.
///
/// What `path` names is kept: a symbolic link is written through (its target is replaced, the link
/// stays), and a path that is not a regular file (a FIFO, a device such as `/dev/stdout`, a file of
/// `/proc`) is written into directly, since a rename would put a plain file in its place. A
/// regular file that is replaced keeps its permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // Links are followed by hand (a dangling one names the file to create), at most as deep as
    // the kernel follows them, so a loop is an error and never an endless recursion.
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(m) if !m.is_file() && !m.is_dir() => {
                let mut f = std::fs::OpenOptions::new().write(true).open(&path)?;
                return f.write_all(bytes).and_then(|_| f.flush());
            }
            _ => return replace(&path, bytes),
        }
    }
    Err(std::io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// The temporary-file-and-rename write of a regular file (or a new one) at `path`.
fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let kept = std::fs::metadata(path).ok().map(|m| m.permissions());
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".cwl-audit-").suffix(".tmp");
    // A temporary file is private (0600) by default, and the rename would keep that: a report
    // published by a web server or read by another user must get the mode any new file gets,
    // 0666 less the umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    if let Some(p) = kept {
        tmp.as_file().set_permissions(p)?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Renders a path for messages and reports: as given, `/`-separated, without a leading `./`.
pub fn display_path(path: &Path) -> String {
    // Only Windows separates with `\`: elsewhere it is an ordinary character of a file name, and
    // rewriting it would point findings at another file (`a\b` is not `a/b`).
    let s = path.to_string_lossy();
    let s = if cfg!(windows) {
        s.replace('\\', "/")
    } else {
        s.into_owned()
    };
    match s.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The written file has the mode a new file gets (the umask decides), not the temporary
    /// file's private 0600.
    #[cfg(unix)]
    #[test]
    fn written_file_is_not_private_to_the_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.html");
        write_atomic(&target, b"x").unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&target), mode(&plain));
    }

    /// A link is written through, a FIFO into, and a replaced file keeps its mode.
    #[cfg(unix)]
    #[test]
    fn what_the_path_names_is_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.json");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("target.json", &link).unwrap();
        write_atomic(&link, b"through").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"through");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&target, b"again").unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"piped").unwrap();
        std::os::unix::fs::symlink("loop-b", dir.path().join("loop-a")).unwrap();
        std::os::unix::fs::symlink("loop-a", dir.path().join("loop-b")).unwrap();
        let e = write_atomic(&dir.path().join("loop-a"), b"x").unwrap_err();
        assert!(e.to_string().contains("too many levels"), "{e}");
        assert_eq!(reader.join().unwrap(), b"piped");
        assert!(
            !std::fs::metadata(&fifo).unwrap().is_file(),
            "the FIFO is still a FIFO"
        );
    }

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/out.json");
        write_atomic(&target, b"first, longer content").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "temporary files left: {names:?}");
    }
}
