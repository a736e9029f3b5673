//! Reports: the planned actions of an audit or a dry run, and the VPC lines of every run.

use super::observe::{Start, start};
use super::outcome::{ActionTarget, Planned};
use super::{Mode, ReconcileError, Run, Scope};
use crate::ids::{LogGroupName, VpcId};
use crate::observed::{Destination, Observed, Retention};
use crate::plan::{Decision, Plan, PlannedVpc, Step};
use crate::policy::Policy;
use crate::ports::{Inventory, Permission};
use crate::report::{
    Action, ActionKind, ActionResult, Report, TriggerReport, VpcReport, VpcStatus,
};
use crate::rule::{Checks, RetentionCheck};
use std::collections::BTreeSet;

pub(super) fn ignored_report(run: &Run<'_>, mode: Mode) -> Report {
    Report::builder(mode, &run.place, TriggerReport::from(run.trigger)).build()
}

pub(super) fn trigger_report(run: &Run<'_>, observed: &Observed, scope: &Scope) -> TriggerReport {
    let mut report = TriggerReport::from(run.trigger);
    if let Scope::LogGroup(name) = scope
        && observed.vpcs.is_empty()
        && run.policy.log_group.matches(name, &run.place).is_none()
    {
        report.reason = format!(
            "{}: not flowguard's log group and no VPC flow log delivers to it: nothing to do",
            report.reason
        );
    }
    report
}

/// Reports compliance without any permission check: the auditor's view.
pub async fn audit<I: Inventory>(inv: &I, run: &Run<'_>) -> Result<Report, ReconcileError> {
    plan_report(inv, run, Mode::Audit).await
}

/// Plans and reports what a real run would do, checking each `CreateFlowLogs` with
/// EC2's `DryRun=true`. Makes no mutating call.
pub async fn dry_run<I: Inventory>(inv: &I, run: &Run<'_>) -> Result<Report, ReconcileError> {
    plan_report(inv, run, Mode::DryRun).await
}

async fn plan_report<I: Inventory>(
    inv: &I,
    run: &Run<'_>,
    mode: Mode,
) -> Result<Report, ReconcileError> {
    let check_permissions = mode == Mode::DryRun;
    let Some(Start {
        scope,
        kms_key,
        observed,
        plan,
    }) = start(inv, run).await?
    else {
        return Ok(ignored_report(run, mode));
    };
    let mut warnings = Vec::new();
    let mut actions = Vec::new();
    for step in &plan.steps {
        let mut planned: Vec<Action> = planned_actions(step, run.policy, kms_key.as_deref())
            .iter()
            .map(|p| p.render(ActionResult::Planned))
            .collect();
        if check_permissions && let Step::CreateFlowLogs { destination, vpcs } = step {
            let permission = match run.policy.require_delivery_role() {
                Err(_) => Permission::Unchecked,
                Ok(role) => {
                    let request = super::flow_log_request(run, role, destination, vpcs);
                    inv.check_create_flow_logs(&request)
                        .await
                        .unwrap_or_else(|e| {
                            warnings
                                .push(format!("the DryRun check of CreateFlowLogs failed: {e}"));
                            Permission::Unchecked
                        })
                }
            };
            planned
                .iter_mut()
                .for_each(|a| a.permission = Some(permission));
        }
        actions.extend(planned);
    }
    if check_permissions && run.policy.require_delivery_role().is_err() {
        warnings.push(
            "FLOWGUARD_DELIVERY_ROLE_ARN is not set: a real run would refuse to start, and permissions were not checked".to_owned(),
        );
    }
    let vpcs = plan
        .vpcs
        .iter()
        .map(|v| VpcReport {
            vpc_id: v.vpc_id.clone(),
            name: v.name.clone(),
            status: status_without_changes(v),
            reason: v.reason.clone(),
            checks: v.checks.clone(),
            owner_id: v.owner_id.clone(),
        })
        .collect();
    let trigger = trigger_report(run, &observed, &scope);
    Ok(Report::builder(mode, &run.place, trigger)
        .vpcs(vpcs)
        .actions(actions)
        .warnings(warnings)
        .build())
}

fn status_without_changes(v: &PlannedVpc) -> VpcStatus {
    match v.decision {
        Decision::Compliant => VpcStatus::Compliant,
        Decision::Exempt => VpcStatus::Exempt,
        Decision::NotOwned => VpcStatus::NotOwned,
        Decision::Gone => VpcStatus::Gone,
        Decision::Remediate => VpcStatus::WouldRemediate,
        Decision::Blocked => VpcStatus::Failed,
    }
}

/// The actions a step stands for, one per target. `kms_key` is the policy's key rendered for
/// the run's place.
pub fn planned_actions(step: &Step, policy: &Policy, kms_key: Option<&str>) -> Vec<Planned> {
    match step {
        Step::CreateLogGroup { name, days, .. } => {
            let group = || ActionTarget::LogGroup(name.clone());
            let tagged = match kms_key {
                Some(key) => format!("tagged managed-by=flowguard, KMS key {key}"),
                None => "tagged managed-by=flowguard".to_owned(),
            };
            vec![
                Planned::new(ActionKind::CreateLogGroup, group(), tagged),
                Planned::new(
                    ActionKind::PutRetentionPolicy,
                    group(),
                    format!("new group -> {days} days"),
                ),
            ]
        }
        Step::PutRetentionPolicy {
            name,
            days,
            current,
            ..
        } => vec![Planned::new(
            ActionKind::PutRetentionPolicy,
            ActionTarget::LogGroup(name.clone()),
            format!("{current} -> {days} days"),
        )],
        Step::DeleteFlowLogs { flow_logs } => flow_logs
            .iter()
            .map(|r| {
                let target = ActionTarget::FlowLog {
                    id: r.flow_log.clone(),
                    vpc: r.vpc.clone(),
                };
                let detail = format!("on {}: {}", r.vpc, r.why);
                Planned::new(ActionKind::DeleteFlowLogs, target, detail)
            })
            .collect(),
        Step::CreateFlowLogs { destination, vpcs } => vpcs
            .iter()
            .map(|vpc| {
                let mut detail = format!("{} into {destination}", policy.traffic_type);
                if let (Destination::S3(_) | Destination::Other(_), Some(options)) =
                    (destination, &policy.s3_options)
                {
                    detail = format!("{detail} ({options})");
                }
                let target = ActionTarget::Vpc(vpc.clone());
                let mut planned = Planned::new(ActionKind::CreateFlowLogs, target, detail);
                planned.destination = Some(destination.clone());
                planned
            })
            .collect(),
    }
}

