//! The reconcile loop: trigger → scope → observe → plan → (dry run | apply) → report.
//!
//! [`audit`] and [`dry_run`] take only an [`Inventory`]; [`enforce`] also takes a
//! [`Remediator`]. Every run re-reads the live state: the event only says where to look.

use crate::error::{AwsError, Disposition, classify};
use crate::ids::{FlowLogId, LogGroupName, Place, VpcId};
use crate::observed::{LogGroup, Observed};
use crate::plan::{Decision, Plan, PlannedVpc, Step, plan};
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
use std::time::Instant;

/// A VPC named by a CreateVpc event that EC2 does not show yet (or that `CreateFlowLogs` does
/// not find) is retried for this long after the event (EC2 is eventually consistent); later it
/// is reported as gone. Lambda retries an asynchronous event twice, about one and three minutes
/// after the first attempt: the grace ends before the last retry, so a VPC created and deleted
/// within minutes ends as `gone`, not in the on-failure queue.
pub const NEW_VPC_GRACE_SECONDS: i64 = 150;

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
    /// When to stop starting new steps (the Lambda's invocation deadline less a margin).
    pub deadline: Option<Deadline>,
}

/// The moment after which a run starts no new step: what is left is reported as retryable,
/// for the next run. Each step is whole (a group gets its retention in the same step), so
/// stopping between two steps leaves nothing half done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub stop_at: Instant,
}

impl Deadline {
    /// Whether the time to start new steps is over.
    pub fn passed(&self) -> bool {
        Instant::now() >= self.stop_at
    }
}

impl Run<'_> {
    /// Whether the run acts on VPCs named by an event recent enough that EC2 may not show
    /// them yet.
    fn is_fresh(&self) -> bool {
        matches!(self.trigger.target, Target::Vpcs(_))
            && matches!((self.trigger.time, self.now), (Some(t), Some(now)) if now - t < NEW_VPC_GRACE_SECONDS)
    }

    fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| d.passed())
    }
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
    let mut observed = observe(inv, run.policy, &run.place, scope)
        .await
        .map_err(ReconcileError::Observe)?;
    observed.at = run.now;
    if run.is_fresh()
        && let Some(missing) = observed.missing_vpcs.first()
    {
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
    let kms_key = run.policy.kms_key_in(&run.place)?;
    let observed = observe_for_run(inv, run, &scope).await?;
    let plan = plan(run.policy, &observed);
    let mut warnings = Vec::new();
    let mut actions = Vec::new();
    for step in &plan.steps {
        let mut planned = planned_actions(step, run.policy, kms_key.as_deref());
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
            owner_id: v.owner_id.clone(),
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
        Decision::NotOwned => VpcStatus::NotOwned,
        Decision::Gone => VpcStatus::Gone,
        Decision::Remediate => VpcStatus::WouldRemediate,
        Decision::Blocked => VpcStatus::Failed,
    }
}

