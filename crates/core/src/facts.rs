//! The [`Facts`]: the configuration's allowed values and defaults, the AWS naming rules they
//! rest on, the managed-by tag, and the delivery role's policy templates, written once in
//! `crates/core/facts.json`. This crate embeds the file and parses it once ([`facts`]); the CDK
//! app imports the same file (`cdk/lib/facts.ts`), so the synth and the Lambda's start-up accept
//! and refuse the same values. The file's `cases` are run by the tests of both sides.
//!
//! Patterns are compiled with `regex-lite` and written in the subset of its syntax that
//! JavaScript's `RegExp` reads alike (ASCII classes spelled out, no look-around).

use crate::vocab::traffic::TrafficType;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The text of `crates/core/facts.json`, as compiled in.
pub const SOURCE: &str = include_str!("../facts.json");

static FACTS: LazyLock<Facts> = LazyLock::new(|| {
    // The file is compiled into the binary, and the unit tests below parse it and check every
    // fact against the others: a broken file fails the tests, never a deployed binary alone.
    #[allow(clippy::expect_used)]
    Facts::parse(SOURCE).expect("crates/core/facts.json is valid (checked by its unit tests)")
});

/// The facts, parsed on first use.
pub fn facts() -> &'static Facts {
    &FACTS
}

/// Everything `facts.json` holds (its `cases` are read by the tests only).
#[derive(Debug, Deserialize)]
pub struct Facts {
    pub whole_number: PatternFact,
    pub booleans: Booleans,
    pub retention_days: RetentionDays,
    pub traffic_type: Choice<TrafficType>,
    pub max_aggregation_interval: Choice<u32>,
    pub dry_run: DefaultOnly<bool>,
    pub log_group: LogGroupFacts,
    pub exempt_tag: ExemptTagFacts,
    pub region: PatternFact,
    pub kms_key_arn: ArnFacts,
    pub kms_alias: KmsAliasFacts,
    pub delivery_role_arn: ArnFacts,
    pub managed_tag: Tag,
    pub delivery_role: DeliveryRoleFacts,
    pub organization: OrganizationFacts,
    pub destination: DestinationFacts,
    pub log_format: LogFormatFacts,
    pub s3_options: S3OptionsFacts,
    pub integrations: IntegrationsFacts,
}

/// Closing the loop after an enforcing run: Security Hub's findings and AWS Config's rule.
#[derive(Debug, Deserialize)]
pub struct IntegrationsFacts {
    pub security_hub: DefaultOnly<bool>,
    pub config_reevaluate: DefaultOnly<bool>,
    /// The Security Hub control whose findings are resolved (`EC2.6`).
    pub control_id: String,
    /// The AWS Config managed rule behind it (`VPC_FLOW_LOGS_ENABLED`).
    pub config_rule_source: String,
    /// At most one re-evaluation per account and region in this many seconds.
    pub reevaluate_interval_seconds: u64,
    /// The IAM actions each option needs (read by the CDK app's grants).
    pub permissions: BTreeMap<String, Vec<String>>,
}

/// `FLOWGUARD_DESTINATION`: CloudWatch Logs, or an S3 bucket (and prefix) by ARN or URL.
#[derive(Debug, Deserialize)]
pub struct DestinationFacts {
    pub default: String,
    pub cloud_watch_logs: String,
    pub form: String,
    pub s3_arn_pattern: Pattern,
    pub s3_url_pattern: Pattern,
    pub bucket_ip_pattern: Pattern,
    pub bucket_reserved_prefixes: Vec<String>,
    pub bucket_reserved_suffixes: Vec<String>,
    pub reserved_folder: String,
}

/// `FLOWGUARD_LOG_FORMAT`: the flow-log record fields EC2 documents, and its default format.
#[derive(Debug, Deserialize)]
pub struct LogFormatFacts {
    pub field_pattern: Pattern,
    pub fields: Vec<String>,
    pub default: String,
}

/// EC2's `DestinationOptions` for S3.
#[derive(Debug, Deserialize)]
pub struct S3OptionsFacts {
    pub file_format: Choice<String>,
    pub hive_compatible_partitions: DefaultOnly<bool>,
    pub per_hour_partition: DefaultOnly<bool>,
}

/// Organization mode's settings.
#[derive(Debug, Deserialize)]
pub struct OrganizationFacts {
    pub account_id: PatternFact,
    pub parent_id: PatternFact,
    pub member_role: MemberRoleFacts,
    pub external_id: PatternFact,
    pub concurrency: Range,
    pub delivery_role_arn: DefaultOnly<String>,
}

