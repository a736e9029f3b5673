//! Organization mode, the pure part: which accounts a hub acts in ([`AccountScope`]), whether
//! an event's account is one of them, and the organization report that wraps one report per
//! account and region ([`OrgReport`]). The loop that fills it is [`crate::sweep::sweep`].
//! Reading the organization (Organizations' `ListAccounts`) and assuming the member role are
//! `flowguard-aws`'s part; this module only decides.
//!
//! The scope comes from the `FLOWGUARD_*` configuration (see docs/design.md,
//! "Organization mode"): `FLOWGUARD_ACCOUNTS` (a list), or `FLOWGUARD_ORGANIZATION=true`
//! (every ACTIVE account, optionally only under `FLOWGUARD_ORGANIZATIONAL_UNITS`), less
//! `FLOWGUARD_EXCLUDE_ACCOUNTS`. Every value is checked against the facts at start-up.

mod order;
mod report;

pub use order::{ROTATION_SECONDS, order_key};

pub use report::{AccountCounts, AccountRun, AccountStatus, OrgReport, OrgSummary, RunSummary};

use crate::facts::facts;
use crate::policy::{ConfigError, parse_bool};
use crate::vocab::Arn;
pub use crate::vocab::partition_of;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Organization mode's configuration; `None` from [`OrgConfig::from_lookup`] means the
/// single-account mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgConfig {
    /// Where the accounts in scope come from.
    pub source: AccountSource,
    /// Accounts never touched.
    pub exclude: BTreeSet<String>,
    /// The role assumed in each account: a name, or an ARN template with `{account_id}`.
    pub member_role: String,
    /// `sts:ExternalId` sent when assuming it.
    pub external_id: Option<String>,
    /// Account×region runs in flight at once.
    pub concurrency: usize,
}

/// Where the accounts in scope come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSource {
    /// The accounts listed in `FLOWGUARD_ACCOUNTS`.
    Listed(BTreeSet<String>),
    /// The organization's ACTIVE accounts; only those under these roots or OUs (recursively)
    /// when any are given.
    Organization { units: BTreeSet<String> },
}

