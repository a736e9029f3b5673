//! Applying a plan through the write port, step by step, with the run's deadline looked at
//! between units of work.

use super::observe::observe_for_run;
use super::report::{ignored_report, planned_actions, trigger_report, vpc_reports};
use super::{ReconcileError, Run, flow_log_request, scope};
use crate::error::{AwsError, Disposition, classify};
use crate::ids::{FlowLogId, LogGroupName, VpcId};
use crate::plan::{Step, plan};
use crate::ports::{Created, Inventory, Remediator};
use crate::report::{Action, ActionResult, Report};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn failed(mut action: Action, error: &AwsError) -> Action {
    action.result = ActionResult::Failed;
    action.error_code = Some(
        error
            .code
            .clone()
            .unwrap_or_else(|| format!("{:?}", error.fault)),
    );
    action.error_message = Some(error.to_string());
    action.retryable = Some(classify(error) == Disposition::RetryLater);
    action
}

pub(super) fn with_retryable(mut action: Action, retryable: bool) -> Action {
    action.retryable = Some(retryable);
    action
}

fn skipped(mut action: Action, why: &str, retryable: bool) -> Action {
    action.result = ActionResult::Failed;
    action.error_code = Some("DependencyFailed".to_owned());
    action.error_message = Some(why.to_owned());
    action.retryable = Some(retryable);
    action
}

/// An action the run did not start because its deadline came: the next run does it.
pub(super) fn not_started(mut action: Action) -> Action {
    action.result = ActionResult::Failed;
    action.error_code = Some("DeadlineNear".to_owned());
    action.error_message = Some(
        "not started: the invocation's deadline was near; the next run (a retry or the sweep) does it"
            .to_owned(),
    );
    action.retryable = Some(true);
    action
}

/// Runs the plan through the ports, in order, and reports what happened. No step starts once
/// the run's deadline has passed; what is left is reported as retryable.
pub async fn enforce<I: Inventory, R: Remediator>(
    inv: &I,
    rem: &R,
    run: &Run<'_>,
) -> Result<Report, ReconcileError> {
    let role = run.policy.require_delivery_role()?;
    let Some(scope) = scope(run.trigger, run.policy, &run.place) else {
        return Ok(ignored_report(run, false));
    };
    let kms_key = run.policy.kms_key_in(&run.place)?;
    let observed = observe_for_run(inv, run, &scope).await?;
    let plan = plan(run.policy, &observed);
    let mut exec = Executor {
        inv,
        rem,
        run,
        role,
        kms_key: kms_key.as_deref(),
        done: Vec::new(),
        failed_groups: BTreeMap::new(),
        blocked: BTreeMap::new(),
        recheck: Vec::new(),
        gone: BTreeSet::new(),
    };
    let (mut previous, mut deferring): (Option<&Step>, bool) = (None, false);
    for step in &plan.steps {
        // The deadline is looked at between units of work only; a unit not started is
        // not started whole.
        if !previous.is_some_and(|prev| continues(prev, step)) {
            deferring = run.out_of_time();
        }
        previous = Some(step);
        if deferring {
            for action in planned_actions(step, run.policy, exec.kms_key) {
                let vpcs = step_vpcs(step, &action);
                exec.done.push((not_started(action), vpcs));
            }
            continue;
        }
        exec.step(step).await;
    }
    exec.recheck().await;
    let Executor { done, gone, .. } = exec;
    let vpcs = vpc_reports(&plan, &done, &gone);
    let actions = done.into_iter().map(|(a, _)| a).collect();
    let trigger = trigger_report(run, &observed, &scope);
    Ok(Report::new(
        false,
        run.place.region.clone(),
        run.place.account.clone(),
        trigger,
        vpcs,
        actions,
        Vec::new(),
    ))
}

/// Whether `next` finishes the unit of work that `prev` started, so that the deadline never
/// falls between them: a group made ready and the flow logs that wait for it, a replaced flow
/// log deleted and its replacement created.
fn continues(prev: &Step, next: &Step) -> bool {
    matches!(
        next,
        Step::DeleteFlowLogs { .. } | Step::CreateFlowLogs { .. }
    ) && !matches!(prev, Step::CreateFlowLogs { .. })
}

/// The VPCs whose compliance depends on one action of `step`.
fn step_vpcs(step: &Step, action: &Action) -> Vec<VpcId> {
    match step {
        Step::CreateLogGroup { for_vpcs, .. } | Step::PutRetentionPolicy { for_vpcs, .. } => {
            for_vpcs.clone()
        }
        Step::DeleteFlowLogs { flow_logs } => flow_logs
            .iter()
            .filter(|r| r.flow_log.as_str() == action.target)
            .map(|r| r.vpc.clone())
            .collect(),
        Step::CreateFlowLogs { .. } => vec![VpcId::new(&action.target)],
    }
}

