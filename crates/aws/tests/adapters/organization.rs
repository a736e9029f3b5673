//! The organization's accounts with aws-smithy-mocks: pagination, account states, the walk
//! through nested OUs, and errors, which moto cannot produce on demand.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::error;
use aws_sdk_organizations::operation::list_accounts::{ListAccountsError, ListAccountsOutput};
use aws_sdk_organizations::operation::list_accounts_for_parent::{
    ListAccountsForParentError, ListAccountsForParentOutput,
};
use aws_sdk_organizations::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput;
use aws_sdk_organizations::types::{Account, AccountState, AccountStatus, OrganizationalUnit};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use flowguard_aws::organization::{OrgAccount, organization_accounts};
use flowguard_core::{Disposition, classify};

fn client(rules: &[&Rule]) -> aws_sdk_organizations::Client {
    mock_client!(aws_sdk_organizations, RuleMode::MatchAny, rules)
}

/// An ACTIVE account as Organizations lists it today (both fields).
fn active(id: &str) -> Account {
    Account::builder()
        .id(id)
        .name(format!("name-{id}"))
        .state(AccountState::Active)
        .status(AccountStatus::Active)
        .build()
}

fn ids(accounts: &[OrgAccount]) -> Vec<&str> {
    accounts.iter().map(|a| a.id.as_str()).collect()
}

/// ListAccounts answering `accounts` to the request whose token is `token`, then `next`.
fn list_accounts_page(
    token: Option<&'static str>,
    accounts: Vec<Account>,
    next: Option<&'static str>,
) -> Rule {
    mock!(aws_sdk_organizations::Client::list_accounts)
        .match_requests(move |r| r.next_token() == token)
        .then_output(move || {
            ListAccountsOutput::builder()
                .set_accounts(Some(accounts.clone()))
                .set_next_token(next.map(str::to_owned))
                .build()
        })
}

/// ListAccountsForParent of `parent`, page `token`.
fn accounts_page(
    parent: &'static str,
    token: Option<&'static str>,
    accounts: &[&str],
    next: Option<&'static str>,
) -> Rule {
    let accounts: Vec<Account> = accounts.iter().map(|id| active(id)).collect();
    mock!(aws_sdk_organizations::Client::list_accounts_for_parent)
        .match_requests(move |r| r.parent_id() == Some(parent) && r.next_token() == token)
        .then_output(move || {
            ListAccountsForParentOutput::builder()
                .set_accounts(Some(accounts.clone()))
                .set_next_token(next.map(str::to_owned))
                .build()
        })
}

/// ListOrganizationalUnitsForParent of `parent`, page `token`.
fn units_page(
    parent: &'static str,
    token: Option<&'static str>,
    units: &[&str],
    next: Option<&'static str>,
) -> Rule {
    let units: Vec<OrganizationalUnit> = units
        .iter()
        .map(|id| OrganizationalUnit::builder().id(*id).build())
        .collect();
    mock!(aws_sdk_organizations::Client::list_organizational_units_for_parent)
        .match_requests(move |r| r.parent_id() == Some(parent) && r.next_token() == token)
        .then_output(move || {
            ListOrganizationalUnitsForParentOutput::builder()
                .set_organizational_units(Some(units.clone()))
                .set_next_token(next.map(str::to_owned))
                .build()
        })
}

