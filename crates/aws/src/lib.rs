//! # flowguard-aws
//!
//! The AWS SDK for Rust behind flowguard-core's ports, and the entry points that the Lambda
//! and the CLI share.
//!
//! - [`config`]: SDK configuration (retries and timeouts sized for the Lambda) and [`Clients`].
//! - [`AwsInventory`]: the read side (`DescribeVpcs`, `DescribeFlowLogs`,
//!   `DescribeLogGroups`, always paginated; the `DryRun=true` check of `CreateFlowLogs`).
//! - [`AwsRemediator`]: the write side (`CreateLogGroup`, `PutRetentionPolicy`,
//!   `CreateFlowLogs` with tags and client token, `DeleteFlowLogs`).
//! - [`iam`]: verify the delivery role, or set one up; [`regions`]: the enabled regions.
//! - [`organization`]: organization mode's AWS side: the ACTIVE accounts of the organization
//!   or of some OUs ([`organization::organization_accounts`]), and [`organization::MemberAccess`],
//!   an `SdkConfig` per account and region whose credentials come from one `AssumeRole` of
//!   the member role per account.
//! - [`Reconciler`]: one region's clients plus the engine: `run(trigger)`, `sweep`, `vpc`,
//!   each returning the [`flowguard_core::Report`].
//! - [`init`] and [`AwsBackend`]: the AWS wiring of the handler path that the Lambda and
//!   `flowguard handle-event` share ([`flowguard_core::handler::handle`]).
//!
//! The shells hand this crate an `SdkConfig` and get back flowguard's own types: the ports
//! answer with flowguard-core's types, never the SDK's, and SDK errors become
//! [`flowguard_core::AwsError`] at one place ([`error::aws_error`]; the `convert` module does
//! the same for the SDK's data), with EC2 error codes kept as data.

mod backend;
pub mod config;
mod convert;
pub mod error;
pub mod iam;
mod integrations;
mod inventory;
pub mod organization;
mod reconciler;
pub mod regions;
mod remediator;

pub use backend::{AwsBackend, InitError, init, init_hub};
pub use config::Clients;
pub use flowguard_core::Mode;
pub use inventory::AwsInventory;
pub use reconciler::{Reconciler, unix_now};
pub use remediator::AwsRemediator;

use flowguard_core::AwsError;

/// The account of the current credentials (`sts:GetCallerIdentity`), and its partition.
pub async fn caller_account(clients: &Clients) -> Result<(String, String), AwsError> {
    let output = clients
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| error::aws_error("GetCallerIdentity", e))?;
    let account = output.account().unwrap_or_default().to_owned();
    let partition = output
        .arn()
        .and_then(|arn| arn.split(':').nth(1))
        .unwrap_or("aws")
        .to_owned();
    Ok((account, partition))
}
