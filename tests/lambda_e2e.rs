//! End to end: the built Lambda binary under `cargo lambda watch` (the Lambda runtime API
//! emulator), invoked with real events, acting on moto server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use flowguard_tests::{
    Moto, REGION, Seed, create_vpc_event, delivery_role, fixture, moto, workspace_binary,
};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process that is killed when the test ends, whatever happens.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `cargo lambda watch --only-lambda-apis` on a free port.
fn watch() -> (Killed, u16) {
    let port = free_port();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    // Its log goes to a file, not a pipe that nobody drains.
    let log_path = std::env::temp_dir().join(format!("flowguard-watch-{port}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new("cargo")
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `cargo lambda watch` ({e}): run ./scripts/test, which installs cargo-lambda"));
    let mut child = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.0.try_wait().unwrap() {
            let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!(
                "cargo lambda watch exited ({status}): {stderr}\n(is cargo-lambda installed? ./scripts/test installs it)"
            );
        }
        assert!(
            Instant::now() < deadline,
            "cargo lambda watch did not listen on {port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, port)
}

/// The function binary, polling the emulator's runtime API, with moto's environment.
fn function(m: &Moto, port: u16, config: &[(&str, &str)]) -> Killed {
    let mut command = Command::new(workspace_binary("flowguard-lambda"));
    command.env_clear().envs(m.env()).envs([
        (
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        ),
        ("AWS_LAMBDA_FUNCTION_NAME", "_".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "e2e".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/flowguard".into()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
    ]);
    command.envs(config.iter().map(|(k, v)| (*k, *v)));
    Killed(
        command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Invokes the function through the emulator: (HTTP status, body).
fn invoke(port: u16, payload: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "POST /2015-03-31/functions/_/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    )
    .unwrap();
    stream.write_all(payload).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn invoke_json(port: u16, event: &Value) -> Value {
    let (status, body) = invoke(port, event.to_string().as_bytes());
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn the_lambda_remediates_restores_and_survives_garbage() {
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let role = delivery_role(&m, "flowguard-delivery").await;
    let (_watch, port) = watch();
    let _function = function(&m, port, &[("FLOWGUARD_DELIVERY_ROLE_ARN", &role)]);

    // CreateVpc → the flow log exists.
    let vpc = seed.vpc().await;
    let report = invoke_json(port, &create_vpc_event(&vpc));
    assert_eq!(report["vpcs"][0]["status"], "remediated", "{report}");
    let flow_logs = seed.flow_logs_of(&vpc).await;
    assert_eq!(flow_logs.len(), 1);
    assert_eq!(seed.retention("/vpc/flow-logs").await, Some(Some(365)));

    // Someone deletes it → DeleteFlowLogs → restored.
    let id = flow_logs[0].flow_log_id().unwrap().to_owned();
    seed.delete_flow_log(&id).await;
    let event = flowguard_tests::delete_flow_logs_event(&id);
    let report = invoke_json(port, &event);
    assert_eq!(report["trigger"]["kind"], "sweep");
    assert_eq!(seed.flow_logs_of(&vpc).await.len(), 1, "{report}");

    // Garbage → an error response; the function keeps serving.
    let (status, body) = invoke(port, b"this is not json");
    assert_eq!(status, 500, "{body}");
    let (status, body) = invoke(port, b"{}");
    assert_eq!(status, 500, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["errorType"], "flowguard.PermanentFailure");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("invalid input"),
        "{body}"
    );

    let report = invoke_json(port, &fixture("scheduled_event.json"));
    assert_eq!(report["summary"]["vpcs"]["failed"], 0, "{report}");
    assert_eq!(report["summary"]["actions"]["failed"], 0);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn in_dry_run_nothing_changes() {
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let (_watch, port) = watch();
    // No role at all: a dry run starts anyway and says so.
    let _function = function(&m, port, &[("FLOWGUARD_DRY_RUN", "true")]);
    let vpc = seed.vpc().await;

    let report = invoke_json(port, &create_vpc_event(&vpc));

    assert_eq!(report["dry_run"], true);
    assert_eq!(report["vpcs"][0]["status"], "would_remediate", "{report}");
    assert_eq!(report["actions"][0]["result"], "planned");
    assert!(
        report["warnings"]
            .to_string()
            .contains("FLOWGUARD_DELIVERY_ROLE_ARN"),
        "{report}"
    );
    assert!(seed.all_flow_logs().await.is_empty());
    assert_eq!(seed.retention("/vpc/flow-logs").await, None);
}

/// A configuration error fails the init with one clear message.
#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_bad_configuration_fails_the_init() {
    let m = moto().await;
    let role = delivery_role(&m, "flowguard-delivery").await;
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("FLOWGUARD_DELIVERY_ROLE_ARN", &role),
                ("FLOWGUARD_RETENTION_DAYS", "30"),
            ],
            "FLOWGUARD_RETENTION_DAYS=\"30\"",
        ),
        (&[], "FLOWGUARD_DELIVERY_ROLE_ARN"),
        (
            &[(
                "FLOWGUARD_DELIVERY_ROLE_ARN",
                "arn:aws:iam::123456789012:role/missing",
            )],
            "does not exist",
        ),
    ];
    for (config, needle) in cases {
        let output = Command::new(workspace_binary("flowguard-lambda"))
            .env_clear()
            .envs(m.env())
            .envs(config.iter().map(|(k, v)| (*k, *v)))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!output.status.success(), "{text}");
        assert!(text.contains(needle), "{needle:?} not in {text}");
        assert!(!text.contains("panicked"), "{text}");
    }
}
