//! The engine's tests, one binary (fewer binaries link faster): pure table and property
//! tests of the rule and the planner, and reconcile tests over the in-memory fake of the
//! ports (`flowguard_core::fake`). Each module was once a test file of its own; `common`
//! holds the builders they share.

mod common;

mod export;
mod export_verdict;
mod follow_up;
mod handler;
mod hostile;
mod organization;
mod policy;
mod properties;
mod reconcile;
mod rule_and_plan;
mod triggers;
