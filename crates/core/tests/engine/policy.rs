//! The configuration: defaults, every variable, the refusals and their messages, and the
//! shared cases of `crates/core/facts.json`, which the CDK app's tests run too
//! (`cdk/test/facts.test.ts`), so that the synth and the Lambda cannot disagree on a value.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::variables;
use flowguard_core::facts::{SOURCE, facts};
use flowguard_core::observed::Destination;
use flowguard_core::policy::{
    CLOUDWATCH_RETENTION_DAYS, DeliverTo, FileFormat, MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
    MIN_RETENTION_DAYS, S3Options,
};
use flowguard_core::{
    ConfigError, LogGroupName, LogGroupTemplate, Place, Policy, TrafficType, VpcId,
};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

fn policy(vars: &[(&str, &str)]) -> Result<Policy, ConfigError> {
    Policy::from_lookup(variables(vars))
}

#[test]
fn defaults_match_the_design() {
    let p = policy(&[]).unwrap();
    assert_eq!(p.log_group.as_str(), "/vpc/flow-logs");
    assert_eq!(p.retention_days, 365);
    assert_eq!(p.traffic_type, TrafficType::Reject);
    assert!(!p.dry_run);
    assert_eq!(p.exempt_tag, "flowguard:exempt");
    assert_eq!(p.max_aggregation_interval, 600);
    assert!(p.delivery_role_arn.is_none());
    assert!(p.require_delivery_role().is_err());
}

#[test]
fn every_variable_is_read() {
    let p = policy(&[
        (
            "FLOWGUARD_DELIVERY_ROLE_ARN",
            "arn:aws:iam::123456789012:role/flow-logs",
        ),
        ("FLOWGUARD_LOG_GROUP", "/flowguard/{region}/{vpc_id}"),
        ("FLOWGUARD_RETENTION_DAYS", "731"),
        ("FLOWGUARD_TRAFFIC_TYPE", "all"),
        ("FLOWGUARD_DRY_RUN", "YES"),
        ("FLOWGUARD_EXEMPT_TAG", "no-flow-logs"),
        (
            "FLOWGUARD_KMS_KEY_ARN",
            "arn:aws:kms:us-east-1:123456789012:key/abcd",
        ),
        ("FLOWGUARD_MAX_AGGREGATION_INTERVAL", "60"),
    ])
    .unwrap();
    assert_eq!(
        p.require_delivery_role().unwrap(),
        Some("arn:aws:iam::123456789012:role/flow-logs")
    );
    assert!(p.log_group.is_per_vpc());
    assert_eq!(p.retention_days, 731);
    assert_eq!(p.traffic_type, TrafficType::All);
    assert!(p.dry_run);
    assert_eq!(p.exempt_tag, "no-flow-logs");
    assert!(p.kms_key_arn.is_some());
    assert_eq!(p.max_aggregation_interval, 60);
    assert_eq!(p.destination, DeliverTo::CloudWatchLogs);
    assert_eq!(p.s3_options, None);
}

#[test]
fn an_s3_destination_reads_its_options_and_needs_no_delivery_role() {
    let p = policy(&[
        ("FLOWGUARD_DESTINATION", "s3://log-archive/flow-logs"),
        ("FLOWGUARD_LOG_FORMAT", "${version} ${vpc-id} ${action}"),
        ("FLOWGUARD_S3_FILE_FORMAT", "parquet"),
        ("FLOWGUARD_S3_HIVE_PARTITIONS", "true"),
        ("FLOWGUARD_S3_PER_HOUR_PARTITION", "yes"),
    ])
    .unwrap();
    assert!(!p.needs_delivery_role());
    assert_eq!(p.require_delivery_role().unwrap(), None);
    assert_eq!(
        p.s3_options,
        Some(S3Options {
            file_format: FileFormat::Parquet,
            hive_compatible_partitions: true,
            per_hour_partition: true,
        })
    );
    assert_eq!(p.effective_log_format(), "${version} ${vpc-id} ${action}");
    let vpc = VpcId::new("vpc-1");
    let in_china = Place {
        region: "cn-north-1".into(),
        account: "123456789012".into(),
    };
    assert_eq!(
        p.destination_for(&vpc, &in_china),
        Destination::S3("arn:aws-cn:s3:::log-archive/flow-logs".into()),
        "an s3:// URL takes the run's partition"
    );
    // The default options when none is set.
    let plain = policy(&[("FLOWGUARD_DESTINATION", "arn:aws:s3:::log-archive")]).unwrap();
    assert_eq!(plain.s3_options, Some(S3Options::default()));
    assert_eq!(plain.effective_log_format(), facts().log_format.default);
}

