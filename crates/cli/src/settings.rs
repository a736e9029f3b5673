//! The `FLOWGUARD_*` settings as flags ([`ConfigFlags`]), and which setting an error is about,
//! named as the user gave it. Each flag declares its variable once, in its clap definition
//! (`env`): the flag overrides the variable, and an error names `--log-group` when the value
//! came from the command line, `FLOWGUARD_LOG_GROUP` when it came from the environment.

use crate::args::Cli;
use crate::failure::Failure;
use clap::{Args, Command, CommandFactory};
use flowguard_core::{ConfigError, Policy};

/// The long flag that declares `variable` (`--log-group` for `FLOWGUARD_LOG_GROUP`).
pub fn flag_of(variable: &str) -> Option<String> {
    fn find(command: &Command, variable: &str) -> Option<String> {
        let own = command.get_arguments().find_map(|arg| {
            (arg.get_env()? == variable)
                .then(|| arg.get_long().map(|long| format!("--{long}")))
                .flatten()
        });
        own.or_else(|| {
            command
                .get_subcommands()
                .find_map(|sub| find(sub, variable))
        })
    }
    find(&Cli::command(), variable)
}

/// `error` as a failure that names what the user used: the flag, when `given` (the value of
/// the flag or its variable, as clap read it) was not the environment's value; else the
/// variable. A setting that belongs to organization mode, given in single-account mode, says
/// how to turn organization mode on in the same terms.
pub fn named(error: ConfigError, given: Option<String>) -> Failure {
    let environment = std::env::var(error.variable).ok();
    let flag = flag_of(error.variable).filter(|_| given.is_some() && given != environment);
    let Some(flag) = flag else {
        return Failure::from(error);
    };
    let allowed = if error.allowed.starts_with("only in organization mode") {
        "only in organization mode: add --account ID (repeatable) or --organization; to act in \
         this account through another role, use a profile that assumes it (AWS_PROFILE with \
         role_arn in ~/.aws/config)"
            .to_owned()
    } else {
        error.allowed
    };
    Failure(format!(
        "invalid configuration: {flag} {:?}: {allowed}",
        error.value
    ))
}

/// The configuration flags; each overrides the environment variable of the same name.
#[derive(Debug, Args)]
#[command(next_help_heading = "Configuration (each flag overrides its FLOWGUARD_* variable)")]
pub struct ConfigFlags {
    /// Role that vpc-flow-logs.amazonaws.com assumes [FLOWGUARD_DELIVERY_ROLE_ARN].
    #[arg(
        long,
        global = true,
        value_name = "ARN",
        env = "FLOWGUARD_DELIVERY_ROLE_ARN",
        hide_env = true
    )]
    pub delivery_role_arn: Option<String>,
    /// Log group; may hold {vpc_id}, {region}, {account_id} [FLOWGUARD_LOG_GROUP].
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        env = "FLOWGUARD_LOG_GROUP",
        hide_env = true
    )]
    pub log_group: Option<String>,
    /// Minimum retention in days, at least 365 [FLOWGUARD_RETENTION_DAYS].
    #[arg(
        long,
        global = true,
        value_name = "DAYS",
        env = "FLOWGUARD_RETENTION_DAYS",
        hide_env = true
    )]
    pub retention_days: Option<String>,
    /// REJECT or ALL [FLOWGUARD_TRAFFIC_TYPE].
    #[arg(
        long,
        global = true,
        value_name = "TYPE",
        env = "FLOWGUARD_TRAFFIC_TYPE",
        hide_env = true
    )]
    pub traffic_type: Option<String>,
    /// VPC tag key that exempts a VPC (value `true`) [FLOWGUARD_EXEMPT_TAG].
    #[arg(
        long,
        global = true,
        value_name = "KEY",
        env = "FLOWGUARD_EXEMPT_TAG",
        hide_env = true
    )]
    pub exempt_tag: Option<String>,
    /// KMS key for log groups that flowguard creates [FLOWGUARD_KMS_KEY_ARN].
    #[arg(
        long,
        global = true,
        value_name = "ARN",
        env = "FLOWGUARD_KMS_KEY_ARN",
        hide_env = true
    )]
    pub kms_key_arn: Option<String>,
    /// 60 or 600 seconds [FLOWGUARD_MAX_AGGREGATION_INTERVAL].
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        env = "FLOWGUARD_MAX_AGGREGATION_INTERVAL",
        hide_env = true
    )]
    pub max_aggregation_interval: Option<String>,
    /// cloud-watch-logs, or an S3 bucket: arn:aws:s3:::BUCKET/PREFIX or s3://BUCKET/PREFIX
    /// [FLOWGUARD_DESTINATION].
    #[arg(
        long,
        global = true,
        value_name = "DESTINATION",
        env = "FLOWGUARD_DESTINATION",
        hide_env = true
    )]
    pub destination: Option<String>,
    /// Custom record format, e.g. "${version} ${vpc-id} ${action}" [FLOWGUARD_LOG_FORMAT].
    #[arg(
        long,
        global = true,
        value_name = "FORMAT",
        env = "FLOWGUARD_LOG_FORMAT",
        hide_env = true
    )]
    pub log_format: Option<String>,
    /// S3 only: plain-text or parquet [FLOWGUARD_S3_FILE_FORMAT].
    #[arg(
        long,
        global = true,
        value_name = "FORMAT",
        env = "FLOWGUARD_S3_FILE_FORMAT",
        hide_env = true
    )]
    pub s3_file_format: Option<String>,
    /// S3 only: Hive-compatible prefixes, true or false [FLOWGUARD_S3_HIVE_PARTITIONS].
    #[arg(
        long,
        global = true,
        value_name = "BOOL",
        env = "FLOWGUARD_S3_HIVE_PARTITIONS",
        hide_env = true
    )]
    pub s3_hive_partitions: Option<String>,
    /// S3 only: partition by hour, true or false [FLOWGUARD_S3_PER_HOUR_PARTITION].
    #[arg(
        long,
        global = true,
        value_name = "BOOL",
        env = "FLOWGUARD_S3_PER_HOUR_PARTITION",
        hide_env = true
    )]
    pub s3_per_hour_partition: Option<String>,
}

