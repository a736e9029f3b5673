//! Organization mode's AWS side: which accounts are in the organization, and credentials in
//! each of them.
//!
//! - [`organization_accounts`]: the ACTIVE accounts of the organization ([`OrgAccount`]), all
//!   of them (`ListAccounts`) or those under some OUs or the root, recursively
//!   (`ListAccountsForParent`, `ListOrganizationalUnitsForParent`), every listing paginated;
//!   [`account_pages`] gives the same a page at a time, for a sweep that starts before the list
//!   is whole (a cold hub).
//! - [`MemberAccess`]: an `SdkConfig` per account and region. A member account's credentials
//!   come from aws-config's own [`AssumeRoleProvider`] (15-minute sessions, the external id when
//!   set), one provider per account, kept: the SDK's identity cache then holds the credentials
//!   until shortly before they expire, and every region and client of an account shares them,
//!   so an account costs one `AssumeRole` however many regions are checked. The hub's own
//!   account uses the hub's credentials.
//! - [`Directory`]: the accounts in scope (a list, or the organization's), read at most every
//!   [`SCOPE_REFRESH`].
//! - [`member_role_arn`] and [`partition_of`]: the role to assume, from `FLOWGUARD_MEMBER_ROLE`
//!   (a role name, or an ARN with `{account_id}` and `{partition}`), pure.
//!
//! A refused `AssumeRole` surfaces on the first call made with the member's configuration, as
//! an [`AwsError`] of operation `AssumeRole` with STS's code ([`crate::error::aws_error`]).

mod access;
mod directory;

pub use access::{
    MemberAccess, MemberAccessError, SESSION_LENGTH, SESSION_REUSE, check_member_role, session_name,
};
pub use directory::{AccountList, Directory, SCOPE_REFRESH};
pub use flowguard_core::organization::{member_role_arn, partition_of};

use crate::error::HasStatus;
use crate::error::aws_error;
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};
use flowguard_core::AwsError;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use std::collections::HashSet;

/// Parents (OUs, the root) listed at once when walking the organization; each costs two
/// listings, so at most twice as many calls are in flight. Organizations' API quotas are low
/// (the SDK's standard retries absorb `TooManyRequestsException`).
const CONCURRENT_PARENTS: usize = 4;

/// Results per page of every Organizations listing: the most its API takes (`MaxResults`,
/// "Minimum value of 1. Maximum value of 20." in AWS's Organizations API reference; the
/// pinned SDK states no range), so that a listing makes the fewest calls.
const PAGE_SIZE: i32 = 20;

/// An account of the organization.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrgAccount {
    /// The 12-digit account id.
    pub id: String,
    /// The account's friendly name (empty when Organizations gives none).
    pub name: String,
}

/// The ACTIVE accounts of the organization, sorted by id, each once: every page of
/// [`account_pages`], or its first error.
pub async fn organization_accounts(
    client: &aws_sdk_organizations::Client,
    units: &[String],
) -> Result<Vec<OrgAccount>, AwsError> {
    let pages: Vec<Vec<OrgAccount>> = account_pages(client, units).try_collect().await?;
    Ok(sorted_once(pages.into_iter().flatten().collect()))
}

/// `accounts` sorted by id, each once (an account under two units named is listed twice).
pub(crate) fn sorted_once(mut accounts: Vec<OrgAccount>) -> Vec<OrgAccount> {
    accounts.sort();
    accounts.dedup_by(|a, b| a.id == b.id);
    accounts
}