impl OrgConfig {
    /// Reads organization mode's variables through `lookup` (empty values are unset, as for
    /// [`crate::Policy::from_lookup`]). `None` when neither `FLOWGUARD_ACCOUNTS` nor
    /// `FLOWGUARD_ORGANIZATION=true` turns the mode on; then the other organization
    /// variables must be unset too, so that a half-made configuration is never ignored.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let org = &facts().organization;
        let accounts = get("FLOWGUARD_ACCOUNTS")
            .map(|v| ids("FLOWGUARD_ACCOUNTS", &v, &org.account_id.pattern, ACCOUNT))
            .transpose()?;
        let whole = get("FLOWGUARD_ORGANIZATION")
            .map(|v| parse_bool("FLOWGUARD_ORGANIZATION", &v))
            .transpose()?
            .unwrap_or(false);
        let units = get("FLOWGUARD_ORGANIZATIONAL_UNITS")
            .map(|v| {
                ids(
                    "FLOWGUARD_ORGANIZATIONAL_UNITS",
                    &v,
                    &org.parent_id.pattern,
                    UNIT,
                )
            })
            .transpose()?;
        let source = match (accounts, whole, units) {
            (Some(listed), false, None) => AccountSource::Listed(listed),
            (None, true, units) => AccountSource::Organization {
                units: units.unwrap_or_default(),
            },
            (Some(listed), true, _) => {
                return Err(ConfigError {
                    variable: "FLOWGUARD_ACCOUNTS",
                    value: listed.into_iter().collect::<Vec<_>>().join(","),
                    allowed:
                        "give either FLOWGUARD_ACCOUNTS (a list) or FLOWGUARD_ORGANIZATION=true \
                              (the organization's accounts), not both"
                            .to_owned(),
                });
            }
            (_, false, Some(units)) => {
                return Err(ConfigError {
                    variable: "FLOWGUARD_ORGANIZATIONAL_UNITS",
                    value: units.into_iter().collect::<Vec<_>>().join(","),
                    allowed: "organizational units limit FLOWGUARD_ORGANIZATION=true: set it too"
                        .to_owned(),
                });
            }
            (None, false, None) => {
                for variable in ORG_ONLY {
                    if let Some(value) = get(variable) {
                        return Err(ConfigError {
                            variable,
                            value,
                            allowed: "only in organization mode: set FLOWGUARD_ACCOUNTS or \
                                      FLOWGUARD_ORGANIZATION=true"
                                .to_owned(),
                        });
                    }
                }
                return Ok(None);
            }
        };
        let exclude = get("FLOWGUARD_EXCLUDE_ACCOUNTS")
            .map(|v| {
                ids(
                    "FLOWGUARD_EXCLUDE_ACCOUNTS",
                    &v,
                    &org.account_id.pattern,
                    ACCOUNT,
                )
            })
            .transpose()?
            .unwrap_or_default();
        let member_role = match get("FLOWGUARD_MEMBER_ROLE") {
            Some(value) => parse_member_role(&value)?,
            None => org.member_role.default.clone(),
        };
        let external_id = get("FLOWGUARD_EXTERNAL_ID")
            .map(|value| {
                let value = value.trim().to_owned();
                if org.external_id.pattern.matches(&value) {
                    Ok(value)
                } else {
                    Err(ConfigError {
                        variable: "FLOWGUARD_EXTERNAL_ID",
                        value: "(not shown)".to_owned(),
                        allowed: "2 to 1224 characters of letters, digits and +=,.@:/_-".to_owned(),
                    })
                }
            })
            .transpose()?;
        let concurrency = match get("FLOWGUARD_CONCURRENCY") {
            Some(value) => parse_concurrency(&value)?,
            None => org.concurrency.default,
        };
        Ok(Some(Self {
            source,
            exclude,
            member_role,
            external_id,
            concurrency,
        }))
    }

    /// The policy of organization mode: without a delivery role configured, the one that the
    /// spoke creates in every account (`arn:{partition}:iam::{account_id}:role/flowguard-delivery`),
    /// rendered per account by [`crate::Policy::in_account`]. A configured role must be each
    /// account's own (`{account_id}` as its account): flowguard creates each flow log in the
    /// member account, into a group of that account, and EC2 takes the role to deliver with
    /// from the caller's own account (`iam:PassRole`; a role of another account needs
    /// cross-account delivery, which flowguard does not set up). One fixed account's role would
    /// fail in every other account. A KMS key ARN with `{account_id}` is refused too: no key id
    /// is the same in two accounts, so only an alias can name each account's own key.
    pub fn complete(&self, mut policy: crate::Policy) -> Result<crate::Policy, ConfigError> {
        match &policy.delivery_role_arn {
            None if !policy.needs_delivery_role() => {}
            None => {
                policy.delivery_role_arn =
                    Some(facts().organization.delivery_role_arn.default.clone());
            }
            Some(arn) if Arn::parse(arn).map(|arn| arn.account) != Some("{account_id}") => {
                return Err(ConfigError {
                    variable: "FLOWGUARD_DELIVERY_ROLE_ARN",
                    value: arn.clone(),
                    allowed: "in organization mode, each account's own role: \
                              {account_id} as the ARN's account, e.g. \
                              arn:{partition}:iam::{account_id}:role/flowguard-delivery (the \
                              default; a role of one account cannot deliver another's flow logs)"
                        .to_owned(),
                });
            }
            Some(_) => {}
        }
        if let Some(key) = &policy.kms_key_arn
            && Arn::parse(key).is_some_and(|arn| arn.account == "{account_id}")
        {
            return Err(ConfigError {
                variable: "FLOWGUARD_KMS_KEY_ARN",
                value: key.clone(),
                allowed: "in organization mode, a KMS alias name (e.g. alias/flowguard-logs), \
                          resolved to each account's own key, or one key ARN of a fixed account: \
                          a key ARN with {account_id} cannot name a key in more than one account \
                          (KMS assigns each key its own id)"
                    .to_owned(),
            });
        }
        Ok(policy)
    }

    /// The accounts in scope, once the organization's ACTIVE accounts (under the configured
    /// units) are known; `organization` is ignored for a listed scope.
    pub fn scope(&self, organization: &[String]) -> AccountScope {
        let accounts: BTreeSet<String> = match &self.source {
            AccountSource::Listed(listed) => listed.clone(),
            AccountSource::Organization { .. } => organization.iter().cloned().collect(),
        };
        AccountScope {
            accounts: accounts.difference(&self.exclude).cloned().collect(),
            excluded: self.exclude.clone(),
            names: BTreeMap::new(),
        }
    }

    /// The member role's ARN in `account` of `partition`.
    pub fn member_role_arn(&self, account: &str, partition: &str) -> String {
        member_role_arn(&self.member_role, account, partition)
    }
}

