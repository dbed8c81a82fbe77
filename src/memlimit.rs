//! A bound on the memory the process may hold, so a hostile policy (`numbers.range(1, 1e10)`
//! allocates 240 GB in one call) or input ends the run with a clear error instead of an abort or
//! the kernel's OOM killer.
//!
//! The binary installs [`Limited`] as its global allocator. regorus checks its own limits only
//! between evaluation steps, and one builtin call can allocate everything at once, so the check has
//! to be at the allocator. When an allocation would pass the limit, the process says which rule and
//! account were being evaluated and exits with code 2. Reports are written atomically (temporary
//! file + rename) after evaluation, so nothing half-written is left behind.
// The only unsafe code of the crate (Cargo.toml [lints] denies it elsewhere): a GlobalAlloc impl
// is unsafe by definition; see the SAFETY comment on it.
#![allow(unsafe_code)]
use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The default bound: far above what evaluating thousands of accounts needs (peak RSS stays below
/// the size of the snapshots), far below what takes a CI runner down.
pub const DEFAULT_LIMIT_BYTES: usize = 8 << 30;

static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Set once the limit was hit: from then on every allocation goes straight to the system allocator,
/// so the exit path itself cannot trip the limit again.
static TRIPPED: AtomicBool = AtomicBool::new(false);

/// What is being evaluated, for the message: rule labels and account ids, indexed by the
/// thread-local cell below (setting an index allocates nothing).
static RULES: OnceLock<Vec<String>> = OnceLock::new();
static ACCOUNTS: OnceLock<Vec<String>> = OnceLock::new();
thread_local! {
    static CURRENT: Cell<(usize, usize)> = const { Cell::new((usize::MAX, usize::MAX)) };
}

/// mimalloc (see Cargo.toml) with a bound on live bytes.
pub struct Limited;

// SAFETY: every method forwards to `MiMalloc` with the caller's layout and pointer unchanged; the
// bookkeeping only counts sizes and never touches the memory.
unsafe impl GlobalAlloc for Limited {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        MiMalloc.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        MiMalloc.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        release(layout.size());
        MiMalloc.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            charge(new_size - layout.size());
        } else {
            release(layout.size() - new_size);
        }
        MiMalloc.realloc(ptr, layout, new_size)
    }
}

/// Bytes a thread may allocate or free before it settles with the shared counter: one shared
/// atomic per allocation made evaluation 8% slower on two cores (the cache line bounces).
const BATCH: isize = 256 * 1024;

thread_local! {
    /// This thread's allocations minus frees not yet added to LIVE.
    static PENDING: Cell<isize> = const { Cell::new(0) };
}

fn charge(size: usize) {
    // Large allocations are checked at once: the one that matters (240 GB) must not get through.
    let pending = PENDING.with(|p| {
        let v = p.get().saturating_add(size as isize);
        p.set(v);
        v
    });
    if pending >= BATCH || size as isize >= BATCH {
        settle(pending, size);
    }
}

fn release(size: usize) {
    let pending = PENDING.with(|p| {
        let v = p.get().saturating_sub(size as isize);
        p.set(v);
        v
    });
    if pending <= -BATCH {
        settle(pending, 0);
    }
}

/// Adds this thread's pending balance to LIVE (memory freed on another thread than it was
/// allocated on makes balances negative, hence signed) and stops the process past the limit.
#[cold]
fn settle(pending: isize, asked: usize) {
    PENDING.with(|p| p.set(0));
    let live = LIVE
        .fetch_add(pending, Ordering::Relaxed)
        .saturating_add(pending);
    if live.max(0) as usize > LIMIT.load(Ordering::Relaxed) && !TRIPPED.swap(true, Ordering::SeqCst)
    {
        exceeded(asked);
    }
}

#[cold]
fn exceeded(size: usize) -> ! {
    let limit = LIMIT.load(Ordering::Relaxed);
    let (rule, account) = CURRENT.with(Cell::get);
    let rules = RULES.get();
    let account = ACCOUNTS.get().and_then(|a| a.get(account));
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "cwl-audit: error: memory limit of {} MiB exceeded (by an allocation of {} {})",
        limit >> 20,
        // In bytes below a mebibyte: "0 MiB" named no allocation at all. No formatting here
        // allocates: this runs when the allocator refused.
        if size >= 1 << 20 { size >> 20 } else { size },
        if size >= 1 << 20 { "MiB" } else { "bytes" }
    );
    match (rule, rules, account) {
        (ALL_RULES, Some(rules), Some(account)) => {
            let _ = write!(
                err,
                " while evaluating the {} rules of account {account} together (evaluate one with --rule ID to find which)",
                rules.len()
            );
        }
        (LOADING, _, Some(account)) => {
            let _ = write!(err, " while reading the snapshots of account {account}");
        }
        (rule, Some(rules), Some(account)) => {
            if let Some(rule) = rules.get(rule) {
                let _ = write!(err, " while evaluating {rule} for account {account}");
            }
        }
        _ => {}
    }
    let _ = writeln!(
        err,
        "; stopped without writing a report (raise the bound with --memory-limit)"
    );
    std::process::exit(2)
}

/// Sets the bound. Only meaningful in a process whose global allocator is [`Limited`].
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// Names what evaluation indexes refer to; called once per run.
pub fn set_names(rules: Vec<String>, accounts: Vec<String>) {
    // Rule ids and policy paths come from policy files: cleaned here, where allocating is still
    // allowed, since the message is written from inside the allocator (it cannot clean then).
    let clean = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|s| crate::text::clean(&s).into_owned())
            .collect()
    };
    let _ = RULES.set(clean(rules));
    let _ = ACCOUNTS.set(clean(accounts));
}

/// The rule index meaning "every rule at once" (one query decides all rules of an account).
pub const ALL_RULES: usize = usize::MAX - 1;

/// The rule index meaning "parsing the account's snapshots" (accounts are read when decided).
pub const LOADING: usize = usize::MAX - 2;

/// Marks this thread as evaluating rule `rule` for account `account` (indexes into `set_names`).
pub fn set_current(rule: usize, account: usize) {
    CURRENT.with(|c| c.set((rule, account)));
}
