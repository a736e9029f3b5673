//! # flowguard-lambda
//!
//! The Lambda function, a thin shell around flowguard-core, and the one handler path that
//! `flowguard handle-event` runs too.
//!
//! - [`init`] (once per process): [`Policy`] from the environment, SDK clients, the
//!   delivery-role check. A bad configuration fails the init with one clear message; in dry
//!   run a bad role becomes a warning in every report instead.
//! - [`handle`] (per event): event → trigger → reconcile in the event's region → report. It is
//!   generic over a [`Backend`] that hands out the ports of a region, so tests run it over the
//!   in-memory fake and the binary over the AWS SDK ([`AwsBackend`]).
//! - [`HandlerError`]: invalid input (permanent), a failed reconcile, or a remediation that
//!   failed; each says whether a retry may help. The Lambda returns them all as errors, so
//!   that async retries and then the on-failure destination take the event: none is lost.
//! - [`telemetry`]: the summary log line and the CloudWatch Embedded Metric Format record.

pub mod telemetry;

use aws_config::{Region, SdkConfig};
use flowguard_aws::{AwsInventory, AwsRemediator, Clients, iam, unix_now};
use flowguard_core::reconcile::{Deadline, Mode, ReconcileError, Run, reconcile};
use flowguard_core::trigger::{InvalidEvent, trigger_from_value};
use flowguard_core::{ConfigError, Inventory, Outcome, Place, Policy, Remediator, Report};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// Hands out the ports of a region (the Lambda may receive events of other regions).
pub trait Backend: Sync {
    type Inventory: Inventory + Send;
    type Remediator: Remediator + Send;
    fn ports(&self, region: &str) -> (Self::Inventory, Self::Remediator);
}

/// The AWS SDK backend: one set of clients per region, built on first use and kept.
#[derive(Debug)]
pub struct AwsBackend {
    config: SdkConfig,
    clients: Mutex<HashMap<String, Clients>>,
}

impl AwsBackend {
    pub fn new(config: SdkConfig) -> Self {
        Self {
            config,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The clients of `region` (of the configured region when `region` is empty).
    pub fn clients(&self, region: &str) -> Clients {
        let mut cache = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .entry(region.to_owned())
            .or_insert_with(|| {
                if region.is_empty() || self.config.region().is_some_and(|r| r.as_ref() == region) {
                    Clients::new(&self.config)
                } else {
                    Clients::new(
                        &self
                            .config
                            .to_builder()
                            .region(Region::new(region.to_owned()))
                            .build(),
                    )
                }
            })
            .clone()
    }
}

impl Backend for AwsBackend {
    type Inventory = AwsInventory;
    type Remediator = AwsRemediator;

    fn ports(&self, region: &str) -> (AwsInventory, AwsRemediator) {
        let clients = self.clients(region);
        (
            AwsInventory::new(clients.clone()),
            AwsRemediator::new(clients),
        )
    }
}

/// What [`init`] prepares once.
#[derive(Debug, Clone)]
pub struct Setup {
    pub policy: Policy,
    /// The region of the configuration, used when an event names none.
    pub region: String,
    /// Said in every report (e.g. a dry run with a delivery role that would not work).
    pub warnings: Vec<String>,
}

/// Why the function cannot start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("no AWS region configured: set AWS_REGION")]
    NoRegion,
    #[error("{0}")]
    Role(#[from] iam::RoleProblem),
}

/// Reads the configuration and checks the delivery role. In dry run, a missing or unusable
/// role is a warning (the dry run exists to review before enforcing); otherwise an error.
pub async fn init(config: &SdkConfig, policy: Policy) -> Result<Setup, InitError> {
    let region = config
        .region()
        .map(|r| r.as_ref().to_owned())
        .ok_or(InitError::NoRegion)?;
    // A KMS key of another region than the function's is refused at start-up.
    policy.kms_key_in(&Place {
        region: region.clone(),
        account: String::new(),
    })?;
    let mut warnings = Vec::new();
    let iam_client = aws_sdk_iam::Client::new(config);
    if !policy.dry_run {
        policy.require_delivery_role()?;
    }
    match &policy.delivery_role_arn {
        None => warnings.push(
            "FLOWGUARD_DELIVERY_ROLE_ARN is not set: enforcing would refuse to start".to_owned(),
        ),
        Some(arn) => {
            if let Err(problem) = iam::verify_delivery_role(&iam_client, arn).await {
                if !policy.dry_run {
                    return Err(problem.into());
                }
                warnings.push(format!("{problem}: enforcing would refuse to start"));
            }
        }
    }
    Ok(Setup {
        policy,
        region,
        warnings,
    })
}

/// Why an event was not handled cleanly.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Not an EventBridge event: permanent; a person must look at it.
    #[error("permanent failure: invalid input: {0}")]
    InvalidEvent(#[from] InvalidEvent),
    /// The run could not read the state, or a VPC is not visible yet.
    #[error("{} failure: {error}", if error.is_retryable() { "retryable" } else { "permanent" })]
    Reconcile { error: ReconcileError },
    /// Remediation ran and some of it failed; the report says what.
    #[error("{} failure: {} VPC(s) failed remediation", if *retryable { "retryable" } else { "permanent" }, report.summary.vpcs.failed.max(1))]
    Remediation {
        report: Box<Report>,
        retryable: bool,
    },
}

impl HandlerError {
    /// Whether a later retry of the same event may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::InvalidEvent(_) => false,
            Self::Reconcile { error } => error.is_retryable(),
            Self::Remediation { retryable, .. } => *retryable,
        }
    }

