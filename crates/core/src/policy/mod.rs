//! The [`Policy`]: what "compliant" means for this deployment and how to remediate, read
//! from the `FLOWGUARD_*` configuration and validated once, at start-up, against the facts
//! (`crates/core/facts.json`, see [`crate::facts`]) that the CDK app checks too.
//!
//! [`TrafficType`] and [`LogGroupTemplate`] are the typed values; `values` holds the parsers
//! of single variables.

mod destination;
mod log_group;
mod values;

pub use crate::error::ConfigError;
pub use crate::vocab::{
    FileFormat, MANAGED_TAG_KEY, MANAGED_TAG_VALUE, S3Options, TrafficType, same_s3_destination,
};
pub use destination::DeliverTo;
pub use log_group::LogGroupTemplate;
pub use values::parse_bool;

use crate::facts::facts;
use crate::ids::{Place, VpcId};
use crate::vocab::{Arn, Destination, partition_of};
use serde::Serialize;

/// Retention periods (days) that CloudWatch Logs' `PutRetentionPolicy` accepts: the facts'
/// `retention_days.cloudwatch_accepts`, kept as a constant for callers (a test checks that
/// both agree; validation reads the facts).
pub const CLOUDWATCH_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The CIS benchmark's minimum retention (the facts' `retention_days.minimum`).
pub const MIN_RETENTION_DAYS: u32 = 365;

/// What compliance means and how remediation is done. Built once, at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Role that `vpc-flow-logs.amazonaws.com` assumes; required to remediate.
    pub delivery_role_arn: Option<String>,
    pub log_group: LogGroupTemplate,
    /// Minimum retention; one of [`CLOUDWATCH_RETENTION_DAYS`], at least [`MIN_RETENTION_DAYS`].
    pub retention_days: u32,
    /// `REJECT` or `ALL`.
    pub traffic_type: TrafficType,
    pub dry_run: bool,
    pub exempt_tag: String,
    /// KMS key for the groups flowguard creates, as configured: a key ARN, which may hold
    /// `{region}` and `{account_id}` ([`Policy::kms_key_in`] renders it for one place), or an
    /// alias name, `alias/NAME`, which the AWS adapter resolves in each account and region.
    pub kms_key_arn: Option<String>,
    /// 60 or 600 seconds.
    pub max_aggregation_interval: u32,
    /// Where flowguard's flow logs deliver: the log group above, or an S3 bucket.
    pub destination: DeliverTo,
    /// A custom record format (`${field} ...`); `None`: EC2's default format.
    pub log_format: Option<String>,
    /// EC2's `DestinationOptions`: set exactly when the destination is S3.
    pub s3_options: Option<S3Options>,
    /// After an enforcing run, note on the remediated VPCs' Security Hub findings (control
    /// EC2.6) what was done (workflow NOTIFIED, never RESOLVED), and annotate those it could
    /// not fix.
    pub security_hub: bool,
    /// After an enforcing run that remediated, ask AWS Config's `VPC_FLOW_LOGS_ENABLED`
    /// rule(s) to evaluate again (at most once per account and region per 10 minutes).
    pub config_reevaluate: bool,
}

/// The defaults of the configuration table, from the facts.
impl Default for Policy {
    fn default() -> Self {
        let facts = facts();
        Self {
            delivery_role_arn: None,
            log_group: LogGroupTemplate::default_group(),
            retention_days: facts.retention_days.default,
            traffic_type: facts.traffic_type.default,
            dry_run: facts.dry_run.default,
            exempt_tag: facts.exempt_tag.default.clone(),
            kms_key_arn: None,
            max_aggregation_interval: facts.max_aggregation_interval.default,
            destination: DeliverTo::default(),
            log_format: None,
            s3_options: None,
            security_hub: facts.integrations.security_hub.default,
            config_reevaluate: facts.integrations.config_reevaluate.default,
        }
    }
}