#[tokio::test]
async fn list_accounts_follows_every_page() {
    let first = list_accounts_page(
        None,
        vec![active("333333333333"), active("111111111111")],
        Some("t2"),
    );
    let second = list_accounts_page(Some("t2"), vec![active("222222222222")], None);
    let accounts = organization_accounts(&client(&[&first, &second]), &[])
        .await
        .unwrap();
    assert_eq!(
        ids(&accounts),
        ["111111111111", "222222222222", "333333333333"],
        "every page, sorted by id"
    );
    assert_eq!(accounts[0].name, "name-111111111111");
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

#[tokio::test]
async fn only_active_accounts_count_and_state_decides_over_status() {
    let account = |id: &str, state: Option<AccountState>, status: Option<AccountStatus>| {
        Account::builder()
            .id(id)
            .set_state(state)
            .set_status(status)
            .build()
    };
    let accounts = vec![
        account("100000000001", Some(AccountState::Active), None),
        account("100000000002", None, Some(AccountStatus::Active)),
        account("100000000003", Some(AccountState::Suspended), None),
        account("100000000004", Some(AccountState::Closed), None),
        account("100000000005", Some(AccountState::PendingActivation), None),
        account("100000000006", Some(AccountState::PendingClosure), None),
        account("100000000007", None, Some(AccountStatus::Suspended)),
        account("100000000008", None, Some(AccountStatus::PendingClosure)),
        // State is the newer field: it decides when both are there.
        account(
            "100000000009",
            Some(AccountState::Closed),
            Some(AccountStatus::Active),
        ),
        account(
            "100000000010",
            Some(AccountState::Active),
            Some(AccountStatus::Suspended),
        ),
        account("100000000011", None, None),
    ];
    let page = list_accounts_page(None, accounts, None);
    let got = organization_accounts(&client(&[&page]), &[]).await.unwrap();
    assert_eq!(ids(&got), ["100000000001", "100000000002", "100000000010"]);
    assert_eq!(got[0].name, "", "no name given: empty");
}

#[tokio::test]
async fn units_are_walked_to_the_bottom_page_by_page_and_each_account_is_listed_once() {
    // ou-top ── ou-a ── ou-a1 ── ou-a1x
    //        │       └─ ou-a2
    //        └─ ou-b
    // (the root's OUs come in two pages, and so do ou-a's and ou-a1's accounts)
    let rules = [
        units_page("ou-top", None, &["ou-a"], Some("u2")),
        units_page("ou-top", Some("u2"), &["ou-b"], None),
        units_page("ou-a", None, &["ou-a1", "ou-a2"], None),
        units_page("ou-a1", None, &["ou-a1x"], None),
        units_page("ou-a1x", None, &[], None),
        units_page("ou-a2", None, &[], None),
        units_page("ou-b", None, &[], None),
        accounts_page("ou-top", None, &["000000000001"], None),
        accounts_page("ou-a", None, &["000000000010"], Some("a2")),
        accounts_page("ou-a", Some("a2"), &["000000000011"], None),
        accounts_page("ou-a1", None, &["000000000020"], Some("n")),
        accounts_page("ou-a1", Some("n"), &["000000000021"], None),
        accounts_page("ou-a1x", None, &["000000000030"], None),
        accounts_page("ou-a2", None, &["000000000040"], None),
        accounts_page("ou-b", None, &["000000000050"], None),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    let client = client(&refs);

    let everything = organization_accounts(&client, &["ou-top".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        ids(&everything),
        [
            "000000000001",
            "000000000010",
            "000000000011",
            "000000000020",
            "000000000021",
            "000000000030",
            "000000000040",
            "000000000050"
        ]
    );
    assert!(
        rules.iter().all(|r| r.num_calls() == 1),
        "each page read exactly once"
    );

    // An OU and one of its descendants, and an OU named twice: each account once.
    let under_a = organization_accounts(
        &client,
        &["ou-a1".to_owned(), "ou-a".to_owned(), "ou-a".to_owned()],
    )
    .await
    .unwrap();
    assert_eq!(
        ids(&under_a),
        [
            "000000000010",
            "000000000011",
            "000000000020",
            "000000000021",
            "000000000030",
            "000000000040"
        ]
    );
}

#[tokio::test]
async fn access_denied_keeps_its_code() {
    let rule = mock!(aws_sdk_organizations::Client::list_accounts)
        .then_error(|| ListAccountsError::generic(error("AccessDeniedException")));
    let err = organization_accounts(&client(&[&rule]), &[])
        .await
        .unwrap_err();
    assert_eq!(err.operation, "ListAccounts");
    assert_eq!(err.code.as_deref(), Some("AccessDeniedException"));
    assert_eq!(err.message, "AccessDeniedException happened");
    assert_eq!(classify(&err), Disposition::GiveUp);
}

#[tokio::test]
async fn an_error_deep_in_the_walk_fails_the_whole_listing() {
    // A partial list would silently drop accounts from the scope: the error is the answer.
    let rules = [
        units_page("ou-top", None, &["ou-a"], None),
        units_page("ou-a", None, &[], None),
        accounts_page("ou-top", None, &["000000000001"], None),
        mock!(aws_sdk_organizations::Client::list_accounts_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-a"))
            .then_error(|| ListAccountsForParentError::generic(error("TooManyRequestsException"))),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    let err = organization_accounts(&client(&refs), &["ou-top".to_owned()])
        .await
        .unwrap_err();
    assert_eq!(err.operation, "ListAccountsForParent");
    assert_eq!(err.code.as_deref(), Some("TooManyRequestsException"));
    assert_eq!(classify(&err), Disposition::RetryLater);
}

/// A root holds every account of the organization: one `ListAccounts` walk lists them in the
/// fewest calls (20 a page), and no OU is walked.
#[tokio::test]
async fn a_root_among_the_units_is_listed_with_list_accounts() {
    let page = list_accounts_page(
        None,
        vec![
            Account::builder()
                .id("100000000001")
                .state(AccountState::Active)
                .build(),
        ],
        None,
    );
    let walk = units_page("ou-a", None, &[], None);
    let got = organization_accounts(
        &client(&[&page, &walk]),
        &["ou-a".to_owned(), "r-root".to_owned()],
    )
    .await
    .unwrap();
    assert_eq!(ids(&got), ["100000000001"]);
    assert_eq!((page.num_calls(), walk.num_calls()), (1, 0));
}

#[test]
fn a_refused_assume_role_is_reported_as_itself() {
    // How the SDK fails a member account's call when STS refuses the member role: the call
    // is never sent, and the STS error is inside a dispatch failure (the moto suite checks
    // the same end to end, `tests/e2e/organization.rs`).
    use aws_credential_types::provider::error::CredentialsError;
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError;
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
    use aws_smithy_types::body::SdkBody;

    let refused: SdkError<AssumeRoleError, HttpResponse> = SdkError::service_error(
        AssumeRoleError::generic(error("AccessDenied")),
        HttpResponse::new(403.try_into().unwrap(), SdkBody::empty()),
    );
    let call: SdkError<DescribeVpcsError, HttpResponse> = SdkError::dispatch_failure(
        ConnectorError::other(Box::new(CredentialsError::provider_error(refused)), None),
    );
    let err = flowguard_aws::error::aws_error("DescribeVpcs", call);
    assert_eq!(err.operation, "AssumeRole");
    assert_eq!(err.code.as_deref(), Some("AccessDenied"));
    assert_eq!(err.status, Some(403));
    assert_eq!(classify(&err), Disposition::GiveUp);
}
