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
//! - [`AwsPlaces`]: flowguard-core's `Places` port, the AWS of one account×region: the
//!   caller's own credentials, or a member session in organization mode. Every run of one
//!   place ([`flowguard_core::sweep::run_in_place`]) goes through it.
//! - [`Controller`]: how every shell starts ([`init`], the caller's account, the places, the
//!   organization's [`organization::Directory`]) and where it acts now
//!   ([`Controller::reach`]).
//!
//! The shells hand this crate an `SdkConfig` and get back flowguard's own types: the ports
//! answer with flowguard-core's types, never the SDK's, and SDK errors become
//! [`flowguard_core::AwsError`] at one place ([`error::aws_error`]; the `convert` module does
//! the same for the SDK's data), with EC2 error codes kept as data.

pub mod actions;
pub mod config;
mod convert;
pub mod error;
pub mod iam;
mod integrations;
mod inventory;
pub mod organization;
mod places;
pub mod regions;
mod remediator;
mod setup;

pub use config::Clients;
pub use flowguard_core::Mode;
pub use inventory::AwsInventory;
pub use places::AwsPlaces;
pub use remediator::AwsRemediator;
pub use setup::{Check, Controller, InitError, init, init_hub};

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
        .and_then(|arn| flowguard_core::vocab::Arn::parse(arn).map(|arn| arn.partition))
        .unwrap_or("aws")
        .to_owned();
    Ok((account, partition))
}
