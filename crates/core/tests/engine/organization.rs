//! Organization mode's pure part: the scope configuration, routing by account, and the
//! organization report.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{assert_says, set, variables};
use flowguard_core::ConfigError;
use flowguard_core::organization::{
    AccountRun, AccountSource, AccountStatus, OrgConfig, OrgReport, member_role_arn, partition_of,
};
use flowguard_core::report::{Report, VpcStatus};
use flowguard_core::trigger::Trigger;

fn config(vars: &[(&str, &str)]) -> Result<Option<OrgConfig>, ConfigError> {
    OrgConfig::from_lookup(variables(vars))
}

#[test]
fn without_accounts_or_organization_it_is_the_single_account_mode() {
    assert_eq!(config(&[]).unwrap(), None);
    assert_eq!(
        config(&[("FLOWGUARD_ORGANIZATION", "false")]).unwrap(),
        None
    );
    assert_eq!(
        config(&[("FLOWGUARD_ACCOUNTS", " ")]).unwrap(),
        None,
        "empty is unset"
    );
}

#[test]
fn a_list_of_accounts_turns_organization_mode_on_with_the_defaults() {
    let org = config(&[(
        "FLOWGUARD_ACCOUNTS",
        "111111111111, 222222222222,111111111111",
    )])
    .unwrap()
    .unwrap();
    assert_eq!(
        org.source,
        AccountSource::Listed(set(&["111111111111", "222222222222"]))
    );
    assert_eq!(org.member_role, "flowguard-member");
    assert_eq!(org.concurrency, 48);
    assert_eq!(org.external_id, None);
    assert!(org.exclude.is_empty());
}

#[test]
fn the_delivery_role_is_each_accounts_own_in_organization_mode() {
    use flowguard_core::Policy;
    let org = config(&[("FLOWGUARD_ACCOUNTS", "111111111111")])
        .unwrap()
        .unwrap();
    let with = |arn: Option<&str>| {
        org.complete(Policy {
            delivery_role_arn: arn.map(str::to_owned),
            ..Policy::default()
        })
        .map(|p| p.delivery_role_arn.unwrap())
    };
    // None configured: the spoke's role in each account.
    assert_eq!(
        with(None).unwrap(),
        "arn:{partition}:iam::{account_id}:role/flowguard-delivery"
    );
    let own = "arn:aws:iam::{account_id}:role/platform/flow-logs";
    assert_eq!(with(Some(own)).unwrap(), own);
    // One account's role cannot deliver another's flow logs: refused, naming the variable.
    let err = with(Some("arn:aws:iam::111111111111:role/flowguard-delivery")).unwrap_err();
    assert_eq!(err.variable, "FLOWGUARD_DELIVERY_ROLE_ARN");
    assert!(err.to_string().contains("{account_id}"), "{err}");
}

#[test]
fn a_kms_key_is_an_alias_or_one_fixed_key_in_organization_mode() {
    use flowguard_core::{Place, Policy};
    let org = config(&[("FLOWGUARD_ACCOUNTS", "111111111111")])
        .unwrap()
        .unwrap();
    let with = |key: &str| {
        let policy =
            Policy::from_lookup(|name| (name == "FLOWGUARD_KMS_KEY_ARN").then(|| key.to_owned()))
                .unwrap();
        org.complete(policy)
    };
    // KMS assigns each key its id: a template with {account_id} names no key in a second
    // account. Refused at start-up, naming the variable and what to write instead.
    let err = with("arn:aws:kms:{region}:{account_id}:key/mrk-1234abcd").unwrap_err();
    assert_eq!(err.variable, "FLOWGUARD_KMS_KEY_ARN");
    assert!(err.to_string().contains("alias/flowguard-logs"), "{err}");
    // An alias names each account's own key; it is passed on as it is, in every place.
    let alias = with("alias/flowguard-logs").unwrap();
    let place = Place {
        region: "eu-west-1".to_owned(),
        account: "111111111111".to_owned(),
    };
    assert_eq!(
        alias.kms_key_in(&place).unwrap().as_deref(),
        Some("alias/flowguard-logs")
    );
    // One key of a fixed account (its key policy admitting the members' log groups) is kept.
    let central = "arn:aws:kms:{region}:999999999999:key/mrk-1234abcd";
    assert_eq!(with(central).unwrap().kms_key_arn.as_deref(), Some(central));
}

