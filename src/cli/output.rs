//! Where a command's output goes: a file, written atomically, or standard output.
use anyhow::Context as _;
use cwl_audit::fsutil;
use std::io::Write;
use std::path::Path;

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

/// An output path that is one of the input snapshots is refused: the output would replace it.
pub fn refuse_input<'a>(
    out: &Path,
    inputs: impl IntoIterator<Item = &'a Path>,
) -> anyhow::Result<()> {
    match inputs.into_iter().find(|i| same_file(i, out)) {
        Some(input) => Err(super::messages::fail(format!(
            "{} is an input snapshot ({}); refusing to overwrite it",
            out.display(),
            input.display()
        ))),
        None => Ok(()),
    }
}

/// Whether two paths name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
