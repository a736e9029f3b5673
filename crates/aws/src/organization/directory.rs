//! [`Directory`]: the accounts in scope of an organization, read from Organizations once and
//! again at most every [`SCOPE_REFRESH`] after, so that a long-lived hub covers a new account
//! by the next sweep after its spoke exists. An event waits for a list younger than that; a
//! sweep starts at once on the last good list and refreshes it beside the sweep, for the next
//! one, or, with no list yet (a cold start), starts on none and takes the accounts as
//! [`Directory::listing`] brings them (listing takes a page per 20 accounts: minutes in a
//! large organization, which would otherwise come out of every sweep's time). A failed refresh
//! keeps the last good list for up to [`SCOPE_MAX_AGE`], said in the sweep's report; an
//! invocation fails only when it has no list and can list no account. The directory also
//! remembers, while the function stays warm, which accounts the last sweep did not check or
//! found failing: the next sweep takes them first.

use super::{OrgAccount, account_pages, organization_accounts, sorted_once};
use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use flowguard_core::AwsError;
use flowguard_core::handler::Reach;
use flowguard_core::organization::{AccountScope, AccountSource, OrgConfig, OrgReport};
use flowguard_core::sweep::Listing;
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long the organization's account list is trusted.
pub const SCOPE_REFRESH: Duration = Duration::from_secs(15 * 60);

/// How long the last good list stands in when a refresh fails: long enough to ride out an
/// Organizations outage or throttling of an hour or two, short enough that a closed account
/// is not swept for a day.
pub const SCOPE_MAX_AGE: Duration = Duration::from_secs(6 * 60 * 60);

/// Attempts per Organizations call. Its API quotas are low and account-wide (AWS documents
/// throttling as `TooManyRequestsException` with no published rate for most operations), and
/// the list is read at most every [`SCOPE_REFRESH`]: throttling is retried with the SDK's
/// exponential backoff, up to [`ORGANIZATIONS_MAX_BACKOFF`] between attempts.
pub const ORGANIZATIONS_ATTEMPTS: u32 = 6;
/// The longest wait between two attempts of an Organizations call.
pub const ORGANIZATIONS_MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Time for one whole Organizations operation, retries included.
pub const ORGANIZATIONS_TIMEOUT: Duration = Duration::from_secs(60);

/// How a sweep gets its accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountList {
    /// The list kept from an earlier read, young enough.
    Kept,
    /// The list kept, older than [`SCOPE_REFRESH`]: read again beside the sweep, for the next.
    Beside,
    /// No list yet (a cold start): the sweep takes the accounts as the listing brings them.
    AsItSweeps,
}

/// Organization mode's scope: the configured list, or the organization's ACTIVE accounts
/// (under the configured units), less the excluded ones.
#[derive(Debug)]
pub struct Directory {
    org: OrgConfig,
    client: aws_sdk_organizations::Client,
    /// The organizational units listed (none: every account), `None` for a listed scope.
    units: Option<Vec<String>>,
    /// [`SCOPE_REFRESH`] and [`SCOPE_MAX_AGE`], apart from tests.
    refresh: Duration,
    max_age: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The last good list, and when it was read.
    scope: Option<(Instant, AccountScope)>,
    /// Accounts that the last sweep did not check or found failing.
    due: BTreeSet<String>,
}

impl Directory {
    /// The directory of `org`, read with `config`'s credentials (the management account or a
    /// delegated administrator) when the scope is the organization's.
    pub fn new(config: &SdkConfig, org: OrgConfig) -> Self {
        let retries = RetryConfig::standard()
            .with_max_attempts(ORGANIZATIONS_ATTEMPTS)
            .with_max_backoff(ORGANIZATIONS_MAX_BACKOFF);
        let timeouts = crate::config::timeout_config(
            crate::config::CONNECT_TIMEOUT,
            crate::config::ATTEMPT_TIMEOUT,
            ORGANIZATIONS_TIMEOUT,
        );
        let client = aws_sdk_organizations::config::Builder::from(config)
            .retry_config(retries)
            .timeout_config(timeouts)
            .build();
        Self::with_client(org, aws_sdk_organizations::Client::from_conf(client))
    }

    /// The directory of `org` over a given Organizations client (tests bring a mocked one).
    pub fn with_client(org: OrgConfig, client: aws_sdk_organizations::Client) -> Self {
        let units = match &org.source {
            AccountSource::Listed(_) => None,
            AccountSource::Organization { units } => Some(units.iter().cloned().collect()),
        };
        Self {
            org,
            client,
            units,
            refresh: SCOPE_REFRESH,
            max_age: SCOPE_MAX_AGE,
            state: Mutex::new(State::default()),
        }
    }

    /// Organization mode's configuration.
    pub fn config(&self) -> &OrgConfig {
        &self.org
    }

    /// The accounts in scope now (a list younger than [`SCOPE_REFRESH`], else read again).
    pub async fn scope(&self) -> Result<AccountScope, AwsError> {
        self.read().await.map(|(scope, _)| scope)
    }