#[test]
fn the_organization_with_units_exclusions_role_external_id_and_concurrency() {
    let org = config(&[
        ("FLOWGUARD_ORGANIZATION", "TRUE"),
        ("FLOWGUARD_ORGANIZATIONAL_UNITS", "ou-ab12-cdefgh34,r-a1b2"),
        ("FLOWGUARD_EXCLUDE_ACCOUNTS", "999999999999"),
        (
            "FLOWGUARD_MEMBER_ROLE",
            "arn:{partition}:iam::{account_id}:role/ops/flowguard",
        ),
        ("FLOWGUARD_EXTERNAL_ID", "sec-team:flowguard"),
        ("FLOWGUARD_CONCURRENCY", "32"),
    ])
    .unwrap()
    .unwrap();
    assert_eq!(
        org.source,
        AccountSource::Organization {
            units: set(&["ou-ab12-cdefgh34", "r-a1b2"])
        }
    );
    assert_eq!(org.exclude, set(&["999999999999"]));
    assert_eq!(
        org.member_role_arn("123456789012", "aws"),
        "arn:aws:iam::123456789012:role/ops/flowguard"
    );
    assert_eq!(org.external_id.as_deref(), Some("sec-team:flowguard"));
    assert_eq!(org.concurrency, 32);
}

#[test]
fn bad_values_are_refused_naming_the_variable() {
    /// The variables set, then the variable and the value that the error must name.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 11] = [
        (
            &[("FLOWGUARD_ACCOUNTS", "12345")],
            "FLOWGUARD_ACCOUNTS",
            "12345",
        ),
        (
            &[("FLOWGUARD_ACCOUNTS", "111111111111,abc")],
            "FLOWGUARD_ACCOUNTS",
            "abc",
        ),
        (&[("FLOWGUARD_ACCOUNTS", ",,")], "FLOWGUARD_ACCOUNTS", ",,"),
        (
            &[("FLOWGUARD_ORGANIZATION", "perhaps")],
            "FLOWGUARD_ORGANIZATION",
            "perhaps",
        ),
        (
            &[
                ("FLOWGUARD_ORGANIZATION", "true"),
                ("FLOWGUARD_ORGANIZATIONAL_UNITS", "ou-x"),
            ],
            "FLOWGUARD_ORGANIZATIONAL_UNITS",
            "ou-x",
        ),
        (
            &[
                ("FLOWGUARD_ORGANIZATION", "true"),
                ("FLOWGUARD_ACCOUNTS", "111111111111"),
            ],
            "FLOWGUARD_ACCOUNTS",
            "111111111111",
        ),
        (
            &[("FLOWGUARD_ORGANIZATIONAL_UNITS", "r-a1b2")],
            "FLOWGUARD_ORGANIZATIONAL_UNITS",
            "r-a1b2",
        ),
        (
            &[
                ("FLOWGUARD_ACCOUNTS", "111111111111"),
                ("FLOWGUARD_EXCLUDE_ACCOUNTS", "x"),
            ],
            "FLOWGUARD_EXCLUDE_ACCOUNTS",
            "x",
        ),
        (
            // An ARN without {account_id} names one account's role, not each account's.
            &[
                ("FLOWGUARD_ACCOUNTS", "111111111111"),
                (
                    "FLOWGUARD_MEMBER_ROLE",
                    "arn:aws:iam::111111111111:role/flowguard-member",
                ),
            ],
            "FLOWGUARD_MEMBER_ROLE",
            "arn:aws:iam::111111111111:role/flowguard-member",
        ),
        (
            &[
                ("FLOWGUARD_ACCOUNTS", "111111111111"),
                ("FLOWGUARD_CONCURRENCY", "0"),
            ],
            "FLOWGUARD_CONCURRENCY",
            "0",
        ),
        (
            // Organization-only variables without organization mode are not silently ignored.
            &[("FLOWGUARD_MEMBER_ROLE", "flowguard-member")],
            "FLOWGUARD_MEMBER_ROLE",
            "flowguard-member",
        ),
    ];
    for (vars, variable, value) in cases {
        let error = config(vars).expect_err(&format!("{vars:?} must be refused"));
        assert_eq!(error.variable, variable, "{vars:?}: {error}");
        assert_eq!(error.value, value, "{vars:?}: {error}");
    }
}