/// The role assumed in each member account: a name, or an ARN template.
#[derive(Debug, Deserialize)]
pub struct MemberRoleFacts {
    pub default: String,
    pub name_pattern: Pattern,
    pub arn_pattern: Pattern,
}

/// A whole number setting with its bounds.
#[derive(Debug, Deserialize)]
pub struct Range {
    pub default: usize,
    pub min: usize,
    pub max: usize,
}

impl Facts {
    /// Parses a facts file.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A regular expression, compiled once from its text.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Pattern {
    text: String,
    regex: regex_lite::Regex,
}

impl TryFrom<String> for Pattern {
    type Error = regex_lite::Error;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let regex = regex_lite::Regex::new(&text)?;
        Ok(Self { text, regex })
    }
}

impl Pattern {
    /// Whether `value` matches (the patterns are anchored with `^…$`).
    pub fn matches(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }

    /// The pattern as written in the file.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[derive(Debug, Deserialize)]
pub struct PatternFact {
    pub pattern: Pattern,
}

/// The words of a boolean setting (trimmed, any case).
#[derive(Debug, Deserialize)]
pub struct Booleans {
    #[serde(rename = "true")]
    pub true_words: Vec<String>,
    #[serde(rename = "false")]
    pub false_words: Vec<String>,
}

impl Booleans {
    /// `Some(bool)` for one of the words, any case, surrounding spaces ignored.
    pub fn parse(&self, value: &str) -> Option<bool> {
        let word = value.trim().to_ascii_lowercase();
        if self.true_words.contains(&word) {
            Some(true)
        } else if self.false_words.contains(&word) {
            Some(false)
        } else {
            None
        }
    }

    /// Every word, true and false in turn: `true, false, 1, 0, yes, no`.
    pub fn words(&self) -> Vec<&str> {
        self.true_words
            .iter()
            .zip(&self.false_words)
            .flat_map(|(t, f)| [t.as_str(), f.as_str()])
            .collect()
    }
}

#[derive(Debug, Deserialize)]
pub struct RetentionDays {
    /// What CloudWatch Logs' `PutRetentionPolicy` accepts.
    pub cloudwatch_accepts: Vec<u32>,
    /// The CIS benchmark's minimum.
    pub minimum: u32,
    pub default: u32,
}

impl RetentionDays {
    /// The values a policy may ask for: CloudWatch Logs' values of at least the minimum.
    pub fn allowed(&self) -> impl Iterator<Item = u32> + '_ {
        self.cloudwatch_accepts
            .iter()
            .copied()
            .filter(|d| *d >= self.minimum)
    }
}

/// A setting with a fixed set of values.
#[derive(Debug, Deserialize)]
pub struct Choice<T> {
    pub allowed: Vec<T>,
    pub default: T,
}

#[derive(Debug, Deserialize)]
pub struct DefaultOnly<T> {
    pub default: T,
}

/// A prefix that AWS reserves for itself.
#[derive(Debug, Deserialize)]
pub struct ReservedPrefix {
    pub text: String,
    /// Reserved in any combination of upper and lower case.
    pub any_case: bool,
}

impl ReservedPrefix {
    /// Whether `value` starts with the prefix.
    pub fn starts(&self, value: &str) -> bool {
        match value.get(..self.text.len()) {
            Some(head) if self.any_case => head.eq_ignore_ascii_case(&self.text),
            Some(head) => head == self.text,
            None => false,
        }
    }
}

/// CloudWatch Logs group names, and the placeholders of `FLOWGUARD_LOG_GROUP`.
#[derive(Debug, Deserialize)]
pub struct LogGroupFacts {
    pub default: String,
    pub placeholders: Vec<String>,
    pub at_most_once: Vec<String>,
    /// Values as long as real ones get, to check a template's rendered length.
    pub sample: BTreeMap<String, String>,
    pub pattern: Pattern,
    /// [`Self::pattern`]'s characters, for people.
    pub characters: String,
    pub max_length: usize,
    pub reserved_prefix: ReservedPrefix,
}

/// The VPC tag key that exempts a VPC.
#[derive(Debug, Deserialize)]
pub struct ExemptTagFacts {
    pub default: String,
    pub exempt_value: String,
    /// In Unicode characters, not bytes.
    pub max_characters: usize,
    pub reserved_prefix: ReservedPrefix,
}

/// A KMS alias name, `alias/NAME`, which `FLOWGUARD_KMS_KEY_ARN` may hold instead of a key
/// ARN: resolved to its key in each account and region.
#[derive(Debug, Deserialize)]
pub struct KmsAliasFacts {
    pub form: String,
    pub pattern: Pattern,
    pub reserved_prefix: ReservedPrefix,
}

