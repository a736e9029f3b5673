//! Which setting an error is about, named as the user gave it. Each flag declares its
//! variable once, in its clap definition (`env`): the flag overrides the variable, and an
//! error names `--log-group` when the value came from the command line, `FLOWGUARD_LOG_GROUP`
//! when it came from the environment.

use crate::args::Cli;
use crate::failure::Failure;
use clap::{Command, CommandFactory};
use flowguard_core::ConfigError;

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
