//! Organization mode's AWS side against moto server: the organization's accounts, and
//! credentials in a member account from `AssumeRole` (moto lets any role be assumed, and a
//! request signed with the credentials it returns acts in the role's account).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use flowguard_aws::organization::{MemberAccess, organization_accounts, session_name};
use flowguard_aws::{AwsInventory, AwsPlaces, Clients};
use flowguard_core::fake::set;
use flowguard_core::{Inventory, VpcQuery};
use flowguard_tests::organizations::{create_account, create_organization, create_unit};
use flowguard_tests::proxy::{AwsRules, FaultProxy};
use flowguard_tests::{ACCOUNT, CallCounter, Moto, REGION, moto};
use std::collections::BTreeSet;

/// The organization of the tests, its management account being moto's default one:
/// ```text
/// root ── a ── a1      (one account in a, two in a1, a closed one in a1)
///      └─ b            (one account)
///      + the management account and one more account at the root
/// ```
#[derive(Debug)]
struct Org {
    client: aws_sdk_organizations::Client,
    root: String,
    a: String,
    a1: String,
    b: String,
    in_a: String,
    in_a1: [String; 2],
    in_b: String,
    at_root: String,
    closed: String,
}

async fn organization(m: &Moto) -> Org {
    let client = aws_sdk_organizations::Client::new(&m.config(REGION).await);
    let root = create_organization(&client).await;
    let a = create_unit(&client, &root, "a").await;
    let a1 = create_unit(&client, &a, "a1").await;
    let b = create_unit(&client, &root, "b").await;
    let account = |name, unit| create_account(&client, &root, name, unit);
    let in_a = account("in-a", Some(a.as_str())).await;
    let in_a1 = [
        account("in-a1-one", Some(a1.as_str())).await,
        account("in-a1-two", Some(a1.as_str())).await,
    ];
    let in_b = account("in-b", Some(b.as_str())).await;
    let at_root = account("at-root", None).await;
    let closed = account("closed", Some(a1.as_str())).await;
    client
        .close_account()
        .account_id(&closed)
        .send()
        .await
        .unwrap();
    let open = [&in_a, &in_a1[0], &in_a1[1], &in_b, &at_root].map(String::as_str);
    flowguard_tests::member_delivery_roles(m, &open).await;
    Org {
        client,
        root,
        a,
        a1,
        b,
        in_a,
        in_a1,
        in_b,
        at_root,
        closed,
    }
}

async fn ids(org: &Org, units: &[&String]) -> BTreeSet<String> {
    let units: Vec<String> = units.iter().map(|u| (*u).clone()).collect();
    organization_accounts(&org.client, &units)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect()
}

const EXTERNAL_ID: &str = "flowguard-external-id";

/// The member access of the tests: the default role name, an external id, a session name.
fn member_access(hub: aws_config::SdkConfig) -> MemberAccess {
    MemberAccess::new(
        hub,
        ACCOUNT,
        "flowguard-member",
        Some(EXTERNAL_ID.to_owned()),
        session_name("organization-test"),
    )
    .unwrap()
}

/// An enforcing sweep of `scope` in `regions`, two account×region runs at a time, by the one
/// loop that the hub and the CLI run.
async fn sweep_scope(
    places: &AwsPlaces,
    policy: &flowguard_core::Policy,
    scope: &flowguard_core::organization::AccountScope,
    regions: &[String],
) -> (
    flowguard_core::organization::OrgReport,
    Vec<flowguard_core::organization::AccountRun>,
) {
    let setup = flowguard_core::handler::Setup {
        policy: policy.clone(),
        region: REGION.to_owned(),
        warnings: Vec::new(),
    };
    let trigger = flowguard_core::trigger::Trigger::manual_sweep("organization test");
    let plan = flowguard_core::sweep::Sweep {
        setup: &setup,
        scope,
        due: &Default::default(),
        at: None,
        regions,
        regions_of: None,
        trigger: &trigger,
        mode: flowguard_core::Mode::Enforce,
        concurrency: 2,
        deadline: None,
    };
    let mut runs = Vec::new();
    let report =
        flowguard_core::sweep::sweep(places, &plan, None, |run| runs.push(run.clone())).await;
    (report, runs)
}