#[test]
fn s3_refusals_say_why() {
    type Vars<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Vars, &str, &str); 4] = [
        (
            &[("FLOWGUARD_S3_FILE_FORMAT", "parquet")],
            "FLOWGUARD_S3_FILE_FORMAT",
            "needs an S3 destination",
        ),
        (
            &[
                ("FLOWGUARD_DESTINATION", "arn:aws:s3:::logs"),
                (
                    "FLOWGUARD_DELIVERY_ROLE_ARN",
                    "arn:aws:iam::123456789012:role/r",
                ),
            ],
            "FLOWGUARD_DELIVERY_ROLE_ARN",
            "only for CloudWatch Logs",
        ),
        (
            &[("FLOWGUARD_DESTINATION", "arn:aws:s3:::logs/AWSLogs/x")],
            "FLOWGUARD_DESTINATION",
            "may not begin with AWSLogs",
        ),
        (
            &[("FLOWGUARD_LOG_FORMAT", "${version} ${vpc_id}")],
            "FLOWGUARD_LOG_FORMAT",
            "vpc_id is not a field EC2 documents",
        ),
    ];
    for (vars, variable, hint) in cases {
        let err = policy(vars).unwrap_err();
        assert_eq!(err.variable, variable);
        assert!(err.to_string().contains(hint), "{err}");
    }
}

#[test]
fn bad_values_name_the_variable_the_value_and_what_is_allowed() {
    let cases = [
        ("FLOWGUARD_RETENTION_DAYS", "30", "365, 400, 545"),
        ("FLOWGUARD_RETENTION_DAYS", "366", "3653"),
        ("FLOWGUARD_RETENTION_DAYS", "forever", "365"),
        ("FLOWGUARD_TRAFFIC_TYPE", "ACCEPT", "REJECT or ALL"),
        ("FLOWGUARD_DRY_RUN", "maybe", "true, false"),
        ("FLOWGUARD_MAX_AGGREGATION_INTERVAL", "300", "60 or 600"),
        ("FLOWGUARD_LOG_GROUP", "/vpc/{vpc}", "placeholder"),
        ("FLOWGUARD_LOG_GROUP", "/vpc/{vpc_id}/{vpc_id}", "only once"),
        ("FLOWGUARD_LOG_GROUP", "bad name!", "log-group name"),
        (
            "FLOWGUARD_DELIVERY_ROLE_ARN",
            "flow-logs-role",
            "arn:aws:iam::ACCOUNT:role/NAME",
        ),
        ("FLOWGUARD_KMS_KEY_ARN", "key/mine", "KMS key ARN"),
        ("FLOWGUARD_KMS_KEY_ARN", "alias/aws/logs", "alias/aws/"),
        ("FLOWGUARD_KMS_KEY_ARN", "alias/my key", "alias name"),
    ];
    for (variable, value, hint) in cases {
        let err = policy(&[(variable, value)]).unwrap_err();
        let message = err.to_string();
        assert_eq!(err.variable, variable);
        assert!(message.contains(variable), "{message}");
        assert!(message.contains(value), "{message}");
        assert!(message.contains(hint), "{message} lacks {hint}");
    }
}

#[test]
fn empty_values_mean_unset() {
    let p = policy(&[
        ("FLOWGUARD_KMS_KEY_ARN", ""),
        ("FLOWGUARD_RETENTION_DAYS", " "),
    ])
    .unwrap();
    assert_eq!(p, Policy::default());
}

#[test]
fn traffic_types_satisfy_the_policy() {
    use TrafficType::*;
    assert!(Reject.satisfies(Reject));
    assert!(All.satisfies(Reject));
    assert!(!Accept.satisfies(Reject));
    assert!(All.satisfies(All));
    assert!(!Reject.satisfies(All));
}

