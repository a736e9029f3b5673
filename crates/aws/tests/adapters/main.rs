//! The AWS adapters' tests with aws-smithy-mocks, one binary (fewer binaries link faster):
//! the error paths, pagination and limits that a local emulator cannot produce on demand.
//! Each module was once a test file of its own.

mod common;

mod ec2_logs;
mod integrations;
mod organization;
