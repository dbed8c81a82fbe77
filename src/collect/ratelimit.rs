//! A small async rate limit (evenly spaced permits, no burst) for the APIs whose quotas are far
//! lower than the audited services': Organizations (a few requests per second per organization)
//! and STS AssumeRole. Spacing the calls keeps a large organization from being throttled into the
//! SDK's backoff at all; throttling that still happens is retried by the SDK (adaptive retry).
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimit {
    /// At most `per_second` permits a second (at least one a minute).
    pub fn per_second(per_second: f64) -> Self {
        let per_second = if per_second.is_finite() && per_second > 0.0 {
            per_second.max(1.0 / 60.0)
        } else {
            1.0
        };
        RateLimit {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: Mutex::new(None),
        }
    }

    /// Waits for the next permit. Each caller reserves its slot under the lock and sleeps outside
    /// it, so waiters are served in order without holding the lock while they sleep.
    pub async fn acquire(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = match *next {
                Some(n) if n > now => n,
                _ => now,
            };
            *next = Some(at + self.interval);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real time (tokio's paused clock needs its test-util feature, which would rebuild the SDK).
    #[tokio::test]
    async fn permits_are_spaced_by_the_interval() {
        let limit = std::sync::Arc::new(RateLimit::per_second(20.0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let l = limit.clone();
            tasks.push(tokio::spawn(async move {
                l.acquire().await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap() - start);
        }
        times.sort();
        // The first at once, then one every 50 ms (never earlier; a loaded machine may be later).
        for (i, t) in times.iter().enumerate() {
            assert!(t.as_millis() + 2 >= 50 * i as u128, "{times:?}");
        }
        assert!(times[0] < Duration::from_millis(40), "{times:?}");
    }
}
