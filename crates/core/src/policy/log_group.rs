//! [`LogGroupTemplate`]: the log-group name of `FLOWGUARD_LOG_GROUP`, placeholders and all.

use super::ConfigError;
use crate::facts::facts;
use crate::ids::{LogGroupName, Place, VpcId};
use serde::Serialize;

/// The log-group name from `FLOWGUARD_LOG_GROUP`, which may hold the placeholders
/// `{vpc_id}`, `{region}` and `{account_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LogGroupTemplate(String);

impl LogGroupTemplate {
    /// Validates a template against the facts (`log_group` in `facts.json`): only the known
    /// placeholders, `{vpc_id}` at most once, and a name, rendered with the sample values, that
    /// CloudWatch Logs accepts (`[A-Za-z0-9._/#-]`, 1 to 512 characters, not starting `aws/`).
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let rules = &facts().log_group;
        let refuse = |why: &str| ConfigError {
            variable: "FLOWGUARD_LOG_GROUP",
            value: raw.to_owned(),
            allowed: format!(
                "{why}; a log-group name of 1 to {} characters from {}, not starting with {}, \
                 optionally with the placeholders {}",
                rules.max_length,
                rules.characters,
                rules.reserved_prefix.text,
                rules.placeholders.join(", ")
            ),
        };
        let mut bare = raw.to_owned();
        for placeholder in &rules.placeholders {
            bare = bare.replace(placeholder.as_str(), "x");
        }
        if bare.contains(['{', '}']) {
            return Err(refuse("unknown placeholder"));
        }
        if let Some(twice) = rules
            .at_most_once
            .iter()
            .find(|p| raw.matches(p.as_str()).count() > 1)
        {
            return Err(refuse(&format!("{twice} may appear only once")));
        }
        let mut sample = raw.to_owned();
        for (placeholder, value) in &rules.sample {
            sample = sample.replace(placeholder.as_str(), value);
        }
        if sample.len() > rules.max_length || !rules.pattern.matches(&sample) {
            return Err(refuse("not a valid log-group name"));
        }
        if rules.reserved_prefix.starts(&sample) {
            return Err(refuse(&format!(
                "not a valid log-group name: {} is reserved for AWS",
                rules.reserved_prefix.text
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The default group, `/vpc/flow-logs`.
    pub(crate) fn default_group() -> Self {
        Self(facts().log_group.default.clone())
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
