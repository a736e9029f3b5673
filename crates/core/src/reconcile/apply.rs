//! Applying one round's steps through the write port: each action ends with a typed
//! [`Outcome`]. The executor decides nothing beyond the step in hand: what an outcome means
//! for the run (re-read, plan again, report) is the converge loop's business.

use super::outcome::{ActionTarget, Done, Outcome, Planned, Skip};
use super::report::planned_actions;
use super::{Run, flow_log_request};
use crate::error::{AwsError, Disposition, classify};
use crate::ids::{FlowLogId, LogGroupName, VpcId};
use crate::observed::Destination;
use crate::plan::{Step, units};
use crate::ports::{Created, Inventory, Remediator};
use crate::report::ActionKind;
use std::collections::{BTreeMap, HashMap};

/// Why the flow logs waiting for a step cannot be created in this round.
#[derive(Debug, Clone)]
enum Hold {
    /// The step failed: they are not attempted and share its error.
    Failed { what: String, error: AwsError },
    /// The state changed under the step: they wait for the next round.
    Changed { why: String },
}

impl Hold {
    fn outcome(&self) -> Outcome {
        match self {
            Self::Failed { what, error } => Outcome::Skipped(Skip::After {
                what: what.clone(),
                error: error.clone(),
            }),
            Self::Changed { why } => Outcome::Deferred { why: why.clone() },
        }
    }
}

/// Applies the steps of one round, in order. No unit of work starts once the run's deadline
/// has passed: its actions end [`Skip::Deadline`].
pub(super) async fn apply_round<I: Inventory, R: Remediator>(
    inv: &I,
    rem: &R,
    run: &Run<'_>,
    role: Option<&str>,
    kms_key: Option<&str>,
    steps: &[Step],
) -> Vec<Done> {
    let mut exec = Executor {
        inv,
        rem,
        run,
        role,
        kms_key,
        done: Vec::new(),
        held_groups: BTreeMap::new(),
        held_vpcs: BTreeMap::new(),
        untied: Vec::new(),
    };
    for unit in units(steps) {
        // The deadline is looked at between units of work only; a unit not started is not
        // started whole.
        if run.out_of_time() {
            for step in unit {
                for planned in planned_actions(step, run.policy, kms_key) {
                    let vpcs = step_vpcs(step, &planned.target);
                    exec.push(planned, vpcs, Outcome::Skipped(Skip::Deadline));
                }
            }
            continue;
        }
        for step in unit {
            exec.step(step).await;
        }
    }
    exec.tie_new_flow_logs().await;
    exec.done
}

/// The VPCs whose compliance depends on the action of `step` on `target`: a VPC's own, a flow
/// log's VPC, or every VPC that waits for a log group.
pub(super) fn step_vpcs(step: &Step, target: &ActionTarget) -> Vec<VpcId> {
    match (target, step) {
        (ActionTarget::Vpc(vpc) | ActionTarget::FlowLog { vpc, .. }, _) => vec![vpc.clone()],
        (
            ActionTarget::LogGroup(_),
            Step::CreateLogGroup { for_vpcs, .. } | Step::PutRetentionPolicy { for_vpcs, .. },
        ) => for_vpcs.clone(),
        (ActionTarget::LogGroup(_), _) => Vec::new(),
    }
}

struct Executor<'a, I, R> {
    inv: &'a I,
    rem: &'a R,
    run: &'a Run<'a>,
    role: Option<&'a str>,
    kms_key: Option<&'a str>,
    done: Vec<Done>,
    /// Groups not made ready in this round.
    held_groups: BTreeMap<LogGroupName, Hold>,
    /// VPCs whose flow log to replace could not be deleted.
    held_vpcs: BTreeMap<VpcId, Hold>,
    /// The round's new flow logs that `CreateFlowLogs` did not tie to their VPCs.
    untied: Vec<FlowLogId>,
}