    /// The accounts in scope, and a warning when they are the last good list because a
    /// refresh failed.
    async fn read(&self) -> Result<(AccountScope, Option<String>), AwsError> {
        let mut state = self.state.lock().await;
        if let Some((read_at, scope)) = &state.scope
            && read_at.elapsed() < self.refresh
        {
            return Ok((scope.clone(), None));
        }
        match self.list().await {
            Ok(scope) => {
                state.scope = Some((Instant::now(), scope.clone()));
                Ok((scope, None))
            }
            Err(error) => match &state.scope {
                Some((read_at, scope)) if read_at.elapsed() < self.max_age => {
                    let minutes = read_at.elapsed().as_secs() / 60;
                    let warning = format!(
                        "the organization's account list could not be refreshed ({error}): \
                         swept the last good list, read {minutes} minute(s) ago"
                    );
                    Ok((scope.clone(), Some(warning)))
                }
                _ => Err(error),
            },
        }
    }

    async fn list(&self) -> Result<AccountScope, AwsError> {
        Ok(match &self.org.source {
            AccountSource::Listed(_) => self.org.scope(&[]),
            AccountSource::Organization { .. } => {
                let units = self.units.as_deref().unwrap_or_default();
                self.scope_of(organization_accounts(&self.client, units).await?)
            }
        })
    }

    /// The scope of the organization's `accounts`, with their names.
    fn scope_of(&self, accounts: Vec<OrgAccount>) -> AccountScope {
        let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
        let names = accounts.into_iter().map(|a| (a.id, a.name));
        self.org.scope(&ids).with_names(names)
    }

    /// Whether the scope is the organization's, read from Organizations (not a configured list).
    pub fn lists_the_organization(&self) -> bool {
        self.units.is_some()
    }

