//! Reading the live state that a run needs, in as few rounds of concurrent calls as possible.

use super::{ReconcileError, Run, Scope, scope};
use crate::error::AwsError;
use crate::ids::{LogGroupName, Place, VpcId};
use crate::observed::{LogGroup, Observed};
use crate::plan::{Plan, plan};
use crate::policy::Policy;
use crate::ports::{FlowLogQuery, Inventory, VpcQuery};
use std::collections::BTreeSet;

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
    // With an S3 destination flowguard manages no group: only the flow logs' own are read.
    let manages_groups = policy.needs_delivery_role();
    let fixed_group = manages_groups
        .then(|| policy.log_group.render_fixed(place))
        .flatten();
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
                None if !manages_groups => Vec::new(),
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
    if manages_groups && policy.log_group.is_per_vpc() {
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

/// What every run starts from once its trigger is scoped: the observation, the plan made of
/// it, and the policy's KMS key rendered for the run's place.
pub(super) struct Start {
    pub scope: Scope,
    pub kms_key: Option<String>,
    pub observed: Observed,
    pub plan: Plan,
}

/// Scopes the trigger, renders the KMS key, observes and plans: the start that audits, dry
/// runs and enforcing share. `None` when the trigger is ignored.
pub(super) async fn start<I: Inventory>(
    inv: &I,
    run: &Run<'_>,
) -> Result<Option<Start>, ReconcileError> {
    let Some(scope) = scope(run.trigger, run.policy, &run.place) else {
        return Ok(None);
    };
    let kms_key = run.policy.kms_key_in(&run.place)?;
    let mut observed = observe(inv, run.policy, &run.place, &scope)
        .await
        .map_err(ReconcileError::Observe)?;
    observed.at = run.now;
    if run.is_fresh()
        && let Some(missing) = observed.missing_vpcs.first()
    {
        return Err(ReconcileError::NotYetVisible(missing.clone()));
    }
    let plan = plan(run.policy, &observed);
    Ok(Some(Start {
        scope,
        kms_key,
        observed,
        plan,
    }))
}