/// The VPC lines of an enforcing run: each VPC's status after the run, and the checks that
/// now hold (a remediated VPC's are what its actions made true, not what was read before).
pub(super) fn vpc_reports(
    plan: &Plan,
    done: &[(Action, Vec<VpcId>)],
    gone: &BTreeSet<VpcId>,
    observed: &Observed,
    policy: &Policy,
) -> Vec<VpcReport> {
    // Each VPC's actions, in the order they were done: one pass over `done`.
    let mut by_vpc: std::collections::HashMap<&VpcId, Vec<&Action>> =
        std::collections::HashMap::new();
    for (action, vpcs) in done {
        for vpc in vpcs {
            let mine = by_vpc.entry(vpc).or_default();
            if !mine.last().is_some_and(|last| std::ptr::eq(*last, action)) {
                mine.push(action);
            }
        }
    }
    plan.vpcs
        .iter()
        .map(|v| {
            let mut status = status_without_changes(v);
            let mut reason = v.reason.clone();
            let mut checks = v.checks.clone();
            if v.decision == Decision::Remediate {
                let mine: &[&Action] = by_vpc.get(&v.vpc_id).map_or(&[], Vec::as_slice);
                if gone.contains(&v.vpc_id) {
                    status = VpcStatus::Gone;
                    reason = "the VPC was deleted during the run".to_owned();
                } else if let Some(fail) = mine.iter().find(|a| a.result == ActionResult::Failed) {
                    status = VpcStatus::Failed;
                    let into = fail
                        .destination
                        .as_ref()
                        .map(|arn| format!(" into S3 {arn}"))
                        .unwrap_or_default();
                    reason = format!(
                        "{} {}{into} failed: {}",
                        fail.action.as_str(),
                        fail.target,
                        fail.error_message.as_deref().unwrap_or("")
                    );
                } else {
                    status = VpcStatus::Remediated;
                    checks = checks_after(&v.checks, mine, observed, policy);
                    reason = mine
                        .iter()
                        .map(|a| describe_done(a))
                        .collect::<Vec<_>>()
                        .join("; ");
                }
            }
            VpcReport {
                vpc_id: v.vpc_id.clone(),
                name: v.name.clone(),
                status,
                reason,
                checks,
                owner_id: v.owner_id.clone(),
            }
        })
        .collect()
}

/// The checks of a remediated VPC once its actions are done: the flow log it now has (ACTIVE,
/// of the policy's traffic type, delivering as EC2 reports a new flow log until a delivery
/// fails) into its destination, and that group's retention (the policy's when this run set it,
/// else as read).
fn checks_after(before: &Checks, done: &[&Action], observed: &Observed, policy: &Policy) -> Checks {
    let mut after = before.clone();
    let kept = |group: &LogGroupName| {
        let set = done.iter().any(|a| {
            matches!(
                a.action,
                ActionKind::CreateLogGroup | ActionKind::PutRetentionPolicy
            ) && a.target == group.as_str()
        });
        if set {
            Some(RetentionCheck::Kept(Retention::Days(policy.retention_days)))
        } else {
            (observed.log_groups.get(group)).map(|g| RetentionCheck::Kept(g.retention))
        }
    };
    for action in done
        .iter()
        .filter(|a| a.action == ActionKind::CreateFlowLogs)
    {
        after.active_flow_log = true;
        after.captures_rejects = true;
        after.security_hub_ec2_6 = true;
        after.delivering = true;
        if let Some(group) = &action.log_group {
            after.retention = kept(group).or(after.retention);
            after.log_group = Some(group.clone());
            after.s3_destination = None;
        } else if let Some(bucket) = &action.destination {
            after.s3_destination = Some(bucket.clone());
            after.log_group = None;
            after.retention = Some(RetentionCheck::Unverified);
        }
    }
    // A run that only restored the retention of the group the VPC already logs to.
    if let Some(group) = after.log_group.clone() {
        after.retention = kept(&group).or(after.retention);
    }
    after
}

fn describe_done(a: &Action) -> String {
    let verb = if a.result == ActionResult::AlreadyDone {
        "already done"
    } else {
        "done"
    };
    match (a.action, &a.flow_log_id, &a.log_group) {
        (ActionKind::CreateFlowLogs, Some(id), Some(group)) => {
            format!("flow log {id} created into {group}")
        }
        (ActionKind::CreateFlowLogs, Some(id), None) if a.destination.is_some() => format!(
            "flow log {id} created into S3 {}; {}",
            a.destination.as_deref().unwrap_or_default(),
            crate::rule::S3_RETENTION_NOTE
        ),
        (ActionKind::CreateFlowLogs, None, _) => a
            .detail
            .clone()
            .unwrap_or_else(|| "flow log already in place".to_owned()),
        (kind, _, _) => format!("{} {} ({verb})", kind.as_str(), a.target),
    }
}
