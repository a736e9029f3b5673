//! Credentials in the organization's accounts: [`MemberAccess`], an `SdkConfig` per account
//! and region, through aws-config's own `AssumeRoleProvider` (the places of
//! [`crate::AwsPlaces`] in organization mode).

use aws_config::identity::IdentityCache;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use flowguard_core::organization::{is_member_role, member_role_arn, partition_of};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The length of a member-account session: STS's minimum (docs/design.md, "Organization mode").
pub const SESSION_LENGTH: Duration = Duration::from_secs(15 * 60);

/// How long an account's session is reused: until shortly before it expires. The next run
/// after that starts a new session, named after its own event. (A run that is still using a
/// session when it nears expiry is not cut off: aws-config's provider renews it, under the
/// same name.)
pub const SESSION_REUSE: Duration = Duration::from_secs(12 * 60);

/// Why a member-role template or an account id cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemberAccessError {
    #[error(
        "member role {0:?}: expected a role name (1 to 64 of A-Z a-z 0-9 +=,.@_-) or an ARN arn:{{partition}}:iam::{{account_id}}:role/NAME"
    )]
    Role(String),
    #[error("{0:?} is not an account id (12 digits)")]
    Account(String),
    #[error("role session name {0:?}: expected 2 to 64 of A-Z a-z 0-9 +=,.@_-")]
    SessionName(String),
}

/// Checks a member-role template: a role name, or an ARN of an IAM role whose account field is
/// exactly `{account_id}`, so that the role assumed for an account is always in that account.
pub fn check_member_role(template: &str) -> Result<(), MemberAccessError> {
    if is_member_role(template) {
        Ok(())
    } else {
        Err(MemberAccessError::Role(template.to_owned()))
    }
}

fn check_account(account: &str) -> Result<(), MemberAccessError> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(MemberAccessError::Account(account.to_owned()))
    }
}

/// SDK configurations for the accounts of the organization, from the hub's. Built once per
/// process and shared: each member account's provider is made on first use and kept.
#[derive(Debug)]
pub struct MemberAccess {
    hub: SdkConfig,
    hub_account: String,
    role: String,
    external_id: Option<String>,
    session_name: String,
    partition: &'static str,
    /// Account id → its configuration in the hub's region, and when its session began.
    accounts: Mutex<HashMap<String, (Instant, SdkConfig)>>,
}

impl MemberAccess {
    /// `hub`: the hub's configuration as [`crate::config::load`] makes it (its credentials
    /// assume the member roles; its region picks the STS endpoint and the partition);
    /// `hub_account`: the hub's own account, which uses `hub`'s credentials; `role`:
    /// `FLOWGUARD_MEMBER_ROLE`; `session_name`: the `RoleSessionName` of a session that no
    /// event names (the CLI's, a test's; [`session_name`] makes one from any text).
    pub fn new(
        hub: SdkConfig,
        hub_account: impl Into<String>,
        role: impl Into<String>,
        external_id: Option<String>,
        session_name: impl Into<String>,
    ) -> Result<Self, MemberAccessError> {
        let role = role.into();
        check_member_role(&role)?;
        let session_name = session_name.into();
        let valid =
            (2..=64).contains(&session_name.len()) && session_name.chars().all(sts_name_char);
        if !valid {
            return Err(MemberAccessError::SessionName(session_name));
        }
        let partition = hub.region().map_or("aws", |r| partition_of(r.as_ref()));
        Ok(Self {
            hub,
            hub_account: hub_account.into(),
            role,
            external_id,
            session_name,
            partition,
            accounts: Mutex::new(HashMap::new()),
        })
    }

    /// The hub's own account, which uses the hub's credentials.
    pub fn hub_account(&self) -> &str {
        &self.hub_account
    }

    /// The role assumed in `account`.
    pub fn role_arn(&self, account: &str) -> String {
        member_role_arn(&self.role, account, self.partition)
    }

    /// The configuration for `account` in `region` (the hub's region when empty), with a
    /// session named by the constructor's `session_name`. See [`Self::config_for_event`].
    pub async fn config(
        &self,
        account: &str,
        region: &str,
    ) -> Result<SdkConfig, MemberAccessError> {
        self.config_for_event(account, region, None).await
    }

    /// The configuration for `account` in `region` (the hub's region when empty), for a run
    /// caused by the event `event_id`. No call is made here: a member's first request assumes
    /// its role, in a session named after the event (`flowguard-{event id}`), and the account's
    /// later runs, in any region, reuse it for [`SESSION_REUSE`]: one `AssumeRole` per account,
    /// not per region or per event.
    pub async fn config_for_event(
        &self,
        account: &str,
        region: &str,
        event_id: Option<&str>,
    ) -> Result<SdkConfig, MemberAccessError> {
        check_account(account)?;
        let base = if account == self.hub_account {
            self.hub.clone()
        } else {
            self.member(account, event_id).await
        };
        Ok(
            if region.is_empty() || base.region().is_some_and(|r| r.as_ref() == region) {
                base
            } else {
                base.to_builder()
                    .region(Region::new(region.to_owned()))
                    .build()
            },
        )
    }