#[derive(Debug, Deserialize)]
pub struct ArnFacts {
    /// The ARN's shape, for people.
    pub form: String,
    #[serde(default)]
    pub placeholders: Vec<String>,
    pub pattern: Pattern,
}

#[derive(Debug, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// The delivery role's policies, as templates with `{partition}`, `{region}`, `{account_id}`
/// and `{log_group_arn}` (itself [`Self::log_group_arn`] rendered).
#[derive(Debug, Deserialize)]
pub struct DeliveryRoleFacts {
    pub log_group_arn: String,
    pub trust_policy: Value,
    pub inline_policy: Value,
}

/// Replaces each `(placeholder, value)` in `text`.
pub fn render_str(text: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(text.to_owned(), |text, (placeholder, value)| {
            text.replace(placeholder, value)
        })
}

/// A JSON template with every string rendered by [`render_str`].
pub fn render(template: &Value, values: &[(&str, &str)]) -> Value {
    match template {
        Value::String(text) => Value::String(render_str(text, values)),
        Value::Array(items) => Value::Array(items.iter().map(|v| render(v, values)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), render(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `"a, b or c"`.
pub fn one_of<T: std::fmt::Display>(items: &[T]) -> String {
    let words: Vec<String> = items.iter().map(ToString::to_string).collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_file_parses_and_its_patterns_compile() {
        let facts = Facts::parse(SOURCE).unwrap();
        assert!(facts.whole_number.pattern.matches("365"));
        assert!(facts.region.pattern.matches("us-east-1"));
        assert!(facts.kms_key_arn.pattern.as_str().starts_with('^'));
    }

    #[test]
    fn the_defaults_are_allowed_values() {
        let f = facts();
        assert!(
            f.retention_days
                .allowed()
                .any(|d| d == f.retention_days.default)
        );
        assert!(f.traffic_type.allowed.contains(&f.traffic_type.default));
        assert!(
            f.max_aggregation_interval
                .allowed
                .contains(&f.max_aggregation_interval.default)
        );
        let group = &f.log_group.default;
        assert!(f.log_group.pattern.matches(group) && group.len() <= f.log_group.max_length);
        assert!(!f.log_group.reserved_prefix.starts(group));
        assert!(!f.exempt_tag.reserved_prefix.starts(&f.exempt_tag.default));
    }

    #[test]
    fn the_sample_fills_every_placeholder_with_a_valid_name() {
        let f = &facts().log_group;
        let keys: Vec<&String> = f.sample.keys().collect();
        let mut placeholders: Vec<&String> = f.placeholders.iter().collect();
        placeholders.sort();
        assert_eq!(keys, placeholders);
        assert!(f.at_most_once.iter().all(|p| f.placeholders.contains(p)));
        assert!(f.sample.values().all(|v| f.pattern.matches(v)));
    }

    #[test]
    fn reserved_prefixes() {
        let f = facts();
        let tag = &f.exempt_tag.reserved_prefix;
        assert!(tag.starts("aws:x") && tag.starts("AWS:x") && tag.starts("aWs:x"));
        assert!(!tag.starts("aws") && !tag.starts("xaws:") && !tag.starts("é"));
        let group = &f.log_group.reserved_prefix;
        assert!(group.starts("aws/x") && !group.starts("/aws/x"));
    }

    #[test]
    fn templates_render_every_placeholder() {
        let f = &facts().delivery_role;
        let arn = render_str(
            &f.log_group_arn,
            &[
                ("{partition}", "aws"),
                ("{region}", "*"),
                ("{account_id}", "123456789012"),
                ("{log_group}", "/vpc/flow-logs"),
            ],
        );
        assert_eq!(arn, "arn:aws:logs:*:123456789012:log-group:/vpc/flow-logs");
        let values = [
            ("{partition}", "aws"),
            ("{region}", "*"),
            ("{account_id}", "123456789012"),
            ("{log_group_arn}", arn.as_str()),
        ];
        for template in [&f.trust_policy, &f.inline_policy] {
            let rendered = render(template, &values).to_string();
            assert!(
                !["{partition}", "{region}", "{account_id}", "{log_group"]
                    .iter()
                    .any(|p| rendered.contains(p)),
                "{rendered}"
            );
        }
    }

    #[test]
    fn lists_read_as_people_write_them() {
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&[60, 600]), "60 or 600");
        assert_eq!(
            one_of(&facts().booleans.words()),
            "true, false, 1, 0, yes or no"
        );
    }
}
