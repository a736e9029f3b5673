//! `apply`'s safety: what it refuses before anything runs, and the confirmation on the
//! terminal, which in organization mode says how many accounts are in scope and whether the
//! caller's own account is one of them.

use crate::failure::Failure;
use flowguard_core::Policy;
use flowguard_core::organization::OrgReport;
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};

/// The exit code of an `apply` whose confirmation was declined: nothing changed, and nothing
/// failed (a failed remediation exits 1).
pub const DECLINED: u8 = 3;

pub fn refuse_unsafe_apply(policy: &Policy, yes: bool) -> Result<(), Failure> {
    policy.require_delivery_role()?;
    if policy.dry_run {
        return Err(Failure(
            "FLOWGUARD_DRY_RUN is true and apply makes changes: unset it, or run `flowguard plan`"
                .to_owned(),
        ));
    }
    if !yes && !std::io::stdin().is_terminal() {
        return Err(Failure(
            "refusing to apply without confirmation: stdin is not a terminal\n\
             review the changes with `flowguard plan`, then run `flowguard apply --yes`"
                .to_owned(),
        ));
    }
    Ok(())
}

/// An organization's scope as the plan and the question say it.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Accounts in scope.
    pub accounts: usize,
    /// The caller's own account (`sts:GetCallerIdentity`): the management account when the
    /// CLI runs there.
    pub caller: &'a str,
    pub caller_in_scope: bool,
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

impl Scope<'_> {
    /// The plan's last line: "3 accounts in scope, including the caller's own account …".
    pub fn line(&self) -> String {
        let accounts = plural(self.accounts, "account");
        if self.caller_in_scope {
            format!(
                "{accounts} in scope, including the caller's own account {} (the management \
                 account, when run from it)",
                self.caller
            )
        } else {
            format!(
                "{accounts} in scope, not including the caller's own account {}",
                self.caller
            )
        }
    }

    /// "Apply 4 action(s) in 2 accounts (3 in scope, including the caller's own account …)?"
    pub fn question(&self, plan: &OrgReport) -> String {
        let (actions, accounts) = planned(plan);
        let including = if self.caller_in_scope {
            "including"
        } else {
            "not including"
        };
        format!(
            "Apply {actions} action(s) in {} ({} in scope, {including} the caller's own account {})?",
            plural(accounts, "account"),
            self.accounts,
            self.caller
        )
    }
}

/// The planned actions of a plan, and the accounts they are in.
pub fn planned(plan: &OrgReport) -> (usize, usize) {
    let mut accounts = BTreeSet::new();
    let mut actions = 0;
    for run in &plan.accounts {
        let n = run.summary.as_ref().map_or(0, |s| s.actions.planned);
        if n > 0 {
            accounts.insert(run.account.as_str());
            actions += n;
        }
    }
    (actions, accounts.len())
}

/// Asks `question` on the terminal; yes only for `y` or `yes`.
pub fn ask(question: &str) -> Result<bool, Failure> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure(format!("could not read the answer: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowguard_core::fake;
    use flowguard_core::organization::AccountRun;
    use flowguard_core::{Mode, Place, VpcStatus};

    const CALLER: &str = "123456789012";

    fn plan() -> OrgReport {
        let run = |account: &str, statuses: &[VpcStatus]| {
            let place = Place {
                region: "us-east-1".to_owned(),
                account: account.to_owned(),
            };
            let mut report = fake::report_of(&place, Mode::DryRun, statuses);
            report.summary.actions.planned = statuses.len() * 2;
            AccountRun::ok(report)
        };
        let runs = vec![
            run(CALLER, &[VpcStatus::WouldRemediate]),
            run("111111111111", &[VpcStatus::WouldRemediate]),
            run("222222222222", &[]),
        ];
        OrgReport::new(Mode::DryRun, &["us-east-1".to_owned()], runs)
    }

    #[test]
    fn the_plan_and_the_question_say_the_scope_and_the_callers_account() {
        let scope = Scope {
            accounts: 3,
            caller: CALLER,
            caller_in_scope: true,
        };
        assert_eq!(
            scope.line(),
            "3 accounts in scope, including the caller's own account 123456789012 (the \
             management account, when run from it)"
        );
        assert_eq!(
            scope.question(&plan()),
            "Apply 4 action(s) in 2 accounts (3 in scope, including the caller's own account \
             123456789012)?"
        );
        let scope = Scope {
            accounts: 1,
            caller_in_scope: false,
            ..scope
        };
        assert_eq!(
            scope.line(),
            "1 account in scope, not including the caller's own account 123456789012"
        );
        assert!(
            scope
                .question(&plan())
                .contains("not including the caller's own account")
        );
    }
}
