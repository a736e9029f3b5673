//! Where flowguard's flow logs deliver (`FLOWGUARD_DESTINATION`), the record format they write
//! (`FLOWGUARD_LOG_FORMAT`) and EC2's `DestinationOptions` for S3 (`FLOWGUARD_S3_*`), each
//! checked against the facts' `destination`, `log_format` and `s3_options`.

use super::ConfigError;
use crate::facts::{facts, one_of};
use crate::vocab::{Arn, FileFormat};
use serde::{Serialize, Serializer};

/// Where the policy's flow logs deliver.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DeliverTo {
    /// The policy's log group, through the delivery role, kept by the retention step.
    #[default]
    CloudWatchLogs,
    /// An S3 bucket and optional prefix, `arn:PARTITION:s3:::BUCKET[/PREFIX]`, where PARTITION
    /// may be `{partition}` (an `s3://` URL names none: the run's partition applies). The
    /// bucket's lifecycle, in its owner's account, keeps the objects.
    S3 { arn: String },
}

impl DeliverTo {
    /// Parses `FLOWGUARD_DESTINATION` (trimmed; `cloud-watch-logs` in any case).
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let rules = &facts().destination;
        let trimmed = value.trim();
        if trimmed.eq_ignore_ascii_case(&rules.cloud_watch_logs) {
            return Ok(Self::CloudWatchLogs);
        }
        let refuse = |why: &str| ConfigError {
            variable: "FLOWGUARD_DESTINATION",
            value: value.to_owned(),
            allowed: format!(
                "expected {} or an S3 bucket with an optional prefix, {}{why}",
                rules.cloud_watch_logs, rules.form
            ),
        };
        let arn = if let Some(rest) = trimmed.strip_prefix("s3://") {
            if !rules.s3_url_pattern.matches(trimmed) {
                return Err(refuse(""));
            }
            format!("arn:{{partition}}:s3:::{rest}")
        } else if rules.s3_arn_pattern.matches(trimmed) {
            trimmed.to_owned()
        } else {
            return Err(refuse(""));
        };
        let path = Arn::parse(&arn).map_or("", |arn| arn.resource);
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        if bucket.contains("..") || rules.bucket_ip_pattern.matches(bucket) {
            return Err(refuse(
                ": a bucket name has no two adjacent periods and is not an IP address",
            ));
        }
        if let Some(reserved) = rules
            .bucket_reserved_prefixes
            .iter()
            .find(|p| bucket.starts_with(p.as_str()))
            .or_else(|| {
                rules
                    .bucket_reserved_suffixes
                    .iter()
                    .find(|s| bucket.ends_with(s.as_str()))
            })
        {
            return Err(refuse(&format!(": S3 reserves {reserved} in bucket names")));
        }
        if prefix.split('/').next() == Some(rules.reserved_folder.as_str()) {
            return Err(refuse(&format!(
                ": the prefix may not begin with {}, the folder that the flow-logs service writes under",
                rules.reserved_folder
            )));
        }
        Ok(Self::S3 { arn })
    }

    pub fn is_s3(&self) -> bool {
        matches!(self, Self::S3 { .. })
    }

    /// The S3 destination's ARN in `partition` (`None` for CloudWatch Logs).
    pub fn s3_arn_in(&self, partition: &str) -> Option<String> {
        match self {
            Self::CloudWatchLogs => None,
            Self::S3 { arn } => Some(arn.replace("{partition}", partition)),
        }
    }
}

impl Serialize for DeliverTo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::CloudWatchLogs => s.serialize_str(&facts().destination.cloud_watch_logs),
            Self::S3 { arn } => s.serialize_str(arn),
        }
    }
}

pub(super) fn parse_file_format(value: &str) -> Result<FileFormat, ConfigError> {
    let choice = &facts().s3_options.file_format;
    let word = value.trim().to_ascii_lowercase();
    choice
        .allowed
        .contains(&word)
        .then(|| FileFormat::parse(&word))
        .flatten()
        .ok_or_else(|| ConfigError {
            variable: "FLOWGUARD_S3_FILE_FORMAT",
            value: value.to_owned(),
            allowed: format!("expected {} (any case)", one_of(&choice.allowed)),
        })
}

/// A custom record format: documented fields written `${field}`, separated by single spaces
/// (trimmed at both ends).
pub(super) fn parse_log_format(value: &str) -> Result<String, ConfigError> {
    let rules = &facts().log_format;
    let format = value.trim();
    let refuse = |why: String| ConfigError {
        variable: "FLOWGUARD_LOG_FORMAT",
        value: value.to_owned(),
        allowed: format!(
            "expected fields written ${{field}} and separated by single spaces, e.g. {}{why}",
            rules.default
        ),
    };
    for token in format.split(' ') {
        if !rules.field_pattern.matches(token) {
            return Err(refuse(format!(": {token:?} is not written ${{field}}")));
        }
        let name = &token[2..token.len() - 1];
        if !rules.fields.iter().any(|f| f == name) {
            return Err(refuse(format!(
                ": {name} is not a field EC2 documents ({})",
                rules.fields.join(", ")
            )));
        }
    }
    Ok(format.to_owned())
}
