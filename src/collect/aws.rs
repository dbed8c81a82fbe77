//! SDK configuration and clients: the standard credential chain (aws-config), an optional assumed
//! role, an optional endpoint override (emulators), adaptive retry, and the recording interceptor
//! on every client. `collect --organization` derives one configuration per member account from the
//! caller's, with the member role's credentials.
use super::record::{Recorder, RecordingInterceptor};
use super::CollectOptions;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::sync::Arc;

/// Per-region clients of the four audited services.
pub struct Clients {
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
}

#[derive(Clone)]
pub struct Aws {
    config: SdkConfig,
    interceptor: RecordingInterceptor,
}

/// Retry: the SDK's adaptive mode (client-side rate limiting after throttling, exponential backoff
/// with jitter). The attempt count and first backoff can be lowered (tests).
fn retry_config(opts: &CollectOptions) -> RetryConfig {
    let mut r = RetryConfig::adaptive().with_max_attempts(opts.max_attempts.max(1));
    if let Some(b) = opts.initial_backoff {
        r = r.with_initial_backoff(b);
    }
    r
}

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, the proxy of HTTPS_PROXY/NO_PROXY),
/// built once and shared: the SDK would otherwise build one per client. Its connectors are cached
/// per timeout settings, so all clients share one connection pool.
fn shared_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::{proxy::ProxyConfig, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(move |settings, runtime_components| {
        let mut b = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        b.set_connector_settings(settings.cloned());
        if let Some(rc) = runtime_components {
            b.set_sleep_impl(rc.sleep_impl());
        }
        b.set_proxy_config(Some(ProxyConfig::from_env()));
        b.build()
    })
}

impl Aws {
    /// Loads the shared configuration. Credentials are resolved lazily, on the first call.
    pub async fn load(opts: &CollectOptions, recorder: Arc<Recorder>) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(shared_https_client())
            .retry_config(retry_config(opts))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(super::CONNECT_TIMEOUT.min(opts.call_timeout))
                    .operation_attempt_timeout(super::ATTEMPT_TIMEOUT.min(opts.call_timeout))
                    .operation_timeout(opts.call_timeout)
                    .build(),
            );
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(u) = &opts.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let mut config = loader.load().await;
        if let Some(arn) = &opts.role_arn {
            let mut b = aws_config::sts::AssumeRoleProvider::builder(arn.clone())
                .session_name("cwl-audit")
                .configure(&config);
            if let Some(x) = &opts.external_id {
                b = b.external_id(x.clone());
            }
            // STS needs a region to sign AssumeRole: the configured one, else the first requested.
            if config.region().is_none() {
                b = b.region(Region::new(fallback_region(opts)));
            }
            let provider = b.build().await;
            config = config
                .into_builder()
                .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
                    provider,
                ))
                .build();
        }
        Aws {
            config,
            interceptor: RecordingInterceptor(recorder),
        }
    }

    /// The same configuration with other credentials (a member account's).
    pub fn with_credentials(
        &self,
        provider: aws_sdk_sts::config::SharedCredentialsProvider,
    ) -> Aws {
        Aws {
            config: self
                .config
                .clone()
                .into_builder()
                .credentials_provider(provider)
                .build(),
            interceptor: self.interceptor.clone(),
        }
    }

    /// The provider of the role's credentials (STS AssumeRole with this configuration's
    /// credentials), from `region`'s STS endpoint: regional endpoints issue tokens that every
    /// region accepts, opt-in regions included (the global endpoint's are valid only in the
    /// regions enabled by default).
    pub async fn assume_role_provider(
        &self,
        role_arn: &str,
        session_name: &str,
        external_id: Option<&str>,
        region: &str,
    ) -> aws_config::sts::AssumeRoleProvider {
        let mut b = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name(session_name)
            .region(Region::new(region.to_string()))
            .configure(&self.config);
        if let Some(x) = external_id {
            b = b.external_id(x);
        }
        b.build().await
    }

    /// Organizations is global; its endpoint is in the partition's first region (as the Account API's).
    pub fn organizations(&self, region: &str) -> aws_sdk_organizations::Client {
        let conf = aws_sdk_organizations::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(self.interceptor.clone())
            .build();
        aws_sdk_organizations::Client::from_conf(conf)
    }

    /// The region of the environment or profile, if one is configured.
    pub fn configured_region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }

    pub fn sts(&self, region: &str) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(self.interceptor.clone())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    /// The Account API is global; its endpoint is in the partition's first region.
    pub fn account(&self, region: &str) -> aws_sdk_account::Client {
        let conf = aws_sdk_account::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(self.interceptor.clone())
            .build();
        aws_sdk_account::Client::from_conf(conf)
    }

    pub fn clients(&self, region: &str) -> Clients {
        let r = Region::new(region.to_string());
        Clients {
            cloudtrail: aws_sdk_cloudtrail::Client::from_conf(
                aws_sdk_cloudtrail::config::Builder::from(&self.config)
                    .region(r.clone())
                    .interceptor(self.interceptor.clone())
                    .build(),
            ),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(&self.config)
                    .region(r.clone())
                    .interceptor(self.interceptor.clone())
                    .build(),
            ),
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(&self.config)
                    .region(r.clone())
                    .interceptor(self.interceptor.clone())
                    .build(),
            ),
            sns: aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(&self.config)
                    .region(r)
                    .interceptor(self.interceptor.clone())
                    .build(),
            ),
        }
    }
}

/// The region for account-level calls when none is configured: the first requested, else us-east-1.
pub fn fallback_region(opts: &CollectOptions) -> String {
    match &opts.regions {
        super::Regions::List(l) => l.first().cloned(),
        _ => None,
    }
    .unwrap_or_else(|| "us-east-1".to_string())
}
