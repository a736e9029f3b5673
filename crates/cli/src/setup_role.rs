//! `setup-role`: create or verify the delivery role, print its ARN.

use crate::args::ConfigFlags;
use crate::failure::{Failure, describe};
use aws_config::Region;
use flowguard_aws::{Clients, caller_account, iam};
use std::process::ExitCode;

pub async fn run(name: &str, flags: &ConfigFlags) -> Result<ExitCode, Failure> {
    // The role's permissions name the configured log group.
    let policy = flags.policy()?;
    let mut config = flowguard_aws::config::load(None).await;
    if config.region().is_none() {
        // IAM is global; the SDK still wants a region to sign with.
        config = config.to_builder().region(Region::new("us-east-1")).build();
    }
    let clients = Clients::new(&config);
    let (account, partition) = caller_account(&clients)
        .await
        .map_err(|e| Failure(describe(&e, &config)))?;
    let role = iam::setup_role(&clients.iam, name, &partition, &account, &policy.log_group)
        .await
        .map_err(|e| Failure(describe(&e, &config)))?;
    if role.created {
        eprintln!("created the delivery role {name}");
    } else {
        eprintln!(
            "the delivery role {name} exists: trust policy and permissions brought up to date"
        );
    }
    crate::output::emit(&format!("{}\n", role.arn))?;
    Ok(ExitCode::SUCCESS)
}