/// The actions a step stands for, one per target, all `planned`. `kms_key` is the policy's
/// key rendered for the run's place.
pub fn planned_actions(step: &Step, policy: &Policy, kms_key: Option<&str>) -> Vec<Action> {
    match step {
        Step::CreateLogGroup { name, days, .. } => {
            let mut create = Action::new(
                ActionKind::CreateLogGroup,
                name.as_str(),
                ActionResult::Planned,
            );
            create.detail = Some(match kms_key {
                Some(key) => format!("tagged managed-by=flowguard, KMS key {key}"),
                None => "tagged managed-by=flowguard".to_owned(),
            });
            let mut retention = Action::new(
                ActionKind::PutRetentionPolicy,
                name.as_str(),
                ActionResult::Planned,
            );
            retention.detail = Some(format!("new group -> {days} days"));
            vec![create, retention]
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
            a.detail = Some(format!("{current} -> {days} days"));
            vec![a]
        }
        Step::DeleteFlowLogs { flow_logs } => flow_logs
            .iter()
            .map(|r| {
                let mut a = Action::new(
                    ActionKind::DeleteFlowLogs,
                    r.flow_log.as_str(),
                    ActionResult::Planned,
                );
                a.detail = Some(format!("on {}: {}", r.vpc, r.why));
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
    // Every parameter of the request is in the token: EC2 answers a reused token with other
    // parameters `IdempotentParameterMismatch`, so a policy change must change the token.
    let interval = run.policy.max_aggregation_interval.to_string();
    let mut parts = vec![
        run_id,
        &run.place.region,
        &window,
        "cloud-watch-logs",
        log_group.as_str(),
        role,
        run.policy.traffic_type.as_str(),
        &interval,
    ];
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

fn with_retryable(mut action: Action, retryable: bool) -> Action {
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
fn not_started(mut action: Action) -> Action {
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

struct Executor<'a, I, R> {
    inv: &'a I,
    rem: &'a R,
    run: &'a Run<'a>,
    role: &'a str,
    kms_key: Option<&'a str>,
    /// Each action with the VPCs whose compliance depends on it.
    done: Vec<(Action, Vec<VpcId>)>,
    /// Groups that could not be made ready, with whether that may pass.
    failed_groups: BTreeMap<LogGroupName, bool>,
    /// VPCs whose flow log to replace could not be deleted, with whether that may pass.
    blocked: BTreeMap<VpcId, bool>,
    /// (action index, VPC) pairs to re-read before concluding: "already exists", or a whole
    /// request refused because one of its VPCs is gone.
    recheck: Vec<(usize, VpcId)>,
    gone: BTreeSet<VpcId>,
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
    fn vpc_not_found(&mut self, vpc: &VpcId, action: Action, error: &AwsError) -> Action {
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

    /// "Already exists" is only success if the VPC is now compliant, and a request refused as a
    /// whole for a VPC that is gone says nothing of the others: re-read and decide. A VPC that
    /// still has no flow log into the destination was not blocked (some endpoints refuse a
    /// whole batch for one duplicate): it is asked for again, up to twice, and an "already
    /// exists" to that is re-read again (a concurrent run may have won).
    async fn recheck(&mut self) {
        for may_retry in [true, true, false] {
            if self.recheck.is_empty() || self.run.out_of_time() {
                break;
            }
            self.recheck_round(may_retry).await;
        }
        for (index, _) in std::mem::take(&mut self.recheck) {
            let action = self.done[index].0.clone();
            self.done[index].0 = not_started(action);
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
                        let e = AwsError::service(
                            "DescribeVpcs",
                            "InvalidVpcID.NotFound",
                            format!("{vpc} is not found"),
                        );
                        self.vpc_not_found(&vpc, action, &e)
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
                                error_code: None,
                                error_message: None,
                                retryable: None,
                                ..action
                            },
                            Some(group) if may_retry && !into_group => {
                                retry.entry(group).or_default().push((index, vpc.clone()));
                                action
                            }
                            // EC2 still does not find the VPC that DescribeVpcs shows.
                            _ if action
                                .error_code
                                .as_deref()
                                .is_some_and(|code| GONE_CODES.contains(&code)) =>
                            {
                                let e = AwsError::service(
                                    "CreateFlowLogs",
                                    action.error_code.clone().unwrap_or_default().as_str(),
                                    action.error_message.clone().unwrap_or_default(),
                                );
                                self.vpc_not_found(&vpc, action, &e)
                            }
                            // No flow log into the destination is visible, yet EC2 says one
                            // exists: the read is stale, and a later run will see it.
                            _ => with_retryable(
                                failed(action, &blocked(&evaluation.reason)),
                                !into_group,
                            ),
                        }
                    }
                },
            };
        }
        for (group, entries) in retry {
            let vpcs: Vec<VpcId> = entries.iter().map(|(_, vpc)| vpc.clone()).collect();
            let request = flow_log_request(self.run, self.role, &group, &vpcs);
            let outcomes = self.rem.create_flow_logs(&request).await;
            if let Err(e) = &outcomes
                && classify(e) == Disposition::Gone
                && may_retry
            {
                for (index, vpc) in entries {
                    let action = self.done[index].0.clone();
                    self.done[index].0 = failed(action, e);
                    self.recheck.push((index, vpc));
                }
                continue;
            }
            let outcomes: Result<std::collections::HashMap<VpcId, Created>, AwsError> =
                outcomes.map(|per_vpc| per_vpc.into_iter().rev().collect());
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
                        error_code: None,
                        error_message: None,
                        retryable: None,
                        ..action
                    },
                    Created::AlreadyExists(_) => {
                        self.recheck.push((index, vpc));
                        action
                    }
                    Created::Failed(e) if classify(&e) == Disposition::Gone => {
                        self.vpc_not_found(&vpc, action, &e)
                    }
                    Created::Failed(e) => failed(action, &e),
                };
            }
        }
    }
}

/// The codes with which EC2 says it does not find a VPC.
const GONE_CODES: [&str; 2] = ["InvalidVpcID.NotFound", "InvalidVpcId.NotFound"];

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
                owner_id: v.owner_id.clone(),
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
