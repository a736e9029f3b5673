//! The flowguard Lambda function: init once, then one report per EventBridge event.

use flowguard_lambda::{AwsBackend, HandlerError, Setup, account_of_arn, handle, init, telemetry};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let policy = flowguard_core::Policy::from_env().inspect_err(|e| tracing::error!("{e}"))?;
    let config = flowguard_aws::config::load(None).await;
    let setup = init(&config, policy).await.inspect_err(|e| tracing::error!("cannot start: {e}"))?;
    for warning in &setup.warnings {
        tracing::warn!("{warning}");
    }
    let backend = AwsBackend::new(config);
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let (backend, setup, function_name) = (&backend, &setup, function_name.as_str());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| invoke(backend, setup, function_name, event))).await
}

async fn invoke(backend: &AwsBackend, setup: &Setup, function_name: &str, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let account = account_of_arn(&event.context.invoked_function_arn);
    let result = handle(backend, setup, account, &event.payload).await;
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    let report = match &result {
        Ok(report) => Some(report),
        Err(e) => e.report(),
    };
    if let Some(report) = report {
        println!("{}", telemetry::summary_line(report, &event.context.request_id));
        println!("{}", telemetry::emf(report, function_name, now_ms));
    }
    match result {
        Ok(report) => Ok(serde_json::to_value(report)?),
        Err(error) => {
            let retry = if error.is_retryable() { "Lambda will retry" } else { "it goes to the dead-letter queue" };
            tracing::error!(retryable = error.is_retryable(), "{error} ({retry})");
            Err(Box::new(Failure(error)))
        }
    }
}

/// The error the runtime reports; its type name shows as `errorType`.
#[derive(Debug)]
struct Failure(HandlerError);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Failure {}
