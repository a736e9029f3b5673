//! Organization mode's state in the function ([`Hub`]): the member-role ports, and the accounts
//! in scope, read from the organization once per cold start and at most every
//! [`SCOPE_REFRESH`] after, so that a new account is covered by the next sweep after its spoke
//! exists.

use aws_config::SdkConfig;
use flowguard_aws::organization::{
    AwsAccountPorts, MemberAccess, organization_accounts, session_name,
};
use flowguard_core::AwsError;
use flowguard_core::organization::{AccountScope, AccountSource, OrgConfig};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long the organization's account list is trusted.
pub const SCOPE_REFRESH: Duration = Duration::from_secs(15 * 60);

/// What an organization hub keeps between invocations.
#[derive(Debug)]
pub struct Hub {
    pub org: OrgConfig,
    pub ports: AwsAccountPorts,
    organizations: aws_sdk_organizations::Client,
    scope: Mutex<Option<(Instant, AccountScope)>>,
}

impl Hub {
    /// The hub of `hub_account` (the function's own), with the hub's configuration.
    pub fn new(config: &SdkConfig, org: OrgConfig, hub_account: &str) -> Result<Self, String> {
        let access = MemberAccess::new(
            config.clone(),
            hub_account,
            org.member_role.clone(),
            org.external_id.clone(),
            session_name("hub"),
        )
        .map_err(|e| e.to_string())?;
        Ok(Self {
            org,
            ports: AwsAccountPorts::new(access),
            organizations: aws_sdk_organizations::Client::new(config),
            scope: Mutex::new(None),
        })
    }

    /// The accounts in scope now: the configured list, or the organization's ACTIVE accounts
    /// (under the configured units), read again when older than [`SCOPE_REFRESH`].
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
                let accounts = organization_accounts(&self.organizations, &units).await?;
                let ids: Vec<String> = accounts.into_iter().map(|a| a.id).collect();
                self.org.scope(&ids)
            }
        };
        *cached = Some((Instant::now(), scope.clone()));
        Ok(scope)
    }
}
