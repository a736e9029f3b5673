//! # flowguard, the command line
//!
//! - [`args`]: the clap definition ([`args::Cli`]) and the configuration flags, each of
//!   which overrides its `FLOWGUARD_*` variable.
//! - [`sweep`]: `audit`, `plan` and `apply` over one, several or all enabled regions, of one
//!   account or of the accounts of an organization (`--account`, `--organization`, …) through
//!   the member role: one loop over account×region places.
//! - [`handle_event`]: the Lambda handler's code path on one event, in one account or as an
//!   organization's hub.
//! - [`setup_role`]: the delivery role.
//! - [`output`]: each account×region run written out as it finishes, as JSON, an export or
//!   a table; [`failure`]: errors as one or two lines that say what to do; [`logging`]:
//!   `-v`/`--log-level`, tracing to stderr.
//!
//! Exit codes: 0 all good, 1 not compliant / changes pending / remediation failed, 2 error, 3
//! apply declined.

mod args;
mod failure;
mod handle_event;
mod logging;
mod output;
mod settings;
mod setup_role;
mod sweep;

use args::{Cli, Command};
use clap::Parser;
use output::Kind;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let tracing = match logging::init(&cli.log) {
        Ok(on) => on,
        Err(failure) => {
            eprintln!("error: {failure}");
            return ExitCode::from(2);
        }
    };
    let talk = sweep::Talk {
        quiet: cli.log.quiet,
        tracing,
    };
    let flags = &cli.config;
    let result = match &cli.command {
        Command::Audit(args) => sweep::run(Kind::Audit, args, false, flags, talk).await,
        Command::Plan(args) => sweep::run(Kind::Plan, args, false, flags, talk).await,
        Command::Apply { sweep, yes } => sweep::run(Kind::Apply, sweep, *yes, flags, talk).await,
        Command::HandleEvent { file, dry_run, org } => {
            handle_event::run(file, *dry_run, org, flags).await
        }
        Command::SetupRole {
            name,
            force,
            dry_run,
        } => setup_role::run(name, *force, *dry_run, flags).await,
    };
    result.unwrap_or_else(|failure| {
        eprintln!("error: {failure}");
        ExitCode::from(2)
    })
}
