//! The parsers of single `FLOWGUARD_*` values, each checking against the facts
//! (`crates/core/facts.json`) and refusing with the variable, the value and what is allowed.

use super::{ConfigError, TrafficType};
use crate::facts::{ArnFacts, facts, one_of};

/// Parses a boolean as the configuration accepts it: true/false/1/0/yes/no, any case.
pub fn parse_bool(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    let booleans = &facts().booleans;
    booleans.parse(value).ok_or_else(|| ConfigError {
        variable,
        value: value.to_owned(),
        allowed: format!("expected {} (any case)", one_of(&booleans.words())),
    })
}

/// A whole number in decimal digits (surrounding spaces ignored) that is one of `allowed`.
fn whole_number_in(value: &str, allowed: impl IntoIterator<Item = u32>) -> Option<u32> {
    let digits = value.trim();
    if !facts().whole_number.pattern.matches(digits) {
        return None;
    }
    let number = digits.parse::<u32>().ok()?;
    allowed.into_iter().any(|a| a == number).then_some(number)
}

pub(super) fn parse_retention(value: &str) -> Result<u32, ConfigError> {
    let retention = &facts().retention_days;
    whole_number_in(value, retention.allowed()).ok_or_else(|| {
        let accepted: Vec<String> = retention.allowed().map(|d| d.to_string()).collect();
        ConfigError {
            variable: "FLOWGUARD_RETENTION_DAYS",
            value: value.to_owned(),
            allowed: format!(
                "expected one of {} (days: CloudWatch Logs' accepted values of at least {})",
                accepted.join(", "),
                retention.minimum
            ),
        }
    })
}

pub(super) fn parse_traffic_type(value: &str) -> Result<TrafficType, ConfigError> {
    let choice = &facts().traffic_type;
    TrafficType::parse(&value.trim().to_ascii_uppercase())
        .filter(|t| choice.allowed.contains(t))
        .ok_or_else(|| ConfigError {
            variable: "FLOWGUARD_TRAFFIC_TYPE",
            value: value.to_owned(),
            allowed: format!(
                "expected {} (ACCEPT alone does not capture rejected traffic)",
                one_of(&choice.allowed)
            ),
        })
}

pub(super) fn parse_aggregation_interval(value: &str) -> Result<u32, ConfigError> {
    let choice = &facts().max_aggregation_interval;
    whole_number_in(value, choice.allowed.iter().copied()).ok_or_else(|| ConfigError {
        variable: "FLOWGUARD_MAX_AGGREGATION_INTERVAL",
        value: value.to_owned(),
        allowed: format!("expected {} (seconds)", one_of(&choice.allowed)),
    })
}

/// An EC2 tag key: at most 128 characters (not bytes), not starting with `aws:` in any case.
pub(super) fn parse_exempt_tag(value: &str) -> Result<String, ConfigError> {
    let rules = &facts().exempt_tag;
    if value.chars().count() > rules.max_characters || rules.reserved_prefix.starts(value) {
        return Err(ConfigError {
            variable: "FLOWGUARD_EXEMPT_TAG",
            value: value.to_owned(),
            allowed: format!(
                "expected a tag key of at most {} characters, not starting with {} (reserved for AWS, in any case)",
                rules.max_characters, rules.reserved_prefix.text
            ),
        });
    }
    Ok(value.to_owned())
}

/// A KMS key ARN, `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`, where REGION may be `{region}`
/// and ACCOUNT `{account_id}`; or a KMS alias name, `alias/NAME`, which the AWS adapter
/// resolves to the key of each account and region (CloudWatch Logs takes only a key ARN).
pub(super) fn parse_kms_key_arn(value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    let alias = &facts().kms_alias;
    if value.starts_with("alias/") {
        if alias.pattern.matches(value) && !alias.reserved_prefix.starts(value) {
            return Ok(value.to_owned());
        }
        return Err(ConfigError {
            variable: "FLOWGUARD_KMS_KEY_ARN",
            value: value.to_owned(),
            allowed: format!(
                "expected a KMS alias name, {}: at most 256 characters of A-Z a-z 0-9 / _ -, \
                 not under {} (AWS managed keys, which CloudWatch Logs cannot use)",
                alias.form, alias.reserved_prefix.text
            ),
        });
    }
    let rules = &facts().kms_key_arn;
    arn(value, rules, "FLOWGUARD_KMS_KEY_ARN", || {
        format!(
            "expected a KMS key ARN, {}, where REGION may be {{region}} and ACCOUNT {{account_id}}, \
             or an alias name, {} (resolved in each account and region)",
            rules.form, alias.form
        )
    })
}

pub(super) fn parse_role_arn(value: &str) -> Result<String, ConfigError> {
    let rules = &facts().delivery_role_arn;
    arn(value, rules, "FLOWGUARD_DELIVERY_ROLE_ARN", || {
        format!("expected an IAM role ARN, {}", rules.form)
    })
}

/// An ARN that matches the facts' pattern for `variable`, trimmed.
fn arn(
    value: &str,
    rules: &ArnFacts,
    variable: &'static str,
    allowed: impl FnOnce() -> String,
) -> Result<String, ConfigError> {
    let value = value.trim();
    if rules.pattern.matches(value) {
        return Ok(value.to_owned());
    }
    Err(ConfigError {
        variable,
        value: value.to_owned(),
        allowed: allowed(),
    })
}