/// The account the credentials of `config` act as (`sts:GetCallerIdentity`), and their ARN.
async fn caller(config: &aws_config::SdkConfig) -> (String, String) {
    let out = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    (
        out.account().unwrap().to_owned(),
        out.arn().unwrap().to_owned(),
    )
}

#[tokio::test]
#[ignore = "needs moto server (MOTO_URL): run ./scripts/test"]
async fn the_active_accounts_of_the_organization_and_of_its_units() {
    let m = moto().await;
    let org = organization(&m).await;
    let management = ACCOUNT.to_owned();
    let every_active = set(&[
        &management,
        &org.in_a,
        &org.in_a1[0],
        &org.in_a1[1],
        &org.in_b,
        &org.at_root,
    ]);

    let all = organization_accounts(&org.client, &[]).await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.id.clone()).collect::<BTreeSet<_>>(),
        every_active,
        "ListAccounts: every account but the closed one ({})",
        org.closed
    );
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "sorted: {all:?}");
    let named = all.iter().find(|a| a.id == org.in_b).unwrap();
    assert_eq!(named.name, "in-b");

    assert_eq!(ids(&org, &[&org.root]).await, every_active, "the root");
    assert_eq!(
        ids(&org, &[&org.a]).await,
        set(&[&org.in_a, &org.in_a1[0], &org.in_a1[1]]),
        "a and a1 below it"
    );
    assert_eq!(
        ids(&org, &[&org.a1]).await,
        set(&[&org.in_a1[0], &org.in_a1[1]])
    );
    assert_eq!(
        ids(&org, &[&org.b, &org.a1, &org.a1]).await,
        set(&[&org.in_b, &org.in_a1[0], &org.in_a1[1]])
    );
    assert_eq!(
        ids(&org, &[&org.a1, &org.a]).await,
        ids(&org, &[&org.a]).await,
        "a unit and its parent: each account once"
    );

    let err = organization_accounts(&org.client, &["ou-zzzz-zzzzzzzz".to_owned()])
        .await
        .unwrap_err();
    assert_eq!(
        err.code.as_deref(),
        Some("ParentNotFoundException"),
        "{err:?}"
    );
}

