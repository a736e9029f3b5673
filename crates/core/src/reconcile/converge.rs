//! Enforcing as a bounded converge loop: observe → plan → apply, and while some action did not
//! simply apply, re-observe the VPCs it touched and plan again, for at most [`MAX_ROUNDS`]
//! rounds. "Already exists" (is the VPC compliant now?), "a whole batch refused for one VPC not
//! found" (what of the others?) and "a group vanished under the step" are settled by the next
//! read and the next plan, not by paths of their own. The report is built once, at the end,
//! from every action's last outcome.

use super::apply::apply_round;
use super::observe::{Start, observe, start};
use super::outcome::{ActionTarget, Done, Outcome, Skip};
use super::report::{ignored_report, trigger_report, vpc_reports};
use super::{Mode, ReconcileError, Run, Scope};
use crate::error::{Disposition, classify};
use crate::ids::VpcId;
use crate::observed::Observed;
use crate::plan::{Decision, Step, plan};
use crate::ports::{Inventory, Remediator};
use crate::report::{ActionKind, Report};
use std::collections::{BTreeSet, HashMap};

/// Rounds of apply per run: the first applies the whole plan; each later one only what the
/// re-read of the previous round's unsettled VPCs plans again. A VPC is thus asked for at most
/// three times, and each round is followed by one re-read (see docs/architecture.md, "The
/// converge loop", for the calls this bounds).
pub const MAX_ROUNDS: usize = 3;

/// Observes, plans and applies in rounds until every action has settled, the rounds are
/// spent, or the deadline has passed; then reports. No step starts after the deadline: what is
/// left is reported as retryable.
pub async fn enforce<I: Inventory, R: Remediator>(
    inv: &I,
    rem: &R,
    run: &Run<'_>,
) -> Result<Report, ReconcileError> {
    let role = run.policy.require_delivery_role()?;
    let Some(Start {
        scope,
        kms_key,
        observed,
        plan: first,
    }) = start(inv, run).await?
    else {
        return Ok(ignored_report(run, Mode::Enforce));
    };
    let mut ledger = Ledger::default();
    let mut steps = first.steps.clone();
    for round in 1..=MAX_ROUNDS {
        ledger.record(apply_round(inv, rem, run, role, kms_key.as_deref(), &steps).await);
        let pending = ledger.pending_vpcs();
        if pending.is_empty() {
            break;
        }
        if run.out_of_time() {
            ledger.settle_pending(|_| Some(Outcome::Skipped(Skip::Deadline)));
            break;
        }
        match observe(inv, run.policy, &run.place, &Scope::Vpcs(pending.clone())).await {
            Err(error) => {
                ledger.settle_pending(|_| Some(Outcome::Failed(error.clone())));
                break;
            }
            Ok(mut again) => {
                again.at = run.now;
                steps = ledger.settle(run, &again, round < MAX_ROUNDS);
            }
        }
    }
    let gone: BTreeSet<VpcId> = ledger
        .done
        .iter()
        .filter(|d| d.planned.kind == ActionKind::CreateFlowLogs && d.outcome == Outcome::Gone)
        .flat_map(|d| d.vpcs.iter().cloned())
        .collect();
    let rendered: Vec<_> = ledger
        .done
        .iter()
        .map(|d| (d.render(), d.vpcs.clone()))
        .collect();
    let vpcs = vpc_reports(&first, &rendered, &gone, &observed, run.policy);
    let actions = rendered.into_iter().map(|(action, _)| action).collect();
    Ok(Report::builder(
        Mode::Enforce,
        &run.place,
        trigger_report(run, &observed, &scope),
    )
    .vpcs(vpcs)
    .actions(actions)
    .build())
}

/// Every action of the run, in the order first planned, each with its last outcome: a later
/// round's action on the same target replaces the earlier one's outcome.
#[derive(Default)]
struct Ledger {
    done: Vec<Done>,
    index: HashMap<(ActionKind, ActionTarget), usize>,
}

impl Ledger {
    fn record(&mut self, round: Vec<Done>) {
        for done in round {
            let key = (done.planned.kind, done.planned.target.clone());
            match self.index.get(&key) {
                Some(&i) => self.done[i] = done,
                None => {
                    self.index.insert(key, self.done.len());
                    self.done.push(done);
                }
            }
        }
    }

    fn is_pending(outcome: &Outcome) -> bool {
        matches!(outcome, Outcome::Unsettled(_) | Outcome::Deferred { .. })
    }

