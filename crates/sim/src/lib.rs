//! # flowguard-sim
//!
//! A deterministic scale simulation of the organization sweep (issue 27): the real engine
//! ([`flowguard_core::sweep::sweep`], with the hub's concurrency, deadline and fair order,
//! [`flowguard_core::organization::order_key`]) over the in-memory fake, where
//! every port call costs the AWS calls the real adapter makes for it ([`ports`]), each taking
//! a latency drawn from a per-API distribution, answering throttling at AWS's documented
//! request rates and at a background share, and retried as the SDK's standard strategy does
//! ([`net`], numbers and sources in [`model`]). It runs on tokio's paused clock: a
//! 10,000-account sweep takes seconds of real time, the same figures from the same seed.
//!
//! - [`run::run`]: one scenario (the hub's scheduled sweeps, or the CLI's run that the moto
//!   benchmark measured), its figures and the process's peak RSS; each invocation (`invocation`)
//!   keeps the account list as the hub does: a warm sweep starts at once on the kept list and
//!   lists the organization beside itself, a cold start sweeps on no list and takes the
//!   accounts as the listing's pages bring them.
//! - [`suite`]: the benchmark (`./scripts/bench org-sim`): the calibration against moto, the
//!   hub at 10,000 and 30,000 accounts, and the curve of accounts checked in time against
//!   concurrency and latency; bench/results/org-sim.json.

mod invocation;
pub mod model;
pub mod net;
pub mod ports;
pub mod run;
pub mod suite;
pub mod world;

pub use run::{Outcome, RunMode, Scenario, Shell, SweepFigures, run};
