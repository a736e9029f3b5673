//! The command line as clap sees it: the subcommands, their flags, and the configuration
//! flags that every subcommand shares (each overrides the `FLOWGUARD_*` variable of the same
//! name).

use crate::failure::Failure;
use crate::settings;
pub use crate::settings::ConfigFlags;
use clap::{Args, Parser, Subcommand, ValueEnum};
use flowguard_core::ConfigError;
use flowguard_core::organization::OrgConfig;

/// The role name `setup-role` uses unless told otherwise.
pub const DEFAULT_ROLE_NAME: &str = "flowguard-delivery";

#[derive(Debug, Parser)]
#[command(
    name = "flowguard",
    version,
    about = "Keeps AWS VPC flow logging on: every VPC logs its rejected traffic into a log group kept at least 365 days (CIS EC2.6).",
    after_help = "Exit codes: 0 = OK / all compliant / nothing to change, 1 = some VPC not compliant, changes pending (plan) or some remediation failed, 2 = error (bad configuration, input, credentials, region, access), 3 = apply declined at the confirmation (nothing changed)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub config: ConfigFlags,
    #[command(flatten)]
    pub log: LogFlags,
}

/// What the commands say on stderr besides their errors: progress and tracing.
#[derive(Debug, Args)]
#[command(next_help_heading = "Progress and logs (on stderr)")]
pub struct LogFlags {
    /// No progress: neither the progress bar (on a terminal) nor the line per finished
    /// account×region run (organization mode, stderr not a terminal).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Turn on tracing: -v info, -vv debug (each AWS call, retry and throttling), -vvv trace.
    #[arg(long, short, global = true, action = clap::ArgAction::Count, conflicts_with = "log_level")]
    pub verbose: u8,
    /// Turn on tracing at LEVEL (error, warn, info, debug, trace) or with a filter such as
    /// `aws_smithy_runtime=debug` [env FLOWGUARD_LOG_LEVEL, else RUST_LOG]. Off by default.
    #[arg(
        long,
        global = true,
        value_name = "LEVEL",
        env = "FLOWGUARD_LOG_LEVEL",
        hide_env = true
    )]
    pub log_level: Option<String>,
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
    /// DryRun=true. Exit 0 when nothing would change, 1 when changes are pending (as
    /// `terraform plan -detailed-exitcode`), 2 on error.
    Plan(SweepArgs),
    /// Remediate: create the missing log group and flow logs, raise short retentions
    ///
    /// Needs FLOWGUARD_DELIVERY_ROLE_ARN (in organization mode it defaults to each account's
    /// flowguard-delivery role). Shows the plan and asks on a terminal unless --yes.
    /// Exit 0 when everything ended compliant, 1 when some remediation failed, 2 on error, 3
    /// when the confirmation was declined (nothing changed).
    Apply {
        #[command(flatten)]
        sweep: SweepArgs,
        /// Apply without asking (required when stdin is not a terminal).
        #[arg(long, short)]
        yes: bool,
    },
    /// Run the Lambda handler on one EventBridge event; print its report (JSON)
    ///
    /// With the organization flags (or variables), handles it exactly as the hub does: the
    /// event's account through its member role, the schedule over every account in scope.
    /// Exit 0 when handled or ignored, 1 when the run or remediation failed, 2 when the input
    /// is not a valid event or the configuration is invalid.
    HandleEvent {
        /// The event JSON; `-` reads stdin.
        #[arg(value_name = "FILE|-", default_value = "-")]
        file: String,
        /// Plan only: make no change (same as FLOWGUARD_DRY_RUN=true).
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        org: OrgFlags,
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
    /// `table`: one line per VPC, to the terminal's width; `json`: one object whatever the
    /// accounts and regions, each account×region run as it finishes (docs/cli.md); `csv`,
    /// `asff` (Security Hub's BatchImportFindings) and `ocsf` (Compliance Finding): one finding
    /// per VPC (docs/exports.md).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The table with every column: the CIS checks (ACTIVE flow log, captures REJECT,
    /// delivering, log group, retention, exempt) and, for plan and apply, the actions.
    #[arg(long)]
    pub wide: bool,
    /// Also write every format into DIR, as the sweep goes: report.json, findings.csv,
    /// findings.asff.json, findings.ocsf.json and report.html (one self-contained page);
    /// stdout keeps --format.
    #[arg(long, value_name = "DIR")]
    pub output_directory: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub org: OrgFlags,
}

