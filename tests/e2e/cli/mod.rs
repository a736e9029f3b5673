//! The `flowguard` binary end to end against moto server: every subcommand, its output and
//! its exit code. The binary is the one `cargo build --workspace --bins` put next to this
//! test executable (`./scripts/test` builds it first); `FLOWGUARD_BIN` overrides the path.
//! Children get a cleared environment plus moto's (dummy credentials, endpoint, no instance
//! metadata), so no developer credentials can leak in.
//!
//! One module per command (and one for configuration errors, the output formats and
//! organization mode); this one holds what they share: running the binary, the delivery role
//! and what a run could change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use flowguard_tests::{ACCOUNT, Moto, Seed};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

mod apply;
mod audit;
mod configuration;
mod formats;
mod handle_event;
mod organization;
mod plan;
mod setup_role;
mod table;

const ROLE_NAME: &str = "flowguard-delivery";
const MANAGED_GROUP: &str = "/vpc/flow-logs";

/// The `flowguard` binary: `FLOWGUARD_BIN`, else the workspace's own build.
fn binary() -> PathBuf {
    std::env::var_os("FLOWGUARD_BIN").map_or_else(
        || flowguard_tests::workspace_binary("flowguard"),
        PathBuf::from,
    )
}

/// What one run of the binary gave.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

/// A run of `flowguard` with only moto's environment.
struct Flowguard {
    cmd: assert_cmd::Command,
    stdin: Vec<u8>,
}

fn flowguard(m: &Moto, args: &[&str]) -> Flowguard {
    let mut cmd = assert_cmd::Command::new(binary());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(m.env())
        .args(args)
        .timeout(Duration::from_secs(120));
    Flowguard {
        cmd,
        stdin: Vec::new(),
    }
}

impl Flowguard {
    fn env(mut self, key: &str, value: &str) -> Self {
        self.cmd.env(key, value);
        self
    }

    fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// The delivery role that [`create_role`] makes.
    fn role(self) -> Self {
        self.env("FLOWGUARD_DELIVERY_ROLE_ARN", &role_arn())
    }

    fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }

    /// Runs it (stdin is always a pipe, never the terminal) and checks it did not panic.
    fn run(mut self) -> Out {
        let output = self.cmd.write_stdin(self.stdin).output().unwrap();
        let out = Out {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(
            out.code != 101 && !out.stderr.contains("panicked"),
            "flowguard panicked:\n{}",
            out.stderr
        );
        assert!(!out.stderr.contains("RUST_BACKTRACE"), "{}", out.stderr);
        out
    }
}

fn role_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}")
}

/// A delivery role in moto's IAM that trusts the flow-logs service, so that `init` and
/// `apply` accept it.
async fn create_role(m: &Moto) {
    flowguard_tests::delivery_role(m, ROLE_NAME).await;
}

/// What a run could change: every flow log (id, resource, tags) and every log group with
/// its retention, in `region`.
async fn state(m: &Moto, region: &str) -> (Vec<String>, BTreeMap<String, Option<i32>>) {
    let seed = Seed::new(&m.clients(region).await);
    let mut flow_logs: Vec<String> = seed
        .all_flow_logs()
        .await
        .iter()
        .map(|fl| {
            format!(
                "{:?} {:?} {:?}",
                fl.flow_log_id(),
                fl.resource_id(),
                fl.tags()
            )
        })
        .collect();
    flow_logs.sort();
    let groups = seed.logs.describe_log_groups().send().await.unwrap();
    let groups = groups
        .log_groups()
        .iter()
        .map(|g| {
            (
                g.log_group_name().unwrap_or_default().to_owned(),
                g.retention_in_days(),
            )
        })
        .collect();
    (flow_logs, groups)
}

/// The report of the one account×region run of a sweep's JSON (`accounts[0].report`): the
/// shape is the same for one account in one region as for an organization.
#[track_caller]
fn only_report(json: &Value) -> Value {
    let runs = json["accounts"]
        .as_array()
        .unwrap_or_else(|| panic!("no accounts in {json}"));
    assert_eq!(runs.len(), 1, "one run expected: {json}");
    assert_eq!(runs[0]["status"], "ok", "{json}");
    runs[0]["report"].clone()
}

/// The reports of a sweep's JSON, sorted by account, then region in the order of its
/// `regions` (runs come in the order they finished).
fn reports(json: &Value) -> Vec<Value> {
    let regions = json["regions"].as_array().unwrap();
    let rank = |run: &Value| regions.iter().position(|r| *r == run["region"]);
    let mut runs: Vec<&Value> = json["accounts"].as_array().unwrap().iter().collect();
    runs.sort_by_key(|run| (run["account"].as_str().unwrap().to_owned(), rank(run)));
    runs.iter().map(|run| run["report"].clone()).collect()
}

fn statuses(report: &Value) -> Vec<(String, String)> {
    report["vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["vpc_id"].as_str().unwrap().to_owned(),
                v["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
