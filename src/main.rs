//! The `cwl-audit` binary: the allocator and `cli::main`; each command is in src/cli/.
mod cli;

// Every allocation is counted, so a policy or input that would exhaust memory ends with exit 2
// and a message instead of an abort (see memlimit).
#[global_allocator]
static ALLOCATOR: cwl_audit::memlimit::Limited = cwl_audit::memlimit::Limited;

fn main() -> std::process::ExitCode {
    cli::main()
}