/// Organization mode: which accounts a sweep covers and how it reaches them. Each flag
/// overrides its `FLOWGUARD_*` variable; a repeated flag is the comma-separated list.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Organization mode (each flag overrides its FLOWGUARD_* variable)")]
pub struct OrgFlags {
    /// An account to sweep through the member role; repeat for several [FLOWGUARD_ACCOUNTS].
    #[arg(
        long = "account",
        value_name = "ID",
        env = "FLOWGUARD_ACCOUNTS",
        hide_env = true
    )]
    pub accounts: Vec<String>,
    /// Every ACTIVE account of the organization (Organizations ListAccounts)
    /// [FLOWGUARD_ORGANIZATION].
    #[arg(long)]
    pub organization: bool,
    /// With --organization: only the accounts under this OU or root id, at any depth; repeat
    /// for several [FLOWGUARD_ORGANIZATIONAL_UNITS].
    #[arg(
        long = "ou",
        value_name = "OU",
        env = "FLOWGUARD_ORGANIZATIONAL_UNITS",
        hide_env = true
    )]
    pub units: Vec<String>,
    /// An account never touched; repeat for several [FLOWGUARD_EXCLUDE_ACCOUNTS].
    #[arg(
        long = "exclude-account",
        value_name = "ID",
        env = "FLOWGUARD_EXCLUDE_ACCOUNTS",
        hide_env = true
    )]
    pub exclude: Vec<String>,
    /// The role assumed in each account: a name, or an ARN with {account_id} and {partition}
    /// [FLOWGUARD_MEMBER_ROLE].
    #[arg(
        long,
        value_name = "NAME|ARN",
        env = "FLOWGUARD_MEMBER_ROLE",
        hide_env = true
    )]
    pub role: Option<String>,
    /// sts:ExternalId sent when assuming the member role [FLOWGUARD_EXTERNAL_ID].
    #[arg(
        long,
        value_name = "ID",
        env = "FLOWGUARD_EXTERNAL_ID",
        hide_env = true
    )]
    pub external_id: Option<String>,
    /// Account×region runs in flight at once [FLOWGUARD_CONCURRENCY].
    #[arg(long, value_name = "N", env = "FLOWGUARD_CONCURRENCY", hide_env = true)]
    pub concurrency: Option<String>,
}

impl OrgFlags {
    /// The value a flag gives `variable`, if it was given.
    fn flag(&self, variable: &str) -> Option<String> {
        let list = |values: &[String]| (!values.is_empty()).then(|| values.join(","));
        match variable {
            "FLOWGUARD_ACCOUNTS" => list(&self.accounts),
            "FLOWGUARD_ORGANIZATION" => self.organization.then(|| "true".to_owned()),
            "FLOWGUARD_ORGANIZATIONAL_UNITS" => list(&self.units),
            "FLOWGUARD_EXCLUDE_ACCOUNTS" => list(&self.exclude),
            "FLOWGUARD_MEMBER_ROLE" => self.role.clone(),
            "FLOWGUARD_EXTERNAL_ID" => self.external_id.clone(),
            "FLOWGUARD_CONCURRENCY" => self.concurrency.clone(),
            _ => None,
        }
    }

    /// Organization mode's configuration, `None` in single-account mode: each flag first,
    /// then its environment variable, checked exactly as the Lambda checks them.
    pub fn config(&self) -> Result<Option<OrgConfig>, Failure> {
        self.config_from(|name| std::env::var(name).ok())
            .map_err(|e| settings::named(e.clone(), self.flag(e.variable)))
    }

