//! The flowguard Lambda function: init once, then one report per EventBridge event.

use flowguard_aws::{AwsBackend, init};
use flowguard_core::handler::{HandlerError, Setup, handle};
use flowguard_lambda::{account_of_arn, telemetry};
use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde_json::Value;
use serde_json::value::RawValue;
use std::time::{SystemTime, UNIX_EPOCH};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let policy = flowguard_core::Policy::from_env().inspect_err(|e| tracing::error!("{e}"))?;
    let config = flowguard_aws::config::load(None).await;
    let setup = init(&config, policy)
        .await
        .inspect_err(|e| tracing::error!("cannot start: {e}"))?;
    for warning in &setup.warnings {
        tracing::warn!("{warning}");
    }
    let backend = AwsBackend::new(config);
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let (backend, setup, function_name) = (&backend, &setup, function_name.as_str());
    // The payload is kept as raw JSON: flowguard's own parser (the fuzzed one) reads it, once.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        invoke(backend, setup, function_name, event)
    }))
    .await
}

async fn invoke(
    backend: &AwsBackend,
    setup: &Setup,
    function_name: &str,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<Value, Failure> {
    let account = account_of_arn(&event.context.invoked_function_arn);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let deadline = flowguard_lambda::deadline(event.context.deadline, now_ms);
    let payload = event.payload.get().as_bytes();
    let result = handle(backend, setup, account, payload, deadline).await;
    let report = match &result {
        Ok(report) => Some(report),
        Err(e) => e.report(),
    };
    if let Some(report) = report {
        println!(
            "{}",
            telemetry::summary_line(report, &event.context.request_id)
        );
        println!("{}", telemetry::emf(report, function_name, now_ms));
    }
    match result {
        Ok(report) => Ok(telemetry::report_value(&report)),
        Err(error) => {
            let retry = if error.is_retryable() {
                "Lambda will retry"
            } else {
                "it goes to the dead-letter queue"
            };
            tracing::error!(retryable = error.is_retryable(), "{error} ({retry})");
            Err(Failure(error))
        }
    }
}

/// The error the runtime reports: `errorType` says whether a retry may help, so that a
/// person reading the dead-letter queue sees at once which events will never succeed.
#[derive(Debug)]
struct Failure(HandlerError);

impl From<Failure> for Diagnostic {
    fn from(failure: Failure) -> Self {
        let kind = if failure.0.is_retryable() {
            "flowguard.RetryableFailure"
        } else {
            "flowguard.PermanentFailure"
        };
        Diagnostic {
            error_type: kind.to_owned(),
            error_message: failure.0.to_string(),
        }
    }
}