#[test]
fn templates_render_and_match() {
    let place = Place {
        region: "eu-west-1".into(),
        account: "111122223333".into(),
    };
    let per_vpc = LogGroupTemplate::parse("/fl/{account_id}/{region}/{vpc_id}").unwrap();
    let vpc = VpcId::new("vpc-0abc");
    let name = per_vpc.render(&vpc, &place);
    assert_eq!(name.as_str(), "/fl/111122223333/eu-west-1/vpc-0abc");
    assert_eq!(per_vpc.matches(&name, &place), Some(Some(vpc)));
    assert_eq!(
        per_vpc.matches(
            &LogGroupName::new("/fl/111122223333/eu-west-1/other"),
            &place
        ),
        None
    );
    assert_eq!(per_vpc.render_fixed(&place), None);

    let fixed = LogGroupTemplate::parse("/vpc/flow-logs").unwrap();
    let name = fixed.render_fixed(&place).unwrap();
    assert_eq!(fixed.matches(&name, &place), Some(None));
    assert_eq!(
        fixed.matches(&LogGroupName::new("/vpc/other"), &place),
        None
    );
}

#[test]
fn kms_keys_are_rendered_per_region_and_refused_in_another() {
    let east = Place {
        region: "us-east-1".into(),
        account: "111122223333".into(),
    };
    let west = Place {
        region: "eu-west-1".into(),
        ..east.clone()
    };
    let templated = policy(&[(
        "FLOWGUARD_KMS_KEY_ARN",
        "arn:aws:kms:{region}:{account_id}:key/mrk-1234abcd",
    )])
    .unwrap();
    assert_eq!(
        templated.kms_key_in(&west).unwrap().as_deref(),
        Some("arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd")
    );
    let literal = policy(&[(
        "FLOWGUARD_KMS_KEY_ARN",
        "arn:aws:kms:us-east-1:111122223333:key/abcd",
    )])
    .unwrap();
    assert!(literal.kms_key_in(&east).unwrap().is_some());
    let err = literal.kms_key_in(&west).unwrap_err();
    assert_eq!(err.variable, "FLOWGUARD_KMS_KEY_ARN");
    let message = err.to_string();
    assert!(
        message.contains("eu-west-1") && message.contains("{region}"),
        "{message}"
    );
    assert_eq!(Policy::default().kms_key_in(&west), Ok(None));
    for bad in [
        "arn:aws:kms:{vpc_id}:111122223333:key/abcd",
        "arn:aws:kms:us-east-1:111122223333:alias/mine",
        "arn:aws:kms:us-east-1:{account}:key/abcd",
    ] {
        assert!(policy(&[("FLOWGUARD_KMS_KEY_ARN", bad)]).is_err(), "{bad}");
    }
}

#[test]
fn exemption_value_is_matched_without_case() {
    let p = Policy::default();
    assert!(p.is_exempt([("flowguard:exempt", "TRUE")].into_iter()));
    assert!(!p.is_exempt([("flowguard:exempt", "false")].into_iter()));
    assert!(!p.is_exempt([("other", "true")].into_iter()));
}

/// One of the facts' `cases`.
#[derive(Debug, Deserialize)]
struct Case {
    variable: String,
    value: String,
    #[serde(default)]
    repeat: Option<usize>,
    #[serde(default)]
    suffix: String,
    accepted: bool,
    /// What the value becomes when accepted (JSON `null`: none).
    #[serde(default)]
    becomes: Option<Value>,
    /// Other variables set at the same time.
    #[serde(default)]
    with: HashMap<String, String>,
}

impl Case {
    fn input(&self) -> String {
        self.value.repeat(self.repeat.unwrap_or(1)) + &self.suffix
    }
}

fn cases() -> Vec<Case> {
    #[derive(Deserialize)]
    struct File {
        cases: Vec<Case>,
    }
    serde_json::from_str::<File>(SOURCE).unwrap().cases
}

