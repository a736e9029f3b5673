//! The observed state: what the read-side port saw of one region, in flowguard's own types.

use crate::ids::{FlowLogId, LogGroupName, Place, VpcId};
use crate::policy::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE, TrafficType};
use std::collections::BTreeMap;

/// A VPC and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    pub id: VpcId,
    pub tags: BTreeMap<String, String>,
}

/// Where a flow log delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    CloudWatchLogs(LogGroupName),
    /// S3 or Kinesis Data Firehose, by ARN: no retention to check.
    Other(String),
}

/// A flow log as EC2 describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLog {
    pub id: FlowLogId,
    /// The resource it watches: a VPC, subnet or network-interface id.
    pub resource_id: String,
    /// `FlowLogStatus`, normally `ACTIVE`.
    pub status: String,
    /// `None` when EC2 returned a value flowguard does not know.
    pub traffic_type: Option<TrafficType>,
    /// `DeliverLogsStatus`: `SUCCESS`, `FAILED` or absent.
    pub deliver_status: Option<String>,
    pub destination: Destination,
    pub tags: BTreeMap<String, String>,
}

impl FlowLog {
    /// Whether flowguard created it (tag `managed-by=flowguard`): the only flow logs it may delete.
    pub fn is_managed(&self) -> bool {
        self.tags
            .get(MANAGED_TAG_KEY)
            .is_some_and(|v| v == MANAGED_TAG_VALUE)
    }

    /// The log group it delivers to, for CloudWatch Logs destinations.
    pub fn log_group(&self) -> Option<&LogGroupName> {
        match &self.destination {
            Destination::CloudWatchLogs(name) => Some(name),
            Destination::Other(_) => None,
        }
    }
}

/// Retention of a log group: days, or never expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Retention {
    Days(u32),
    #[serde(serialize_with = "never_expire")]
    NeverExpire,
}

fn never_expire<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("never_expire")
}

impl Retention {
    /// Whether data is kept at least `min_days` (never-expire is longer than any number of days).
    pub fn at_least(self, min_days: u32) -> bool {
        match self {
            Self::Days(days) => days >= min_days,
            Self::NeverExpire => true,
        }
    }
}

impl std::fmt::Display for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Days(days) => write!(f, "{days} days"),
            Self::NeverExpire => f.write_str("never expire"),
        }
    }
}

/// A log group that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    pub name: LogGroupName,
    pub retention: Retention,
}

/// Everything one run knows about its region. Log groups that were looked up and not found
/// are simply absent from `log_groups`; `looked_up` says which names were asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub place: Place,
    pub vpcs: Vec<Vpc>,
    pub flow_logs: Vec<FlowLog>,
    pub log_groups: BTreeMap<LogGroupName, LogGroup>,
    /// VPCs that the trigger named but that EC2 does not (or no longer) show.
    pub missing_vpcs: Vec<VpcId>,
}

impl Observed {
    /// An empty region.
    pub fn new(place: Place) -> Self {
        Self {
            place,
            vpcs: Vec::new(),
            flow_logs: Vec::new(),
            log_groups: BTreeMap::new(),
            missing_vpcs: Vec::new(),
        }
    }

    /// The flow logs grouped by the resource they watch, in EC2's order: one pass, for
    /// callers that look up every VPC (a sweep), instead of one scan per VPC.
    pub fn flow_logs_by_resource(&self) -> std::collections::HashMap<&str, Vec<&FlowLog>> {
        let mut index: std::collections::HashMap<&str, Vec<&FlowLog>> =
            std::collections::HashMap::with_capacity(self.flow_logs.len());
        for fl in &self.flow_logs {
            index.entry(fl.resource_id.as_str()).or_default().push(fl);
        }
        index
    }

    /// The VPC-level flow logs of `vpc`.
    pub fn flow_logs_of<'a>(&'a self, vpc: &'a VpcId) -> impl Iterator<Item = &'a FlowLog> + 'a {
        self.flow_logs
            .iter()
            .filter(move |fl| fl.resource_id == vpc.as_str())
    }
}