impl<I: Inventory, R: Remediator> Executor<'_, I, R> {
    /// Names the flow log of each VPC whose creation did not say it: one read of all the
    /// round's new ids ([`Remediator::vpcs_of`]), so that every remediated VPC names its flow
    /// log; what the read does not give stays unknown.
    async fn tie_new_flow_logs(&mut self) {
        if self.untied.is_empty() {
            return;
        }
        let ids = std::mem::take(&mut self.untied);
        let of_vpc: HashMap<VpcId, FlowLogId> = self
            .rem
            .vpcs_of(&ids)
            .await
            .into_iter()
            .map(|(id, vpc)| (vpc, id))
            .collect();
        for done in &mut self.done {
            if let (Outcome::Applied { flow_log_id }, [vpc]) =
                (&mut done.outcome, done.vpcs.as_slice())
                && flow_log_id.is_none()
                && done.planned.kind == ActionKind::CreateFlowLogs
            {
                *flow_log_id = of_vpc.get(vpc).cloned();
            }
        }
    }

    fn push(&mut self, planned: Planned, vpcs: Vec<VpcId>, outcome: Outcome) {
        self.done.push(Done {
            planned,
            vpcs,
            outcome,
        });
    }

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
                let outcome = self.raise_retention(name, *days).await;
                self.hold_group_unless_ready(name, &outcome, "its retention could not be raised");
                self.push(action, for_vpcs.clone(), outcome);
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
                    let outcome = match error {
                        None => Outcome::Applied { flow_log_id: None },
                        Some(e) if classify(&e) == Disposition::Gone => {
                            Outcome::AlreadyDone { detail: None }
                        }
                        Some(error) => {
                            let what = format!(
                                "the flow log to replace on {}, {}, could not be deleted",
                                r.vpc, r.flow_log
                            );
                            self.held_vpcs.insert(
                                r.vpc.clone(),
                                Hold::Failed {
                                    what,
                                    error: error.clone(),
                                },
                            );
                            Outcome::Failed(error)
                        }
                    };
                    self.push(action, vec![r.vpc.clone()], outcome);
                }
            }
            Step::CreateFlowLogs { destination, vpcs } => {
                self.create_flow_logs(destination, vpcs, actions.collect())
                    .await;
            }
        }
    }

    /// Remembers a group that the step did not leave ready, so that no flow log is created
    /// into it in this round.
    fn hold_group_unless_ready(&mut self, name: &LogGroupName, outcome: &Outcome, what: &str) {
        let hold = match outcome {
            Outcome::Failed(error) => Hold::Failed {
                what: format!("log group {name}: {what}"),
                error: error.clone(),
            },
            Outcome::Gone => Hold::Changed {
                why: format!("log group {name} vanished before its retention was set"),
            },
            _ => return,
        };
        self.held_groups.insert(name.clone(), hold);
    }

    /// Creates a group and gives it its retention in the same step, before any flow log can
    /// deliver to it. A group of that name that exists already is used as it is, apart from
    /// retention, which is re-read and raised if shorter.
    async fn create_log_group(
        &mut self,
        create: Planned,
        retention: Planned,
        name: &LogGroupName,
        days: u32,
        for_vpcs: &[VpcId],
    ) {
        let created = match self.rem.create_log_group(name, self.kms_key).await {
            Ok(()) => true,
            Err(e) if classify(&e) == Disposition::AlreadyDone => false,
            Err(error) => {
                let what = format!("log group {name} could not be created");
                let hold = Hold::Failed {
                    what,
                    error: error.clone(),
                };
                let skipped = hold.outcome();
                self.held_groups.insert(name.clone(), hold);
                self.push(create, for_vpcs.to_vec(), Outcome::Failed(error));
                self.push(retention, for_vpcs.to_vec(), skipped);
                return;
            }
        };
        let create_outcome = if created {
            Outcome::Applied { flow_log_id: None }
        } else {
            Outcome::AlreadyDone { detail: None }
        };
        self.push(create, for_vpcs.to_vec(), create_outcome);
        let outcome = if created {
            match self.rem.put_retention_policy(name, days).await {
                Ok(()) => Outcome::Applied { flow_log_id: None },
                Err(e) => Outcome::Failed(e),
            }
        } else {
            self.raise_retention(name, days).await
        };
        self.hold_group_unless_ready(name, &outcome, "its retention could not be set");
        self.push(retention, for_vpcs.to_vec(), outcome);
    }

    /// Raises a retention, never lowers it: the group is re-read first, in case someone
    /// raised it meanwhile. A group no longer there is [`Outcome::Gone`].
    async fn raise_retention(&mut self, name: &LogGroupName, days: u32) -> Outcome {
        match self.inv.log_groups(std::slice::from_ref(name)).await {
            Err(e) => return Outcome::Failed(e),
            Ok(groups) => match groups.iter().find(|g| &g.name == name) {
                Some(group) if group.retention.at_least(days) => {
                    return Outcome::AlreadyDone { detail: None };
                }
                Some(_) => {}
                None => return Outcome::Gone,
            },
        }
        match self.rem.put_retention_policy(name, days).await {
            Ok(()) => Outcome::Applied { flow_log_id: None },
            Err(e) => Outcome::Failed(e),
        }
    }

    async fn create_flow_logs(
        &mut self,
        destination: &Destination,
        vpcs: &[VpcId],
        actions: Vec<Planned>,
    ) {
        let mut ready = Vec::new();
        for (vpc, action) in vpcs.iter().zip(actions) {
            let held_group = match destination {
                Destination::CloudWatchLogs(group) => self.held_groups.get(group),
                Destination::S3(_) | Destination::Other(_) => None,
            };
            let hold = held_group.or_else(|| self.held_vpcs.get(vpc));
            match hold.map(Hold::outcome) {
                Some(outcome) => self.push(action, vec![vpc.clone()], outcome),
                None => ready.push((vpc.clone(), action)),
            }
        }
        if ready.is_empty() {
            return;
        }
        let ids: Vec<VpcId> = ready.iter().map(|(vpc, _)| vpc.clone()).collect();
        let request = flow_log_request(self.run, self.role, destination, &ids);
        // EC2 would accept a missing delivery role, and the flow logs would never deliver:
        // the account's missing role is each VPC's failure instead.
        if let Some(role) = &request.delivery_role_arn
            && let Err(e) = self.rem.verify_delivery_role(role).await
        {
            for (vpc, action) in ready {
                self.push(action, vec![vpc], Outcome::Failed(e.clone()));
            }
            return;
        }
        let outcomes = self.rem.create_flow_logs(&request).await;
        let per_vpc: HashMap<VpcId, Created> = match outcomes {
            // Refused as a whole because one VPC is not found (deleted mid-run): that says
            // nothing of the others, which are re-read.
            Err(e) if classify(&e) == Disposition::Gone => {
                for (vpc, action) in ready {
                    self.push(action, vec![vpc], Outcome::Unsettled(e.clone()));
                }
                return;
            }
            Err(e) => {
                for (vpc, action) in ready {
                    self.push(action, vec![vpc], Outcome::Failed(e.clone()));
                }
                return;
            }
            Ok(creation) => {
                self.untied.extend(creation.untied);
                creation.per_vpc.into_iter().rev().collect()
            }
        };
        for (vpc, action) in ready {
            let outcome = match per_vpc.get(&vpc).cloned() {
                Some(Created::Created(flow_log_id)) => Outcome::Applied { flow_log_id },
                // Only a re-read says whether the flow log that exists makes the VPC compliant.
                Some(Created::AlreadyExists(e)) => Outcome::Unsettled(e),
                Some(Created::Failed(e)) if classify(&e) == Disposition::Gone => {
                    self.run.vpc_not_found(e)
                }
                Some(Created::Failed(e)) => Outcome::Failed(e),
                // The port promises one outcome per VPC; without one, the next read settles it.
                None => Outcome::Deferred {
                    why: format!("CreateFlowLogs gave no result for {vpc}"),
                },
            };
            self.push(action, vec![vpc], outcome);
        }
    }
}
