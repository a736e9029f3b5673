//! `apply`'s safety: what it refuses before anything runs, and the confirmation on the
//! terminal.

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
            run("123456789012", &[VpcStatus::WouldRemediate]),
            run("111111111111", &[VpcStatus::WouldRemediate]),
            run("222222222222", &[]),
        ];
        OrgReport::new(Mode::DryRun, &["us-east-1".to_owned()], runs)
    }

    #[test]
    fn the_plan_counts_its_actions_and_their_accounts() {
        assert_eq!(planned(&plan()), (4, 2));
    }
}