#[test]
fn an_external_id_is_checked_and_never_echoed() {
    let error = config(&[
        ("FLOWGUARD_ACCOUNTS", "111111111111"),
        ("FLOWGUARD_EXTERNAL_ID", "has spaces in it"),
    ])
    .unwrap_err();
    assert_eq!(error.variable, "FLOWGUARD_EXTERNAL_ID");
    assert!(!error.to_string().contains("spaces"), "{error}");
}

#[test]
fn the_scope_is_the_accounts_less_the_exclusions() {
    let listed = config(&[
        ("FLOWGUARD_ACCOUNTS", "111111111111,222222222222"),
        ("FLOWGUARD_EXCLUDE_ACCOUNTS", "222222222222"),
    ])
    .unwrap()
    .unwrap();
    let scope = listed.scope(&["333333333333".to_owned()]);
    assert_eq!(scope.accounts().collect::<Vec<_>>(), ["111111111111"]);
    assert!(scope.admits(Some("111111111111")).is_ok());
    let excluded = scope.admits(Some("222222222222")).unwrap_err();
    assert!(excluded.contains("excluded"), "{excluded}");
    let other = scope.admits(Some("333333333333")).unwrap_err();
    assert!(other.contains("not in flowguard's scope"), "{other}");
    let nobody = scope.admits(None).unwrap_err();
    assert!(nobody.contains("names no account"), "{nobody}");
    // Untrusted text is not echoed as if it were an account id.
    let odd = scope.admits(Some("<script>")).unwrap_err();
    assert!(!odd.contains("<script>"), "{odd}");

    let whole = config(&[("FLOWGUARD_ORGANIZATION", "yes")])
        .unwrap()
        .unwrap();
    let scope = whole.scope(&["333333333333".to_owned(), "444444444444".to_owned()]);
    assert_eq!(scope.len(), 2);
    assert!(scope.admits(Some("444444444444")).is_ok());
}

#[test]
fn roles_and_partitions() {
    assert_eq!(
        member_role_arn("flowguard-member", "123456789012", "aws-cn"),
        "arn:aws-cn:iam::123456789012:role/flowguard-member"
    );
    assert_eq!(partition_of("eu-west-1"), "aws");
    assert_eq!(partition_of("cn-north-1"), "aws-cn");
    assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
}

fn report(account: &str, region: &str, statuses: &[VpcStatus]) -> Report {
    let place = flowguard_core::Place {
        region: region.to_owned(),
        account: account.to_owned(),
    };
    flowguard_core::fake::report_of(&place, flowguard_core::Mode::Enforce, statuses)
}

#[test]
fn the_organization_report_adds_up_accounts_and_vpcs() {
    let org = OrgReport::new(
        flowguard_core::Mode::Enforce,
        &["eu-west-1".to_owned(), "us-east-1".to_owned()],
        vec![
            AccountRun::ok(report(
                "222222222222",
                "us-east-1",
                &[VpcStatus::Remediated],
            )),
            AccountRun::unreachable(
                "333333333333",
                "us-east-1",
                Some("AccessDenied".to_owned()),
                "AccessDenied: no member role",
                None,
            ),
            AccountRun::ok(report(
                "111111111111",
                "eu-west-1",
                &[VpcStatus::Compliant, VpcStatus::Failed],
            )),
        ],
    );
    assert_eq!(org.regions, ["eu-west-1", "us-east-1"]);
    let order: Vec<&str> = org.accounts.iter().map(|a| a.account.as_str()).collect();
    assert_eq!(order, ["111111111111", "222222222222", "333333333333"]);
    assert_eq!(org.summary.accounts.ok, 2);
    assert_eq!(org.summary.accounts.unreachable, 1);
    assert_eq!(
        (
            org.summary.vpcs.compliant,
            org.summary.vpcs.remediated,
            org.summary.vpcs.failed
        ),
        (1, 1, 1)
    );
    assert_eq!(org.accounts[2].status, AccountStatus::Unreachable);
    let json = serde_json::to_value(&org).unwrap();
    assert_eq!(json["accounts"][2]["status"], "unreachable");
    assert_eq!(json["accounts"][2]["error"], "AccessDenied: no member role");
    assert!(json["accounts"][2].get("report").is_none());
    assert_eq!(json["summary"]["accounts"]["unreachable"], 1);
}

