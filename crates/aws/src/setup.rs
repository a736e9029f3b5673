//! How a shell starts: [`init`] (the configuration, the KMS key's region, the delivery role)
//! and [`Controller::start`], which adds the caller's account, the [`AwsPlaces`] it acts
//! through and, in organization mode, the [`Directory`] of the accounts in scope. The Lambda,
//! `handle-event` and the CLI's `audit`, `plan` and `apply` all start so.

use crate::organization::{AccountList, Directory, MemberAccess, MemberAccessError};
use crate::{AwsPlaces, Clients, caller_account, iam};
use aws_config::SdkConfig;
use flowguard_core::handler::{self, Handled, HandlerError, Reach, Setup};
use flowguard_core::organization::{AccountRun, OrgConfig};
use flowguard_core::reconcile::{Deadline, ReconcileError};
use flowguard_core::sweep::Listing;
use flowguard_core::trigger::{Trigger, parse_event};
use flowguard_core::{AwsError, ConfigError, Place, Policy};
use futures::future::{self, Either};
use futures::stream::{self, StreamExt};

/// Why the function (or `handle-event`) cannot start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("no AWS region configured: set AWS_REGION")]
    NoRegion,
    #[error(transparent)]
    Role(#[from] iam::RoleProblem),
    /// `sts:GetCallerIdentity` failed: without the caller's account nothing can be scoped.
    #[error("reading the caller's account: {0}")]
    Caller(#[source] AwsError),
    #[error(transparent)]
    Member(#[from] MemberAccessError),
}

/// The configured region; a KMS key of another region is refused at start-up.
fn region_of(config: &SdkConfig, policy: &Policy) -> Result<String, InitError> {
    let region = config
        .region()
        .map(|r| r.as_ref().to_owned())
        .ok_or(InitError::NoRegion)?;
    policy.kms_key_in(&Place {
        region: region.clone(),
        account: String::new(),
    })?;
    Ok(region)
}

/// The start-up without the delivery role: the region and the KMS key as for [`init`] (an
/// organization hub, whose delivery roles live in each member account; an audit or a plan).
pub async fn init_hub(config: &SdkConfig, policy: Policy) -> Result<Setup, InitError> {
    let region = region_of(config, &policy)?;
    Ok(Setup {
        policy,
        region,
        warnings: Vec::new(),
    })
}

/// Reads the configuration and checks the delivery role. In dry run, a missing or unusable
/// role is a warning (the dry run exists to review before enforcing); otherwise an error.
pub async fn init(config: &SdkConfig, policy: Policy) -> Result<Setup, InitError> {
    let region = region_of(config, &policy)?;
    let mut warnings = Vec::new();
    let iam_client = aws_sdk_iam::Client::new(config);
    if !policy.dry_run {
        policy.require_delivery_role()?;
    }
    match &policy.delivery_role_arn {
        None if !policy.needs_delivery_role() => {}
        None => warnings.push(
            "FLOWGUARD_DELIVERY_ROLE_ARN is not set: enforcing would refuse to start".to_owned(),
        ),
        Some(arn) => {
            if let Err(problem) = iam::verify_delivery_role(&iam_client, arn).await {
                if !policy.dry_run {
                    return Err(problem.into());
                }
                warnings.push(format!("{problem}: enforcing would refuse to start"));
            }
        }
    }
    Ok(Setup {
        policy,
        region,
        warnings,
    })
}

/// What a controller checks at start-up besides the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The delivery role, as [`init`] does (single account: the Lambda, `handle-event`).
    DeliveryRole,
    /// Nothing more: an audit or a plan needs no role, and in organization mode the role lives
    /// in each member account.
    Configuration,
}

/// Everything a shell acts through: the setup, the caller's account, the places, and in
/// organization mode the directory of the accounts in scope.
#[derive(Debug)]
pub struct Controller {
    pub setup: Setup,
    /// The caller's own account (`sts:GetCallerIdentity`): the single account, or the hub's.
    pub account: String,
    pub places: AwsPlaces,
    /// Organization mode's scope; `None` in a single account.
    pub directory: Option<Directory>,
}

impl Controller {
    /// Starts a controller with `config`'s credentials. In organization mode (`org`), the policy
    /// is completed for the members ([`OrgConfig::complete`]) and member sessions that no event
    /// names are called `session` (see [`crate::organization::session_name`]).
    pub async fn start(
        config: SdkConfig,
        policy: Policy,
        org: Option<OrgConfig>,
        session: String,
        check: Check,
    ) -> Result<Self, InitError> {
        let (account, _) = caller_account(&Clients::new(&config))
            .await
            .map_err(InitError::Caller)?;
        let Some(org) = org else {
            let setup = match check {
                Check::DeliveryRole => init(&config, policy).await?,
                Check::Configuration => init_hub(&config, policy).await?,
            };
            return Ok(Self {
                setup,
                account,
                places: AwsPlaces::own(config),
                directory: None,
            });
        };
        let setup = init_hub(&config, org.complete(policy)?).await?;
        let members = MemberAccess::new(
            config.clone(),
            account.clone(),
            org.member_role.clone(),
            org.external_id.clone(),
            session,
        )?;
        Ok(Self {
            setup,
            account,
            directory: Some(Directory::new(&config, org)),
            places: AwsPlaces::organization(config, members),
        })
    }

    /// Where the controller acts now: its own account, or the organization's accounts in scope
    /// (read at most every [`crate::organization::SCOPE_REFRESH`]), with a warning when they
    /// are the last good list because a refresh failed.
    pub async fn reach(&self) -> Result<(Reach, Option<String>), AwsError> {
        match &self.directory {
            None => Ok((Reach::Account(self.account.clone()), None)),
            Some(directory) => directory.reach().await,
        }
    }

    /// Handles one event (its bytes) as the Lambda does: where to act now, the handler, and
    /// what the organization's next sweep should take first. A scope that cannot be read at
    /// all (no list, not even a recent good one) fails the event, to be retried.
    /// A sweep hands each account×region run to `on_run` as it finishes
    /// ([`handler::handle_trigger`]).
    pub async fn handle(
        &self,
        event: &[u8],
        deadline: Option<Deadline>,
        on_run: impl FnMut(&AccountRun) + Send,
    ) -> Result<Handled, HandlerError> {
        let trigger = parse_event(event)?;
        self.handle_trigger(trigger, deadline, on_run).await
    }

    /// [`Self::handle`] of a parsed event.
    pub async fn handle_trigger(
        &self,
        trigger: Trigger,
        deadline: Option<Deadline>,
        on_run: impl FnMut(&AccountRun) + Send,
    ) -> Result<Handled, HandlerError> {
        let unreadable = |error| HandlerError::Reconcile {
            error: ReconcileError::Observe(error),
        };
        // A sweep starts on the last good list and refreshes it alongside, for the next sweep,
        // or, with no list yet, lists the organization as it goes; an event waits for a fresh
        // list (its account may be new).
        let (reach, warning, list) = match &self.directory {
            Some(directory) if trigger.is_schedule() => {
                directory.reach_for_sweep().await.map_err(unreadable)?
            }
            _ => {
                let (reach, warning) = self.reach().await.map_err(unreadable)?;
                (reach, warning, AccountList::Kept)
            }
        };
        let listing = match (&self.directory, list) {
            (Some(directory), AccountList::AsItSweeps) => {
                Some(until_deadline(directory.listing(), deadline))
            }
            _ => None,
        };
        let handling = handler::handle_trigger(
            &self.places,
            &self.setup,
            &reach,
            trigger,
            deadline,
            listing,
            on_run,
        );
        // The refresh ends by the deadline too: a listing cut short keeps the last good list,
        // and the invocation is not cut off by its timeout (which would lose the report).
        let refreshing = async {
            let Some(directory) = self
                .directory
                .as_ref()
                .filter(|_| list == AccountList::Beside)
            else {
                return;
            };
            let listing = directory.refresh();
            let outcome = match deadline {
                Some(d) => tokio::time::timeout_at(d.stop_at.into(), listing)
                    .await
                    .unwrap_or_else(|_| Err(deadline_came())),
                None => listing.await,
            };
            if let Err(error) = outcome {
                tracing::warn!(%error, "the organization's account list could not be refreshed");
            }
        };
        let (handled, ()) = futures::join!(handling, refreshing);
        let mut handled = handled?;
        // A cold sweep that could list no account at all fails, to be retried, as a sweep
        // without a list always has.
        if let Handled::Sweep(report) = &mut handled
            && report.accounts.is_empty()
            && let Some(error) = report.listing_error.take()
        {
            return Err(unreadable(error));
        }
        if let Some(warning) = warning {
            handled.warn(warning);
        }
        if let (Handled::Sweep(report), Some(directory)) = (&handled, &self.directory) {
            directory.remember(report).await;
        }
        Ok(handled)
    }
}

/// The error of a listing that the invocation's deadline cut short.
fn deadline_came() -> AwsError {
    AwsError {
        operation: "ListAccounts",
        code: None,
        message: "the invocation's deadline came before the list".to_owned(),
        status: None,
        fault: flowguard_core::Fault::Timeout,
    }
}

/// `listing` until the deadline: then one [`deadline_came`] error ends it, so that a sweep
/// waiting for a page does not run into the function's timeout (the sweep says the list was
/// not read to the end).
fn until_deadline<'a>(listing: Listing<'a>, deadline: Option<Deadline>) -> Listing<'a> {
    let Some(deadline) = deadline else {
        return listing;
    };
    let stop = Box::pin(tokio::time::sleep_until(deadline.stop_at.into()));
    let pages = stream::unfold(Some((listing, stop)), |walk| async move {
        let (mut listing, mut stop) = walk?;
        let page = match future::select(listing.next(), &mut stop).await {
            Either::Left((page, _)) => Some(page),
            Either::Right(((), _)) => None,
        };
        match page {
            Some(Some(page)) => Some((page, Some((listing, stop)))),
            Some(None) => None,
            None => Some((Err(deadline_came()), None)),
        }
    });
    pages.boxed()
}
