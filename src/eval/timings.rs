//! Where an evaluation's time goes, for the benchmark (`CWL_AUDIT_TIMINGS=1 cwl-audit eval ...`
//! prints one line with every phase on stderr). Phases that workers run in parallel are summed
//! over the workers (CPU time); the others are wall time. Off by default, when an atomic load per
//! account and phase is all it costs.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
pub enum Phase {
    /// First pass over every file: header and referenced accounts (parallel).
    Plan,
    /// Parsing the accounts other snapshots refer to (parallel).
    Resident,
    /// Parsing, checking and indexing the decided accounts (summed over workers).
    Load,
    /// The Rego query that decides every rule of an account (summed over workers).
    Decide,
    /// Decisions to findings (summed over workers).
    Findings,
    /// Findings to file and line, run manifests applied.
    Place,
    /// Rendering and writing the report.
    Report,
}

const NAMES: [&str; 7] = [
    "plan", "resident", "load", "decide", "findings", "place", "report",
];

static NANOS: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];
static ON: AtomicBool = AtomicBool::new(false);

/// Turns the timings on when `CWL_AUDIT_TIMINGS` is set; call once at the start of a run.
pub fn init_from_env() {
    ON.store(
        std::env::var_os("CWL_AUDIT_TIMINGS").is_some(),
        Ordering::Relaxed,
    );
}

/// Runs `f`, adding its duration to `phase` when timings are on.
pub fn time<T>(phase: Phase, f: impl FnOnce() -> T) -> T {
    if !ON.load(Ordering::Relaxed) {
        return f();
    }
    let started = Instant::now();
    let out = f();
    add(phase, started.elapsed());
    out
}

pub fn add(phase: Phase, d: Duration) {
    NANOS[phase as usize].fetch_add(
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
}

/// The phases (and the total wall time since `started`) as one line, when timings are on; the
/// CLI prints it with its other status lines.
pub fn summary(started: Instant) -> Option<String> {
    if !ON.load(Ordering::Relaxed) {
        return None;
    }
    let parts: Vec<String> = NAMES
        .iter()
        .zip(&NANOS)
        .map(|(n, v)| format!("{n} {:.3}s", v.load(Ordering::Relaxed) as f64 / 1e9))
        .collect();
    let (native, in_rego, spent) = crate::engine::chain_counts();
    Some(format!(
        "timings: {} (wall {:.3}s); chain decisions: {native} native ({:.3}s of decide), {in_rego} in Rego",
        parts.join(", "),
        started.elapsed().as_secs_f64(),
        spent.as_secs_f64(),
    ))
}