pub(crate) mod sweep {
    use super::*;
    use flowguard_core::Places;
    use flowguard_core::Policy;
    use flowguard_core::fake::{FakeRegion, State, vpc};
    use flowguard_core::handler::Setup;
    use flowguard_core::organization::AccountScope;
    use flowguard_core::reconcile::{Deadline, Mode};
    use flowguard_core::report::Outcome;
    use flowguard_core::sweep::{Sweep, sweep};
    use futures::executor::block_on;
    use std::sync::Arc;

    /// One fake region per reachable account; any other account refuses the member role.
    pub use flowguard_core::fake::FakePlaces as Accounts;

    /// One sweep of `scope` by the one loop, in the order of the scope's accounts.
    pub fn run_sweep<P: Places>(
        ports: &P,
        scope: &AccountScope,
        regions: &[String],
        trigger: &Trigger,
        mode: Mode,
        concurrency: usize,
        deadline: Option<Deadline>,
    ) -> OrgReport {
        let setup = Setup {
            policy: policy(),
            region: "us-east-1".to_owned(),
            warnings: Vec::new(),
        };
        let plan = Sweep {
            setup: &setup,
            scope,
            due: &Default::default(),
            at: None,
            regions,
            regions_of: None,
            trigger,
            mode,
            concurrency,
            deadline,
        };
        block_on(sweep(ports, &plan, None, |_| {}))
    }

    pub fn accounts(ids: &[&str]) -> Accounts {
        Accounts(
            ids.iter()
                .map(|id| {
                    let mut v = vpc(&format!("vpc-{id}"), &[]);
                    v.owner_id = Some((*id).to_owned());
                    let fake = FakeRegion::new(State {
                        vpcs: vec![v],
                        ..State::default()
                    });
                    fake.account(id);
                    ((*id).to_owned(), Arc::new(fake))
                })
                .collect(),
        )
    }

    pub fn policy() -> Policy {
        Policy {
            delivery_role_arn: Some("arn:aws:iam::{account_id}:role/flowguard-delivery".into()),
            ..Policy::default()
        }
    }

    fn scope(ids: &str) -> flowguard_core::organization::AccountScope {
        config(&[("FLOWGUARD_ACCOUNTS", ids)])
            .unwrap()
            .unwrap()
            .scope(&[])
    }

    #[test]
    fn every_account_in_scope_is_swept_and_one_unreachable_account_stops_no_other() {
        let ports = accounts(&["111111111111", "222222222222"]);
        let trigger = Trigger::manual_sweep("organization sweep");
        let report = run_sweep(
            &ports,
            &scope("111111111111,222222222222,333333333333"),
            &["us-east-1".to_owned()],
            &trigger,
            Mode::Enforce,
            2,
            None,
        );
        assert_eq!(report.summary.accounts.ok, 2);
        assert_eq!(report.summary.accounts.unreachable, 1);
        assert_eq!(report.summary.vpcs.remediated, 2);
        let unreachable = &report.accounts[2];
        assert_eq!(unreachable.account, "333333333333");
        assert_eq!(unreachable.error_code.as_deref(), Some("AccessDenied"));
        assert!(
            unreachable
                .error
                .as_deref()
                .unwrap()
                .contains("AccessDenied")
        );
        assert_eq!(report.outcome(), Outcome::Failed { retryable: true });
        for (id, fake) in &ports.0 {
            assert_eq!(fake.state().flow_logs.len(), 1, "account {id}");
        }
    }

