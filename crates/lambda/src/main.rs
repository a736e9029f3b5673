//! The flowguard Lambda function: init once, then one report per EventBridge event. In
//! organization mode (`FLOWGUARD_ACCOUNTS` or `FLOWGUARD_ORGANIZATION`), the same function is
//! the hub: it handles each event in its own account, and sweeps every account on schedule.

use flowguard_aws::{AwsBackend, Clients, caller_account, init, init_hub};
use flowguard_core::handler::{HandlerError, Setup, handle};
use flowguard_core::organization::{OrgConfig, OrgHandled, handle_organization};
use flowguard_lambda::hub::Hub;
use flowguard_lambda::{account_of_arn, telemetry};
use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde_json::Value;
use serde_json::value::RawValue;
use std::time::{SystemTime, UNIX_EPOCH};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = |name: &str| std::env::var(name).ok();
    let policy =
        flowguard_core::Policy::from_lookup(env).inspect_err(|e| tracing::error!("{e}"))?;
    let org = OrgConfig::from_lookup(env).inspect_err(|e| tracing::error!("{e}"))?;
    let config = flowguard_aws::config::load(None).await;
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let function_name = function_name.as_str();
    if let Some(org) = org {
        let policy = org
            .complete(policy)
            .inspect_err(|e| tracing::error!("{e}"))?;
        let setup = init_hub(&config, policy)
            .await
            .inspect_err(|e| tracing::error!("cannot start: {e}"))?;
        let (hub_account, _) = caller_account(&Clients::new(&config))
            .await
            .inspect_err(|e| tracing::error!("cannot start: reading the hub's account: {e}"))?;
        let hub = Hub::new(&config, org, &hub_account)
            .inspect_err(|e| tracing::error!("cannot start: {e}"))?;
        let (hub, setup) = (&hub, &setup);
        return lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
            invoke_hub(hub, setup, function_name, event)
        }))
        .await;
    }
    let setup = init(&config, policy)
        .await
        .inspect_err(|e| tracing::error!("cannot start: {e}"))?;
    for warning in &setup.warnings {
        tracing::warn!("{warning}");
    }
    let backend = AwsBackend::new(config);
    let (backend, setup) = (&backend, &setup);
    // The payload is kept as raw JSON: flowguard's own parser (the fuzzed one) reads it, once.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        invoke(backend, setup, function_name, event)
    }))
    .await
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

async fn invoke(
    backend: &AwsBackend,
    setup: &Setup,
    function_name: &str,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<Value, Failure> {
    let account = account_of_arn(&event.context.invoked_function_arn);
    let now_ms = now_ms();
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
    result
        .map(|report| telemetry::report_value(&report))
        .map_err(failed)
}

/// One event in organization mode: the accounts in scope (the organization read at most every
/// 15 minutes), then the hub's handler; its report logged with the organization's metrics.
async fn invoke_hub(
    hub: &Hub,
    setup: &Setup,
    function_name: &str,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<Value, Failure> {
    let now_ms = now_ms();
    let request_id = &event.context.request_id;
    let deadline = flowguard_lambda::deadline(event.context.deadline, now_ms);
    let scope = hub.scope().await.map_err(|error| {
        failed(HandlerError::Reconcile {
            error: flowguard_core::ReconcileError::Observe(error),
        })
    })?;
    let payload = event.payload.get().as_bytes();
    let result = handle_organization(&hub.ports, setup, &hub.org, &scope, payload, deadline).await;
    let (summary, metrics) = match &result {
        Ok(OrgHandled::Sweep(report)) => (
            Some(telemetry::summary_of(report, request_id)),
            telemetry::organization_metrics(report),
        ),
        Ok(OrgHandled::Account(report)) => (
            Some(telemetry::summary_of(report, request_id)),
            telemetry::metrics(report).to_vec(),
        ),
        Ok(OrgHandled::Ignored {
            report,
            out_of_scope,
        }) => (
            Some(telemetry::summary_of(report, request_id)),
            vec![("EventsOutOfScope", usize::from(*out_of_scope))],
        ),
        Err(error) => match (error.report(), error.organization_report()) {
            (Some(report), _) => (
                Some(telemetry::summary_of(report, request_id)),
                telemetry::metrics(report).to_vec(),
            ),
            (None, Some(report)) => (
                Some(telemetry::summary_of(report, request_id)),
                telemetry::organization_metrics(report),
            ),
            (None, None) => (None, Vec::new()),
        },
    };
    if let Some(line) = summary {
        println!("{line}");
    }
    if !metrics.is_empty() {
        println!("{}", telemetry::emf_record(&metrics, function_name, now_ms));
    }
    match result {
        Ok(OrgHandled::Sweep(report)) => Ok(serde_json::to_value(&report).unwrap_or_default()),
        Ok(OrgHandled::Account(report) | OrgHandled::Ignored { report, .. }) => {
            Ok(telemetry::report_value(&report))
        }
        Err(error) => Err(failed(error)),
    }
}

/// Logs a failure with what happens next, and hands it to the runtime.
fn failed(error: HandlerError) -> Failure {
    let retry = if error.is_retryable() {
        "Lambda will retry"
    } else {
        "it goes to the dead-letter queue"
    };
    tracing::error!(retryable = error.is_retryable(), "{error} ({retry})");
    Failure(error)
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