    /// The organization's accounts a page at a time, for a sweep that starts before the list
    /// is read ([`AccountList::AsItSweeps`]); the whole list is kept once its last page is in.
    /// A listed scope needs no listing: it is whole at once (an empty stream).
    pub fn listing(&self) -> Listing<'_> {
        let Some(units) = &self.units else {
            return stream::empty().boxed();
        };
        let pages = account_pages(&self.client, units);
        let walk = stream::unfold(Some((pages, Vec::new())), move |walk| async move {
            let (mut pages, mut all) = walk?;
            match pages.next().await {
                Some(Ok(page)) => {
                    all.extend(page.iter().cloned());
                    let page = page.into_iter().map(|a| (a.id, a.name)).collect();
                    Some((Ok(page), Some((pages, all))))
                }
                Some(Err(error)) => Some((Err(error), None)),
                None => {
                    let scope = self.scope_of(sorted_once(all));
                    self.state.lock().await.scope = Some((Instant::now(), scope));
                    None
                }
            }
        });
        walk.boxed()
    }

    /// Where a sweep acts now, without waiting for the list, and how it gets its accounts
    /// ([`AccountList`]): the last good list while it is younger than [`SCOPE_MAX_AGE`]
    /// (listing a large organization takes minutes of the invocation: 20 accounts a page),
    /// refreshed beside the sweep once older than [`SCOPE_REFRESH`] ([`Directory::refresh`]),
    /// for the next one. Without such a list, the sweep starts on none and takes the
    /// accounts as [`Directory::listing`] brings them (a listed scope is whole at once).
    pub async fn reach_for_sweep(&self) -> Result<(Reach, Option<String>, AccountList), AwsError> {
        let kept = {
            let state = self.state.lock().await;
            state
                .scope
                .as_ref()
                .filter(|(read_at, _)| read_at.elapsed() < self.max_age)
                .map(|(read_at, scope)| (scope.clone(), read_at.elapsed() >= self.refresh))
        };
        match (kept, &self.units) {
            (Some((scope, stale)), _) => {
                let list = if stale {
                    AccountList::Beside
                } else {
                    AccountList::Kept
                };
                Ok((self.reach_of(scope).await, None, list))
            }
            (None, Some(_)) => {
                let none_yet = self.org.scope(&[]);
                Ok((self.reach_of(none_yet).await, None, AccountList::AsItSweeps))
            }
            (None, None) => self
                .reach()
                .await
                .map(|(reach, warning)| (reach, warning, AccountList::Kept)),
        }
    }

    /// Reads the list again and keeps it when the read succeeds; a failed read leaves the
    /// last good one (the next sweep's reach says how old it is, once past [`SCOPE_REFRESH`]).
    pub async fn refresh(&self) -> Result<(), AwsError> {
        let scope = self.list().await?;
        self.state.lock().await.scope = Some((Instant::now(), scope));
        Ok(())
    }

    /// How many accounts the kept list holds (tests).
    #[cfg(test)]
    async fn scope_now(&self) -> usize {
        let state = self.state.lock().await;
        state.scope.as_ref().map_or(0, |(_, scope)| scope.len())
    }

    async fn reach_of(&self, scope: AccountScope) -> Reach {
        Reach::Organization {
            scope,
            concurrency: self.org.concurrency,
            due: self.state.lock().await.due.clone(),
        }
    }

    /// Where the hub acts now: the accounts in scope, the configured concurrency, the accounts
    /// due first, and the warning of a list that could not be refreshed.
    pub async fn reach(&self) -> Result<(Reach, Option<String>), AwsError> {
        let (scope, warning) = self.read().await?;
        let due = self.state.lock().await.due.clone();
        let reach = Reach::Organization {
            scope,
            concurrency: self.org.concurrency,
            due,
        };
        Ok((reach, warning))
    }

    /// Remembers what a sweep did not check or found failing, for the next sweep to take first.
    pub async fn remember(&self, report: &OrgReport) {
        self.state.lock().await.due = report.accounts_due();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use aws_sdk_organizations::operation::list_accounts::{ListAccountsError, ListAccountsOutput};
    use aws_sdk_organizations::types::{Account, AccountState};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn whole_organization() -> OrgConfig {
        OrgConfig::from_lookup(|name| (name == "FLOWGUARD_ORGANIZATION").then(|| "true".to_owned()))
            .unwrap()
            .unwrap()
    }

    fn accounts(ids: &[&str]) -> ListAccountsOutput {
        let account = |id: &&str| {
            Account::builder()
                .id(*id)
                .name(format!("account {id}"))
                .state(AccountState::Active)
                .build()
        };
        ListAccountsOutput::builder()
            .set_accounts(Some(ids.iter().map(account).collect()))
            .build()
    }

    fn refused() -> ListAccountsError {
        ListAccountsError::ServiceException(
            aws_sdk_organizations::types::error::ServiceException::builder()
                .message("Organizations is having a bad minute")
                .build(),
        )
    }

    /// A failed refresh keeps the last good list, with a warning, while it is young enough;
    /// then the failure stands.
    #[tokio::test]
    async fn a_failed_refresh_keeps_the_last_good_list_for_a_bounded_age() {
        let listing = mock!(aws_sdk_organizations::Client::list_accounts)
            .sequence()
            .output(|| accounts(&["111111111111", "222222222222"]))
            .error(refused)
            .error(refused)
            .build();
        let client = mock_client!(aws_sdk_organizations, RuleMode::Sequential, [&listing]);
        let mut directory = Directory::with_client(whole_organization(), client);
        directory.refresh = Duration::ZERO;
        let (Reach::Organization { scope, .. }, None) = directory.reach().await.unwrap() else {
            panic!("not an organization's reach without a warning");
        };
        assert_eq!(scope.len(), 2);
        let (Reach::Organization { scope, .. }, Some(warning)) = directory.reach().await.unwrap()
        else {
            panic!("the last good list was not kept with a warning");
        };
        assert_eq!(scope.len(), 2);
        assert!(warning.contains("last good list"), "{warning}");
        directory.max_age = Duration::ZERO;
        assert!(directory.scope().await.is_err());
        assert_eq!(listing.num_calls(), 3);
    }

    /// A sweep does not wait for the list: it takes the last good one and says it is stale;
    /// the refresh beside it reads the list once, and a failed refresh keeps the old list.
    #[tokio::test]
    async fn a_sweep_starts_on_the_last_good_list_and_refreshes_it_beside() {
        let listing = mock!(aws_sdk_organizations::Client::list_accounts)
            .sequence()
            .output(|| accounts(&["111111111111"]))
            .output(|| accounts(&["111111111111", "222222222222"]))
            .error(refused)
            .build();
        let client = mock_client!(aws_sdk_organizations, RuleMode::Sequential, [&listing]);
        let mut directory = Directory::with_client(whole_organization(), client);
        // No list yet: the first sweep starts on none and lists as it goes; the list is kept
        // once its last page is in.
        let (Reach::Organization { scope, .. }, None, AccountList::AsItSweeps) =
            directory.reach_for_sweep().await.unwrap()
        else {
            panic!("the first sweep did not start on no list");
        };
        assert_eq!((scope.len(), listing.num_calls()), (0, 0));
        let pages: Vec<_> = directory.listing().collect().await;
        assert_eq!(pages.len(), 1);
        assert_eq!((directory.scope_now().await, listing.num_calls()), (1, 1));
        directory.refresh = Duration::ZERO;
        let (Reach::Organization { scope, .. }, None, AccountList::Beside) =
            directory.reach_for_sweep().await.unwrap()
        else {
            panic!("a stale list was not taken as it is");
        };
        assert_eq!((scope.len(), listing.num_calls()), (1, 1));
        directory.refresh().await.unwrap();
        assert_eq!(directory.scope_now().await, 2);
        assert!(directory.refresh().await.is_err());
        assert_eq!(directory.scope_now().await, 2, "the last good list stays");
        assert_eq!(listing.num_calls(), 3);
    }
}
