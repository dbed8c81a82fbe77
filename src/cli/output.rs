//! Where a command's output goes: a file, written atomically, or standard output.
use anyhow::Context as _;
use cwl_audit::fsutil;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to FILE (atomically; `-` is standard output) or standard output. A closed pipe
/// (`| head`) is not an error worth a message; any other failure to write (a full disk) is, since
/// the output was not written.
pub fn emit(output: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match output {
        Some(out) if out != Path::new("-") => fsutil::write_atomic(out, bytes)
            .with_context(|| format!("cannot write {}", out.display())),
        _ => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(super::messages::fail(
                    format!("cannot write to standard output: {e}"),
                )),
                _ => Ok(()),
            }
        }
    }
}

/// An output path that is one of the inputs (a snapshot or run manifest), or lies inside a
/// `--policy-dir`, is refused: the output would replace an input, or be read as a policy by the
/// next run. Decided: any path inside a policy directory, not only its `.rego` files, since
/// nothing there is a report's place.
pub fn refuse_input<'a>(
    out: &Path,
    inputs: impl IntoIterator<Item = &'a Path>,
    policy_dirs: &[PathBuf],
) -> anyhow::Result<()> {
    if let Some(input) = inputs.into_iter().find(|i| same_file(i, out)) {
        return Err(super::messages::fail(format!(
            "{} is an input ({}); refusing to overwrite it",
            out.display(),
            input.display()
        )));
    }
    let Some(target) = resolved(out) else {
        return Ok(());
    };
    match policy_dirs
        .iter()
        .find(|d| d.canonicalize().is_ok_and(|d| target.starts_with(d)))
    {
        Some(dir) => Err(super::messages::fail(format!(
            "{} is inside --policy-dir {}; refusing to write a report among the policies",
            out.display(),
            dir.display()
        ))),
        None => Ok(()),
    }
}

/// Where `p` is or would be: canonical if it exists, else its canonical parent and its name.
fn resolved(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = p.canonicalize() {
        return Some(c);
    }
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some(parent.canonicalize().ok()?.join(p.file_name()?))
}

/// Whether two paths name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