pub(super) struct Executor<'a, I, R> {
    pub(super) inv: &'a I,
    pub(super) rem: &'a R,
    pub(super) run: &'a Run<'a>,
    pub(super) role: &'a str,
    pub(super) kms_key: Option<&'a str>,
    /// Each action with the VPCs whose compliance depends on it.
    pub(super) done: Vec<(Action, Vec<VpcId>)>,
    /// Groups that could not be made ready, with whether that may pass.
    pub(super) failed_groups: BTreeMap<LogGroupName, bool>,
    /// VPCs whose flow log to replace could not be deleted, with whether that may pass.
    pub(super) blocked: BTreeMap<VpcId, bool>,
    /// (action index, VPC) pairs to re-read before concluding: "already exists", or a whole
    /// request refused because one of its VPCs is gone.
    pub(super) recheck: Vec<(usize, VpcId)>,
    pub(super) gone: BTreeSet<VpcId>,
}

impl<I: Inventory, R: Remediator> Executor<'_, I, R> {
    async fn step(&mut self, step: &Step) {
        let mut actions = planned_actions(step, self.run.policy, self.kms_key).into_iter();
        match step {
            Step::CreateLogGroup {
                name,
                days,
                for_vpcs,
            } => {
                let (Some(create), Some(retention)) = (actions.next(), actions.next()) else {
                    return;
                };
                self.create_log_group(create, retention, name, *days, for_vpcs)
                    .await;
            }
            Step::PutRetentionPolicy {
                name,
                days,
                for_vpcs,
                ..
            } => {
                let Some(action) = actions.next() else {
                    return;
                };
                let action = self.raise_retention(action, name, *days).await;
                if action.result == ActionResult::Failed {
                    self.failed_groups
                        .insert(name.clone(), action.retryable == Some(true));
                }
                self.done.push((action, for_vpcs.clone()));
            }
            Step::DeleteFlowLogs { flow_logs } => {
                let ids: Vec<FlowLogId> = flow_logs.iter().map(|r| r.flow_log.clone()).collect();
                let results = self.rem.delete_flow_logs(&ids).await;
                for (r, action) in flow_logs.iter().zip(actions) {
                    let error = match &results {
                        Err(e) => Some(e.clone()),
                        Ok(per_id) => per_id
                            .iter()
                            .find(|(i, _)| *i == r.flow_log)
                            .and_then(|(_, e)| e.clone()),
                    };
                    let action = match error {
                        None => Action {
                            result: ActionResult::Applied,
                            ..action
                        },
                        Some(e) if classify(&e) == Disposition::Gone => Action {
                            result: ActionResult::AlreadyDone,
                            ..action
                        },
                        Some(e) => {
                            self.blocked
                                .insert(r.vpc.clone(), classify(&e) == Disposition::RetryLater);
                            failed(action, &e)
                        }
                    };
                    self.done.push((action, vec![r.vpc.clone()]));
                }
            }
            Step::CreateFlowLogs { log_group, vpcs } => {
                self.create_flow_logs(log_group, vpcs, actions.collect())
                    .await;
            }
        }
    }

    /// Creates a group and gives it its retention in the same step, before any flow log can
    /// deliver to it. A group of that name that exists already is used as it is, apart from
    /// retention, which is re-read and raised if shorter.
    async fn create_log_group(
        &mut self,
        create: Action,
        retention: Action,
        name: &LogGroupName,
        days: u32,
        for_vpcs: &[VpcId],
    ) {
        let (create, created) = match self.rem.create_log_group(name, self.kms_key).await {
            Ok(()) => (
                Action {
                    result: ActionResult::Applied,
                    ..create
                },
                true,
            ),
            Err(e) if classify(&e) == Disposition::AlreadyDone => (
                Action {
                    result: ActionResult::AlreadyDone,
                    ..create
                },
                false,
            ),
            Err(e) => {
                let retryable = classify(&e) == Disposition::RetryLater;
                self.failed_groups.insert(name.clone(), retryable);
                self.done.push((failed(create, &e), for_vpcs.to_vec()));
                let why = format!("log group {name} could not be created");
                self.done
                    .push((skipped(retention, &why, retryable), for_vpcs.to_vec()));
                return;
            }
        };
        self.done.push((create, for_vpcs.to_vec()));
        let retention = if created {
            match self.rem.put_retention_policy(name, days).await {
                Ok(()) => Action {
                    result: ActionResult::Applied,
                    ..retention
                },
                Err(e) => failed(retention, &e),
            }
        } else {
            self.raise_retention(retention, name, days).await
        };
        if retention.result == ActionResult::Failed {
            self.failed_groups
                .insert(name.clone(), retention.retryable == Some(true));
        }
        self.done.push((retention, for_vpcs.to_vec()));
    }

    /// Raises a retention, never lowers it: the group is re-read first, in case someone
    /// raised it meanwhile.
    async fn raise_retention(&mut self, action: Action, name: &LogGroupName, days: u32) -> Action {
        match self.inv.log_groups(std::slice::from_ref(name)).await {
            Err(e) => return failed(action, &e),
            Ok(groups) => match groups.iter().find(|g| &g.name == name) {
                Some(group) if group.retention.at_least(days) => {
                    return Action {
                        result: ActionResult::AlreadyDone,
                        ..action
                    };
                }
                Some(_) => {}
                None => return skipped(action, &format!("log group {name} disappeared"), true),
            },
        }
        match self.rem.put_retention_policy(name, days).await {
            Ok(()) => Action {
                result: ActionResult::Applied,
                ..action
            },
            Err(e) => failed(action, &e),
        }
    }

    /// A VPC that EC2 does not find: gone, unless an event just created it (then retry later).
    pub(super) fn vpc_not_found(
        &mut self,
        vpc: &VpcId,
        action: Action,
        error: &AwsError,
    ) -> Action {
        if self.run.is_fresh() {
            let mut action = with_retryable(failed(action, error), true);
            action.detail = Some(format!(
                "{vpc} was just created and EC2 does not find it yet: retried later"
            ));
            action
        } else {
            self.gone.insert(vpc.clone());
            Action {
                result: ActionResult::AlreadyDone,
                detail: Some(format!("{vpc} no longer exists")),
                ..action
            }
        }
    }

    async fn create_flow_logs(
        &mut self,
        log_group: &LogGroupName,
        vpcs: &[VpcId],
        actions: Vec<Action>,
    ) {
        let mut ready = Vec::new();
        for (vpc, action) in vpcs.iter().zip(actions) {
            let dependency = match (self.failed_groups.get(log_group), self.blocked.get(vpc)) {
                (Some(&retryable), _) => Some((
                    format!("log group {log_group} could not be made ready"),
                    retryable,
                )),
                (None, Some(&retryable)) => Some((
                    format!("the flow log to replace on {vpc} could not be deleted"),
                    retryable,
                )),
                (None, None) => None,
            };
            match dependency {
                Some((why, retryable)) => self
                    .done
                    .push((skipped(action, &why, retryable), vec![vpc.clone()])),
                None => ready.push((vpc.clone(), action)),
            }
        }
        if ready.is_empty() {
            return;
        }
        let ids: Vec<VpcId> = ready.iter().map(|(vpc, _)| vpc.clone()).collect();
        let request = flow_log_request(self.run, self.role, log_group, &ids);
        let outcomes = self.rem.create_flow_logs(&request).await;
        // A request refused as a whole because a VPC is not found (deleted mid-run) says
        // nothing of the others: re-read them all, and retry those that can still be acted on.
        if let Err(e) = &outcomes
            && classify(e) == Disposition::Gone
        {
            for (vpc, action) in ready {
                self.recheck.push((self.done.len(), vpc.clone()));
                self.done.push((failed(action, e), vec![vpc]));
            }
            return;
        }
        let outcomes: Result<std::collections::HashMap<VpcId, Created>, AwsError> =
            outcomes.map(|per_vpc| per_vpc.into_iter().rev().collect());
        for (vpc, action) in ready {
            let outcome = match &outcomes {
                Err(e) => Created::Failed(e.clone()),
                Ok(per_vpc) => per_vpc.get(&vpc).cloned().unwrap_or_else(|| {
                    Created::Failed(AwsError::service(
                        "CreateFlowLogs",
                        "MissingResult",
                        format!("no result for {vpc}"),
                    ))
                }),
            };
            let action = match outcome {
                Created::Created(id) => Action {
                    result: ActionResult::Applied,
                    flow_log_id: id,
                    ..action
                },
                Created::AlreadyExists(_) => {
                    self.recheck.push((self.done.len(), vpc.clone()));
                    Action {
                        result: ActionResult::AlreadyDone,
                        ..action
                    }
                }
                Created::Failed(e) if classify(&e) == Disposition::Gone => {
                    self.vpc_not_found(&vpc, action, &e)
                }
                Created::Failed(e) => failed(action, &e),
            };
            self.done.push((action, vec![vpc]));
        }
    }
}