    #[test]
    fn an_audit_of_the_organization_changes_nothing() {
        let ports = accounts(&["111111111111"]);
        let trigger = Trigger::manual_sweep("organization audit");
        let report = run_sweep(
            &ports,
            &scope("111111111111"),
            &["us-east-1".to_owned()],
            &trigger,
            Mode::Audit,
            4,
            None,
        );
        assert!(report.dry_run);
        assert_eq!(report.summary.vpcs.would_remediate, 1);
        assert_eq!(report.outcome(), Outcome::Ok);
        assert!(ports.0["111111111111"].state().flow_logs.is_empty());
    }

    #[test]
    fn accounts_not_started_before_the_deadline_are_not_checked_and_retryable() {
        let ports = accounts(&["111111111111", "222222222222"]);
        let trigger = Trigger::manual_sweep("late");
        let late = Deadline::at(std::time::Instant::now());
        let report = run_sweep(
            &ports,
            &scope("111111111111,222222222222"),
            &["us-east-1".to_owned()],
            &trigger,
            Mode::Enforce,
            1,
            Some(late),
        );
        assert_eq!(report.summary.accounts.unreachable, 2);
        assert!(
            report
                .accounts
                .iter()
                .all(|a| a.error.as_deref().unwrap().starts_with("not checked")
                    && a.error_code.as_deref() == Some("DeadlineNear"))
        );
        assert_eq!(report.outcome(), Outcome::Failed { retryable: true });
        assert!(
            ports.0.values().all(|f| f.calls().is_empty()),
            "nothing read"
        );
    }
}

mod hub {
    use super::sweep::{Accounts, accounts, policy};
    use super::*;
    use flowguard_core::handler::{Handled, HandlerError, Reach, Setup, handle};
    use futures::executor::block_on;
    use std::collections::BTreeSet;

    fn fixture(name: &str) -> serde_json::Value {
        serde_json::from_slice(&crate::common::fixture(name)).unwrap()
    }

    /// A CreateVpc event of `account` for its one VPC (`vpc-<account>` in these fakes).
    fn create_vpc_in(account: &str) -> Vec<u8> {
        let mut event = fixture("create_vpc.json");
        event["account"] = account.into();
        event["detail"]["recipientAccountId"] = account.into();
        event["detail"]["responseElements"]["vpc"]["vpcId"] = format!("vpc-{account}").into();
        event.to_string().into_bytes()
    }

    fn hub(ports: &Accounts, accounts: &str, event: &[u8]) -> Result<Handled, HandlerError> {
        let org = config(&[("FLOWGUARD_ACCOUNTS", accounts)])
            .unwrap()
            .unwrap();
        let setup = Setup {
            policy: org.complete(policy()).unwrap(),
            region: "us-east-1".to_owned(),
            warnings: Vec::new(),
        };
        let reach = Reach::Organization {
            scope: org.scope(&[]),
            concurrency: org.concurrency,
            due: BTreeSet::new(),
        };
        block_on(handle(ports, &setup, &reach, event, None, |_| {}))
    }

    #[test]
    fn an_event_of_an_account_in_scope_is_handled_in_that_account_only() {
        let ports = accounts(&["111111111111", "222222222222"]);
        let handled = hub(
            &ports,
            "111111111111,222222222222",
            &create_vpc_in("222222222222"),
        );
        let Ok(Handled::Account(report)) = handled else {
            panic!("{handled:?}");
        };
        assert_eq!(report.account, "222222222222");
        assert_eq!(report.summary.vpcs.remediated, 1);
        assert_eq!(ports.0["222222222222"].state().flow_logs.len(), 1);
        assert!(
            ports.0["111111111111"].calls().is_empty(),
            "no other account touched"
        );
    }

    #[test]
    fn an_event_of_an_account_out_of_scope_is_ignored_and_counted() {
        let ports = accounts(&["111111111111", "222222222222"]);
        let handled = hub(&ports, "111111111111", &create_vpc_in("222222222222"));
        let Ok(Handled::Ignored {
            report,
            out_of_scope: true,
        }) = handled
        else {
            panic!("{handled:?}");
        };
        assert!(
            report.trigger.reason.contains("not in flowguard's scope"),
            "{}",
            report.trigger.reason
        );
        assert!(
            ports.0.values().all(|f| f.calls().is_empty()),
            "nothing read anywhere"
        );
    }

