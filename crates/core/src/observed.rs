//! The observed state: what the read-side port saw of one region, in flowguard's own types.

use crate::ids::{FlowLogId, LogGroupName, Place, VpcId};
pub use crate::vocab::Destination;
use crate::vocab::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE, S3Options, TrafficType};
use std::collections::BTreeMap;

/// A VPC and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    pub id: VpcId,
    /// `OwnerId`: the account that owns the VPC. Another account than the run's means a VPC
    /// shared to this account through AWS RAM, whose flow logs only the owner may manage.
    pub owner_id: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// The tag key whose value names a resource in the AWS console.
pub const NAME_TAG: &str = "Name";

impl Vpc {
    /// Its `Name` tag, when it has one that is not blank.
    pub fn name(&self) -> Option<&str> {
        self.tags
            .get(NAME_TAG)
            .map(String::as_str)
            .filter(|name| !name.trim().is_empty())
    }

    /// Whether another account than `account` owns it (unknown owner or account: no).
    pub fn is_owned_by_another(&self, account: &str) -> bool {
        !account.is_empty()
            && self
                .owner_id
                .as_deref()
                .is_some_and(|owner| !owner.is_empty() && owner != account)
    }
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
    /// `DeliverLogsErrorMessage`: `Rate limited`, `Access error`, `Unknown error`, when failing.
    pub deliver_error: Option<String>,
    pub destination: Destination,
    /// `DeliverLogsPermissionArn`: the delivery role.
    pub delivery_role_arn: Option<String>,
    /// `MaxAggregationInterval` in seconds.
    pub max_aggregation_interval: Option<u32>,
    /// `CreationTime` as Unix seconds.
    pub created_at: Option<i64>,
    /// `LogFormat`: the record format, when EC2 gives it.
    pub log_format: Option<String>,
    /// `DestinationOptions` of an S3 flow log, when EC2 gives them.
    pub s3_options: Option<S3Options>,
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
            Destination::S3(_) | Destination::Other(_) => None,
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
/// are simply absent from `log_groups`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub place: Place,
    /// When the state was read (Unix seconds), to judge the age of failing flow logs;
    /// `None` when unknown (then no failing flow log is old enough to replace).
    pub at: Option<i64>,
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
            at: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_from_ec2_fields() {
        let group = |n: &str| Destination::CloudWatchLogs(LogGroupName::new(n));
        assert_eq!(
            Destination::from_ec2(Some("cloud-watch-logs"), Some("/vpc/flow-logs"), None),
            group("/vpc/flow-logs")
        );
        // Given by ARN only: the group is read from the ARN, with or without `:*`.
        for arn in [
            "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/by-arn:*",
            "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/by-arn",
        ] {
            assert_eq!(
                Destination::from_ec2(Some("cloud-watch-logs"), None, Some(arn)),
                group("/vpc/by-arn"),
                "{arn}"
            );
        }
        assert_eq!(
            Destination::from_ec2(None, None, Some("arn:aws:logs:us-east-1:1:log-group:a:b")),
            group("a:b")
        );
        assert_eq!(
            Destination::from_ec2(Some("s3"), None, Some("arn:aws:s3:::bucket")),
            Destination::S3("arn:aws:s3:::bucket".into())
        );
        assert_eq!(
            Destination::from_ec2(
                Some("kinesis-data-firehose"),
                None,
                Some("arn:aws:firehose:us-east-1:1:deliverystream/x")
            ),
            Destination::Other("arn:aws:firehose:us-east-1:1:deliverystream/x".into())
        );
        assert!(
            Destination::S3("arn:aws:s3:::b/p/".into())
                .same_as(&Destination::S3("arn:aws:s3:::b/p".into()))
        );
        assert_eq!(
            Destination::from_ec2(Some("cloud-watch-logs"), None, Some("arn:aws:s3:::x")),
            Destination::Other("arn:aws:s3:::x".into())
        );
    }

    #[test]
    fn owners() {
        let mut vpc = Vpc {
            id: VpcId::new("vpc-1"),
            owner_id: Some("210987654321".into()),
            tags: BTreeMap::new(),
        };
        assert!(vpc.is_owned_by_another("123456789012"));
        assert!(!vpc.is_owned_by_another(""));
        vpc.owner_id = Some("123456789012".into());
        assert!(!vpc.is_owned_by_another("123456789012"));
        vpc.owner_id = None;
        assert!(!vpc.is_owned_by_another("123456789012"));
    }

    #[test]
    fn a_vpc_is_named_by_its_name_tag() {
        let mut vpc = Vpc {
            id: VpcId::new("vpc-1"),
            owner_id: None,
            tags: BTreeMap::new(),
        };
        assert_eq!(vpc.name(), None);
        vpc.tags
            .insert("name".into(), "lower case is another key".into());
        assert_eq!(vpc.name(), None);
        vpc.tags.insert(NAME_TAG.into(), "  ".into());
        assert_eq!(vpc.name(), None, "a blank name is no name");
        vpc.tags.insert(NAME_TAG.into(), "prod, eu".into());
        assert_eq!(vpc.name(), Some("prod, eu"));
    }
}
