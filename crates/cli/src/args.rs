//! The command line as clap sees it: the subcommands, their flags, and the configuration
//! flags that every subcommand shares (each overrides the `FLOWGUARD_*` variable of the same
//! name).

use clap::{Args, Parser, Subcommand, ValueEnum};
use flowguard_core::{ConfigError, Policy};

/// The role name `setup-role` uses unless told otherwise.
pub const DEFAULT_ROLE_NAME: &str = "flowguard-flow-logs-delivery";

#[derive(Debug, Parser)]
#[command(
    name = "flowguard",
    version,
    about = "Keeps AWS VPC flow logging on: every VPC logs its rejected traffic into a log group kept at least 365 days (CIS EC2.6).",
    after_help = "Exit codes: 0 = OK / all compliant, 1 = some VPC not compliant or some remediation failed, 2 = error (bad configuration, input, credentials, region, access)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub config: ConfigFlags,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// CIS audit of every VPC's flow logging; changes nothing
    ///
    /// Checks that each VPC has an ACTIVE flow log that captures rejected traffic, delivers,
    /// and keeps its data long enough. Exit 0 when all VPCs are compliant or exempt, 1 when
    /// some are not, 2 on error.
    Audit(SweepArgs),
    /// Show what `apply` would change; changes nothing
    ///
    /// The dry run of a sweep: every action in order, each CreateFlowLogs checked with EC2's
    /// DryRun=true. Exit 0 on success, 2 on error.
    Plan(SweepArgs),
    /// Remediate: create the missing log group and flow logs, raise short retentions
    ///
    /// Needs FLOWGUARD_DELIVERY_ROLE_ARN. Shows the plan and asks on a terminal unless --yes.
    /// Exit 0 when everything ended compliant, 1 when some remediation failed, 2 on error.
    Apply {
        #[command(flatten)]
        sweep: SweepArgs,
        /// Apply without asking (required when stdin is not a terminal).
        #[arg(long, short)]
        yes: bool,
    },
    /// Run the Lambda handler on one EventBridge event; print its report (JSON)
    ///
    /// Exit 0 when handled or ignored, 1 when the run or remediation failed, 2 when the input
    /// is not a valid event or the configuration is invalid.
    HandleEvent {
        /// The event JSON; `-` reads stdin.
        #[arg(value_name = "FILE|-", default_value = "-")]
        file: String,
        /// Plan only: make no change (same as FLOWGUARD_DRY_RUN=true).
        #[arg(long)]
        dry_run: bool,
    },
    /// Create or verify the delivery role that VPC Flow Logs assumes; print its ARN
    ///
    /// The role trusts only vpc-flow-logs.amazonaws.com, for this account's flow logs, and may
    /// write only to the configured log group. An existing role that differs is reported and
    /// left alone (exit 1) unless --force. In dry run nothing is created or changed.
    SetupRole {
        /// The role name.
        #[arg(long, default_value = DEFAULT_ROLE_NAME)]
        name: String,
        /// Overwrite the trust policy and flowguard's inline policy of an existing role that
        /// differs.
        #[arg(long)]
        force: bool,
        /// Report only: make no change (same as FLOWGUARD_DRY_RUN=true).
        #[arg(long)]
        dry_run: bool,
    },
}

/// Where a sweep runs and how its result is printed.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// A region to sweep; repeat for several. Default: the configured region (AWS_REGION).
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Sweep every region enabled for the account (EC2 DescribeRegions).
    #[arg(long, conflicts_with = "regions")]
    pub all_regions: bool,
    /// `json` prints the report (one region) or an array of reports (several regions).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// The configuration flags; each overrides the environment variable of the same name.
#[derive(Debug, Args)]
#[command(next_help_heading = "Configuration (each flag overrides its FLOWGUARD_* variable)")]
pub struct ConfigFlags {
    /// Role that vpc-flow-logs.amazonaws.com assumes [FLOWGUARD_DELIVERY_ROLE_ARN].
    #[arg(long, global = true, value_name = "ARN")]
    pub delivery_role_arn: Option<String>,
    /// Log group; may hold {vpc_id}, {region}, {account_id} [FLOWGUARD_LOG_GROUP].
    #[arg(long, global = true, value_name = "NAME")]
    pub log_group: Option<String>,
    /// Minimum retention in days, at least 365 [FLOWGUARD_RETENTION_DAYS].
    #[arg(long, global = true, value_name = "DAYS")]
    pub retention_days: Option<String>,
    /// REJECT or ALL [FLOWGUARD_TRAFFIC_TYPE].
    #[arg(long, global = true, value_name = "TYPE")]
    pub traffic_type: Option<String>,
    /// VPC tag key that exempts a VPC (value `true`) [FLOWGUARD_EXEMPT_TAG].
    #[arg(long, global = true, value_name = "KEY")]
    pub exempt_tag: Option<String>,
    /// KMS key for log groups that flowguard creates [FLOWGUARD_KMS_KEY_ARN].
    #[arg(long, global = true, value_name = "ARN")]
    pub kms_key_arn: Option<String>,
    /// 60 or 600 seconds [FLOWGUARD_MAX_AGGREGATION_INTERVAL].
    #[arg(long, global = true, value_name = "SECONDS")]
    pub max_aggregation_interval: Option<String>,
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
            _ => None,
        }
    }

    /// The policy: each flag first, then its environment variable, then the default.
    pub fn policy(&self) -> Result<Policy, ConfigError> {
        Policy::from_lookup(|name| {
            self.flag(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        })
    }
}
