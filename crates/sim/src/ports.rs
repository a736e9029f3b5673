//! The [`Places`] port over the simulated AWS: each account×region a [`FakeRegion`] of its
//! seeded state, behind [`SimRegion`], which makes each port call cost the AWS calls that the
//! real adapter (crates/aws) makes for it, through the [`Net`]:
//!
//! | port method | AWS calls (crates/aws) |
//! |---|---|
//! | `vpcs` | `ec2:DescribeVpcs`: one for all; with ids, one per 200 (`MAX_FILTER_VALUES`), at once |
//! | `flow_logs` | `ec2:DescribeFlowLogs`: one for all or a log group; one per 200 VPC ids, at once |
//! | `log_groups` | `logs:DescribeLogGroups`: one per 50 distinct names (`MAX_LOG_GROUP_IDENTIFIERS`), 4 at once; none for no name |
//! | `check_create_flow_logs` | `ec2:CreateFlowLogs` with `DryRun` |
//! | `create_log_group` | `logs:CreateLogGroup` (tags and key in the request) |
//! | `put_retention_policy` | `logs:PutRetentionPolicy` |
//! | `create_flow_logs` | `ec2:CreateFlowLogs`; for several VPCs, then `ec2:DescribeFlowLogs` of the new ids |
//! | `verify_delivery_role` | `iam:GetRole`, once per account (before its first flow log) |
//! | `delete_flow_logs` | `ec2:DeleteFlowLogs` |
//! | `update_control_findings` | `securityhub:GetFindings` per 20 VPCs, then `BatchUpdateFindings` per VPC, 4 at once |
//! | `reevaluate_config_rules` | `config:DescribeConfigRules`, `config:StartConfigRulesEvaluation` |
//!
//! Every listing is one page here (at most 5 VPCs and flow logs, 2 groups a region). A member
//! account's first call waits for its session: one `sts:AssumeRole` per account, shared by its
//! regions (the identity cache of `MemberAccess`), made again by the next call if it failed.

use crate::model::Api;
use crate::net::{Link, Net, seed_of};
use crate::world::Organization;
use flowguard_core::fake::FakeRegion;
use flowguard_core::observed::{FlowLog, LogGroup, Vpc};
use flowguard_core::ports::{
    Creation, FindingUpdate, FlowLogQuery, FlowLogRequest, Inventory, Permission, Places,
    Reevaluation, Remediator, VpcQuery,
};
use flowguard_core::{AwsError, FlowLogId, LogGroupName, Place, Trigger, VpcId};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// crates/aws/src/inventory.rs: EC2 filter values per request.
const MAX_FILTER_VALUES: usize = 200;
/// crates/aws/src/inventory.rs: log group names per `DescribeLogGroups`.
const MAX_LOG_GROUP_IDENTIFIERS: usize = 50;
/// crates/aws/src/remediator.rs: flow log ids per `DescribeFlowLogs`.
const MAX_FLOW_LOG_IDS: usize = 1000;
/// crates/aws/src/inventory.rs: `DescribeLogGroups` calls in flight at once.
const CONCURRENT_LOG_GROUP_LOOKUPS: usize = 4;
/// crates/aws/src/integrations.rs: VPCs per `GetFindings` filter, updates at once.
const FINDINGS_FILTER_VALUES: usize = 20;
const CONCURRENT_UPDATES: usize = 4;

/// A member account's session: its `AssumeRole`, made once by the first call that needs it.
#[derive(Debug)]
pub struct Session {
    assumed: OnceCell<()>,
    /// The account's delivery-role check (`iam:GetRole`), made once for its regions.
    role_checked: OnceCell<()>,
    link: Link,
}

impl Session {
    async fn ready(&self, net: &Net) -> Result<(), AwsError> {
        self.assumed
            .get_or_try_init(|| net.call(Api::AssumeRole, &self.link))
            .await
            .map(|_| ())
    }
}

/// The places of one invocation (a sweep, or the CLI's run): its member sessions, kept for
/// the invocation as `MemberAccess` keeps them (`SESSION_REUSE`, 12 minutes, longer than any
/// run here).
#[derive(Debug)]
pub struct SimPlaces {
    org: Arc<Organization>,
    net: Arc<Net>,
    seed: u64,
    sessions: Mutex<HashMap<usize, Arc<Session>>>,
}

