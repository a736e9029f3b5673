//! The [`Policy`]: what "compliant" means for this deployment and how to remediate, read
//! from the `FLOWGUARD_*` configuration and validated once, at start-up.

use crate::ids::{LogGroupName, Place, VpcId};
use serde::Serialize;
use std::fmt;

/// Retention periods (days) that CloudWatch Logs' `PutRetentionPolicy` accepts.
pub const CLOUDWATCH_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The CIS benchmark's minimum retention.
pub const MIN_RETENTION_DAYS: u32 = 365;

/// The tag flowguard puts on everything it creates, and the only flow logs it may delete.
pub const MANAGED_TAG_KEY: &str = "managed-by";
/// Value of [`MANAGED_TAG_KEY`].
pub const MANAGED_TAG_VALUE: &str = "flowguard";

/// A configuration value that flowguard refuses, with everything needed to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {variable}={value:?}: {allowed}")]
pub struct ConfigError {
    /// The variable (or flag of the same name).
    pub variable: &'static str,
    /// The value that was given.
    pub value: String,
    /// What would be accepted.
    pub allowed: String,
}

/// Which traffic a flow log captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrafficType {
    Accept,
    Reject,
    All,
}

impl TrafficType {
    /// Parses the EC2 spelling (`ACCEPT`, `REJECT`, `ALL`).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "ACCEPT" => Some(Self::Accept),
            "REJECT" => Some(Self::Reject),
            "ALL" => Some(Self::All),
            _ => None,
        }
    }

    /// The EC2 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "ACCEPT",
            Self::Reject => "REJECT",
            Self::All => "ALL",
        }
    }

    /// Whether a flow log of this type satisfies a policy that asks for `wanted`:
    /// REJECT is satisfied by REJECT or ALL; ALL only by ALL; ACCEPT never counts.
    pub fn satisfies(self, wanted: TrafficType) -> bool {
        match wanted {
            Self::All => self == Self::All,
            Self::Reject | Self::Accept => matches!(self, Self::Reject | Self::All),
        }
    }
}

impl fmt::Display for TrafficType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The log-group name from `FLOWGUARD_LOG_GROUP`, which may hold the placeholders
/// `{vpc_id}`, `{region}` and `{account_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LogGroupTemplate(String);

