//! An in-memory fake of flowguard's own ports, for tests of the engine and the shells. It is
//! not an imitation of AWS: it keeps flowguard's model of one region and applies writes to
//! it, with the few AWS behaviours the engine relies on (duplicates, missing groups), and
//! refuses what AWS refuses: more than [`MAX_VPCS_PER_CREATE`] VPCs in one `CreateFlowLogs`,
//! more than [`MAX_FLOW_LOGS_PER_DELETE`] ids in one `DeleteFlowLogs`, and (once
//! [`FakeRegion::account`] is set) a `CreateFlowLogs` naming a VPC of another account, refused
//! as a whole. [`FakePlaces`] hands out fake regions by account, as the [`crate::Places`] port.
//!
//! Below the fake, the builders that the tests of every crate share: [`place`], [`fixture`],
//! [`event`], [`variables`], [`s3_policy`], [`vpc_line`] and [`set`].

mod builders;
mod knobs;
mod places;

pub use builders::{
    ACCOUNT, REGION, event, fixture, place, report_of, s3_policy, set, variables, vpc_line,
};
pub use places::{EVERYWHERE, FakePlaces, Metered};

use crate::error::AwsError;
use crate::ids::Place;
use crate::ids::{FlowLogId, LogGroupName, VpcId};
use crate::observed::{Destination, FlowLog, LogGroup, Retention, Vpc};
use crate::plan::{MAX_FLOW_LOGS_PER_DELETE, MAX_VPCS_PER_CREATE};
use crate::policy::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE};
use crate::ports::{
    Created, Creation, FindingUpdate, FlowLogQuery, FlowLogRequest, Inventory, Permission,
    Reevaluation, Remediator, VpcQuery,
};

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// The state of one fake region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub vpcs: Vec<Vpc>,
    pub flow_logs: Vec<FlowLog>,
    pub log_groups: BTreeMap<LogGroupName, LogGroup>,
}

/// A fake region: both ports over one [`State`], recording every call by operation name.
#[derive(Debug, Default)]
pub struct FakeRegion {
    state: Mutex<State>,
    calls: Mutex<Vec<&'static str>>,
    /// Operations that fail with the given error, for failure-path tests.
    failures: Mutex<BTreeMap<&'static str, AwsError>>,
    next_id: Mutex<u64>,
    /// How many more `DescribeFlowLogs` calls answer as if there were no flow logs (a stale
    /// read, as when another run creates one between our read and our write).
    stale_flow_log_reads: Mutex<u32>,
    /// Answer a duplicate as moto does: the VPCs before it in the batch are created, then the
    /// whole request fails with a top-level `FlowLogAlreadyExists`.
    whole_batch_duplicates: Mutex<bool>,
    /// The account the fake region belongs to: VPCs owned by others are refused.
    account: Mutex<Option<String>>,
    /// VPCs that `CreateFlowLogs` does not find although `DescribeVpcs` shows them (EC2's
    /// eventual consistency), refused as a whole request, as EC2 does.
    unknown_to_create: Mutex<Vec<VpcId>>,
    /// VPCs deleted right after the next `DescribeVpcs` has shown them (deleted mid-run).
    vanishing: Mutex<Vec<VpcId>>,
    /// Operations that take this long (the thread sleeps), for deadline tests.
    slow: Mutex<BTreeMap<&'static str, std::time::Duration>>,
    /// Every Security Hub update asked for, in order (each VPC has one open finding here).
    finding_updates: Mutex<Vec<FindingUpdate>>,
}

impl FakeRegion {
    pub fn new(state: State) -> Self {
        Self {
            state: Mutex::new(state),
            ..Self::default()
        }
    }

    fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        // A panic in another test thread must not hide this test's result.
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn call(&self, operation: &'static str) -> Result<MutexGuard<'_, State>, AwsError> {
        Self::lock(&self.calls).push(operation);
        if let Some(duration) = Self::lock(&self.slow).get(operation).copied() {
            std::thread::sleep(duration);
        }
        if let Some(error) = Self::lock(&self.failures).get(operation) {
            return Err(error.clone());
        }
        Ok(Self::lock(&self.state))
    }

    /// Why EC2 would refuse this `CreateFlowLogs` as a whole, if it would.
    fn refusal(&self, state: &State, request: &FlowLogRequest) -> Option<AwsError> {
        let refuse =
            |code: &str, message: String| Some(AwsError::service("CreateFlowLogs", code, message));
        let exists = |id: &VpcId| state.vpcs.iter().any(|v| &v.id == id);
        if request.vpcs.len() > MAX_VPCS_PER_CREATE {
            let given = request.vpcs.len();
            return refuse(
                "InvalidParameterValue",
                format!("Maximum of {MAX_VPCS_PER_CREATE} resource ids, {given} given"),
            );
        }
        // EC2 takes a delivery role only for CloudWatch Logs (and cross-account Firehose), and
        // DestinationOptions only for S3.
        let s3 = matches!(request.destination, Destination::S3(_));
        if s3 && request.delivery_role_arn.is_some() {
            return refuse(
                "InvalidParameter",
                "DeliverLogsPermissionArn is not applicable for s3 delivery".to_owned(),
            );
        }
        if !s3 && request.s3_options.is_some() {
            return refuse(
                "InvalidParameter",
                "DestinationOptions is applicable only for s3 delivery".to_owned(),
            );
        }
        if let Some(account) = Self::lock(&self.account).as_deref() {
            let shared = |id: &&VpcId| {
                (state.vpcs.iter()).any(|v| &v.id == *id && v.is_owned_by_another(account))
            };
            if let Some(vpc) = request.vpcs.iter().find(shared) {
                return refuse(
                    "Client.UnauthorizedOperation",
                    format!("You are not authorized to perform this operation on {vpc}"),
                );
            }
        }
        // A VPC that EC2 does not find (or not yet): the whole request is refused.
        let unknown = Self::lock(&self.unknown_to_create).clone();
        let missing = |id: &&VpcId| unknown.contains(id) || !exists(id);
        let vpc = request.vpcs.iter().find(missing)?;
        refuse(
            "InvalidVpcID.NotFound",
            format!("The vpc ID '{vpc}' does not exist"),
        )
    }

    fn new_flow_log_id(&self) -> FlowLogId {
        let mut next = Self::lock(&self.next_id);
        *next += 1;
        FlowLogId::new(format!("fl-fake{:08x}", *next))
    }
}

/// Builds a VPC with tags.
pub fn vpc(id: &str, tags: &[(&str, &str)]) -> Vpc {
    Vpc {
        id: VpcId::new(id),
        owner_id: None,
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

impl Inventory for FakeRegion {
    async fn vpcs(&self, query: VpcQuery<'_>) -> Result<Vec<Vpc>, AwsError> {
        let mut state = self.call("DescribeVpcs")?;
        let seen = match query {
            VpcQuery::All => state.vpcs.clone(),
            VpcQuery::Ids(ids) => state
                .vpcs
                .iter()
                .filter(|v| ids.contains(&v.id))
                .cloned()
                .collect(),
        };
        let vanishing = std::mem::take(&mut *Self::lock(&self.vanishing));
        state.vpcs.retain(|v| !vanishing.contains(&v.id));
        state
            .flow_logs
            .retain(|fl| !vanishing.iter().any(|v| v.as_str() == fl.resource_id));
        Ok(seen)
    }

    async fn flow_logs(&self, query: FlowLogQuery<'_>) -> Result<Vec<FlowLog>, AwsError> {
        let state = self.call("DescribeFlowLogs")?;
        let mut stale = Self::lock(&self.stale_flow_log_reads);
        if *stale > 0 {
            *stale -= 1;
            return Ok(Vec::new());
        }
        Ok(state
            .flow_logs
            .iter()
            .filter(|fl| match query {
                FlowLogQuery::All => true,
                FlowLogQuery::Resources(ids) => ids.iter().any(|id| id.as_str() == fl.resource_id),
                FlowLogQuery::LogGroup(name) => fl.log_group() == Some(name),
            })
            .cloned()
            .collect())
    }

    async fn log_groups(&self, names: &[LogGroupName]) -> Result<Vec<LogGroup>, AwsError> {
        let state = self.call("DescribeLogGroups")?;
        Ok(names
            .iter()
            .filter_map(|n| state.log_groups.get(n).cloned())
            .collect())
    }

    async fn check_create_flow_logs(
        &self,
        _request: &FlowLogRequest,
    ) -> Result<Permission, AwsError> {
        drop(self.call("CreateFlowLogs(DryRun)")?);
        Ok(Permission::Allowed)
    }
}

impl Remediator for FakeRegion {
    async fn create_log_group(
        &self,
        name: &LogGroupName,
        _kms_key_arn: Option<&str>,
    ) -> Result<(), AwsError> {
        let mut state = self.call("CreateLogGroup")?;
        if state.log_groups.contains_key(name) {
            return Err(AwsError::service(
                "CreateLogGroup",
                "ResourceAlreadyExistsException",
                "The specified log group already exists",
            ));
        }
        state.log_groups.insert(
            name.clone(),
            LogGroup {
                name: name.clone(),
                retention: Retention::NeverExpire,
            },
        );
        Ok(())
    }

    async fn put_retention_policy(&self, name: &LogGroupName, days: u32) -> Result<(), AwsError> {
        let mut state = self.call("PutRetentionPolicy")?;
        match state.log_groups.get_mut(name) {
            Some(group) => {
                group.retention = Retention::Days(days);
                Ok(())
            }
            None => Err(AwsError::service(
                "PutRetentionPolicy",
                "ResourceNotFoundException",
                "The specified log group does not exist",
            )),
        }
    }

    /// As EC2 answers: for several VPCs the new ids are untied from their VPCs, and listed
    /// last first (EC2 promises no order).
    async fn create_flow_logs(&self, request: &FlowLogRequest) -> Result<Creation, AwsError> {
        let mut state = self.call("CreateFlowLogs")?;
        if let Some(error) = self.refusal(&state, request) {
            return Err(error);
        }
        let mut outcomes: Vec<(VpcId, Created)> = Vec::new();
        for vpc in &request.vpcs {
            if !state.vpcs.iter().any(|v| &v.id == vpc) {
                outcomes.push((
                    vpc.clone(),
                    Created::Failed(AwsError::service(
                        "CreateFlowLogs",
                        "InvalidVpcID.NotFound",
                        "no such VPC",
                    )),
                ));
                continue;
            }
            let duplicate = state.flow_logs.iter().any(|fl| {
                fl.resource_id == vpc.as_str()
                    && fl.destination == request.destination
                    && fl.traffic_type == Some(request.traffic_type)
            });
            if duplicate && *Self::lock(&self.whole_batch_duplicates) {
                let e = AwsError::service(
                    "CreateFlowLogs",
                    "FlowLogAlreadyExists",
                    "Error. There is an existing Flow Log with the same configuration and log destination.",
                );
                let per_vpc = request
                    .vpcs
                    .iter()
                    .map(|v| (v.clone(), Created::AlreadyExists(e.clone())))
                    .collect();
                return Ok(Creation {
                    per_vpc,
                    untied: Vec::new(),
                });
            }
            if duplicate {
                let e = AwsError::service(
                    "CreateFlowLogs",
                    "FlowLogAlreadyExists",
                    "There is an existing Flow Log with the same configuration and log destination.",
                );
                outcomes.push((vpc.clone(), Created::AlreadyExists(e)));
                continue;
            }
            // S3 delivery is not modelled: it succeeds. CloudWatch delivery fails without its group.
            let group_exists = match &request.destination {
                Destination::CloudWatchLogs(group) => state.log_groups.contains_key(group),
                Destination::S3(_) | Destination::Other(_) => true,
            };
            let id = self.new_flow_log_id();
            state.flow_logs.push(FlowLog {
                id: id.clone(),
                resource_id: vpc.as_str().to_owned(),
                status: "ACTIVE".to_owned(),
                traffic_type: Some(request.traffic_type),
                deliver_status: Some(if group_exists { "SUCCESS" } else { "FAILED" }.to_owned()),
                deliver_error: (!group_exists).then(|| "Access error".to_owned()),
                destination: request.destination.clone(),
                delivery_role_arn: request.delivery_role_arn.clone(),
                max_aggregation_interval: Some(request.max_aggregation_interval),
                created_at: None,
                log_format: Some(
                    request
                        .log_format
                        .clone()
                        .unwrap_or_else(|| crate::facts::facts().log_format.default.clone()),
                ),
                s3_options: request.s3_options,
                tags: [(MANAGED_TAG_KEY.to_owned(), MANAGED_TAG_VALUE.to_owned())].into(),
            });
            outcomes.push((vpc.clone(), Created::Created(Some(id))));
        }
        let mut untied: Vec<FlowLogId> = Vec::new();
        if request.vpcs.len() > 1 {
            let ids = outcomes
                .iter_mut()
                .filter_map(|(_, outcome)| match outcome {
                    Created::Created(id) => id.take(),
                    Created::AlreadyExists(_) | Created::Failed(_) => None,
                });
            untied = ids.collect();
            untied.reverse();
        }
        Ok(Creation {
            per_vpc: outcomes,
            untied,
        })
    }

    /// `DescribeFlowLogs` of the ids (a failure as [`FakeRegion::fail`] says: none read).
    async fn vpcs_of(&self, ids: &[FlowLogId]) -> Vec<(FlowLogId, VpcId)> {
        let Ok(state) = self.call("DescribeFlowLogs") else {
            return Vec::new();
        };
        state
            .flow_logs
            .iter()
            .filter(|fl| ids.contains(&fl.id))
            .map(|fl| (fl.id.clone(), VpcId::new(fl.resource_id.clone())))
            .collect()
    }

    /// Fails only as [`FakeRegion::fail`] says for `"GetRole"` (then counted as a call): the
    /// fake's accounts have their delivery role, and the call lists of the tests stay those of
    /// the single-account shells, which check it at start-up.
    async fn verify_delivery_role(&self, _arn: &str) -> Result<(), AwsError> {
        match Self::lock(&self.failures).get("GetRole").cloned() {
            Some(error) => {
                Self::lock(&self.calls).push("GetRole");
                Err(error)
            }
            None => Ok(()),
        }
    }

    async fn delete_flow_logs(
        &self,
        ids: &[FlowLogId],
    ) -> Result<Vec<(FlowLogId, Option<AwsError>)>, AwsError> {
        let mut state = self.call("DeleteFlowLogs")?;
        if ids.len() > MAX_FLOW_LOGS_PER_DELETE {
            return Err(AwsError::service(
                "DeleteFlowLogs",
                "InvalidParameterValue",
                format!(
                    "Maximum of {MAX_FLOW_LOGS_PER_DELETE} flow log ids, {} given",
                    ids.len()
                ),
            ));
        }
        Ok(ids
            .iter()
            .map(|id| {
                let before = state.flow_logs.len();
                state.flow_logs.retain(|fl| &fl.id != id);
                let error = (state.flow_logs.len() == before).then(|| {
                    AwsError::service(
                        "DeleteFlowLogs",
                        "InvalidFlowLogId.NotFound",
                        format!("{id} does not exist"),
                    )
                });
                (id.clone(), error)
            })
            .collect())
    }

    async fn update_control_findings(
        &self,
        _place: &Place,
        updates: &[FindingUpdate],
    ) -> Vec<(VpcId, Result<usize, AwsError>)> {
        let result = self.call("BatchUpdateFindings").map(|_| 1);
        Self::lock(&self.finding_updates).extend(updates.iter().cloned());
        updates
            .iter()
            .map(|u| (u.vpc.clone(), result.clone()))
            .collect()
    }

    async fn reevaluate_config_rules(&self, _place: &Place) -> Result<Reevaluation, AwsError> {
        let _state = self.call("StartConfigRulesEvaluation")?;
        Ok(Reevaluation::Started(vec![
            "securityhub-vpc-flow-logs-enabled-fake".to_owned(),
        ]))
    }
}

// ---------------------------------------------------------------------------------------------
// Builders shared by the tests of every crate: the engine's, the adapters' and the end-to-end
// suite's (through its support library, `tests/support`). Written once here, where they can
// all reach them; a missing fixture or VPC fails the test that asked for it, hence the panics.