/// The variables that mean something only in organization mode.
const ORG_ONLY: [&str; 5] = [
    "FLOWGUARD_EXCLUDE_ACCOUNTS",
    "FLOWGUARD_MEMBER_ROLE",
    "FLOWGUARD_EXTERNAL_ID",
    "FLOWGUARD_CONCURRENCY",
    "FLOWGUARD_ORGANIZATIONAL_UNITS",
];

const ACCOUNT: &str = "comma-separated AWS account ids of 12 digits";
const UNIT: &str =
    "comma-separated organization root ids (r-…) or organizational unit ids (ou-…-…)";

/// A comma-separated list of ids, each matching `pattern`; at least one.
fn ids(
    variable: &'static str,
    value: &str,
    pattern: &crate::facts::Pattern,
    what: &str,
) -> Result<BTreeSet<String>, ConfigError> {
    let refuse = |bad: &str| ConfigError {
        variable,
        value: bad.to_owned(),
        allowed: format!("expected {what}"),
    };
    let ids: BTreeSet<String> = value
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.is_empty() {
        return Err(refuse(value));
    }
    match ids.iter().find(|id| !pattern.matches(id)) {
        Some(bad) => Err(refuse(bad)),
        None => Ok(ids),
    }
}

/// Whether `value` is a role name, or a role ARN template in which `{account_id}` stands for
/// each account (an ARN naming one account would send every account's run there).
pub fn is_member_role(value: &str) -> bool {
    let rules = &facts().organization.member_role;
    rules.name_pattern.matches(value) || rules.arn_pattern.matches(value)
}

/// A role name, or an ARN template in which `{account_id}` stands for each account.
fn parse_member_role(value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    if is_member_role(value) {
        return Ok(value.to_owned());
    }
    Err(ConfigError {
        variable: "FLOWGUARD_MEMBER_ROLE",
        value: value.to_owned(),
        allowed: "expected a role name (e.g. flowguard-member), or a role ARN with {account_id} \
                  for the account, e.g. arn:{partition}:iam::{account_id}:role/flowguard-member"
            .to_owned(),
    })
}

fn parse_concurrency(value: &str) -> Result<usize, ConfigError> {
    let range = &facts().organization.concurrency;
    match value.trim().parse::<usize>() {
        Ok(n) if (range.min..=range.max).contains(&n) => Ok(n),
        _ => Err(ConfigError {
            variable: "FLOWGUARD_CONCURRENCY",
            value: value.to_owned(),
            allowed: format!(
                "expected a whole number from {} to {}",
                range.min, range.max
            ),
        }),
    }
}

/// The ARN of the member role in `account_id`: `template` with `{account_id}` and
/// `{partition}` replaced when it is an ARN, `arn:{partition}:iam::{account_id}:role/NAME`
/// when it is a role name.
pub fn member_role_arn(template: &str, account_id: &str, partition: &str) -> String {
    if template.starts_with("arn:") {
        template
            .replace("{account_id}", account_id)
            .replace("{partition}", partition)
    } else {
        format!("arn:{partition}:iam::{account_id}:role/{template}")
    }
}

