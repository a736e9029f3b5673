//! The floor of flowguard's vocabulary: the words that the facts, the policy, the observed
//! state, the ports and the report all speak, defined here so that none of them needs another
//! for them. Nothing here imports from above it but the facts.
//!
//! - [`TrafficType`]: which traffic a flow log captures.
//! - [`Destination`], [`S3Options`], [`FileFormat`]: where a flow log delivers.
//! - [`partition_of`]: the AWS partition of a place's region; [`Arn`]: an ARN's fields.
//! - [`Mode`]: how a run may act (audit, dry run, enforce).
//! - [`MANAGED_TAG_KEY`] = [`MANAGED_TAG_VALUE`]: the tag on everything flowguard creates.

mod arn;
mod destination;
pub mod traffic;

pub use arn::Arn;
pub use destination::{Destination, FileFormat, S3Options, same_s3_destination};
pub use traffic::TrafficType;

use serde::Serialize;

/// The tag flowguard puts on everything it creates, and the only flow logs it may delete
/// (the facts' `managed_tag`; a constant so that it can be matched and formatted at no cost).
pub const MANAGED_TAG_KEY: &str = "managed-by";
/// Value of [`MANAGED_TAG_KEY`].
pub const MANAGED_TAG_VALUE: &str = "flowguard";

/// How a run may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Report compliance; no permission checks, no changes.
    Audit,
    /// Plan, check `CreateFlowLogs` with `DryRun=true`, change nothing.
    DryRun,
    /// Plan and apply.
    Enforce,
}

impl Mode {
    /// Whether the run changes nothing (an audit or a dry run): the report's `dry_run`.
    pub fn is_dry_run(self) -> bool {
        self != Self::Enforce
    }

    /// The mode of a policy's runs: dry run when `FLOWGUARD_DRY_RUN` says so, else enforce.
    pub fn of_policy(dry_run: bool) -> Self {
        if dry_run { Self::DryRun } else { Self::Enforce }
    }
}

/// The AWS partition of a region (`aws` for every commercial region and for an unknown one).
pub fn partition_of(region: &str) -> &'static str {
    const PARTITIONS: [(&str, &str); 6] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-iso-", "aws-iso"),
        ("us-isob-", "aws-iso-b"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-isof-", "aws-iso-f"),
    ];
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}