    /// The VPCs of actions that only a re-read can settle.
    fn pending_vpcs(&self) -> Vec<VpcId> {
        let pending: BTreeSet<&VpcId> = self
            .done
            .iter()
            .filter(|d| Self::is_pending(&d.outcome))
            .flat_map(|d| &d.vpcs)
            .collect();
        pending.into_iter().cloned().collect()
    }

    /// Gives each pending action the outcome `decide` returns (`None` leaves it pending).
    fn settle_pending(&mut self, mut decide: impl FnMut(&Done) -> Option<Outcome>) {
        for done in &mut self.done {
            if Self::is_pending(&done.outcome)
                && let Some(outcome) = decide(done)
            {
                done.outcome = outcome;
            }
        }
    }

    /// Settles the pending actions by what was re-read, and returns the steps of the next
    /// round: the new plan, cut down to the VPCs still pending (none when `may_retry` is false).
    fn settle(&mut self, run: &Run<'_>, again: &Observed, may_retry: bool) -> Vec<Step> {
        let replan = plan(run.policy, again);
        let decisions: HashMap<&VpcId, (Decision, &str)> = replan
            .vpcs
            .iter()
            .map(|v| (&v.vpc_id, (v.decision, v.reason.as_str())))
            .collect();
        self.settle_pending(|done| {
            let vpc = done.vpcs.first()?;
            let (decision, reason) = *decisions.get(vpc)?;
            match (decision, &done.outcome) {
                (Decision::Compliant | Decision::Exempt | Decision::NotOwned, _) => {
                    Some(Outcome::AlreadyDone {
                        detail: Some(format!("already in place: {reason}")),
                    })
                }
                (Decision::Gone, Outcome::Unsettled(error)) => {
                    Some(run.vpc_not_found(error.clone()))
                }
                (Decision::Gone, _) => Some(Outcome::Gone),
                // EC2 says a flow log exists, one into the destination (a log group or an S3
                // bucket) is visible, and the VPC is still not compliant: another flow log
                // blocks ours, and asking again would get the same answer.
                (Decision::Remediate | Decision::Blocked, Outcome::Unsettled(error))
                    if classify(error) == Disposition::AlreadyDone
                        && done.planned.destination.as_ref().is_some_and(|wanted| {
                            again
                                .flow_logs_of(vpc)
                                .any(|fl| fl.destination.same_as(wanted))
                        }) =>
                {
                    Some(Outcome::Blocked {
                        error: error.clone(),
                        reason: reason.to_owned(),
                    })
                }
                // EC2 still does not find a VPC that DescribeVpcs shows, and no round is left.
                (_, Outcome::Unsettled(error))
                    if !may_retry && classify(error) == Disposition::Gone =>
                {
                    Some(run.vpc_not_found(error.clone()))
                }
                _ => None,
            }
        });
        if !may_retry {
            return Vec::new();
        }
        let pending: BTreeSet<VpcId> = self.pending_vpcs().into_iter().collect();
        replan
            .steps
            .into_iter()
            .filter_map(|step| only_for(step, &pending))
            .collect()
    }
}

/// The part of `step` that serves the VPCs in `keep`, if any.
fn only_for(step: Step, keep: &BTreeSet<VpcId>) -> Option<Step> {
    let mine = |vpcs: Vec<VpcId>| -> Vec<VpcId> {
        vpcs.into_iter().filter(|v| keep.contains(v)).collect()
    };
    let step = match step {
        Step::CreateLogGroup {
            name,
            days,
            for_vpcs,
        } => Step::CreateLogGroup {
            name,
            days,
            for_vpcs: mine(for_vpcs),
        },
        Step::PutRetentionPolicy {
            name,
            days,
            current,
            for_vpcs,
        } => Step::PutRetentionPolicy {
            name,
            days,
            current,
            for_vpcs: mine(for_vpcs),
        },
        Step::DeleteFlowLogs { flow_logs } => Step::DeleteFlowLogs {
            flow_logs: flow_logs
                .into_iter()
                .filter(|r| keep.contains(&r.vpc))
                .collect(),
        },
        Step::CreateFlowLogs { destination, vpcs } => Step::CreateFlowLogs {
            destination,
            vpcs: mine(vpcs),
        },
    };
    let serves = match &step {
        Step::CreateLogGroup { for_vpcs, .. } | Step::PutRetentionPolicy { for_vpcs, .. } => {
            !for_vpcs.is_empty()
        }
        Step::DeleteFlowLogs { flow_logs } => !flow_logs.is_empty(),
        Step::CreateFlowLogs { vpcs, .. } => !vpcs.is_empty(),
    };
    serves.then_some(step)
}