    #[test]
    fn the_schedule_sweeps_every_account_in_scope() {
        let ports = accounts(&["111111111111", "222222222222"]);
        let event = fixture("scheduled_event.json").to_string().into_bytes();
        let handled = hub(&ports, "111111111111,222222222222", &event);
        let Ok(Handled::Sweep(report)) = handled else {
            panic!("{handled:?}");
        };
        assert_eq!(report.summary.accounts.ok, 2);
        assert_eq!(report.summary.vpcs.remediated, 2);
    }

    /// The hub's invocation succeeds: retrying it would sweep every account again, and the
    /// unreachable account is in the report, its metrics and the alarm.
    #[test]
    fn a_sweep_with_an_unreachable_account_succeeds_with_the_report() {
        let ports = accounts(&["111111111111"]);
        let event = fixture("scheduled_event.json").to_string().into_bytes();
        let handled = hub(&ports, "111111111111,333333333333", &event);
        let Ok(Handled::Sweep(report)) = handled else {
            panic!("not a successful sweep: {handled:?}");
        };
        assert_eq!(report.summary.accounts.unreachable, 1);
        assert_eq!(
            report.summary.vpcs.remediated, 1,
            "the reachable account is done"
        );
    }

    #[test]
    fn invalid_input_is_refused_before_any_account_is_touched() {
        let ports = accounts(&["111111111111"]);
        let error = hub(&ports, "111111111111", b"{}").unwrap_err();
        assert!(matches!(error, HandlerError::InvalidEvent(_)), "{error}");
        assert!(ports.0.values().all(|f| f.calls().is_empty()));
    }
}

#[test]
fn a_shared_vpc_says_which_account_enforces_it() {
    let mut shared = report(
        "222222222222",
        "us-east-1",
        &[VpcStatus::NotOwned, VpcStatus::NotOwned],
    );
    shared.vpcs[0].owner_id = Some("111111111111".to_owned());
    shared.vpcs[1].owner_id = Some("999999999999".to_owned());
    let mut run = AccountRun::ok(shared);
    let scope = config(&[("FLOWGUARD_ACCOUNTS", "111111111111,222222222222")])
        .unwrap()
        .unwrap()
        .scope(&[]);
    let mut listing = run.clone();
    run.note_shared_vpcs(&scope, true);
    let vpcs = &run.report.as_ref().unwrap().vpcs;
    assert_says(
        &vpcs[0].reason,
        &["enforced in its owner's account 111111111111"],
    );
    assert_says(&vpcs[1].reason, &["not enforced by this hub"]);
    // While the organization is still being listed, an owner not listed yet is not said to
    // be out of scope.
    listing.note_shared_vpcs(&scope, false);
    let vpcs = &listing.report.as_ref().unwrap().vpcs;
    assert_says(&vpcs[0].reason, &["which is in scope"]);
    assert_says(&vpcs[1].reason, &["999999999999 was not listed yet"]);
}

mod concurrency {
    use super::sweep::{accounts, run_sweep};
    use super::*;
    use flowguard_core::fake::Metered;
    use flowguard_core::reconcile::Mode;

    #[test]
    fn no_more_runs_than_the_concurrency_are_in_flight_across_regions() {
        let ids: Vec<String> = (1..=9).map(|i| format!("{i:012}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let ports = Metered::new(accounts(&refs), None);
        let scope = config(&[("FLOWGUARD_ACCOUNTS", &ids.join(","))])
            .unwrap()
            .unwrap()
            .scope(&[]);
        let trigger = Trigger::manual_sweep("bounded");
        let report = run_sweep(
            &ports,
            &scope,
            &["us-east-1".to_owned(), "eu-west-1".to_owned()],
            &trigger,
            Mode::Audit,
            3,
            None,
        );
        // One stream of account×region runs: 9 accounts in 2 regions, 3 at a time in all.
        assert_eq!(report.summary.accounts.ok, 18);
        assert_eq!(
            report.regions,
            ["us-east-1", "eu-west-1"],
            "in the order given"
        );
        assert_eq!(
            ports.most_at_once(),
            3,
            "the bound is reached, never passed"
        );
    }
}
