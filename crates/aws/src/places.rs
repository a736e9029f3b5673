//! [`AwsPlaces`]: flowguard-core's [`Places`] port over the AWS SDK, the one way every shell
//! reaches the AWS of a place: the caller's own credentials in its own account (clients kept per
//! region), and in organization mode a member-role session in any other account
//! ([`MemberAccess`]).

use crate::organization::{MemberAccess, SESSION_REUSE};
use crate::remediator::RoleCheck;
use crate::{AwsInventory, AwsRemediator, Clients};
use aws_config::{Region, SdkConfig};
use flowguard_core::{AwsError, Fault, Place, Places, Trigger};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The SDK ports of places: one set of clients per region of the caller's own account, built on
/// first use and kept; a member account's clients from its session, per run.
#[derive(Debug)]
pub struct AwsPlaces {
    own: Own,
    members: Option<MemberAccess>,
    /// In organization mode, each account's delivery-role check and when it was begun: kept
    /// until the sweep is done with the account, and reused by events for as long as a member
    /// session ([`SESSION_REUSE`]), so that a role made after a failed check is seen again
    /// within minutes in a warm hub that handles only events there.
    role_checks: Mutex<HashMap<String, (Instant, RoleCheck)>>,
}

/// The caller's own account: its configuration, or fixed clients.
#[derive(Debug)]
enum Own {
    Config {
        config: Box<SdkConfig>,
        clients: Mutex<HashMap<String, Clients>>,
    },
    /// The same clients for every place (tests that bring mocked or proxied clients).
    Fixed(Clients),
}

impl AwsPlaces {
    /// A single account's places: `config`'s credentials, in any region.
    pub fn own(config: SdkConfig) -> Self {
        Self {
            own: Own::Config {
                config: Box::new(config),
                clients: Mutex::new(HashMap::new()),
            },
            members: None,
            role_checks: Mutex::default(),
        }
    }

    /// An organization's places: the caller's own account (`members`' hub account) with
    /// `config`'s credentials, every other account through its member role.
    pub fn organization(config: SdkConfig, members: MemberAccess) -> Self {
        Self {
            members: Some(members),
            ..Self::own(config)
        }
    }

    /// The same clients for every place: for tests that bring mocked or proxied clients.
    pub fn with_clients(clients: Clients) -> Self {
        Self {
            own: Own::Fixed(clients),
            members: None,
            role_checks: Mutex::default(),
        }
    }

    /// The clients of `place`: the caller's own account's, or a member account's through its
    /// member role (a session named after `trigger`'s event).
    pub async fn clients_of(&self, place: &Place, trigger: &Trigger) -> Result<Clients, AwsError> {
        match &self.members {
            Some(members) if place.account != members.hub_account() => {
                // Only an account id that is not one fails here (the scope holds checked ids);
                // the role itself is assumed by the first call, whose error names `AssumeRole`.
                let config = members
                    .config_for_event(&place.account, &place.region, trigger.event_id.as_deref())
                    .await
                    .map_err(|e| AwsError {
                        operation: "AssumeRole",
                        code: None,
                        message: e.to_string(),
                        status: None,
                        fault: Fault::Other,
                    })?;
                Ok(Clients::in_account(&config, &place.account))
            }
            _ => Ok(self.clients(&place.region)),
        }
    }

    /// The clients of the caller's own account in `region` (the configured one when empty).
    pub fn clients(&self, region: &str) -> Clients {
        let (config, cache) = match &self.own {
            Own::Fixed(clients) => return clients.clone(),
            Own::Config { config, clients } => (config, clients),
        };
        lock(cache)
            .entry(region.to_owned())
            .or_insert_with(|| Clients::new(&in_region(config, region)))
            .clone()
    }
}

/// `config` in `region` (unchanged when `region` is empty or already its region).
pub(crate) fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    if region.is_empty() || config.region().is_some_and(|r| r.as_ref() == region) {
        config.clone()
    } else {
        config
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build()
    }
}

impl Places for AwsPlaces {
    type Inventory = AwsInventory;
    type Remediator = AwsRemediator;

    async fn ports(
        &self,
        place: &Place,
        trigger: &Trigger,
    ) -> Result<(AwsInventory, AwsRemediator), AwsError> {
        let clients = self.clients_of(place, trigger).await?;
        // In organization mode nothing checked a delivery role at start-up (each account has
        // its own, the hub's included): each account's is checked before its first flow log.
        let remediator = if self.members.is_some() {
            let mut checks = lock(&self.role_checks);
            let kept = checks
                .get(&place.account)
                .filter(|(began, _)| began.elapsed() < SESSION_REUSE);
            let check = match kept {
                Some((_, check)) => check.clone(),
                None => {
                    let check = RoleCheck::default();
                    checks.insert(place.account.clone(), (Instant::now(), check.clone()));
                    check
                }
            };
            drop(checks);
            AwsRemediator::checking_the_role(clients.clone(), check)
        } else {
            AwsRemediator::new(clients.clone())
        };
        Ok((AwsInventory::new(clients), remediator))
    }

    fn done_with(&self, account: &str) {
        if let Some(members) = &self.members {
            members.forget(account);
        }
        lock(&self.role_checks).remove(account);
    }
}

/// The lock of `m`, whatever a panicking holder left (the maps hold no invariant).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
