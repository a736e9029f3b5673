//! # flowguard-lambda
//!
//! The Lambda function: `main` (in `main.rs`) plus what only a Lambda needs. The handler path
//! itself is shared with `flowguard handle-event` and lives below both shells:
//! [`flowguard_core::handler::handle`] over the [`flowguard_aws::AwsBackend`], after
//! [`flowguard_aws::init`].
//!
//! - [`deadline`]: when to stop starting new steps, from the runtime's invocation deadline.
//! - [`account_of_arn`]: the account the function runs in, from its ARN.
//! - [`telemetry`]: the summary log line and the CloudWatch Embedded Metric Format record.

pub mod telemetry;

use flowguard_core::reconcile::Deadline;

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