impl LogGroupTemplate {
    const PLACEHOLDERS: [&'static str; 3] = ["{vpc_id}", "{region}", "{account_id}"];

    /// Validates a template: only the three placeholders, `{vpc_id}` at most once, and a
    /// rendered name that CloudWatch Logs accepts (`[A-Za-z0-9._/#-]`, 1 to 512 characters).
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let refuse = |why: &str| ConfigError {
            variable: "FLOWGUARD_LOG_GROUP",
            value: raw.to_owned(),
            allowed: format!(
                "{why}; a log-group name of 1 to 512 characters from A-Z a-z 0-9 . _ / # -, \
                 optionally with the placeholders {{vpc_id}}, {{region}}, {{account_id}}"
            ),
        };
        let mut bare = raw.to_owned();
        for placeholder in Self::PLACEHOLDERS {
            bare = bare.replace(placeholder, "x");
        }
        if bare.contains(['{', '}']) {
            return Err(refuse("unknown placeholder"));
        }
        if raw.matches("{vpc_id}").count() > 1 {
            return Err(refuse("{vpc_id} may appear only once"));
        }
        let sample = Self(raw.to_owned()).render_with(
            "vpc-0123456789abcdef0",
            "ap-southeast-2",
            "123456789012",
        );
        let name = sample.as_str();
        let valid_chars = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/#-".contains(&b));
        if name.is_empty() || name.len() > 512 || !valid_chars {
            return Err(refuse("not a valid log-group name"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The template as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether each VPC gets its own group.
    pub fn is_per_vpc(&self) -> bool {
        self.0.contains("{vpc_id}")
    }

    /// The group for `vpc` in `place`.
    pub fn render(&self, vpc: &VpcId, place: &Place) -> LogGroupName {
        self.render_with(vpc.as_str(), &place.region, &place.account)
    }

    /// The one group of a template without `{vpc_id}`; `None` for a per-VPC template.
    pub fn render_fixed(&self, place: &Place) -> Option<LogGroupName> {
        (!self.is_per_vpc()).then(|| self.render_with("", &place.region, &place.account))
    }

    fn render_with(&self, vpc: &str, region: &str, account: &str) -> LogGroupName {
        LogGroupName::new(
            self.0
                .replace("{vpc_id}", vpc)
                .replace("{region}", region)
                .replace("{account_id}", account),
        )
    }

    /// Whether `name` is a group this template produces in `place`. For a per-VPC template,
    /// returns the VPC id that the name encodes.
    pub fn matches(&self, name: &LogGroupName, place: &Place) -> Option<Option<VpcId>> {
        let rendered = self
            .0
            .replace("{region}", &place.region)
            .replace("{account_id}", &place.account);
        match rendered.split_once("{vpc_id}") {
            None => (rendered == name.as_str()).then_some(None),
            Some((prefix, suffix)) => {
                let middle = name.as_str().strip_prefix(prefix)?.strip_suffix(suffix)?;
                VpcId::is_well_formed(middle).then(|| Some(VpcId::new(middle)))
            }
        }
    }
}

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
    /// KMS key ARN for the groups flowguard creates, as configured: it may hold `{region}`
    /// and `{account_id}`; [`Policy::kms_key_in`] renders it for one place.
    pub kms_key_arn: Option<String>,
    /// 60 or 600 seconds.
    pub max_aggregation_interval: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            delivery_role_arn: None,
            log_group: LogGroupTemplate("/vpc/flow-logs".to_owned()),
            retention_days: 365,
            traffic_type: TrafficType::Reject,
            dry_run: false,
            exempt_tag: "flowguard:exempt".to_owned(),
            kms_key_arn: None,
            max_aggregation_interval: 600,
        }
    }
}

/// Parses a boolean as the configuration accepts it: true/false/1/0/yes/no, any case.
pub fn parse_bool(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ConfigError {
            variable,
            value: value.to_owned(),
            allowed: "expected true, false, 1, 0, yes or no (any case)".to_owned(),
        }),
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
            policy.delivery_role_arn = Some(parse_role_arn(&value)?);
        }
        if let Some(value) = get("FLOWGUARD_LOG_GROUP") {
            policy.log_group = LogGroupTemplate::parse(&value)?;
        }
        if let Some(value) = get("FLOWGUARD_RETENTION_DAYS") {
            policy.retention_days = parse_retention(&value)?;
        }
        if let Some(value) = get("FLOWGUARD_TRAFFIC_TYPE") {
            policy.traffic_type = match value.trim().to_ascii_uppercase().as_str() {
                "REJECT" => TrafficType::Reject,
                "ALL" => TrafficType::All,
                _ => {
                    return Err(ConfigError {
                        variable: "FLOWGUARD_TRAFFIC_TYPE",
                        value,
                        allowed: "expected REJECT or ALL (ACCEPT alone does not capture rejected traffic)".to_owned(),
                    });
                }
            };
        }
        if let Some(value) = get("FLOWGUARD_DRY_RUN") {
            policy.dry_run = parse_bool("FLOWGUARD_DRY_RUN", &value)?;
        }
        if let Some(value) = get("FLOWGUARD_EXEMPT_TAG") {
            if value.len() > 128 {
                return Err(ConfigError {
                    variable: "FLOWGUARD_EXEMPT_TAG",
                    value,
                    allowed: "expected a tag key of at most 128 characters".to_owned(),
                });
            }
            policy.exempt_tag = value;
        }
        if let Some(value) = get("FLOWGUARD_KMS_KEY_ARN") {
            policy.kms_key_arn = Some(parse_kms_key_arn(&value)?);
        }
        if let Some(value) = get("FLOWGUARD_MAX_AGGREGATION_INTERVAL") {
            policy.max_aggregation_interval = match value.trim() {
                "60" => 60,
                "600" => 600,
                _ => {
                    return Err(ConfigError {
                        variable: "FLOWGUARD_MAX_AGGREGATION_INTERVAL",
                        value,
                        allowed: "expected 60 or 600 (seconds)".to_owned(),
                    });
                }
            };
        }
        Ok(policy)
    }

    /// The delivery role, or the start-up error of anything that would remediate.
    pub fn require_delivery_role(&self) -> Result<&str, ConfigError> {
        self.delivery_role_arn.as_deref().ok_or_else(|| ConfigError {
            variable: "FLOWGUARD_DELIVERY_ROLE_ARN",
            value: String::new(),
            allowed: "required to remediate: the ARN of the role that vpc-flow-logs.amazonaws.com assumes \
                      (create one with `flowguard setup-role`); audits and dry runs work without it"
                .to_owned(),
        })
    }

    /// The KMS key for groups created in `place`, its placeholders filled in. A key of another
    /// region than `place`'s is refused: CloudWatch Logs accepts only a key of its own region.
    pub fn kms_key_in(&self, place: &Place) -> Result<Option<String>, ConfigError> {
        let Some(template) = &self.kms_key_arn else {
            return Ok(None);
        };
        let key = template
            .replace("{region}", &place.region)
            .replace("{account_id}", &place.account);
        let key_region = key.split(':').nth(3).unwrap_or_default();
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
        tags.any(|(key, value)| key == self.exempt_tag && value.trim().eq_ignore_ascii_case("true"))
    }
}

