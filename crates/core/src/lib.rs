//! # flowguard-core
//!
//! The compliance engine of flowguard, pure: no AWS SDK, no tokio, no Lambda. It decides;
//! the shells (`flowguard-aws`, `flowguard-lambda`, `flowguard-cli`) do the sending.
//!
//! The path of every run, each step its own module:
//!
//! 1. [`trigger`]: an EventBridge event becomes a [`Trigger`] (reconcile these VPCs, sweep
//!    the region, reconcile a log group, or ignore with a reason).
//! 2. [`reconcile::observe`]: the [`Inventory`] port reads the live state into an
//!    [`Observed`] (the event is a hint, never the state).
//! 3. [`rule`]: the compliance rule judges each VPC and each of its flow logs.
//! 4. [`plan()`]: a pure function from ([`Policy`], [`Observed`]) to an ordered [`Plan`].
//! 5. [`reconcile`]: [`reconcile::audit`] and [`reconcile::dry_run`] report the plan (the
//!    dry run checks permissions with EC2's `DryRun=true`); [`reconcile::enforce`] applies it
//!    through the [`Remediator`] port in at most [`reconcile::MAX_ROUNDS`] rounds: what did
//!    not simply apply ("already exists", a batch refused for one VPC not found) is
//!    re-observed and planned again.
//! 6. [`report`]: the [`Report`], `Serialize` for machines and `Display` for people.
//! 7. [`export`]: the reports as one finding per VPC for auditors' tools — CSV, AWS Security
//!    Finding Format (what Security Hub's `BatchImportFindings` takes) and OCSF Compliance
//!    Findings — mapped to CIS AWS Foundations 3.7/4.7 and Security Hub EC2.6.
//!
//! Errors from AWS stay data ([`AwsError`] keeps the code); [`classify`] is the one pure
//! function that says whether to retry later, give up, treat as done, or treat as gone; the
//! report's `retryable`, [`reconcile::ReconcileError`], [`handler::HandlerError`] and the
//! exit codes derive from it.
//! [`Policy`] is read and validated from the `FLOWGUARD_*` configuration against the
//! [`facts`] (`crates/core/facts.json`: allowed values, defaults, AWS naming rules and the
//! delivery role's policies, which the CDK app reads too). The words they all share (traffic
//! type, destination, partition, mode) are the floor below everything, [`vocab`].
//!
//! One path runs every place: [`handler::handle`] is the path every event takes, in the
//! Lambda and in `flowguard handle-event` alike, in one account or as an organization's hub
//! ([`handler::Reach`]); [`sweep::run_in_place`] is the only code that builds and runs one
//! account×region, and [`sweep::sweep`] the only loop over many (a single account is an
//! organization of one). Both reach AWS through one port, [`Places`], which hands out the
//! [`Inventory`] and [`Remediator`] of a place.
//!
//! With the `fake` feature, [`fake::FakeRegion`] implements both ports in memory for tests,
//! and [`fake`] holds the builders that the tests of every crate share.

pub mod error;
pub mod export;
pub mod facts;
pub mod handler;
pub mod ids;
pub mod observed;
pub mod organization;
pub mod plan;
pub mod policy;
pub mod ports;
pub mod reconcile;
pub mod report;
pub mod rule;
pub mod sweep;
pub mod trigger;
pub mod vocab;

#[cfg(any(test, feature = "fake"))]
pub mod fake;

pub use error::{AwsError, Disposition, Fault, classify};
pub use ids::{FlowLogId, LogGroupName, Place, VpcId};
pub use observed::{Destination, FlowLog, LogGroup, Observed, Retention, Vpc};
pub use plan::{Decision, Plan, Step, plan};
pub use policy::{ConfigError, LogGroupTemplate, Policy, TrafficType};
pub use ports::{
    Created, Creation, FindingUpdate, FlowLogQuery, FlowLogRequest, Inventory, Permission, Places,
    Reevaluation, Remediator, VpcQuery,
};
pub use reconcile::{Mode, ReconcileError, Run, Scope, reconcile};
pub use report::{Action, ActionKind, ActionResult, Outcome, Report, VpcStatus};
pub use trigger::{InvalidEvent, Target, Trigger, TriggerKind, parse_event};