impl SimPlaces {
    /// `seed`: this invocation's, from which every draw of its runs derives.
    pub fn new(org: Arc<Organization>, net: Arc<Net>, seed: u64) -> Self {
        Self {
            org,
            net,
            seed,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn session(&self, account: usize) -> Arc<Session> {
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let seed = seed_of(&[self.seed, 1, account as u64]);
        sessions
            .entry(account)
            .or_insert_with(|| {
                Arc::new(Session {
                    assumed: OnceCell::new(),
                    role_checked: OnceCell::new(),
                    link: Link::new(seed),
                })
            })
            .clone()
    }
}

impl Places for SimPlaces {
    type Inventory = Arc<SimRegion>;
    type Remediator = Arc<SimRegion>;

    async fn ports(
        &self,
        place: &Place,
        _trigger: &Trigger,
    ) -> Result<(Arc<SimRegion>, Arc<SimRegion>), AwsError> {
        let account = self.org.index_of(&place.account);
        let region = self.org.regions.iter().position(|r| *r == place.region);
        let (Some(account), Some(region)) = (account, region) else {
            return Err(AwsError::service(
                "AssumeRole",
                "AccessDenied",
                format!("{} is not a simulated member", place.account),
            ));
        };
        let seed = seed_of(&[self.seed, 2, account as u64, region as u64]);
        let sim = Arc::new(SimRegion {
            fake: FakeRegion::new(self.org.state(account, region)),
            net: self.net.clone(),
            session: self.session(account),
            link: Link::new(seed),
        });
        Ok((sim.clone(), sim))
    }
}

/// One account×region: the fake's state behind the simulated calls.
#[derive(Debug)]
pub struct SimRegion {
    fake: FakeRegion,
    net: Arc<Net>,
    session: Arc<Session>,
    link: Link,
}

impl SimRegion {
    /// `calls` calls of `api`, at most `at_once` at a time, after the account's session.
    async fn send(&self, api: Api, calls: usize, at_once: usize) -> Result<(), AwsError> {
        if calls == 0 {
            return Ok(());
        }
        self.session.ready(&self.net).await?;
        stream::iter(0..calls)
            .map(|_| self.net.call(api, &self.link))
            .buffer_unordered(at_once.max(1))
            .try_collect::<Vec<()>>()
            .await
            .map(drop)
    }
}

impl Inventory for SimRegion {
    async fn vpcs(&self, query: VpcQuery<'_>) -> Result<Vec<Vpc>, AwsError> {
        let calls = match query {
            VpcQuery::All => 1,
            VpcQuery::Ids(ids) => ids.len().div_ceil(MAX_FILTER_VALUES),
        };
        self.send(Api::DescribeVpcs, calls, calls).await?;
        self.fake.vpcs(query).await
    }

    async fn flow_logs(&self, query: FlowLogQuery<'_>) -> Result<Vec<FlowLog>, AwsError> {
        let calls = match query {
            FlowLogQuery::All | FlowLogQuery::LogGroup(_) => 1,
            FlowLogQuery::Resources(ids) => ids.len().div_ceil(MAX_FILTER_VALUES),
        };
        self.send(Api::DescribeFlowLogs, calls, calls).await?;
        self.fake.flow_logs(query).await
    }

    async fn log_groups(&self, names: &[LogGroupName]) -> Result<Vec<LogGroup>, AwsError> {
        let unique: BTreeSet<&LogGroupName> = names.iter().collect();
        let calls = unique.len().div_ceil(MAX_LOG_GROUP_IDENTIFIERS);
        self.send(Api::DescribeLogGroups, calls, CONCURRENT_LOG_GROUP_LOOKUPS)
            .await?;
        self.fake.log_groups(names).await
    }

    async fn check_create_flow_logs(
        &self,
        request: &FlowLogRequest,
    ) -> Result<Permission, AwsError> {
        self.send(Api::CreateFlowLogs, 1, 1).await?;
        self.fake.check_create_flow_logs(request).await
    }
}

impl Remediator for SimRegion {
    async fn create_log_group(
        &self,
        name: &LogGroupName,
        kms_key_arn: Option<&str>,
    ) -> Result<(), AwsError> {
        self.send(Api::CreateLogGroup, 1, 1).await?;
        self.fake.create_log_group(name, kms_key_arn).await
    }

    async fn put_retention_policy(&self, name: &LogGroupName, days: u32) -> Result<(), AwsError> {
        self.send(Api::PutRetentionPolicy, 1, 1).await?;
        self.fake.put_retention_policy(name, days).await
    }

    async fn create_flow_logs(&self, request: &FlowLogRequest) -> Result<Creation, AwsError> {
        self.send(Api::CreateFlowLogs, 1, 1).await?;
        self.fake.create_flow_logs(request).await
    }

    /// One `DescribeFlowLogs` per 1000 ids (`MAX_FLOW_LOG_IDS`); a failed read leaves them
    /// unknown, the remediation stands.
    async fn vpcs_of(&self, ids: &[FlowLogId]) -> Vec<(FlowLogId, VpcId)> {
        let calls = ids.len().div_ceil(MAX_FLOW_LOG_IDS);
        if self.send(Api::DescribeFlowLogs, calls, 1).await.is_err() {
            return Vec::new();
        }
        self.fake.vpcs_of(ids).await
    }

    async fn verify_delivery_role(&self, _arn: &str) -> Result<(), AwsError> {
        // The simulated accounts have their role; a failed check lets the flow logs be
        // created, as the adapter does.
        let check = || async {
            if self.session.ready(&self.net).await.is_ok() {
                let _ = self.net.call(Api::GetRole, &self.session.link).await;
            }
        };
        self.session.role_checked.get_or_init(check).await;
        Ok(())
    }

    async fn delete_flow_logs(
        &self,
        ids: &[FlowLogId],
    ) -> Result<Vec<(FlowLogId, Option<AwsError>)>, AwsError> {
        self.send(Api::DeleteFlowLogs, 1, 1).await?;
        self.fake.delete_flow_logs(ids).await
    }

    async fn update_control_findings(
        &self,
        place: &Place,
        updates: &[FindingUpdate],
    ) -> Vec<(VpcId, Result<usize, AwsError>)> {
        let lookups = updates.len().div_ceil(FINDINGS_FILTER_VALUES);
        let sent = match self.send(Api::GetFindings, lookups, 1).await {
            Ok(()) => {
                self.send(Api::BatchUpdateFindings, updates.len(), CONCURRENT_UPDATES)
                    .await
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => self.fake.update_control_findings(place, updates).await,
            Err(e) => updates
                .iter()
                .map(|u| (u.vpc.clone(), Err(e.clone())))
                .collect(),
        }
    }

    async fn reevaluate_config_rules(&self, place: &Place) -> Result<Reevaluation, AwsError> {
        self.send(Api::DescribeConfigRules, 1, 1).await?;
        self.send(Api::StartConfigRulesEvaluation, 1, 1).await?;
        self.fake.reevaluate_config_rules(place).await
    }
}
