//! Child processes of the suites and of the demo, each killed when its handle is dropped
//! ([`KillOnDrop`]), on a panic too: moto server ([`MotoServer`]), the Lambda runtime API
//! emulator ([`LambdaEmulator`]) and the built `flowguard-lambda` polling it
//! ([`LambdaEmulator::start_function`]), which is then invoked as Lambda's Invoke API would
//! ([`LambdaEmulator::invoke`]). Everything listens on loopback ports that the OS picks.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long an emulator may take to answer once started (moto's first start compiles its
/// Python modules).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one invocation may take; the function's own deadline is far shorter.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests.parent().unwrap_or(tests).to_path_buf()
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process that is killed (and reaped) when dropped, whatever happens.
#[derive(Debug)]
pub struct KillOnDrop(Child);

impl KillOnDrop {
    pub fn new(child: Child) -> Self {
        Self(child)
    }

    /// How it ended, once it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.0.try_wait().ok().flatten()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// moto server, started from the project virtualenv (`.venv`, which `./scripts/test` and
/// `./scripts/demo` install).
#[derive(Debug)]
pub struct MotoServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    _process: KillOnDrop,
}

/// Spawns `command` with no input and its output into `log`; `why` is the error's first words
/// when it cannot start.
fn spawn_logging(mut command: Command, log: &Path, why: &str) -> io::Result<KillOnDrop> {
    let output = File::create(log)?;
    command
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .spawn()
        .map(KillOnDrop)
        .map_err(|e| io::Error::new(e.kind(), format!("{why} ({e})")))
}

impl MotoServer {
    /// `.venv/bin/moto_server -H 127.0.0.1 -p PORT` on a free port, its output into `log`;
    /// returns once it answers HTTP.
    pub fn start(log: &Path) -> io::Result<Self> {
        let program = workspace_root().join(".venv/bin/moto_server");
        let port = free_port()?;
        let mut command = Command::new(&program);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let why = format!(
            "cannot start {}: ./scripts/test and ./scripts/demo install it",
            program.display()
        );
        let mut process = spawn_logging(command, log, &why)?;
        let url = format!("http://127.0.0.1:{port}");
        wait_until(&mut process, "moto server", log, || {
            http(port, "GET", "/moto-api/", b"").is_ok()
        })?;
        Ok(Self {
            url,
            _process: process,
        })
    }
}

/// `cargo lambda watch --only-lambda-apis`: the Lambda runtime API that a function polls for
/// its invocations, and the Invoke API that delivers them. It runs no function of its own.
#[derive(Debug)]
pub struct LambdaEmulator {
    pub port: u16,
    _process: KillOnDrop,
}

impl LambdaEmulator {
    /// Starts it on a free port (`cargo-lambda` must be on `PATH`), its output into `log`;
    /// returns once it listens.
    pub fn start(log: &Path) -> io::Result<Self> {
        let port = free_port()?;
        let mut command = Command::new("cargo");
        command
            .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1"])
            .args(["-P", &port.to_string()])
            .current_dir(workspace_root());
        let why = "cannot start `cargo lambda watch`: is cargo-lambda installed? ./scripts/test \
                   and ./scripts/demo install it into .venv";
        let mut process = spawn_logging(command, log, why)?;
        wait_until(&mut process, "cargo lambda watch", log, || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        })?;
        Ok(Self {
            port,
            _process: process,
        })
    }

    /// The built `flowguard-lambda` polling this emulator, with a cleared environment: `env`
    /// (the AWS and flowguard variables), then the ones the Lambda service sets. Its output
    /// is appended to `log`, or dropped.
    pub fn start_function(
        &self,
        env: &[(&str, String)],
        log_stream: &str,
        log: Option<&Path>,
    ) -> io::Result<KillOnDrop> {
        let (stdout, stderr) = match log {
            Some(path) => {
                let file = OpenOptions::new().create(true).append(true).open(path)?;
                (file.try_clone()?.into(), file.into())
            }
            None => (Stdio::null(), Stdio::null()),
        };
        let runtime = [
            (
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt", self.port),
            ),
            ("AWS_LAMBDA_FUNCTION_NAME", "_".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.into()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/flowguard".into()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ];
        Command::new(crate::workspace_binary("flowguard-lambda"))
            .env_clear()
            .envs(env.iter().cloned())
            .envs(runtime)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map(KillOnDrop)
    }

    /// Invokes the function (`POST /2015-03-31/functions/_/invocations`): its HTTP status and
    /// body. Gives up as soon as `function` exits, since no answer would come.
    pub fn invoke(&self, function: &mut KillOnDrop, payload: &[u8]) -> io::Result<(u16, String)> {
        let path = "/2015-03-31/functions/_/invocations";
        let mut stream = request(self.port, "POST", path, payload)?;
        // Short reads, so that a function that died is noticed at once.
        stream.set_read_timeout(Some(Duration::from_millis(50)))?;
        let deadline = Instant::now() + INVOKE_TIMEOUT;
        let mut answer = Vec::new();
        let mut buffer = [0; 16 * 1024];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if let Some(status) = function.exited() {
                        return Err(io::Error::other(format!(
                            "the function exited ({status}) before it answered"
                        )));
                    }
                    if Instant::now() > deadline {
                        return Err(io::Error::new(
                            ErrorKind::TimedOut,
                            format!("no answer within {} s", INVOKE_TIMEOUT.as_secs()),
                        ));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(status_and_body(&answer))
    }
}

/// Waits until `ready()`, while `process` runs, for [`START_TIMEOUT`]; the error quotes its
/// log.
fn wait_until(
    process: &mut KillOnDrop,
    what: &str,
    log: &Path,
    mut ready: impl FnMut() -> bool,
) -> io::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    while !ready() {
        let log_text = || std::fs::read_to_string(log).unwrap_or_default();
        if let Some(status) = process.exited() {
            return Err(io::Error::other(format!(
                "{what} exited ({status}); its log, {}:\n{}",
                log.display(),
                log_text()
            )));
        }
        if Instant::now() > deadline {
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                format!(
                    "{what} did not answer within {} s (see {})",
                    START_TIMEOUT.as_secs(),
                    log.display()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Sends one HTTP/1.1 request with `Connection: close` to a loopback port.
fn request(port: u16, method: &str, path: &str, body: &[u8]) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    Ok(stream)
}

/// One HTTP/1.1 exchange, read to the end: the status and the body.
fn http(port: u16, method: &str, path: &str, body: &[u8]) -> io::Result<(u16, String)> {
    let mut stream = request(port, method, path, body)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(status_and_body(&answer))
}

/// The status (0 when unreadable) and the body of a whole, unchunked HTTP answer.
fn status_and_body(answer: &[u8]) -> (u16, String) {
    let answer = String::from_utf8_lossy(answer);
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
