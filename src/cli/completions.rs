//! `cwl-audit completions SHELL` and the hidden `man`: generated from the command definitions.
use super::messages::{self, verbosity};
use super::output::emit;
use super::Cli;
use anyhow::Context as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The shell to generate for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// Directory for the pages.
    #[arg(long, value_name = "DIR", default_value = "target/man")]
    out_dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "cwl-audit", &mut out);
    emit(None, &out)?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_man(args: ManArgs) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    clap_mangen::generate_to(Cli::command(), &args.out_dir)
        .with_context(|| format!("cannot write man pages to {}", args.out_dir.display()))?;
    if verbosity() >= 0 {
        messages::status(format!("man pages written to {}", args.out_dir.display()));
    }
    Ok(ExitCode::SUCCESS)
}

pub const HELP: &str = "Examples:\n  cwl-audit completions bash > ~/.local/share/bash-completion/completions/cwl-audit\n  cwl-audit completions zsh > ~/.zfunc/_cwl-audit\n  cwl-audit completions fish > ~/.config/fish/completions/cwl-audit.fish";