/// The accounts a hub acts in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountScope {
    accounts: BTreeSet<String>,
    excluded: BTreeSet<String>,
    /// The accounts' names, as the organization lists them (none for a listed scope).
    names: BTreeMap<String, String>,
}

impl AccountScope {
    /// The scope of a single account: an organization of one.
    pub fn of_one(account: &str) -> Self {
        Self {
            accounts: BTreeSet::from([account.to_owned()]),
            excluded: BTreeSet::new(),
            names: BTreeMap::new(),
        }
    }

    /// The scope with the accounts' names (`(id, name)`, as Organizations lists them); names
    /// of accounts out of scope are not kept.
    pub fn with_names(mut self, names: impl IntoIterator<Item = (String, String)>) -> Self {
        let named = names
            .into_iter()
            .filter(|(id, name)| self.accounts.contains(id) && !name.trim().is_empty());
        self.names.extend(named);
        self
    }

    /// The name of `account`, when the organization gave one.
    pub fn name(&self, account: &str) -> Option<&str> {
        self.names.get(account).map(String::as_str)
    }

    /// Whether the hub acts in `account`; `Err` says why not, for the report and the
    /// `EventsOutOfScope` count. An event that names no account is out of scope: flowguard
    /// never guesses where to act.
    pub fn admits(&self, account: Option<&str>) -> Result<(), String> {
        let Some(account) = account.filter(|a| !a.is_empty()) else {
            return Err(
                "the event names no account, so it cannot be attributed: ignored".to_owned(),
            );
        };
        if self.accounts.contains(account) {
            return Ok(());
        }
        // Named only when it looks like an account id: events are untrusted input.
        let whose = if facts().organization.account_id.pattern.matches(account) {
            format!("account {account}")
        } else {
            "an account".to_owned()
        };
        Err(if self.excluded.contains(account) {
            format!("{whose} is excluded (FLOWGUARD_EXCLUDE_ACCOUNTS): ignored")
        } else {
            format!("{whose} is not in flowguard's scope: ignored")
        })
    }

    /// The order in which a scheduled sweep takes the accounts, so that none is starved when
    /// the deadline cuts a sweep short: first those in `due` (not checked, or failed, last
    /// time: what the hub remembers while it stays warm), then the rest from a point that
    /// moves with the schedule's time `at` (Unix seconds) like a clock hand, once around a
    /// circle on which every account has its own point ([`order_key`]) every
    /// [`ROTATION_SECONDS`]. With the hourly schedule the hand moves half way round between
    /// two sweeps: whenever a sweep gets through the accounts of half the circle (half of
    /// them, give or take a few), two consecutive sweeps check every one, across cold starts
    /// too, with nothing stored anywhere. Without `at`, the accounts go by id.
    pub fn sweep_order(&self, due: &BTreeSet<String>, at: Option<i64>) -> Vec<String> {
        let mut order: Vec<&String> = self.accounts.iter().collect();
        order.sort_by_cached_key(|account| (order_key(account, due, at), *account));
        order.into_iter().cloned().collect()
    }

    /// Adds the accounts of a page of the organization's listing (`(id, name)`) that are in
    /// scope (not excluded, not already in) with their names, and returns them.
    pub fn admit_listed(&mut self, page: Vec<(String, String)>) -> Vec<String> {
        let mut admitted = Vec::new();
        for (id, name) in page {
            if self.excluded.contains(&id) || !self.accounts.insert(id.clone()) {
                continue;
            }
            if !name.trim().is_empty() {
                self.names.insert(id.clone(), name);
            }
            admitted.push(id);
        }
        admitted
    }

    /// Whether `account` is excluded (`FLOWGUARD_EXCLUDE_ACCOUNTS`).
    pub fn excludes(&self, account: &str) -> bool {
        self.excluded.contains(account)
    }

    /// The accounts in scope, in order.
    pub fn accounts(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}
