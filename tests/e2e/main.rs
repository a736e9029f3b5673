//! The integration and end-to-end suites against moto server, one binary (fewer binaries
//! link faster). Each module was once a test binary of its own:
//!
//! - `integration`: the engine and the AWS adapters, real SDK calls against moto;
//! - `cli`: the `flowguard` binary, one file per command;
//! - `faults`: faults and races through the fault-injecting proxy;
//! - `organization`: an organization's accounts, and `AssumeRole` into its members;
//! - `s3`: the S3 destination;
//! - `lambda`: the built Lambda binary under `cargo lambda watch`;
//! - `html`: the HTML report in headless Chromium (no moto; the browser).
//!
//! Every test takes the one moto server in turn (`flowguard_tests::moto`). The tests are
//! `#[ignore]`d, so that a bare `cargo test --workspace` passes with nothing running;
//! `./scripts/test` starts moto (and installs Chromium) and runs them with `--include-ignored`. Shared helpers live in
//! the support library (`tests/support/`, the crate `flowguard_tests`).

mod cli;
mod faults;
mod html;
mod integration;
mod lambda;
mod organization;
mod s3;