fn parse_retention(value: &str) -> Result<u32, ConfigError> {
    let accepted: Vec<String> = CLOUDWATCH_RETENTION_DAYS
        .iter()
        .filter(|d| **d >= MIN_RETENTION_DAYS)
        .map(u32::to_string)
        .collect();
    match value.trim().parse::<u32>() {
        Ok(days) if days >= MIN_RETENTION_DAYS && CLOUDWATCH_RETENTION_DAYS.contains(&days) => {
            Ok(days)
        }
        _ => Err(ConfigError {
            variable: "FLOWGUARD_RETENTION_DAYS",
            value: value.to_owned(),
            allowed: format!(
                "expected one of {} (days: CloudWatch Logs' accepted values of at least {MIN_RETENTION_DAYS})",
                accepted.join(", ")
            ),
        }),
    }
}

/// A KMS key ARN, `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`, where REGION may be `{region}`
/// and ACCOUNT `{account_id}`.
fn parse_kms_key_arn(value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let region_ok = |r: &str| {
        r == "{region}"
            || (!r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    };
    let account_ok =
        |a: &str| a == "{account_id}" || (a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && region_ok(parts[3])
        && account_ok(parts[4])
        && parts[5].strip_prefix("key/").is_some_and(|id| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ConfigError {
            variable: "FLOWGUARD_KMS_KEY_ARN",
            value: value.to_owned(),
            allowed: "expected a KMS key ARN, arn:aws:kms:REGION:ACCOUNT:key/KEY-ID, where REGION may be \
                      {region} and ACCOUNT {account_id}"
                .to_owned(),
        })
    }
}

fn parse_role_arn(value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|name| !name.is_empty());
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ConfigError {
            variable: "FLOWGUARD_DELIVERY_ROLE_ARN",
            value: value.to_owned(),
            allowed: "expected an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn policy(vars: &[(&str, &str)]) -> Result<Policy, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Policy::from_lookup(|name| map.get(name).cloned())
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
            "arn:aws:iam::123456789012:role/flow-logs"
        );
        assert!(p.log_group.is_per_vpc());
        assert_eq!(p.retention_days, 731);
        assert_eq!(p.traffic_type, TrafficType::All);
        assert!(p.dry_run);
        assert_eq!(p.exempt_tag, "no-flow-logs");
        assert!(p.kms_key_arn.is_some());
        assert_eq!(p.max_aggregation_interval, 60);
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
            ("FLOWGUARD_KMS_KEY_ARN", "alias/mine", "KMS key ARN"),
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
}
