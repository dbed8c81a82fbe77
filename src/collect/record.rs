//! An SDK interceptor on every client: counts calls for the progress line, and records each
//! operation (service, name) and each attempt, so tests can prove the collector performs exactly the
//! operations of the IAM policy and that throttled calls were retried.
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What the collector did, as seen by the SDK.
#[derive(Debug, Default)]
pub struct Recorder {
    calls: AtomicUsize,
    attempts: AtomicUsize,
    /// (SDK service name, operation name), one entry per call, in the order they started.
    operations: Mutex<Vec<(String, String)>>,
    /// One entry per attempt (a retried call appears more than once).
    attempt_log: Mutex<Vec<(String, String)>>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls started (one per operation invocation, retries not counted).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// HTTP attempts made (retries included).
    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Every call as (SDK service, operation), in start order.
    pub fn operations(&self) -> Vec<(String, String)> {
        self.operations
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// Records a call the interceptor cannot see (the AssumeRole of a credentials provider, whose
    /// STS client is aws-config's own).
    pub fn record(&self, service: &str, operation: &str) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut ops) = self.operations.lock() {
            ops.push((service.to_string(), operation.to_string()));
        }
    }

    /// Every attempt as (SDK service, operation).
    pub fn attempt_log(&self) -> Vec<(String, String)> {
        self.attempt_log
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }
}

fn metadata(cfg: &ConfigBag) -> (String, String) {
    match cfg.load::<Metadata>() {
        Some(m) => (m.service().to_string(), m.name().to_string()),
        None => ("?".to_string(), "?".to_string()),
    }
}

/// The interceptor registered on every client; shares one [`Recorder`].
#[derive(Debug, Clone)]
pub struct RecordingInterceptor(pub std::sync::Arc<Recorder>);

impl Intercept for RecordingInterceptor {
    fn name(&self) -> &'static str {
        "cwl-audit-recorder"
    }

    // Not `read_before_execution`: client interceptors run that before the operation's
    // configuration (and its Metadata) is in the bag. This hook runs once per call, after it.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut ops) = self.0.operations.lock() {
            ops.push(metadata(cfg));
        }
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut log) = self.0.attempt_log.lock() {
            log.push(metadata(cfg));
        }
        Ok(())
    }
}
