//! SDK types into flowguard's own, in one place.

use aws_sdk_ec2::types as ec2;
use flowguard_core::observed::{Destination, FlowLog, LogGroup, Retention, Vpc};
use flowguard_core::policy::{FileFormat, S3Options};
use flowguard_core::{FlowLogId, LogGroupName, TrafficType, VpcId};

fn tags(tags: &[ec2::Tag]) -> std::collections::BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

pub fn vpc(v: &ec2::Vpc) -> Option<Vpc> {
    Some(Vpc {
        id: VpcId::new(v.vpc_id()?),
        owner_id: v.owner_id().map(str::to_owned),
        tags: tags(v.tags()),
    })
}

pub fn flow_log(fl: &ec2::FlowLog) -> Option<FlowLog> {
    let destination = Destination::from_ec2(
        fl.log_destination_type().map(|t| t.as_str()),
        fl.log_group_name(),
        fl.log_destination(),
    );
    Some(FlowLog {
        id: FlowLogId::new(fl.flow_log_id()?),
        resource_id: fl.resource_id()?.to_owned(),
        status: fl.flow_log_status().unwrap_or("UNKNOWN").to_owned(),
        traffic_type: fl
            .traffic_type()
            .and_then(|t| TrafficType::parse(t.as_str())),
        deliver_status: fl.deliver_logs_status().map(str::to_owned),
        deliver_error: fl.deliver_logs_error_message().map(str::to_owned),
        destination,
        delivery_role_arn: fl.deliver_logs_permission_arn().map(str::to_owned),
        max_aggregation_interval: fl
            .max_aggregation_interval()
            .and_then(|s| u32::try_from(s).ok()),
        created_at: fl.creation_time().map(|t| t.secs()),
        log_format: fl.log_format().map(str::to_owned),
        s3_options: fl.destination_options().map(|o| S3Options {
            file_format: match o.file_format() {
                Some(ec2::DestinationFileFormat::Parquet) => FileFormat::Parquet,
                _ => FileFormat::PlainText,
            },
            hive_compatible_partitions: o.hive_compatible_partitions().unwrap_or(false),
            per_hour_partition: o.per_hour_partition().unwrap_or(false),
        }),
        tags: tags(fl.tags()),
    })
}

pub fn log_group(g: &aws_sdk_cloudwatchlogs::types::LogGroup) -> Option<LogGroup> {
    let retention = match g.retention_in_days() {
        Some(days) => Retention::Days(u32::try_from(days).unwrap_or(0)),
        None => Retention::NeverExpire,
    };
    Some(LogGroup {
        name: LogGroupName::new(g.log_group_name()?),
        retention,
    })
}

pub fn traffic_type(t: TrafficType) -> ec2::TrafficType {
    match t {
        TrafficType::Accept => ec2::TrafficType::Accept,
        TrafficType::Reject => ec2::TrafficType::Reject,
        TrafficType::All => ec2::TrafficType::All,
    }
}

/// EC2's `DestinationOptions` for an S3 flow log.
pub fn destination_options(options: &S3Options) -> ec2::DestinationOptionsRequest {
    let file_format = match options.file_format {
        FileFormat::PlainText => ec2::DestinationFileFormat::PlainText,
        FileFormat::Parquet => ec2::DestinationFileFormat::Parquet,
    };
    ec2::DestinationOptionsRequest::builder()
        .file_format(file_format)
        .hive_compatible_partitions(options.hive_compatible_partitions)
        .per_hour_partition(options.per_hour_partition)
        .build()
}
