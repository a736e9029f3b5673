//! Re-reading before concluding: "already exists" is success only if the VPC is now
//! compliant, and a request refused as a whole for a VPC that is gone says nothing of the
//! others.

use super::apply::{Executor, failed, not_started, with_retryable};
use super::flow_log_request;
use super::{Scope, observe};
use crate::error::{AwsError, Disposition, classify};
use crate::ids::{LogGroupName, VpcId};
use crate::ports::{Created, Inventory, Remediator};
use crate::report::{Action, ActionResult};
use crate::rule::evaluate;
use std::collections::BTreeMap;

impl<I: Inventory, R: Remediator> Executor<'_, I, R> {
    /// "Already exists" is only success if the VPC is now compliant, and a request refused as a
    /// whole for a VPC that is gone says nothing of the others: re-read and decide. A VPC that
    /// still has no flow log into the destination was not blocked (some endpoints refuse a
    /// whole batch for one duplicate): it is asked for again, up to twice, and an "already
    /// exists" to that is re-read again (a concurrent run may have won).
    pub(super) async fn recheck(&mut self) {
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
