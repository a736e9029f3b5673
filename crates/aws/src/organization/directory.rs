//! [`Directory`]: the accounts in scope of an organization, read from Organizations once and
//! again at most every [`SCOPE_REFRESH`] after, so that a long-lived hub covers a new account
//! by the next sweep after its spoke exists.

use super::organization_accounts;
use aws_config::SdkConfig;
use flowguard_core::AwsError;
use flowguard_core::handler::Reach;
use flowguard_core::organization::{AccountScope, AccountSource, OrgConfig};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long the organization's account list is trusted.
pub const SCOPE_REFRESH: Duration = Duration::from_secs(15 * 60);

/// Organization mode's scope: the configured list, or the organization's ACTIVE accounts
/// (under the configured units), less the excluded ones.
#[derive(Debug)]
pub struct Directory {
    org: OrgConfig,
    client: aws_sdk_organizations::Client,
    scope: Mutex<Option<(Instant, AccountScope)>>,
}

impl Directory {
    /// The directory of `org`, read with `config`'s credentials (the management account or a
    /// delegated administrator) when the scope is the organization's.
    pub fn new(config: &SdkConfig, org: OrgConfig) -> Self {
        Self {
            org,
            client: aws_sdk_organizations::Client::new(config),
            scope: Mutex::new(None),
        }
    }

    /// Organization mode's configuration.
    pub fn config(&self) -> &OrgConfig {
        &self.org
    }

    /// The accounts in scope now, read again when older than [`SCOPE_REFRESH`].
    pub async fn scope(&self) -> Result<AccountScope, AwsError> {
        let mut cached = self.scope.lock().await;
        if let Some((read_at, scope)) = cached.as_ref()
            && read_at.elapsed() < SCOPE_REFRESH
        {
            return Ok(scope.clone());
        }
        let scope = match &self.org.source {
            AccountSource::Listed(_) => self.org.scope(&[]),
            AccountSource::Organization { units } => {
                let units: Vec<String> = units.iter().cloned().collect();
                let accounts = organization_accounts(&self.client, &units).await?;
                let ids: Vec<String> = accounts.into_iter().map(|a| a.id).collect();
                self.org.scope(&ids)
            }
        };
        *cached = Some((Instant::now(), scope.clone()));
        Ok(scope)
    }

    /// Where the hub acts now: the accounts in scope, with the configured concurrency.
    pub async fn reach(&self) -> Result<Reach, AwsError> {
        Ok(Reach::Organization {
            scope: self.scope().await?,
            concurrency: self.org.concurrency,
        })
    }
}
