//! `setup-role`: create or verify the delivery role, print its ARN.
//!
//! A missing role is created (in dry run, only reported). An existing role that matches is
//! left as it is. An existing role whose trust or permissions differ from flowguard's is
//! reported and left alone, unless `--force` (never in dry run): it may be someone else's.

use crate::args::ConfigFlags;
use crate::failure::{Failure, describe};
use aws_config::Region;
use flowguard_aws::iam::{self, RoleState};
use flowguard_aws::{Clients, caller_account};
use std::process::ExitCode;

pub async fn run(
    name: &str,
    force: bool,
    dry_run: bool,
    flags: &ConfigFlags,
) -> Result<ExitCode, Failure> {
    // The role's permissions name the configured log group.
    let policy = flags.policy()?;
    let dry_run = dry_run || policy.dry_run;
    let mut config = flowguard_aws::config::load_for_cli(None).await;
    if config.region().is_none() {
        // IAM is global; the SDK still wants a region to sign with.
        config = config.to_builder().region(Region::new("us-east-1")).build();
    }
    let clients = Clients::new(&config);
    let fail = |e: flowguard_core::AwsError| Failure(describe(&e, &config));
    let (account, partition) = caller_account(&clients).await.map_err(fail)?;
    let role = iam::DeliveryRole {
        name,
        partition: &partition,
        account: &account,
        log_group: &policy.log_group,
    };
    let state = iam::inspect_role(clients.iam(), role).await.map_err(fail)?;
    let arn = match state {
        RoleState::Matches { arn } => {
            eprintln!("the delivery role {name} exists and matches flowguard's: nothing to do");
            arn
        }
        RoleState::Missing if dry_run => {
            eprintln!("dry run: the delivery role {name} does not exist and would be created");
            return Ok(ExitCode::SUCCESS);
        }
        RoleState::Missing => {
            let arn = iam::create_role(clients.iam(), role).await.map_err(fail)?;
            eprintln!("created the delivery role {name}");
            arn
        }
        RoleState::Differs { arn, differences } => {
            eprintln!("the delivery role {name} exists and differs from flowguard's:");
            for difference in &differences {
                eprintln!("  - {difference}");
            }
            if dry_run || !force {
                let how = if dry_run {
                    "dry run: nothing changed"
                } else {
                    "left as it is; rerun with --force to overwrite its trust policy and flowguard's inline policy"
                };
                eprintln!("{how}");
                return Ok(ExitCode::from(1));
            }
            iam::overwrite_role(clients.iam(), role)
                .await
                .map_err(fail)?;
            eprintln!("--force: overwrote the trust policy and the inline policy of {name}");
            arn
        }
    };
    crate::output::emit(&format!("{arn}\n"))?;
    Ok(ExitCode::SUCCESS)
}