    /// The member account's configuration in the hub's region: the one kept while its session
    /// is younger than [`SESSION_REUSE`], else a new one.
    async fn member(&self, account: &str, event_id: Option<&str>) -> SdkConfig {
        if let Some(config) = self.fresh(account) {
            return config;
        }
        let name = event_id.map_or_else(|| self.session_name.clone(), session_name);
        let mut builder = AssumeRoleProvider::builder(self.role_arn(account))
            .session_name(name)
            .session_length(SESSION_LENGTH)
            .configure(&self.hub);
        if let Some(id) = &self.external_id {
            builder = builder.external_id(id);
        }
        let provider = builder.build().await;
        // The account's own identity cache: every client made from this configuration, in
        // every region, shares its credentials, and they go when it is replaced.
        let config = self
            .hub
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .identity_cache(IdentityCache::lazy().build())
            .build();
        // Two runs may have made one at once: the first kept is the one both use, so the
        // account still has a single session.
        let mut accounts = self.lock();
        if let Some(kept) = fresh_in(&accounts, account) {
            return kept;
        }
        accounts.insert(account.to_owned(), (Instant::now(), config.clone()));
        config
    }

    /// Drops `account`'s session (a sweep is done with it): a sweep keeps sessions only for
    /// the accounts in flight, not for every account it has finished. The next run there
    /// starts a new one.
    pub fn forget(&self, account: &str) {
        self.lock().remove(account);
    }

    fn fresh(&self, account: &str) -> Option<SdkConfig> {
        fresh_in(&self.lock(), account)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, SdkConfig)>> {
        self.accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn fresh_in(accounts: &HashMap<String, (Instant, SdkConfig)>, account: &str) -> Option<SdkConfig> {
    accounts
        .get(account)
        .filter(|(began, _)| began.elapsed() < SESSION_REUSE)
        .map(|(_, config)| config.clone())
}

/// A valid `RoleSessionName` (2 to 64 of `A-Z a-z 0-9 +=,.@_-`): `flowguard-` and `hint`
/// (an event id, say), other characters replaced by `-`, cut at 64.
pub fn session_name(hint: &str) -> String {
    format!("flowguard-{hint}")
        .chars()
        .map(|c| if sts_name_char(c) { c } else { '-' })
        .take(64)
        .collect()
}

/// A character that IAM role names and STS session names may hold.
fn sts_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_the_region() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("eu-west-3", "aws"),
            ("ap-southeast-5", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-gov-east-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("", "aws"),
        ] {
            assert_eq!(partition_of(region), partition, "{region}");
        }
    }

    #[test]
    fn a_role_name_becomes_the_role_of_the_account() {
        assert_eq!(
            member_role_arn("flowguard-member", "111122223333", "aws"),
            "arn:aws:iam::111122223333:role/flowguard-member"
        );
        assert_eq!(
            member_role_arn("flowguard-member", "111122223333", "aws-cn"),
            "arn:aws-cn:iam::111122223333:role/flowguard-member"
        );
    }

    #[test]
    fn an_arn_template_gets_its_placeholders_filled() {
        assert_eq!(
            member_role_arn(
                "arn:{partition}:iam::{account_id}:role/security/flowguard-{account_id}",
                "111122223333",
                "aws-us-gov"
            ),
            "arn:aws-us-gov:iam::111122223333:role/security/flowguard-111122223333"
        );
        assert_eq!(
            member_role_arn("arn:aws:iam::{account_id}:role/x", "111122223333", "aws-cn"),
            "arn:aws:iam::111122223333:role/x",
            "a partition written out is kept"
        );
    }

    #[test]
    fn a_template_must_name_a_role_of_the_account() {
        for good in [
            "flowguard-member",
            "a",
            "Role+=,.@_-1",
            "arn:{partition}:iam::{account_id}:role/flowguard-member",
            "arn:aws:iam::{account_id}:role/path/flowguard-member",
        ] {
            assert_eq!(check_member_role(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "has space",
            "path/role",
            &"r".repeat(65),
            // Another account's role, for every account: refused.
            "arn:aws:iam::123456789012:role/flowguard-member",
            "arn:{partition}:iam::{account_id}:user/someone",
            "arn:{partition}:iam::{account_id}:role/",
            "arn:{partition}:sts::{account_id}:role/x",
            "arn:{partition}:iam:us-east-1:{account_id}:role/x",
            "arn:{partition}:iam::{account_id}:role/{unknown}",
            "arn::iam::{account_id}:role/x",
            "arn:{region}:iam::{account_id}:role/x",
        ] {
            assert!(
                matches!(check_member_role(bad), Err(MemberAccessError::Role(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert_eq!(check_account("111122223333"), Ok(()));
        for bad in [
            "",
            "11112222333",
            "1111222233334",
            "11112222333a",
            "1:role/x/22",
        ] {
            assert!(check_account(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn member_access_refuses_what_sts_would() {
        let hub = || SdkConfig::builder().build();
        let new = |role: &str, session: &str| {
            MemberAccess::new(hub(), "111122223333", role, None, session).map(|_| ())
        };
        assert_eq!(new("flowguard-member", "flowguard-x"), Ok(()));
        assert!(matches!(
            new("arn:aws:iam::123456789012:role/r", "flowguard-x"),
            Err(MemberAccessError::Role(_))
        ));
        for session in ["", "x", "with space", "a/b", &"s".repeat(65)] {
            assert!(
                matches!(
                    new("flowguard-member", session),
                    Err(MemberAccessError::SessionName(_))
                ),
                "{session:?}"
            );
        }
    }

    #[test]
    fn session_names_are_what_sts_accepts() {
        assert_eq!(
            session_name("0b6e4c1a-9f7d-4b0a-8e0e-1c2d3e4f5a6b"),
            "flowguard-0b6e4c1a-9f7d-4b0a-8e0e-1c2d3e4f5a6b"
        );
        assert_eq!(session_name("a b/c:d"), "flowguard-a-b-c-d");
        assert_eq!(session_name(&"x".repeat(100)).len(), 64);
    }
}