impl Policy {
    /// Reads the `FLOWGUARD_*` variables of the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (variable name → value). An empty value is
    /// treated as unset, so that deployment tools can pass "" for "not configured". The CLI
    /// passes a lookup that tries its flags first, then the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut policy = Self::default();
        if let Some(value) = get("FLOWGUARD_DELIVERY_ROLE_ARN") {
            policy.delivery_role_arn = Some(values::parse_role_arn(&value)?);
        }
        if let Some(value) = get("FLOWGUARD_LOG_GROUP") {
            policy.log_group = LogGroupTemplate::parse(&value)?;
        }
        if let Some(value) = get("FLOWGUARD_RETENTION_DAYS") {
            policy.retention_days = values::parse_retention(&value)?;
        }
        if let Some(value) = get("FLOWGUARD_TRAFFIC_TYPE") {
            policy.traffic_type = values::parse_traffic_type(&value)?;
        }
        if let Some(value) = get("FLOWGUARD_DRY_RUN") {
            policy.dry_run = parse_bool("FLOWGUARD_DRY_RUN", &value)?;
        }
        if let Some(value) = get("FLOWGUARD_EXEMPT_TAG") {
            policy.exempt_tag = values::parse_exempt_tag(&value)?;
        }
        if let Some(value) = get("FLOWGUARD_KMS_KEY_ARN") {
            policy.kms_key_arn = Some(values::parse_kms_key_arn(&value)?);
        }
        if let Some(value) = get("FLOWGUARD_MAX_AGGREGATION_INTERVAL") {
            policy.max_aggregation_interval = values::parse_aggregation_interval(&value)?;
        }
        if let Some(value) = get("FLOWGUARD_SECURITY_HUB") {
            policy.security_hub = parse_bool("FLOWGUARD_SECURITY_HUB", &value)?;
        }
        if let Some(value) = get("FLOWGUARD_CONFIG_REEVALUATE") {
            policy.config_reevaluate = parse_bool("FLOWGUARD_CONFIG_REEVALUATE", &value)?;
        }
        if let Some(value) = get("FLOWGUARD_DESTINATION") {
            policy.destination = DeliverTo::parse(&value)?;
        }
        if let Some(value) = get("FLOWGUARD_LOG_FORMAT") {
            policy.log_format = Some(destination::parse_log_format(&value)?);
        }
        let s3_settings = [
            "FLOWGUARD_S3_FILE_FORMAT",
            "FLOWGUARD_S3_HIVE_PARTITIONS",
            "FLOWGUARD_S3_PER_HOUR_PARTITION",
        ]
        .map(|name| (name, get(name)));
        if policy.destination.is_s3() {
            let mut options = S3Options::default();
            if let (_, Some(value)) = &s3_settings[0] {
                options.file_format = destination::parse_file_format(value)?;
            }
            if let (name, Some(value)) = &s3_settings[1] {
                options.hive_compatible_partitions = parse_bool(name, value)?;
            }
            if let (name, Some(value)) = &s3_settings[2] {
                options.per_hour_partition = parse_bool(name, value)?;
            }
            policy.s3_options = Some(options);
            if let Some(key) = &policy.kms_key_arn {
                return Err(ConfigError {
                    variable: "FLOWGUARD_KMS_KEY_ARN",
                    value: key.clone(),
                    allowed: "unset with an S3 destination: flowguard creates no log group, so the \
                              key would do nothing (the bucket's encryption is set where the bucket lives)"
                        .to_owned(),
                });
            }
            if let Some(role) = &policy.delivery_role_arn {
                return Err(ConfigError {
                    variable: "FLOWGUARD_DELIVERY_ROLE_ARN",
                    value: role.clone(),
                    allowed: "unset with an S3 destination: EC2 takes a delivery role only for \
                              CloudWatch Logs (the bucket policy admits the flow-logs service)"
                        .to_owned(),
                });
            }
        } else if let Some((name, Some(value))) = s3_settings.iter().find(|(_, v)| v.is_some()) {
            return Err(ConfigError {
                variable: name,
                value: value.clone(),
                allowed: "unset: an S3 option needs an S3 destination \
                          (FLOWGUARD_DESTINATION=arn:aws:s3:::BUCKET/PREFIX); the destination is cloud-watch-logs"
                    .to_owned(),
            });
        }
        Ok(policy)
    }

    /// Whether remediation needs a delivery role: only CloudWatch Logs destinations do.
    pub fn needs_delivery_role(&self) -> bool {
        !self.destination.is_s3()
    }

    /// Where flowguard's flow log of `vpc` in `place` delivers under this policy.
    pub fn destination_for(&self, vpc: &VpcId, place: &Place) -> Destination {
        match self.destination.s3_arn_in(partition_of(&place.region)) {
            Some(arn) => Destination::S3(arn),
            None => Destination::CloudWatchLogs(self.log_group.render(vpc, place)),
        }
    }

    /// The record format flowguard's flow logs write: the configured one, or EC2's default.
    pub fn effective_log_format(&self) -> &str {
        self.log_format
            .as_deref()
            .unwrap_or(&facts().log_format.default)
    }

    /// The policy as it applies in `account` of `partition`: `{account_id}` and `{partition}`
    /// in the delivery role's ARN rendered (in organization mode one template serves every
    /// account; a plain ARN is kept as it is).
    pub fn in_account(&self, account: &str, partition: &str) -> Policy {
        Policy {
            delivery_role_arn: self.delivery_role_arn.as_ref().map(|arn| {
                arn.replace("{account_id}", account)
                    .replace("{partition}", partition)
            }),
            ..self.clone()
        }
    }

    /// The delivery role that remediation passes to EC2 (`None` for an S3 destination, which
    /// takes none), or the start-up error of anything that would remediate without one.
    pub fn require_delivery_role(&self) -> Result<Option<&str>, ConfigError> {
        if !self.needs_delivery_role() {
            return Ok(None);
        }
        self.delivery_role_arn.as_deref().map(Some).ok_or_else(|| ConfigError {
            variable: "FLOWGUARD_DELIVERY_ROLE_ARN",
            value: String::new(),
            allowed: "required to remediate: the ARN of the role that vpc-flow-logs.amazonaws.com assumes \
                      (create one with `flowguard setup-role`); audits and dry runs work without it"
                .to_owned(),
        })
    }

    /// The KMS key for groups created in `place`, its placeholders filled in. A key of another
    /// region than `place`'s is refused: CloudWatch Logs accepts only a key of its own region.
    /// An alias name is kept as it is: it names a key of the place's own account and region.
    pub fn kms_key_in(&self, place: &Place) -> Result<Option<String>, ConfigError> {
        let Some(template) = &self.kms_key_arn else {
            return Ok(None);
        };
        if is_kms_alias(template) {
            return Ok(Some(template.clone()));
        }
        let key = template
            .replace("{region}", &place.region)
            .replace("{account_id}", &place.account);
        let key_region = Arn::parse(&key).map_or("", |arn| arn.region);
        if key_region != place.region {
            return Err(ConfigError {
                variable: "FLOWGUARD_KMS_KEY_ARN",
                value: template.clone(),
                allowed: format!(
                    "a key of the region flowguard runs in ({}), not of {key_region}: CloudWatch Logs \
                     uses only a key of its own region; write {{region}} in the ARN (a multi-Region \
                     key has the same id in every region) or run one region at a time",
                    place.region
                ),
            });
        }
        Ok(Some(key))
    }

    /// Whether `vpc` carries the exemption tag with value `true` (any case).
    pub fn is_exempt<'a>(&self, mut tags: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
        let exempt = &facts().exempt_tag.exempt_value;
        tags.any(|(key, value)| key == self.exempt_tag && value.trim().eq_ignore_ascii_case(exempt))
    }
}

/// Whether a configured KMS key is an alias name (`alias/NAME`) rather than a key ARN.
pub fn is_kms_alias(key: &str) -> bool {
    key.starts_with("alias/")
}