    fn config_from(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<OrgConfig>, ConfigError> {
        OrgConfig::from_lookup(|name| self.flag(name).or_else(|| env(name)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Asff,
    Ocsf,
}

impl Format {
    /// The export format, for the formats that print findings rather than reports.
    pub fn export(self) -> Option<flowguard_core::export::Format> {
        use flowguard_core::export::Format as Export;
        match self {
            Self::Table | Self::Json => None,
            Self::Csv => Some(Export::Csv),
            Self::Asff => Some(Export::Asff),
            Self::Ocsf => Some(Export::Ocsf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowguard_core::organization::AccountSource;

    fn parse(args: &[&str]) -> OrgFlags {
        let cli = Cli::try_parse_from([&["flowguard", "audit"], args].concat()).unwrap();
        match cli.command {
            Command::Audit(sweep) => sweep.org,
            other => panic!("not an audit: {other:?}"),
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    #[test]
    fn repeated_flags_join_into_their_variable() {
        let flags = parse(&[
            "--account",
            A,
            "--account",
            B,
            "--exclude-account",
            B,
            "--role",
            "auditor",
            "--external-id",
            "xid-42",
            "--concurrency",
            "3",
        ]);
        assert_eq!(
            flags.flag("FLOWGUARD_ACCOUNTS").as_deref(),
            Some("111111111111,222222222222")
        );
        assert_eq!(flags.flag("FLOWGUARD_EXCLUDE_ACCOUNTS").as_deref(), Some(B));
        assert_eq!(flags.flag("FLOWGUARD_ORGANIZATION"), None);
        let config = flags.config_from(no_env).unwrap().unwrap();
        assert_eq!(
            config.source,
            AccountSource::Listed([A, B].map(str::to_owned).into())
        );
        assert_eq!(config.member_role, "auditor");
        assert_eq!(config.external_id.as_deref(), Some("xid-42"));
        assert_eq!(config.concurrency, 3);
        assert_eq!(config.scope(&[]).accounts().collect::<Vec<_>>(), vec![A]);
    }

    #[test]
    fn flags_override_the_environment_and_the_environment_fills_in() {
        let env = |name: &str| match name {
            "FLOWGUARD_ACCOUNTS" => Some(B.to_owned()),
            "FLOWGUARD_MEMBER_ROLE" => Some("from-env".to_owned()),
            _ => None,
        };
        let config = parse(&["--account", A]).config_from(env).unwrap().unwrap();
        assert_eq!(config.source, AccountSource::Listed([A.to_owned()].into()));
        assert_eq!(config.member_role, "from-env");
        let config = parse(&[]).config_from(env).unwrap().unwrap();
        assert_eq!(config.source, AccountSource::Listed([B.to_owned()].into()));
    }

    #[test]
    fn organization_and_units_are_the_organization_source() {
        let flags = parse(&[
            "--organization",
            "--ou",
            "ou-ab12-cdef3456",
            "--ou",
            "r-ab12",
        ]);
        let config = flags.config_from(no_env).unwrap().unwrap();
        let units = ["ou-ab12-cdef3456", "r-ab12"].map(str::to_owned).into();
        assert_eq!(config.source, AccountSource::Organization { units });
    }

    #[test]
    fn no_flag_and_no_variable_is_single_account_mode() {
        assert_eq!(parse(&[]).config_from(no_env).unwrap(), None);
    }

    #[test]
    fn bad_values_are_refused_naming_the_variable() {
        for (args, variable) in [
            (vec!["--account", "123"], "FLOWGUARD_ACCOUNTS"),
            (vec!["--organization", "--account", A], "FLOWGUARD_ACCOUNTS"),
            (
                vec!["--organization", "--ou", "ou-x"],
                "FLOWGUARD_ORGANIZATIONAL_UNITS",
            ),
            (
                vec!["--ou", "ou-ab12-cdef3456"],
                "FLOWGUARD_ORGANIZATIONAL_UNITS",
            ),
            (
                vec!["--account", A, "--concurrency", "0"],
                "FLOWGUARD_CONCURRENCY",
            ),
            (
                vec!["--account", A, "--role", "a role"],
                "FLOWGUARD_MEMBER_ROLE",
            ),
            (vec!["--role", "flowguard-member"], "FLOWGUARD_MEMBER_ROLE"),
        ] {
            let error = parse(&args).config_from(no_env).unwrap_err();
            assert_eq!(error.variable, variable, "{args:?}: {error}");
        }
    }
}