/// The ACTIVE accounts of the organization, a page at a time as Organizations answers, for a
/// sweep that starts on the first page. With `units` empty or naming the root, the pages of
/// `ListAccounts` (20 accounts each, one after the other); otherwise the accounts under those
/// OUs at any depth, in one page once the walk is done. An error ends the stream. An account
/// may come twice (under an OU and its parent, both named): the reader keeps it once. Needs
/// the management account or a delegated administrator.
pub fn account_pages<'a>(
    client: &'a aws_sdk_organizations::Client,
    units: &'a [String],
) -> BoxStream<'a, Result<Vec<OrgAccount>, AwsError>> {
    let active = |accounts: Vec<Account>| -> Vec<OrgAccount> {
        let listed = accounts.into_iter().filter(is_active);
        let known = listed.filter_map(|a| {
            Some(OrgAccount {
                name: a.name().unwrap_or_default().to_owned(),
                id: a.id?,
            })
        });
        known.collect()
    };
    // A root holds every account: one ListAccounts walk is fewer calls than walking its OUs.
    if units.is_empty() || units.iter().any(|u| u.starts_with("r-")) {
        let pages = client
            .list_accounts()
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        let pages = stream::unfold(pages, |mut pages| async move {
            pages.next().await.map(|page| (page, pages))
        });
        pages
            .map(move |page| match page {
                Ok(page) => Ok(active(page.accounts.unwrap_or_default())),
                Err(error) => Err(aws_error("ListAccounts", error)),
            })
            .boxed()
    } else {
        stream::once(async move { accounts_under(client, units).await.map(active) }).boxed()
    }
}

/// Whether the account is ACTIVE. The pinned SDK (aws-sdk-organizations 1.137) has both
/// `State` (added in 2025: `PENDING_ACTIVATION`, `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`,
/// `CLOSED`) and `Status` (`ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`), which its documentation
/// says will be retired on September 9, 2026. `State` decides when present, `Status`
/// otherwise; an account with neither is not counted as active.
fn is_active(account: &Account) -> bool {
    match (account.state(), account.status()) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => false,
    }
}

/// The items of every page of a listing of `operation`, or its error: never a partial list.
fn every_item<P, T, E, R>(
    operation: &'static str,
    pages: Result<Vec<P>, SdkError<E, R>>,
    items: impl Fn(P) -> Vec<T>,
) -> Result<Vec<T>, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + HasStatus + 'static,
{
    let pages = pages.map_err(|e| aws_error(operation, e))?;
    Ok(pages.into_iter().flat_map(items).collect())
}

/// The accounts under `units`, level by level: each parent's accounts and child OUs, then
/// the children's, [`CONCURRENT_PARENTS`] parents at a time. A parent named twice (an OU and
/// the root above it, say) is listed once.
async fn accounts_under(
    client: &aws_sdk_organizations::Client,
    units: &[String],
) -> Result<Vec<Account>, AwsError> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut level: Vec<String> = units
        .iter()
        .filter(|u| seen.insert((*u).clone()))
        .cloned()
        .collect();
    let mut accounts = Vec::new();
    while !level.is_empty() {
        let listed: Vec<(Vec<Account>, Vec<String>)> = stream::iter(level)
            .map(|parent| async move {
                futures::try_join!(accounts_of(client, &parent), units_of(client, &parent))
            })
            .buffer_unordered(CONCURRENT_PARENTS)
            .try_collect()
            .await?;
        level = Vec::new();
        for (found, children) in listed {
            accounts.extend(found);
            level.extend(children.into_iter().filter(|c| seen.insert(c.clone())));
        }
    }
    Ok(accounts)
}

/// The accounts directly under `parent`.
async fn accounts_of(
    client: &aws_sdk_organizations::Client,
    parent: &str,
) -> Result<Vec<Account>, AwsError> {
    let listing = client.list_accounts_for_parent().parent_id(parent);
    let listing = listing.max_results(PAGE_SIZE).into_paginator();
    let pages = listing.send().try_collect().await;
    every_item("ListAccountsForParent", pages, |page| {
        page.accounts.unwrap_or_default()
    })
}

/// The ids of the OUs directly under `parent`.
async fn units_of(
    client: &aws_sdk_organizations::Client,
    parent: &str,
) -> Result<Vec<String>, AwsError> {
    let listing = client.list_organizational_units_for_parent();
    let listing = listing
        .parent_id(parent)
        .max_results(PAGE_SIZE)
        .into_paginator();
    let pages = listing.send().try_collect().await;
    every_item("ListOrganizationalUnitsForParent", pages, |page| {
        let units = page.organizational_units.unwrap_or_default();
        units.into_iter().filter_map(|ou| ou.id).collect()
    })
}