impl ConfigFlags {
    fn flag(&self, variable: &str) -> Option<&String> {
        match variable {
            "FLOWGUARD_DELIVERY_ROLE_ARN" => self.delivery_role_arn.as_ref(),
            "FLOWGUARD_LOG_GROUP" => self.log_group.as_ref(),
            "FLOWGUARD_RETENTION_DAYS" => self.retention_days.as_ref(),
            "FLOWGUARD_TRAFFIC_TYPE" => self.traffic_type.as_ref(),
            "FLOWGUARD_EXEMPT_TAG" => self.exempt_tag.as_ref(),
            "FLOWGUARD_KMS_KEY_ARN" => self.kms_key_arn.as_ref(),
            "FLOWGUARD_MAX_AGGREGATION_INTERVAL" => self.max_aggregation_interval.as_ref(),
            "FLOWGUARD_DESTINATION" => self.destination.as_ref(),
            "FLOWGUARD_LOG_FORMAT" => self.log_format.as_ref(),
            "FLOWGUARD_S3_FILE_FORMAT" => self.s3_file_format.as_ref(),
            "FLOWGUARD_S3_HIVE_PARTITIONS" => self.s3_hive_partitions.as_ref(),
            "FLOWGUARD_S3_PER_HOUR_PARTITION" => self.s3_per_hour_partition.as_ref(),
            _ => None,
        }
    }

    /// The policy: each flag first, then its environment variable, then the default.
    pub fn policy(&self) -> Result<Policy, Failure> {
        Policy::from_lookup(|name| {
            self.flag(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        })
        .map_err(|e| self.named(e))
    }

    /// `error`, naming the flag or the variable, as the user gave the setting.
    pub fn named(&self, error: ConfigError) -> Failure {
        let given = self.flag(error.variable).cloned();
        named(error, given)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variable_has_its_flag() {
        for (variable, flag) in [
            ("FLOWGUARD_LOG_GROUP", "--log-group"),
            ("FLOWGUARD_DELIVERY_ROLE_ARN", "--delivery-role-arn"),
            ("FLOWGUARD_ACCOUNTS", "--account"),
            ("FLOWGUARD_MEMBER_ROLE", "--role"),
            ("FLOWGUARD_CONCURRENCY", "--concurrency"),
        ] {
            assert_eq!(flag_of(variable).as_deref(), Some(flag));
        }
        assert_eq!(flag_of("FLOWGUARD_ORGANIZATION"), None);
    }

    #[test]
    fn a_typed_flag_is_named_and_an_unset_one_is_the_variable() {
        let error = |variable, allowed: &str| ConfigError {
            variable,
            value: "flowguard-member".into(),
            allowed: allowed.into(),
        };
        let org_only =
            "only in organization mode: set FLOWGUARD_ACCOUNTS or FLOWGUARD_ORGANIZATION=true";
        let text = named(
            error("FLOWGUARD_MEMBER_ROLE", org_only),
            Some("flowguard-member".into()),
        )
        .0;
        assert!(
            text.starts_with("invalid configuration: --role \"flowguard-member\": only in organization mode: add --account ID (repeatable) or --organization;"),
            "{text}"
        );
        // Nothing typed (a required setting left out): the variable.
        let text = named(error("FLOWGUARD_DELIVERY_ROLE_ARN", "required"), None).0;
        assert!(text.contains("FLOWGUARD_DELIVERY_ROLE_ARN="), "{text}");
    }
}
