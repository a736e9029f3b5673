//! # flowguard-lambda
//!
//! The Lambda function: `main` (in `main.rs`) plus what only a Lambda needs. The handler path
//! itself is shared with `flowguard handle-event` and lives below both shells:
//! [`flowguard_core::handler::handle`] over the places of a [`flowguard_aws::Controller`],
//! in one account or, in organization mode, as the hub.
//!
//! - [`deadline`]: when to stop starting new steps, from the runtime's invocation deadline.
//! - [`telemetry`]: the summary log line and the CloudWatch Embedded Metric Format record.

pub mod telemetry;

use flowguard_aws::config::OPERATION_TIMEOUT;
use flowguard_core::plan::MAX_CALLS_PER_UNIT;
use flowguard_core::reconcile::Deadline;
use std::time::Duration;

/// Time kept back from the invocation's deadline for the unit of work started last and for
/// writing the report: a unit makes at most [`MAX_CALLS_PER_UNIT`] calls one after the other
/// (each normally well under a second), each ended by the SDK after
/// [`flowguard_aws::config::OPERATION_TIMEOUT`] at worst, retries included: 5 × 6 s, plus
/// [`REPORT_TIME`]. Of the deployed 60 s timeout, the first 28 s start work, and even a unit
/// whose every call times out ends before the function does.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(
    MAX_CALLS_PER_UNIT as u64 * OPERATION_TIMEOUT.as_secs() + REPORT_TIME.as_secs(),
);

/// Time kept for logging the report and returning it.
pub const REPORT_TIME: Duration = Duration::from_secs(2);

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
    let left = Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX));
    let margin = DEADLINE_MARGIN.min(left / 2);
    Some(Deadline::at(std::time::Instant::now() + (left - margin)))
}

#[cfg(test)]
mod tests;
