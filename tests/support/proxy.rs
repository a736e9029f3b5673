//! A fault-injecting HTTP proxy in front of moto: throttling, 500/503, dropped connections,
//! lost responses (the request was applied, the answer never arrives) and delays beyond the
//! SDK's attempt timeout. Which request gets which fault is decided by a seeded hash of
//! (seed, operation, how many times that operation was seen), so a schedule replays the same
//! way even when reads run concurrently.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    Pass,
    /// `RequestLimitExceeded` (EC2, HTTP 503) or `ThrottlingException` (Logs, HTTP 400).
    Throttle,
    /// HTTP 500 `InternalError` / 503 `ServiceUnavailable`.
    ServerError(u16),
    /// The connection is closed before the request reaches moto.
    Reset,
    /// The request reaches moto and is applied; the response is dropped.
    LoseResponse,
    /// The request is held longer than the SDK's attempt timeout, then forwarded.
    Delay,
}

/// The faults of one run.
#[derive(Debug, Default)]
pub struct Schedule {
    pub seed: u64,
    /// Out of 1000: how often a request is faulted.
    pub per_mille: u64,
    seen: HashMap<String, u64>,
    /// Every request with the fault it got, in arrival order.
    pub log: Vec<(String, Fault)>,
}

impl Schedule {
    pub fn new(seed: u64, per_mille: u64) -> Self {
        Self {
            seed,
            per_mille,
            ..Self::default()
        }
    }

    /// No faults at all.
    pub fn none() -> Self {
        Self::new(0, 0)
    }

    fn decide(&mut self, operation: &str) -> Fault {
        let n = self.seen.entry(operation.to_owned()).or_default();
        *n += 1;
        let mut h = splitmix(self.seed ^ splitmix(*n));
        for b in operation.bytes() {
            h = splitmix(h ^ u64::from(b));
        }
        let fault = if h % 1000 >= self.per_mille {
            Fault::Pass
        } else {
            match (h / 1000) % 12 {
                0..=3 => Fault::Throttle,
                4 => Fault::ServerError(500),
                5 | 6 => Fault::ServerError(503),
                7 | 8 => Fault::Reset,
                9 | 10 => Fault::LoseResponse,
                _ => Fault::Delay,
            }
        };
        self.log.push((operation.to_owned(), fault));
        fault
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The proxy: listens on a free loopback port until dropped... or the test process ends.
#[derive(Debug, Clone)]
pub struct FaultProxy {
    pub url: String,
    pub schedule: Arc<Mutex<Schedule>>,
}

/// How long a `Fault::Delay` holds a request.
pub const DELAY: Duration = Duration::from_millis(400);

impl FaultProxy {
    pub fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let schedule = Arc::new(Mutex::new(Schedule::none()));
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let shared = schedule.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (schedule, upstream) = (shared.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &upstream, &schedule);
                });
            }
        });
        Self { url, schedule }
    }

    /// Replaces the schedule (the log starts empty).
    pub fn set(&self, schedule: Schedule) {
        *self.schedule.lock().unwrap() = schedule;
    }

    pub fn log(&self) -> Vec<(String, Fault)> {
        self.schedule.lock().unwrap().log.clone()
    }
}

struct Request {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    /// The API operation: EC2/IAM send `Action=…` in the form body, Logs an `X-Amz-Target`.
    fn operation(&self) -> String {
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().unwrap_or(target).to_owned();
        }
        let body = String::from_utf8_lossy(&self.body);
        body.split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or("Unknown")
            .to_owned()
    }

    fn is_json(&self) -> bool {
        self.header("x-amz-target").is_some()
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let mut request = Request {
        head,
        body: Vec::new(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    reader.read_exact(&mut request.body)?;
    Ok(Some(request))
}

fn error_response(request: &Request, fault: Fault) -> Vec<u8> {
    let (status, code, message) = match (fault, request.is_json()) {
        (Fault::Throttle, true) => (400, "ThrottlingException", "Rate exceeded"),
        (Fault::Throttle, false) => (503, "RequestLimitExceeded", "Request limit exceeded."),
        (Fault::ServerError(500), true) => (500, "InternalFailure", "internal failure (injected)"),
        (Fault::ServerError(500), false) => (500, "InternalError", "internal error (injected)"),
        (_, true) => (503, "ServiceUnavailableException", "unavailable (injected)"),
        (_, false) => (503, "Unavailable", "unavailable (injected)"),
    };
    let (content_type, body) = if request.is_json() {
        (
            "application/x-amz-json-1.1",
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        )
    } else {
        (
            "text/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>injected</RequestID></Response>"
            ),
        )
    };
    format!(
        "HTTP/1.1 {status} Injected\r\nContent-Type: {content_type}\r\nx-amzn-ErrorType: {code}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn forward(request: &Request, upstream: &str) -> std::io::Result<Vec<u8>> {
    let mut moto = TcpStream::connect(upstream)?;
    let mut head = request.head.clone();
    head.retain(|l| !l.to_ascii_lowercase().starts_with("connection:"));
    head.push("Connection: close".to_owned());
    moto.write_all(format!("{}\r\n\r\n", head.join("\r\n")).as_bytes())?;
    moto.write_all(&request.body)?;
    let mut response = Vec::new();
    moto.read_to_end(&mut response)?;
    Ok(response)
}

/// One request per connection: the proxy always answers `Connection: close`.
fn serve(client: TcpStream, upstream: &str, schedule: &Mutex<Schedule>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(request) = read_request(&mut reader)? else {
        return Ok(());
    };
    let fault = schedule.lock().unwrap().decide(&request.operation());
    let mut client = client;
    match fault {
        Fault::Reset => client.shutdown(Shutdown::Both),
        Fault::Throttle | Fault::ServerError(_) => {
            client.write_all(&error_response(&request, fault))
        }
        Fault::LoseResponse => {
            forward(&request, upstream)?;
            client.shutdown(Shutdown::Both)
        }
        Fault::Delay | Fault::Pass => {
            if fault == Fault::Delay {
                std::thread::sleep(DELAY);
            }
            let response = forward(&request, upstream)?;
            client.write_all(&response)
        }
    }
}
