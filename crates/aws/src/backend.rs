//! The AWS wiring of the one handler path ([`flowguard_core::handler`]): [`init`] once per
//! process (the configuration, the KMS key's region, the delivery role), and [`AwsBackend`],
//! which hands out the SDK ports of each region an event names.

use crate::{AwsInventory, AwsRemediator, Clients, iam};
use aws_config::{Region, SdkConfig};
use flowguard_core::handler::{Backend, Setup};
use flowguard_core::{ConfigError, Place, Policy};
use std::collections::HashMap;
use std::sync::Mutex;

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

/// Why the function (or `handle-event`) cannot start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("no AWS region configured: set AWS_REGION")]
    NoRegion,
    #[error(transparent)]
    Role(#[from] iam::RoleProblem),
}

/// The configured region; a KMS key of another region is refused at start-up.
fn region_of(config: &SdkConfig, policy: &Policy) -> Result<String, InitError> {
    let region = config
        .region()
        .map(|r| r.as_ref().to_owned())
        .ok_or(InitError::NoRegion)?;
    policy.kms_key_in(&Place {
        region: region.clone(),
        account: String::new(),
    })?;
    Ok(region)
}

/// The start-up of an organization hub: the region and the KMS key as for [`init`]; the
/// delivery role is not checked here, since it lives in each member account.
pub async fn init_hub(config: &SdkConfig, policy: Policy) -> Result<Setup, InitError> {
    let region = region_of(config, &policy)?;
    Ok(Setup {
        policy,
        region,
        warnings: Vec::new(),
    })
}

/// Reads the configuration and checks the delivery role. In dry run, a missing or unusable
/// role is a warning (the dry run exists to review before enforcing); otherwise an error.
pub async fn init(config: &SdkConfig, policy: Policy) -> Result<Setup, InitError> {
    let region = region_of(config, &policy)?;
    let mut warnings = Vec::new();
    let iam_client = aws_sdk_iam::Client::new(config);
    if !policy.dry_run {
        policy.require_delivery_role()?;
    }
    match &policy.delivery_role_arn {
        None if !policy.needs_delivery_role() => {}
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
