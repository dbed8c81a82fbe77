//! Credentials of a member account in `collect --organization`: STS AssumeRole of the member role
//! through aws-config's AssumeRoleProvider (regional STS endpoint, external id, session name),
//! wrapped so that
//! - every AssumeRole waits for the STS rate limit (a thousand accounts must not burst STS),
//! - the credentials are kept and reused by every client of the account (the SDK builds one
//!   identity cache per client, and an account has four clients per region), and fetched again
//!   only when they are about to expire: a long run never uses expired credentials,
//! - the AssumeRole call is recorded like the SDK calls (the interceptor does not see the
//!   provider's own STS client).
use super::ratelimit::RateLimit;
use super::record::Recorder;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, future, ProvideCredentials};
use aws_credential_types::Credentials;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Credentials this close to their expiry are fetched again. The SDK's own cache asks again 10 s
/// before expiry; five minutes leaves room for a call that is retried with backoff.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct MemberCredentials<P> {
    inner: P,
    limit: Arc<RateLimit>,
    recorder: Arc<Recorder>,
    cached: tokio::sync::Mutex<Option<Credentials>>,
}

impl<P: ProvideCredentials> MemberCredentials<P> {
    pub fn new(inner: P, limit: Arc<RateLimit>, recorder: Arc<Recorder>) -> Self {
        MemberCredentials {
            inner,
            limit,
            recorder,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// Cached credentials while they are valid for REFRESH_BEFORE_EXPIRY more, else new ones.
    /// The lock is held while fetching, so concurrent regions of one account wait for one
    /// AssumeRole instead of each making their own.
    pub async fn get(&self) -> provider::Result {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let fresh = match c.expiry() {
                Some(exp) => exp
                    .duration_since(SystemTime::now())
                    .is_ok_and(|left| left > REFRESH_BEFORE_EXPIRY),
                None => true,
            };
            if fresh {
                return Ok(c.clone());
            }
        }
        self.limit.acquire().await;
        self.recorder.record("STS", "AssumeRole");
        let c = self.inner.provide_credentials().await?;
        *cached = Some(c.clone());
        Ok(c)
    }
}

impl<P: ProvideCredentials> ProvideCredentials for MemberCredentials<P> {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.get())
    }
}

/// The AWS error code and message of a failed AssumeRole (`AccessDenied`, ...). The provider wraps
/// the STS error; a failure before STS answered (network, no base credentials) gets the SDK's
/// failure kind.
pub fn assume_role_error(err: &CredentialsError) -> (String, String) {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::SdkError;
    let mut next = std::error::Error::source(err);
    while let Some(e) = next {
        if let Some(sdk) = e.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            return (super::errors::code(sdk), super::errors::message(sdk));
        }
        next = e.source();
    }
    let code = match err {
        CredentialsError::CredentialsNotLoaded(_) => "CredentialsNotLoaded",
        CredentialsError::ProviderTimedOut(_) => "ProviderTimedOut",
        CredentialsError::InvalidConfiguration(_) => "InvalidConfiguration",
        CredentialsError::ProviderError(_) => "ProviderError",
        CredentialsError::Unhandled(_) => "Unhandled",
        _ => "CredentialsError",
    };
    (code.to_string(), error_chain(err))
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A provider that counts its calls and hands out credentials expiring `valid` from now.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        valid: Duration,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKIA{n}"),
                "secret",
                Some("token".into()),
                Some(SystemTime::now() + self.valid),
                "test",
            )))
        }
    }

    fn wrapper(valid: Duration) -> (MemberCredentials<Counting>, Arc<AtomicUsize>, Arc<Recorder>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let recorder = Arc::new(Recorder::new());
        let w = MemberCredentials::new(
            Counting {
                calls: calls.clone(),
                valid,
            },
            Arc::new(RateLimit::per_second(1000.0)),
            recorder.clone(),
        );
        (w, calls, recorder)
    }

    #[tokio::test]
    async fn one_assume_role_for_many_clients_while_valid() {
        let (w, calls, recorder) = wrapper(Duration::from_secs(3600));
        for _ in 0..10 {
            let c = w.provide_credentials().await.unwrap();
            assert_eq!(c.access_key_id(), "AKIA0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            recorder.operations(),
            vec![("STS".into(), "AssumeRole".into())]
        );
    }

    #[tokio::test]
    async fn credentials_about_to_expire_are_fetched_again() {
        // Valid for less than REFRESH_BEFORE_EXPIRY: every use refreshes (a long run never
        // carries credentials into their last minutes).
        let (w, calls, _) = wrapper(REFRESH_BEFORE_EXPIRY - Duration::from_secs(1));
        let first = w.provide_credentials().await.unwrap();
        let second = w.provide_credentials().await.unwrap();
        assert_ne!(first.access_key_id(), second.access_key_id());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