    /// The report, when the run got that far.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Self::Remediation { report, .. } => Some(report),
            _ => None,
        }
    }
}

/// Handles one event: the one path shared by the Lambda and `flowguard handle-event`.
/// `account` is the account the run acts in (the Lambda takes it from its ARN, the CLI from
/// STS): an event of another account is ignored with the reason. `deadline` is when to stop
/// starting new steps (the Lambda's invocation deadline less a margin).
pub async fn handle<B: Backend>(
    backend: &B,
    setup: &Setup,
    account: &str,
    event: &Value,
    deadline: Option<Deadline>,
) -> Result<Report, HandlerError> {
    let trigger = trigger_from_value(event)?.confined_to(account);
    let place = Place {
        region: trigger
            .region
            .clone()
            .unwrap_or_else(|| setup.region.clone()),
        account: if account.is_empty() {
            trigger.account.clone().unwrap_or_default()
        } else {
            account.to_owned()
        },
    };
    let (inventory, remediator) = backend.ports(&place.region);
    let now = unix_now();
    let run_id = format!("lambda-{}", now.unwrap_or_default());
    let run = Run {
        policy: &setup.policy,
        place,
        trigger: &trigger,
        now,
        run_id,
        deadline,
    };
    let mode = if setup.policy.dry_run {
        Mode::DryRun
    } else {
        Mode::Enforce
    };
    let mut report = reconcile(&inventory, &remediator, &run, mode)
        .await
        .map_err(|error| HandlerError::Reconcile { error })?;
    report.warnings.extend(setup.warnings.iter().cloned());
    match report.outcome() {
        Outcome::Ok => Ok(report),
        Outcome::Failed { retryable } => Err(HandlerError::Remediation {
            report: Box::new(report),
            retryable,
        }),
    }
}

/// The account in a Lambda function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`).
pub fn account_of_arn(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// Time kept back from the invocation's deadline for the unit of work started last (a log
/// group created with its retention, then its flow logs: three operations that each normally
/// take well under a second, [`flowguard_aws::config::OPERATION_TIMEOUT`] at worst) and for
/// writing the report. Of the deployed 60 s timeout, the first 30 s start work.
pub const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_secs(30);

/// When to stop starting new steps, from the runtime's deadline (Unix milliseconds) and now:
/// [`DEADLINE_MARGIN`] before it, or halfway there for a function with a shorter timeout.
/// `None` when the runtime gave no time: Lambda sends Unix milliseconds, while a local runtime
/// emulator may send nothing (0) or its timeout (`cargo lambda watch` sends `600000`).
pub fn deadline(deadline_ms: u64, now_ms: u128) -> Option<Deadline> {
    /// 2001-09-09 in Unix milliseconds: anything earlier is not a time Lambda would send.
    const EARLIEST_REAL_DEADLINE_MS: u64 = 1_000_000_000_000;
    if deadline_ms < EARLIEST_REAL_DEADLINE_MS {
        return None;
    }
    let left = u128::from(deadline_ms).saturating_sub(now_ms);
    let left = std::time::Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX));
    let margin = DEADLINE_MARGIN.min(left / 2);
    Some(Deadline {
        stop_at: std::time::Instant::now() + (left - margin),
    })
}
