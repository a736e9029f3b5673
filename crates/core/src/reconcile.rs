//! The reconcile loop: trigger → scope → observe → plan → (dry run | apply) → report.
//!
//! [`audit`] and [`dry_run`] take only an [`Inventory`]; [`enforce`] also takes a
//! [`Remediator`]. Every run re-reads the live state: the event only says where to look.

use crate::error::{AwsError, Disposition, classify};
use crate::ids::{FlowLogId, LogGroupName, Place, VpcId};
use crate::observed::{LogGroup, Observed};
use crate::plan::{Decision, Plan, PlannedVpc, Step, plan, plan_avoiding};
use crate::policy::{ConfigError, Policy};
use crate::ports::{
    Created, FlowLogQuery, FlowLogRequest, Inventory, Permission, Remediator, VpcQuery,
};
use crate::report::{
    Action, ActionKind, ActionResult, Report, TriggerReport, VpcReport, VpcStatus,
};
use crate::rule::evaluate;
use crate::trigger::{Target, Trigger};
use std::collections::{BTreeMap, BTreeSet};

/// A VPC named by a CreateVpc event that EC2 does not show yet is retried for this long
/// after the event (EC2 is eventually consistent); later it is reported as gone.
pub const NEW_VPC_GRACE_SECONDS: i64 = 300;

/// How long a `CreateFlowLogs` client token stays the same for the same trigger and VPCs.
pub const CLIENT_TOKEN_WINDOW_SECONDS: i64 = 600;

/// The context of one run.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub policy: &'a Policy,
    pub place: Place,
    pub trigger: &'a Trigger,
    /// Unix seconds, for the freshness of CreateVpc events; `None` disables the grace period.
    pub now: Option<i64>,
    /// Identifies the run in client tokens when the trigger has no event id.
    pub run_id: String,
}

/// How a run may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Report compliance; no permission checks, no changes.
    Audit,
    /// Plan, check `CreateFlowLogs` with `DryRun=true`, change nothing.
    DryRun,
    /// Plan and apply.
    Enforce,
}

/// Runs one trigger in `mode`. Only [`Mode::Enforce`] touches the remediator.
pub async fn reconcile<I: Inventory, R: Remediator>(
    inv: &I,
    rem: &R,
    run: &Run<'_>,
    mode: Mode,
) -> Result<Report, ReconcileError> {
    match mode {
        Mode::Audit => audit(inv, run).await,
        Mode::DryRun => dry_run(inv, run).await,
        Mode::Enforce => enforce(inv, rem, run).await,
    }
}

/// A run that could not produce a report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconcileError {
    #[error("reading the state of the region failed: {0}")]
    Observe(AwsError),
    #[error("VPC {0} is not visible yet (EC2 is eventually consistent): try again shortly")]
    NotYetVisible(VpcId),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl ReconcileError {
    /// Whether trying the same trigger again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Observe(e) => classify(e) == Disposition::RetryLater,
            Self::NotYetVisible(_) => true,
            Self::Config(_) => false,
        }
    }
}

/// What one run looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Region,
    Vpcs(Vec<VpcId>),
    /// A log group: the VPCs whose flow logs deliver to it, and the group itself.
    LogGroup(LogGroupName),
}

/// The scope of a trigger; `None` when it is ignored.
pub fn scope(trigger: &Trigger, policy: &Policy, place: &Place) -> Option<Scope> {
    match &trigger.target {
        Target::Vpcs(ids) => Some(Scope::Vpcs(ids.clone())),
        Target::Sweep => Some(Scope::Region),
        Target::LogGroup(name) => match policy.log_group.matches(name, place) {
            Some(Some(vpc)) => Some(Scope::Vpcs(vec![vpc])),
            _ => Some(Scope::LogGroup(name.clone())),
        },
        Target::Ignored => None,
    }
}

