//! The organization sweep: the single-account run in every account in scope, at most
//! `concurrency` at a time, each account isolated from the others' failures.

use super::{AccountRun, AccountScope, OrgReport, partition_of};
use crate::error::AwsError;
use crate::ids::Place;
use crate::policy::Policy;
use crate::ports::{Inventory, Remediator};
use crate::reconcile::{DEADLINE_NEAR, Deadline, Mode, ReconcileError, Run, reconcile};
use crate::trigger::Trigger;
use futures::stream::{self, StreamExt};
use std::future::Future;

/// Hands out the ports of one account in one region: in a member account, through the member
/// role (the AWS one lives in `flowguard-aws`); an error when the account cannot be reached.
pub trait AccountPorts: Sync {
    type Inventory: Inventory + Send;
    type Remediator: Remediator + Send;
    /// The ports for running `trigger` in `account` and `region` (a member session it starts
    /// is named after the trigger's event).
    fn ports(
        &self,
        account: &str,
        region: &str,
        trigger: &Trigger,
    ) -> impl Future<Output = Result<(Self::Inventory, Self::Remediator), AwsError>> + Send;
}

/// One organization sweep: `trigger` (a sweep) in `mode`, in every account of `scope` in
/// each of `regions`, at most `concurrency` account×region runs at a time, starting none after
/// `deadline`.
#[derive(Debug, Clone, Copy)]
pub struct OrgSweep<'a> {
    pub policy: &'a Policy,
    pub scope: &'a AccountScope,
    pub regions: &'a [String],
    pub trigger: &'a Trigger,
    pub mode: Mode,
    pub concurrency: usize,
    pub deadline: Option<Deadline>,
}

/// Runs the sweep in every account×region of its scope, as one stream of runs, so that the
/// concurrency bound holds across regions and no region waits for another's slowest account.
/// An account's regions are next to each other in the stream: they share its member session.
/// An account×region whose ports cannot be had (the member role missing, access denied) or
/// whose state cannot be read is `unreachable` with the error; the others go on. No run starts
/// after the deadline: those left are `unreachable`, "not checked", and retryable.
pub async fn sweep_organization<P: AccountPorts>(ports: &P, sweep: &OrgSweep<'_>) -> OrgReport {
    let OrgSweep {
        policy,
        scope,
        regions,
        trigger,
        mode,
        concurrency,
        deadline,
    } = *sweep;
    let pairs = scope
        .accounts()
        .flat_map(|account| regions.iter().map(move |region| (account, region.as_str())));
    let runs = stream::iter(pairs)
        .map(|(account, region)| async move {
            if deadline.is_some_and(|d| d.passed()) {
                let code = Some(DEADLINE_NEAR.to_owned());
                return AccountRun::unreachable(account, region, code, NOT_CHECKED);
            }
            let (inventory, remediator) = match ports.ports(account, region, trigger).await {
                Ok(ports) => ports,
                Err(error) => {
                    let code = Some(error.report_code());
                    return AccountRun::unreachable(account, region, code, error);
                }
            };
            let place = Place {
                region: region.to_owned(),
                account: account.to_owned(),
            };
            let policy = policy.in_account(account, partition_of(region));
            let run = Run::starting_now(&policy, place, trigger, deadline);
            match reconcile(&inventory, &remediator, &run, mode).await {
                Ok(report) => AccountRun::ok(report),
                Err(error) => {
                    let code = match &error {
                        ReconcileError::Observe(e) => Some(e.report_code()),
                        ReconcileError::NotYetVisible(_) | ReconcileError::Config(_) => None,
                    };
                    AccountRun::unreachable(account, region, code, error)
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let mut report = OrgReport::new(mode != Mode::Enforce, runs);
    report.note_shared_vpcs(scope);
    report
}

/// Why an account was not checked: the run's deadline came first.
pub const NOT_CHECKED: &str = "not checked: the invocation's deadline was near; the next run (a retry or the sweep) checks it";
