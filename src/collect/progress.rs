//! The progress line on a terminal: regions done, calls made, errors. Hidden (and free) when stderr
//! is not a terminal or with --quiet.
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
                if errors == 1 { "" } else { "s" }
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
