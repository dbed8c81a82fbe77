//! The progress line on a terminal: regions done (accounts done with `--organization`), calls
//! made, errors. Hidden (and free) when stderr is not a terminal or with --quiet.
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(enabled: bool, regions: usize) -> Self {
        if !enabled {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(regions as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} regions {pos}/{len} {wide_msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    pub fn update(&self, calls: usize, errors: usize) {
        if let Some(b) = &self.bar {
            b.set_message(format!(
                "· {calls} calls · {errors} error{}",
                crate::text::plural_s(errors)
            ));
        }
    }

    pub fn region_done(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The progress line of `collect --organization`: accounts done of the accounts this run collects,
/// regions, calls, errors, failed accounts and the time left.
pub struct OrgProgress {
    bar: Option<ProgressBar>,
}

impl OrgProgress {
    pub fn new(enabled: bool, accounts: usize) -> Self {
        if !enabled {
            return OrgProgress { bar: None };
        }
        let bar =
            ProgressBar::with_draw_target(Some(accounts as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} accounts {pos}/{len} {wide_msg} [{elapsed}, ETA {eta}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        OrgProgress { bar: Some(bar) }
    }

    pub fn update(&self, regions: usize, calls: usize, errors: usize, failed: usize) {
        if let Some(b) = &self.bar {
            b.set_message(format!(
                "· {regions} regions · {calls} calls · {errors} error{} · {failed} account{} failed",
                crate::text::plural_s(errors),
                crate::text::plural_s(failed)
            ));
        }
    }

    pub fn account_done(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
