//! Where flow logs deliver, in flowguard's own types: [`Destination`] (what EC2 describes),
//! and an S3 destination's [`S3Options`]. Shared by the observed state, the policy and the ports.

use crate::facts::facts;
use crate::ids::LogGroupName;
use serde::Serialize;

/// Where a flow log delivers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Destination {
    CloudWatchLogs(LogGroupName),
    /// An S3 bucket (and prefix) by ARN: its retention is the bucket's lifecycle, which only
    /// the bucket's owner can read.
    S3(String),
    /// Kinesis Data Firehose (or an unknown type), by ARN: no retention to check.
    Other(String),
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CloudWatchLogs(name) => write!(f, "{name}"),
            Self::S3(arn) => write!(f, "S3 {arn}"),
            Self::Other(arn) => f.write_str(arn),
        }
    }
}

impl Destination {
    /// From EC2's description of a flow log: `LogGroupName` when given, else the group that a
    /// CloudWatch Logs `LogDestination` ARN names (`arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME`,
    /// optionally ending in `:*`), so that its retention is checked too.
    pub fn from_ec2(
        destination_type: Option<&str>,
        log_group_name: Option<&str>,
        log_destination: Option<&str>,
    ) -> Self {
        let cloud_watch = matches!(destination_type, None | Some("cloud-watch-logs"));
        if cloud_watch {
            if let Some(name) = log_group_name.filter(|n| !n.is_empty()) {
                return Self::CloudWatchLogs(LogGroupName::new(name));
            }
            if let Some(name) = log_destination.and_then(log_group_of_arn) {
                return Self::CloudWatchLogs(LogGroupName::new(name));
            }
        }
        let arn = log_destination.unwrap_or("unknown").to_owned();
        if destination_type == Some("s3") {
            return Self::S3(arn);
        }
        Self::Other(arn)
    }

    /// Whether a flow log delivering here delivers where `wanted` says (an S3 prefix's
    /// trailing `/` aside).
    pub fn same_as(&self, wanted: &Destination) -> bool {
        match (self, wanted) {
            (Self::S3(a), Self::S3(b)) => same_s3_destination(a, b),
            _ => self == wanted,
        }
    }
}

/// The log-group name in a CloudWatch Logs log-group ARN.
fn log_group_of_arn(arn: &str) -> Option<&str> {
    let arn = super::arn::Arn::parse(arn).filter(|arn| arn.service == "logs")?;
    let rest = arn.resource.strip_prefix("log-group:")?;
    let name = rest.strip_suffix(":*").unwrap_or(rest);
    (!name.is_empty()).then_some(name)
}

/// EC2's `FileFormat` of an S3 destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileFormat {
    PlainText,
    Parquet,
}

impl FileFormat {
    /// The EC2 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlainText => "plain-text",
            Self::Parquet => "parquet",
        }
    }

    /// From the EC2 spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "plain-text" => Some(Self::PlainText),
            "parquet" => Some(Self::Parquet),
            _ => None,
        }
    }
}

/// EC2's `DestinationOptions` for an S3 destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct S3Options {
    pub file_format: FileFormat,
    pub hive_compatible_partitions: bool,
    pub per_hour_partition: bool,
}

/// EC2's defaults, from the facts.
impl Default for S3Options {
    fn default() -> Self {
        let rules = &facts().s3_options;
        Self {
            file_format: FileFormat::parse(&rules.file_format.default)
                .unwrap_or(FileFormat::PlainText),
            hive_compatible_partitions: rules.hive_compatible_partitions.default,
            per_hour_partition: rules.per_hour_partition.default,
        }
    }
}

impl std::fmt::Display for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.file_format.as_str())?;
        if self.hive_compatible_partitions {
            f.write_str(", Hive-compatible partitions")?;
        }
        if self.per_hour_partition {
            f.write_str(", per-hour partitions")?;
        }
        Ok(())
    }
}

/// Whether two S3 destination ARNs name the same place (a trailing `/` aside).
pub fn same_s3_destination(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}