#[tokio::test]
#[ignore = "needs moto server (MOTO_URL): run ./scripts/test"]
async fn a_member_configuration_acts_in_the_member_account() {
    let m = moto().await;
    let org = organization(&m).await;
    let access = member_access(m.config(REGION).await);

    let member = access.config(&org.in_b, "eu-west-1").await.unwrap();
    assert_eq!(member.region().unwrap().as_ref(), "eu-west-1");
    let (account, arn) = caller(&member).await;
    assert_eq!(account, org.in_b);
    assert_eq!(
        arn,
        format!(
            "arn:aws:sts::{}:assumed-role/flowguard-member/flowguard-organization-test",
            org.in_b
        )
    );

    // A VPC created with the member's credentials is the member's, and only the member sees it.
    let ec2 = aws_sdk_ec2::Client::new(&member);
    let created = ec2
        .create_vpc()
        .cidr_block("10.1.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = created.vpc().unwrap();
    assert_eq!(vpc.owner_id(), Some(org.in_b.as_str()));
    let vpc_id = vpc.vpc_id().unwrap().to_owned();
    let inventory = AwsInventory::new(Clients::new(&member));
    let seen = inventory.vpcs(VpcQuery::All).await.unwrap();
    assert!(seen.iter().any(|v| v.id.as_str() == vpc_id));
    assert!(
        seen.iter()
            .all(|v| v.owner_id.as_deref() == Some(org.in_b.as_str())),
        "{seen:?}"
    );
    let hub_eu = AwsInventory::new(m.clients("eu-west-1").await);
    let hub_seen = hub_eu.vpcs(VpcQuery::All).await.unwrap();
    assert!(
        hub_seen.iter().all(|v| v.id.as_str() != vpc_id),
        "the hub does not see it"
    );

    // The hub's own account: the hub's credentials, no role.
    let hub = access.config(ACCOUNT, "").await.unwrap();
    assert_eq!(hub.region().unwrap().as_ref(), REGION);
    let (account, arn) = caller(&hub).await;
    assert_eq!(account, ACCOUNT);
    assert!(!arn.contains("assumed-role"), "{arn}");

    // Not an account id: refused before any call.
    assert!(access.config("12345", REGION).await.is_err());
}

#[tokio::test]
#[ignore = "needs moto server (MOTO_URL): run ./scripts/test"]
async fn a_session_is_named_after_the_event_that_began_it_and_then_reused() {
    let m = moto().await;
    let org = organization(&m).await;
    let access = member_access(m.config(REGION).await);
    let session = |event: &'static str, region: &'static str| {
        let (access, account) = (&access, org.in_a.clone());
        async move {
            let config = access
                .config_for_event(&account, region, Some(event))
                .await
                .unwrap();
            caller(&config).await.1
        }
    };
    let first = format!(
        "arn:aws:sts::{}:assumed-role/flowguard-member/flowguard-0b6e4c1a-evt-1",
        org.in_a
    );
    // In the member's CloudTrail, the session names the hub's event that caused it.
    assert_eq!(session("0b6e4c1a-evt-1", REGION).await, first);
    // A later event, in another region, reuses the account's session: no second AssumeRole.
    assert_eq!(session("0b6e4c1a-evt-2", "eu-west-1").await, first);
}

#[tokio::test]
#[ignore = "needs moto server (MOTO_URL): run ./scripts/test"]
async fn an_account_costs_one_assume_role_however_many_regions() {
    let m = moto().await;
    let org = organization(&m).await;
    // Every request of the hub and of the members passes the proxy, which logs each by
    // operation (AssumeRole included: aws-config's provider sends it through the hub's
    // configuration); a counter on the EC2 clients counts what the regions do.
    let proxy = FaultProxy::start(&m.url);
    let access = member_access(m.config_at(&proxy.url, REGION).await);
    let counter = CallCounter::default();
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    let assume_roles = || {
        proxy
            .log()
            .iter()
            .filter(|(operation, _)| operation == "AssumeRole")
            .count()
    };

    let describe_in = |account: String, region: &'static str| {
        let (access, counter) = (&access, counter.clone());
        async move {
            let config = access.config(&account, region).await.unwrap();
            let ec2 = aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(&config)
                    .interceptor(counter)
                    .build(),
            );
            let out = ec2.describe_vpcs().send().await.unwrap();
            // Another service's client of the same configuration shares the credentials.
            let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
            logs.describe_log_groups().send().await.unwrap();
            (region, out.vpcs().len())
        }
    };
    // Three regions at once, then again: one AssumeRole.
    for _ in 0..2 {
        let runs = regions.map(|r| describe_in(org.in_a.clone(), r));
        let done = futures::future::join_all(runs).await;
        assert_eq!(done.len(), 3);
    }
    assert_eq!(assume_roles(), 1, "{:?}", proxy.log());
    assert_eq!(counter.calls(), ["DescribeVpcs"; 6]);

    // Another account: one more. The hub's own account: none.
    for region in regions {
        describe_in(org.in_b.clone(), region).await;
        describe_in(ACCOUNT.to_owned(), region).await;
    }
    assert_eq!(assume_roles(), 2, "{:?}", proxy.log());
    assert_eq!(counter.calls().len(), 12);
}

#[tokio::test]
#[ignore = "needs moto server (MOTO_URL): run ./scripts/test"]
async fn a_refused_member_role_is_reported_as_an_assume_role_error() {
    let m = moto().await;
    let org = organization(&m).await;
    // Every member role requires the external id; in_b's does not trust the hub at all.
    let proxy = FaultProxy::with_aws_rules(
        &m.url,
        AwsRules {
            refused_roles: [org.in_b.clone()].into(),
            external_id: Some(EXTERNAL_ID.to_owned()),
            ..AwsRules::default()
        },
    );
    let access = member_access(m.config_at(&proxy.url, REGION).await);

    let refused = AwsInventory::new(Clients::new(
        &access.config(&org.in_b, REGION).await.unwrap(),
    ));
    let err = refused.vpcs(VpcQuery::All).await.unwrap_err();
    assert_eq!(err.operation, "AssumeRole", "{err:?}");
    assert_eq!(err.code.as_deref(), Some("AccessDenied"), "{err:?}");
    assert_eq!(err.status, Some(403));
    assert!(err.message.contains(&org.in_b), "{}", err.message);
    assert_eq!(
        proxy.refused(),
        [("AssumeRole".to_owned(), "AccessDenied".to_owned())]
    );

    // The other accounts are unaffected: the external id is sent.
    let fine = AwsInventory::new(Clients::new(
        &access.config(&org.in_a, REGION).await.unwrap(),
    ));
    assert!(fine.vpcs(VpcQuery::All).await.is_ok());

    // Without the external id, the same role refuses.
    let without = MemberAccess::new(
        m.config_at(&proxy.url, REGION).await,
        ACCOUNT,
        "flowguard-member",
        None,
        session_name("organization-test"),
    )
    .unwrap();
    let err = AwsInventory::new(Clients::new(
        &without.config(&org.in_a, REGION).await.unwrap(),
    ))
    .vpcs(VpcQuery::All)
    .await
    .unwrap_err();
    assert_eq!(
        (err.operation, err.code.as_deref()),
        ("AssumeRole", Some("AccessDenied"))
    );
}