/// Reads what `scope` needs, issuing independent reads concurrently: for one VPC, its
/// description, its flow logs and its managed log group at once (3 calls), plus one more
/// only when its flow logs deliver to other groups.
pub async fn observe<I: Inventory>(
    inv: &I,
    policy: &Policy,
    place: &Place,
    scope: &Scope,
) -> Result<Observed, AwsError> {
    let mut observed = Observed::new(place.clone());
    let fixed_group = policy.log_group.render_fixed(place);
    let mut looked_up: BTreeSet<LogGroupName> = BTreeSet::new();
    match scope {
        Scope::Region => {
            let groups: Vec<LogGroupName> = fixed_group.into_iter().collect();
            let (vpcs, flow_logs, found) = futures::try_join!(
                inv.vpcs(VpcQuery::All),
                inv.flow_logs(FlowLogQuery::All),
                inv.log_groups(&groups),
            )?;
            looked_up.extend(groups);
            (observed.vpcs, observed.flow_logs) = (vpcs, flow_logs);
            insert_groups(&mut observed, found);
        }
        Scope::Vpcs(ids) => {
            let groups: Vec<LogGroupName> = match fixed_group {
                Some(name) => vec![name],
                None => ids
                    .iter()
                    .map(|id| policy.log_group.render(id, place))
                    .collect(),
            };
            let (vpcs, flow_logs, found) = futures::try_join!(
                inv.vpcs(VpcQuery::Ids(ids)),
                inv.flow_logs(FlowLogQuery::Resources(ids)),
                inv.log_groups(&groups),
            )?;
            looked_up.extend(groups);
            (observed.vpcs, observed.flow_logs) = (vpcs, flow_logs);
            insert_groups(&mut observed, found);
            observed.missing_vpcs = ids
                .iter()
                .filter(|id| !observed.vpcs.iter().any(|v| &v.id == *id))
                .cloned()
                .collect();
        }
        Scope::LogGroup(name) => {
            let mut groups = vec![name.clone()];
            groups.extend(fixed_group.filter(|g| g != name));
            let (delivering, found) = futures::try_join!(
                inv.flow_logs(FlowLogQuery::LogGroup(name)),
                inv.log_groups(&groups)
            )?;
            looked_up.extend(groups);
            insert_groups(&mut observed, found);
            let mut ids: Vec<VpcId> = delivering
                .iter()
                .filter(|fl| VpcId::is_well_formed(&fl.resource_id))
                .map(|fl| VpcId::new(&fl.resource_id))
                .collect();
            ids.sort();
            ids.dedup();
            if !ids.is_empty() {
                let (vpcs, flow_logs) = futures::try_join!(
                    inv.vpcs(VpcQuery::Ids(&ids)),
                    inv.flow_logs(FlowLogQuery::Resources(&ids))
                )?;
                (observed.vpcs, observed.flow_logs) = (vpcs, flow_logs);
            }
        }
    }
    // Groups that the flow logs deliver to, and per-VPC managed groups, not yet looked up.
    let mut more: BTreeSet<LogGroupName> = observed
        .flow_logs
        .iter()
        .filter_map(|fl| fl.log_group().cloned())
        .collect();
    if policy.log_group.is_per_vpc() {
        more.extend(
            observed
                .vpcs
                .iter()
                .map(|v| policy.log_group.render(&v.id, place)),
        );
    }
    let more: Vec<LogGroupName> = more.difference(&looked_up).cloned().collect();
    if !more.is_empty() {
        let found = inv.log_groups(&more).await?;
        insert_groups(&mut observed, found);
    }
    observed.vpcs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(observed)
}

fn insert_groups(observed: &mut Observed, groups: Vec<LogGroup>) {
    observed
        .log_groups
        .extend(groups.into_iter().map(|g| (g.name.clone(), g)));
}

async fn observe_for_run<I: Inventory>(
    inv: &I,
    run: &Run<'_>,
    scope: &Scope,
) -> Result<Observed, ReconcileError> {
    let observed = observe(inv, run.policy, &run.place, scope)
        .await
        .map_err(ReconcileError::Observe)?;
    let fresh = matches!(run.trigger.target, Target::Vpcs(_))
        && matches!((run.trigger.time, run.now), (Some(t), Some(now)) if now - t < NEW_VPC_GRACE_SECONDS);
    if fresh && let Some(missing) = observed.missing_vpcs.first() {
        return Err(ReconcileError::NotYetVisible(missing.clone()));
    }
    Ok(observed)
}

fn ignored_report(run: &Run<'_>, dry_run: bool) -> Report {
    Report::new(
        dry_run,
        run.place.region.clone(),
        run.place.account.clone(),
        TriggerReport::from(run.trigger),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    )
}

fn trigger_report(run: &Run<'_>, observed: &Observed, scope: &Scope) -> TriggerReport {
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
    plan_report(inv, run, false).await
}