/// The field of the serialized [`Policy`] that a variable sets, as a JSON pointer.
fn field(variable: &str) -> &'static str {
    match variable {
        "FLOWGUARD_DELIVERY_ROLE_ARN" => "/delivery_role_arn",
        "FLOWGUARD_LOG_GROUP" => "/log_group",
        "FLOWGUARD_RETENTION_DAYS" => "/retention_days",
        "FLOWGUARD_TRAFFIC_TYPE" => "/traffic_type",
        "FLOWGUARD_DRY_RUN" => "/dry_run",
        "FLOWGUARD_EXEMPT_TAG" => "/exempt_tag",
        "FLOWGUARD_KMS_KEY_ARN" => "/kms_key_arn",
        "FLOWGUARD_MAX_AGGREGATION_INTERVAL" => "/max_aggregation_interval",
        "FLOWGUARD_DESTINATION" => "/destination",
        "FLOWGUARD_LOG_FORMAT" => "/log_format",
        "FLOWGUARD_S3_FILE_FORMAT" => "/s3_options/file_format",
        "FLOWGUARD_S3_HIVE_PARTITIONS" => "/s3_options/hive_compatible_partitions",
        "FLOWGUARD_S3_PER_HOUR_PARTITION" => "/s3_options/per_hour_partition",
        "FLOWGUARD_SECURITY_HUB" => "/security_hub",
        "FLOWGUARD_CONFIG_REEVALUATE" => "/config_reevaluate",
        other => panic!("a case names {other}, which the Lambda does not read"),
    }
}

#[test]
fn every_shared_case_of_the_facts_is_decided_as_written() {
    let cases = cases();
    assert!(cases.len() > 50, "{} cases", cases.len());
    for case in &cases {
        let input = case.input();
        let mut vars: Vec<(&str, &str)> = vec![(&case.variable, &input)];
        vars.extend(case.with.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let result = policy(&vars);
        let label = format!("{}={input:?}", case.variable);
        match (&result, case.accepted) {
            (Ok(policy), true) => {
                if let Some(expected) = &case.becomes {
                    let actual = serde_json::to_value(policy)
                        .unwrap()
                        .pointer(field(&case.variable))
                        .cloned()
                        .unwrap_or(Value::Null);
                    assert_eq!(&actual, expected, "{label}");
                }
            }
            (Err(err), false) => assert_eq!(err.variable, case.variable, "{label}"),
            (Ok(_), false) => panic!("{label} was accepted; the facts say it is refused"),
            (Err(err), true) => panic!("{label} was refused ({err}); the facts say it is accepted"),
        }
    }
}

#[test]
fn every_allowed_retention_is_accepted_and_its_neighbours_refused() {
    let retention = &facts().retention_days;
    let allowed: Vec<u32> = retention.allowed().collect();
    assert_eq!(allowed.first(), Some(&retention.minimum));
    for days in &retention.cloudwatch_accepts {
        let result = policy(&[("FLOWGUARD_RETENTION_DAYS", &days.to_string())]);
        if *days >= retention.minimum {
            assert_eq!(result.unwrap().retention_days, *days);
        } else {
            assert!(result.is_err(), "{days} is below the minimum");
        }
        for neighbour in [days - 1, days + 1] {
            if !retention.cloudwatch_accepts.contains(&neighbour) {
                let refused = policy(&[("FLOWGUARD_RETENTION_DAYS", &neighbour.to_string())]);
                assert!(refused.is_err(), "{neighbour} is no CloudWatch Logs value");
            }
        }
    }
}

#[test]
fn names_that_aws_reserves_are_refused() {
    for group in ["aws/flow-logs", "aws/{region}/{vpc_id}"] {
        let err = LogGroupTemplate::parse(group).unwrap_err();
        assert!(err.to_string().contains("reserved for AWS"), "{err}");
    }
    assert!(LogGroupTemplate::parse("/aws/flow-logs").is_ok());
    for tag in ["aws:exempt", "AWS:exempt", "aWs:exempt"] {
        let err = policy(&[("FLOWGUARD_EXEMPT_TAG", tag)]).unwrap_err();
        assert!(err.to_string().contains("aws:"), "{err}");
    }
}

#[test]
fn the_public_constants_are_the_facts() {
    let facts = facts();
    assert_eq!(
        CLOUDWATCH_RETENTION_DAYS.to_vec(),
        facts.retention_days.cloudwatch_accepts
    );
    assert_eq!(MIN_RETENTION_DAYS, facts.retention_days.minimum);
    assert_eq!(MANAGED_TAG_KEY, facts.managed_tag.key);
    assert_eq!(MANAGED_TAG_VALUE, facts.managed_tag.value);
}