/// The whole organization path on the emulator: an organization scoped to one OU (recursively)
/// less one excluded account, swept in two regions through the member role; then an event of
/// an account out of scope. Only the accounts in scope change, in both regions.
#[tokio::test]
#[ignore = "needs moto server (MOTO_URL): run ./scripts/test"]
async fn an_organization_sweep_acts_only_in_the_accounts_in_scope_in_every_region() {
    use flowguard_core::handler::{Handled, Reach, Setup, handle};
    use flowguard_core::organization::OrgConfig;

    let m = moto().await;
    let org = organization(&m).await;
    let access = member_access(m.config(REGION).await);
    let regions = [REGION, "eu-west-1"];
    let everyone = [
        &org.in_a,
        &org.in_a1[0],
        &org.in_a1[1],
        &org.in_b,
        &org.at_root,
    ];
    // One VPC of each member account in each region.
    let mut vpcs = Vec::new();
    for account in everyone {
        for region in regions {
            let config = access.config(account, region).await.unwrap();
            let out = aws_sdk_ec2::Client::new(&config)
                .create_vpc()
                .cidr_block("10.7.0.0/16")
                .send()
                .await
                .unwrap();
            let vpc = out.vpc().unwrap().vpc_id().unwrap().to_owned();
            vpcs.push((account.clone(), region, vpc));
        }
    }
    let vars = [
        ("FLOWGUARD_ORGANIZATION", "true".to_owned()),
        ("FLOWGUARD_ORGANIZATIONAL_UNITS", org.a.clone()),
        ("FLOWGUARD_EXCLUDE_ACCOUNTS", org.in_a1[1].clone()),
        ("FLOWGUARD_EXTERNAL_ID", EXTERNAL_ID.to_owned()),
    ];
    let config = OrgConfig::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
    .unwrap();
    let in_organization: Vec<String> = ids(&org, &[&org.a]).await.into_iter().collect();
    let scope = config.scope(&in_organization);
    assert_eq!(
        scope.accounts().collect::<BTreeSet<_>>(),
        [org.in_a.as_str(), org.in_a1[0].as_str()]
            .into_iter()
            .collect()
    );
    let policy = config.complete(flowguard_core::Policy::default()).unwrap();
    let ports = AwsPlaces::organization(m.config(REGION).await, access);
    let (report, _) = sweep_scope(&ports, &policy, &scope, &regions.map(str::to_owned)).await;
    // Two accounts in two regions.
    assert_eq!(report.summary.accounts.ok, 4, "{report:?}");
    assert_eq!(report.summary.accounts.unreachable, 0, "{report:?}");
    assert_eq!(report.summary.vpcs.failed, 0, "{report:?}");
    let access = member_access(m.config(REGION).await);
    for (account, region, vpc) in &vpcs {
        let config = access.config(account, region).await.unwrap();
        let flow_logs = aws_sdk_ec2::Client::new(&config)
            .describe_flow_logs()
            .send()
            .await
            .unwrap();
        let has = flow_logs
            .flow_logs()
            .iter()
            .any(|fl| fl.resource_id() == Some(vpc.as_str()));
        let in_scope = *account == org.in_a || *account == org.in_a1[0];
        assert_eq!(has, in_scope, "{account} in {region}: {vpc}");
        if !in_scope {
            assert!(
                flow_logs.flow_logs().is_empty(),
                "{account} in {region} was touched"
            );
        }
    }

    // A CreateVpc of an account out of scope changes nothing anywhere.
    let (_, _, vpc_of_b) = vpcs
        .iter()
        .find(|(a, r, _)| *a == org.in_b && *r == REGION)
        .unwrap();
    let mut event = flowguard_tests::create_vpc_event(vpc_of_b);
    event["account"] = org.in_b.clone().into();
    event["detail"]["recipientAccountId"] = org.in_b.clone().into();
    let setup = Setup {
        policy,
        region: REGION.to_owned(),
        warnings: Vec::new(),
    };
    let reach = Reach::Organization {
        scope: scope.clone(),
        concurrency: config.concurrency,
        due: BTreeSet::new(),
    };
    let handled = handle(
        &ports,
        &setup,
        &reach,
        event.to_string().as_bytes(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    assert!(
        matches!(
            handled,
            Handled::Ignored {
                out_of_scope: true,
                ..
            }
        ),
        "{handled:?}"
    );
    let b = access.config(&org.in_b, REGION).await.unwrap();
    let flow_logs = aws_sdk_ec2::Client::new(&b)
        .describe_flow_logs()
        .send()
        .await
        .unwrap();
    assert!(flow_logs.flow_logs().is_empty());
}

/// A VPC of one member account shared (AWS RAM) into another, both in scope: the participant
/// reports it `not_owned` and never sends it to EC2; the owner's run enforces it.
#[tokio::test]
#[ignore = "needs moto server (MOTO_URL): run ./scripts/test"]
async fn a_shared_vpc_is_enforced_in_its_owner_account_not_in_the_participant() {
    use flowguard_core::organization::OrgConfig;
    use flowguard_core::report::VpcStatus;
    use flowguard_tests::proxy::SharedVpc;

    let m = moto().await;
    let org = organization(&m).await;
    let (owner, participant) = (org.in_a.clone(), org.in_b.clone());
    let owner_ec2 = aws_sdk_ec2::Client::new(
        &member_access(m.config(REGION).await)
            .config(&owner, REGION)
            .await
            .unwrap(),
    );
    let shared = owner_ec2
        .create_vpc()
        .cidr_block("10.42.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_owned();
    let proxy = FaultProxy::with_aws_rules(
        &m.url,
        AwsRules {
            shared_into: [(
                participant.clone(),
                vec![SharedVpc {
                    vpc_id: shared.clone(),
                    owner: owner.clone(),
                    cidr_block: "10.42.0.0/16".to_owned(),
                }],
            )]
            .into(),
            ..AwsRules::default()
        },
    );
    let access = member_access(m.config_at(&proxy.url, REGION).await);
    let config = OrgConfig::from_lookup(|name| {
        (name == "FLOWGUARD_ACCOUNTS").then(|| format!("{owner},{participant}"))
    })
    .unwrap()
    .unwrap();
    let scope = config.scope(&[]);
    let policy = config.complete(flowguard_core::Policy::default()).unwrap();
    let places = AwsPlaces::organization(m.config_at(&proxy.url, REGION).await, access);
    let (report, runs) = sweep_scope(&places, &policy, &scope, &[REGION.to_owned()]).await;
    assert_eq!(report.summary.accounts.ok, 2, "{report:?}");
    let vpc_in = |account: &str| {
        let run = runs.iter().find(|r| r.account == account).unwrap();
        run.report
            .as_ref()
            .unwrap()
            .vpcs
            .iter()
            .find(|v| v.vpc_id.as_str() == shared)
            .cloned()
            .unwrap_or_else(|| panic!("{shared} not in {account}'s report: {run:?}"))
    };
    let seen_by_participant = vpc_in(&participant);
    assert_eq!(seen_by_participant.status, VpcStatus::NotOwned);
    assert!(
        seen_by_participant
            .reason
            .contains(&format!("enforced in its owner's account {owner}")),
        "{}",
        seen_by_participant.reason
    );
    assert_eq!(vpc_in(&owner).status, VpcStatus::Remediated);
    assert_eq!(report.summary.vpcs.failed, 0, "{report:?}");
    assert_eq!(proxy.refused(), [], "the participant never sent it to EC2");
    // The flow log is the owner's.
    let flow_logs = owner_ec2
        .describe_flow_logs()
        .filter(
            aws_sdk_ec2::types::Filter::builder()
                .name("resource-id")
                .values(&shared)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(flow_logs.flow_logs().len(), 1, "{flow_logs:?}");
}