/// Plans and reports what a real run would do, checking each `CreateFlowLogs` with
/// EC2's `DryRun=true`. Makes no mutating call.
pub async fn dry_run<I: Inventory>(inv: &I, run: &Run<'_>) -> Result<Report, ReconcileError> {
    plan_report(inv, run, true).await
}

async fn plan_report<I: Inventory>(
    inv: &I,
    run: &Run<'_>,
    check_permissions: bool,
) -> Result<Report, ReconcileError> {
    let Some(scope) = scope(run.trigger, run.policy, &run.place) else {
        return Ok(ignored_report(run, true));
    };
    let observed = observe_for_run(inv, run, &scope).await?;
    let plan = plan(run.policy, &observed);
    let mut warnings = Vec::new();
    let mut actions = Vec::new();
    for step in &plan.steps {
        let mut planned = planned_actions(step, run.policy);
        if check_permissions && let Step::CreateFlowLogs { log_group, vpcs } = step {
            let permission = match &run.policy.delivery_role_arn {
                None => Permission::Unchecked,
                Some(role) => {
                    let request = flow_log_request(run, role, log_group, vpcs);
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
    if check_permissions && run.policy.delivery_role_arn.is_none() {
        warnings.push(
            "FLOWGUARD_DELIVERY_ROLE_ARN is not set: a real run would refuse to start, and permissions were not checked".to_owned(),
        );
    }
    let vpcs = plan
        .vpcs
        .iter()
        .map(|v| VpcReport {
            vpc_id: v.vpc_id.clone(),
            status: status_without_changes(v),
            reason: v.reason.clone(),
            checks: v.checks.clone(),
        })
        .collect();
    let trigger = trigger_report(run, &observed, &scope);
    Ok(Report::new(
        true,
        run.place.region.clone(),
        run.place.account.clone(),
        trigger,
        vpcs,
        actions,
        warnings,
    ))
}

fn status_without_changes(v: &PlannedVpc) -> VpcStatus {
    match v.decision {
        Decision::Compliant => VpcStatus::Compliant,
        Decision::Exempt => VpcStatus::Exempt,
        Decision::Gone => VpcStatus::Gone,
        Decision::Remediate => VpcStatus::WouldRemediate,
    }
}

/// The actions a step stands for, one per target, all `planned`.
pub fn planned_actions(step: &Step, policy: &Policy) -> Vec<Action> {
    match step {
        Step::CreateLogGroup { name, .. } => {
            let mut a = Action::new(
                ActionKind::CreateLogGroup,
                name.as_str(),
                ActionResult::Planned,
            );
            a.detail = Some(match &policy.kms_key_arn {
                Some(key) => format!("tagged managed-by=flowguard, KMS key {key}"),
                None => "tagged managed-by=flowguard".to_owned(),
            });
            vec![a]
        }
        Step::PutRetentionPolicy {
            name,
            days,
            current,
            ..
        } => {
            let mut a = Action::new(
                ActionKind::PutRetentionPolicy,
                name.as_str(),
                ActionResult::Planned,
            );
            a.detail = Some(match current {
                Some(current) => format!("{current} -> {days} days"),
                None => format!("new group -> {days} days"),
            });
            vec![a]
        }
        Step::DeleteFlowLogs { flow_logs } => flow_logs
            .iter()
            .map(|(id, vpc)| {
                let mut a = Action::new(
                    ActionKind::DeleteFlowLogs,
                    id.as_str(),
                    ActionResult::Planned,
                );
                a.detail = Some(format!(
                    "flowguard's flow log on {vpc} is failing delivery: replace it"
                ));
                a
            })
            .collect(),
        Step::CreateFlowLogs { log_group, vpcs } => vpcs
            .iter()
            .map(|vpc| {
                let mut a = Action::new(
                    ActionKind::CreateFlowLogs,
                    vpc.as_str(),
                    ActionResult::Planned,
                );
                a.log_group = Some(log_group.clone());
                a.detail = Some(format!("{} into {log_group}", policy.traffic_type));
                a
            })
            .collect(),
    }
}

/// FNV-1a, 64 bits: stable across builds and platforms, unlike `std`'s hasher.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0u8]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The request for one `CreateFlowLogs` step. The client token is derived from the trigger
/// and the request, so that a retried delivery of the same event cannot create twice.
pub fn flow_log_request(
    run: &Run<'_>,
    role: &str,
    log_group: &LogGroupName,
    vpcs: &[VpcId],
) -> FlowLogRequest {
    let run_id = run.trigger.event_id.as_deref().unwrap_or(&run.run_id);
    // A ten-minute window: a retry of the same delivery (seconds to minutes later) reuses the
    // token, while the same event replayed much later (from the dead-letter queue, after the
    // flow log it created was deleted) gets a new one instead of EC2's cached answer.
    let window = run
        .now
        .map(|now| (now / CLIENT_TOKEN_WINDOW_SECONDS).to_string())
        .unwrap_or_default();
    let mut parts = vec![run_id, log_group.as_str(), &run.place.region, &window];
    parts.extend(vpcs.iter().map(VpcId::as_str));
    FlowLogRequest {
        vpcs: vpcs.to_vec(),
        log_group: log_group.clone(),
        delivery_role_arn: role.to_owned(),
        traffic_type: run.policy.traffic_type,
        max_aggregation_interval: run.policy.max_aggregation_interval,
        client_token: format!("flowguard-{:016x}", fnv1a(&parts)),
    }
}

fn failed(mut action: Action, error: &AwsError) -> Action {
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

fn skipped(mut action: Action, why: &str, retryable: bool) -> Action {
    action.result = ActionResult::Failed;
    action.error_code = Some("DependencyFailed".to_owned());
    action.error_message = Some(why.to_owned());
    action.retryable = Some(retryable);
    action
}

/// Runs the plan through the ports, in order, and reports what happened.
pub async fn enforce<I: Inventory, R: Remediator>(
    inv: &I,
    rem: &R,
    run: &Run<'_>,
) -> Result<Report, ReconcileError> {
    let role = run.policy.require_delivery_role()?;
    let Some(scope) = scope(run.trigger, run.policy, &run.place) else {
        return Ok(ignored_report(run, false));
    };
    let observed = observe_for_run(inv, run, &scope).await?;
    let plan = plan(run.policy, &observed);
    let mut exec = Executor {
        inv,
        rem,
        run,
        role,
        done: Vec::new(),
        created_groups: BTreeSet::new(),
        failed_groups: BTreeMap::new(),
        blocked: BTreeMap::new(),
        recheck: Vec::new(),
        gone: BTreeSet::new(),
    };
    for step in &plan.steps {
        exec.step(step).await;
    }
    exec.recheck().await;
    exec.fall_back().await;
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

struct Executor<'a, I, R> {
    inv: &'a I,
    rem: &'a R,
    run: &'a Run<'a>,
    role: &'a str,
    /// Each action with the VPCs whose compliance depends on it.
    done: Vec<(Action, Vec<VpcId>)>,
    created_groups: BTreeSet<LogGroupName>,
    /// Groups that could not be created, with whether that may pass.
    failed_groups: BTreeMap<LogGroupName, bool>,
    /// VPCs whose failing flow log could not be deleted, with whether that may pass.
    blocked: BTreeMap<VpcId, bool>,
    /// (action index, VPC) pairs answered "already exists": re-read before concluding.
    recheck: Vec<(usize, VpcId)>,
    gone: BTreeSet<VpcId>,
}

impl<I: Inventory, R: Remediator> Executor<'_, I, R> {
    async fn step(&mut self, step: &Step) {
        let policy = self.run.policy;
        let mut actions = planned_actions(step, policy);
        match step {
            Step::CreateLogGroup { name, for_vpcs } => {
                let action = actions.remove(0);
                let action = match self
                    .rem
                    .create_log_group(name, policy.kms_key_arn.as_deref())
                    .await
                {
                    Ok(()) => {
                        self.created_groups.insert(name.clone());
                        Action {
                            result: ActionResult::Applied,
                            ..action
                        }
                    }
                    Err(e) if classify(&e) == Disposition::AlreadyDone => Action {
                        result: ActionResult::AlreadyDone,
                        ..action
                    },
                    Err(e) => {
                        self.failed_groups
                            .insert(name.clone(), classify(&e) == Disposition::RetryLater);
                        failed(action, &e)
                    }
                };
                self.done.push((action, for_vpcs.clone()));
            }
            Step::PutRetentionPolicy {
                name,
                days,
                for_vpcs,
                ..
            } => {
                let action = actions.remove(0);
                let action = self.raise_retention(action, name, *days).await;
                self.done.push((action, for_vpcs.clone()));
            }
            Step::DeleteFlowLogs { flow_logs } => {
                let ids: Vec<FlowLogId> = flow_logs.iter().map(|(id, _)| id.clone()).collect();
                let results = self.rem.delete_flow_logs(&ids).await;
                for ((id, vpc), action) in flow_logs.iter().zip(actions) {
                    let error = match &results {
                        Err(e) => Some(e.clone()),
                        Ok(per_id) => per_id
                            .iter()
                            .find(|(i, _)| i == id)
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
                                .insert(vpc.clone(), classify(&e) == Disposition::RetryLater);
                            failed(action, &e)
                        }
                    };
                    self.done.push((action, vec![vpc.clone()]));
                }
            }
            Step::CreateFlowLogs { log_group, vpcs } => {
                self.create_flow_logs(log_group, vpcs, actions).await
            }
        }
    }

    /// Raises a retention, never lowers it: a group that this run did not create is re-read
    /// first, in case someone raised it meanwhile.
    async fn raise_retention(&mut self, action: Action, name: &LogGroupName, days: u32) -> Action {
        if let Some(&retryable) = self.failed_groups.get(name) {
            return skipped(
                action,
                &format!("log group {name} could not be created"),
                retryable,
            );
        }
        if !self.created_groups.contains(name) {
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
        }
        match self.rem.put_retention_policy(name, days).await {
            Ok(()) => Action {
                result: ActionResult::Applied,
                ..action
            },
            Err(e) => failed(action, &e),
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
                    format!("log group {log_group} could not be created"),
                    retryable,
                )),
                (None, Some(&retryable)) => Some((
                    format!("the failing flow log on {vpc} could not be deleted"),
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
        let outcomes: Result<std::collections::HashMap<VpcId, Created>, AwsError> = self
            .rem
            .create_flow_logs(&request)
            .await
            .map(|per_vpc| per_vpc.into_iter().rev().collect());
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
                    self.gone.insert(vpc.clone());
                    Action {
                        result: ActionResult::AlreadyDone,
                        detail: Some(format!("{vpc} no longer exists")),
                        ..action
                    }
                }
                Created::Failed(e) => failed(action, &e),
            };
            self.done.push((action, vec![vpc]));
        }
    }

    /// A retention that could not be raised on a group that is not flowguard's (its role may
    /// change only the managed groups) does not leave the VPCs behind: they get flowguard's
    /// own flow log into the managed group, and the failed raise is marked superseded.
    async fn fall_back(&mut self) {
        let (policy, place) = (self.run.policy, &self.run.place);
        let mut unraisable = BTreeSet::new();
        let mut vpcs = Vec::new();
        for (action, for_vpcs) in &mut self.done {
            let group = LogGroupName::new(&action.target);
            let refused = action.action == ActionKind::PutRetentionPolicy
                && action.result == ActionResult::Failed
                && action.retryable == Some(false)
                && action.error_code.as_deref() != Some("DependencyFailed")
                && policy.log_group.matches(&group, place).is_none();
            if refused && !for_vpcs.is_empty() {
                vpcs.append(for_vpcs);
                action.superseded = true;
                unraisable.insert(group);
            }
        }
        if vpcs.is_empty() {
            return;
        }
        let observed = match observe(self.inv, policy, place, &Scope::Vpcs(vpcs.clone())).await {
            Ok(observed) => observed,
            Err(e) => {
                for vpc in vpcs {
                    let action = Action::new(
                        ActionKind::CreateFlowLogs,
                        vpc.as_str(),
                        ActionResult::Planned,
                    );
                    self.done.push((failed(action, &e), vec![vpc]));
                }
                return;
            }
        };
        for step in &plan_avoiding(policy, &observed, &unraisable).steps {
            self.step(step).await;
        }
        self.recheck().await;
    }

    /// "Already exists" is only success if the VPC is now compliant: re-read and decide. A VPC
    /// that still has no flow log into the destination was not blocked (some endpoints refuse a
    /// whole batch for one duplicate): it is asked for again, up to twice, and an "already
    /// exists" to that is re-read again (a concurrent run may have won).
    async fn recheck(&mut self) {
        for may_retry in [true, true, false] {
            if self.recheck.is_empty() {
                return;
            }
            self.recheck_round(may_retry).await;
        }
    }

    async fn recheck_round(&mut self, may_retry: bool) {
        let ids: Vec<VpcId> = self.recheck.iter().map(|(_, vpc)| vpc.clone()).collect();
        let observed = observe(
            self.inv,
            self.run.policy,
            &self.run.place,
            &Scope::Vpcs(ids),
        )
        .await;
        let mut retry: BTreeMap<LogGroupName, Vec<(usize, VpcId)>> = BTreeMap::new();
        for (index, vpc) in std::mem::take(&mut self.recheck) {
            let action = self.done[index].0.clone();
            self.done[index].0 = match &observed {
                Err(e) => failed(action, e),
                Ok(observed) => match observed.vpcs.iter().find(|v| v.id == vpc) {
                    None => {
                        self.gone.insert(vpc.clone());
                        action
                    }
                    Some(v) => {
                        let evaluation = evaluate(self.run.policy, v, observed);
                        let group = action.log_group.clone();
                        let into_group = observed
                            .flow_logs_of(&vpc)
                            .any(|fl| fl.log_group() == group.as_ref());
                        match group {
                            _ if evaluation.compliant => Action {
                                result: ActionResult::AlreadyDone,
                                detail: Some(format!("already in place: {}", evaluation.reason)),
                                ..action
                            },
                            Some(group) if may_retry && !into_group => {
                                retry.entry(group).or_default().push((index, vpc.clone()));
                                action
                            }
                            _ => failed(action, &blocked(&evaluation.reason)),
                        }
                    }
                },
            };
        }
        for (group, entries) in retry {
            let vpcs: Vec<VpcId> = entries.iter().map(|(_, vpc)| vpc.clone()).collect();
            let request = flow_log_request(self.run, self.role, &group, &vpcs);
            let outcomes: Result<std::collections::HashMap<VpcId, Created>, AwsError> = self
                .rem
                .create_flow_logs(&request)
                .await
                .map(|per_vpc| per_vpc.into_iter().rev().collect());
            for (index, vpc) in entries {
                let action = self.done[index].0.clone();
                let outcome = match &outcomes {
                    Err(e) => Created::Failed(e.clone()),
                    Ok(per_vpc) => per_vpc
                        .get(&vpc)
                        .cloned()
                        .unwrap_or_else(|| Created::Failed(blocked("no answer for this VPC"))),
                };
                self.done[index].0 = match outcome {
                    Created::Created(id) => Action {
                        result: ActionResult::Applied,
                        flow_log_id: id,
                        ..action
                    },
                    Created::AlreadyExists(_) => {
                        self.recheck.push((index, vpc));
                        action
                    }
                    Created::Failed(e) => failed(action, &e),
                };
            }
        }
    }
}

fn blocked(reason: &str) -> AwsError {
    AwsError::service(
        "CreateFlowLogs",
        "FlowLogAlreadyExists",
        format!("another flow log blocks the destination and the VPC is not compliant: {reason}"),
    )
}

fn vpc_reports(
    plan: &Plan,
    done: &[(Action, Vec<VpcId>)],
    gone: &BTreeSet<VpcId>,
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
            if v.decision == Decision::Remediate {
                let mine: &[&Action] = by_vpc.get(&v.vpc_id).map_or(&[], Vec::as_slice);
                if gone.contains(&v.vpc_id) {
                    status = VpcStatus::Gone;
                    reason = "the VPC was deleted during the run".to_owned();
                } else if let Some(fail) = mine.iter().find(|a| a.result == ActionResult::Failed) {
                    status = VpcStatus::Failed;
                    reason = format!(
                        "{} {} failed: {}",
                        fail.action.as_str(),
                        fail.target,
                        fail.error_message.as_deref().unwrap_or("")
                    );
                } else {
                    status = VpcStatus::Remediated;
                    reason = mine
                        .iter()
                        .map(|a| describe_done(a))
                        .collect::<Vec<_>>()
                        .join("; ");
                }
            }
            VpcReport {
                vpc_id: v.vpc_id.clone(),
                status,
                reason,
                checks: v.checks.clone(),
            }
        })
        .collect()
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
        (ActionKind::CreateFlowLogs, None, _) => a
            .detail
            .clone()
            .unwrap_or_else(|| "flow log already in place".to_owned()),
        (kind, _, _) => format!("{} {} ({verb})", kind.as_str(), a.target),
    }
}
