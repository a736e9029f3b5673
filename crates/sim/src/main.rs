//! `flowguard-sim`: the organization scale simulation (`./scripts/bench org-sim`).
//!
//! ```text
//! flowguard-sim bench --moto bench/results/org.json --out bench/results/org-sim.json [--seed N] [--quick]
//!     every scenario of the suite, each in its own process (its own peak RSS), and the
//!     results file; progress on stderr
//! flowguard-sim run < scenario.json
//!     one scenario (JSON, as `bench` writes them), its outcome as JSON on stdout
//! ```

use flowguard_sim::suite::{self, FULL, QUICK, Sizes};
use flowguard_sim::{Scenario, run};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, ExitCode, Stdio};

/// The seed when none is given: the issue's number.
const SEED: u64 = 27;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run_one(),
        Some("bench") => bench(&args[1..]),
        _ => Err("usage: flowguard-sim bench --moto FILE --out FILE [--seed N] [--quick] | flowguard-sim run < scenario.json".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flowguard-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_one() -> Result<(), String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("reading the scenario: {e}"))?;
    let scenario: Scenario =
        serde_json::from_str(&input).map_err(|e| format!("the scenario: {e}"))?;
    let outcome = run(&scenario)?;
    let out = serde_json::to_string(&outcome).map_err(|e| e.to_string())?;
    println!("{out}");
    Ok(())
}

/// The value of `--name` in `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn bench(args: &[String]) -> Result<(), String> {
    let moto_path = flag(args, "--moto").ok_or("--moto FILE is required")?;
    let out_path = flag(args, "--out").ok_or("--out FILE is required")?;
    let seed = match flag(args, "--seed") {
        Some(s) => s.parse().map_err(|e| format!("--seed: {e}"))?,
        None => SEED,
    };
    let sizes: Sizes = if args.iter().any(|a| a == "--quick") {
        QUICK
    } else {
        FULL
    };
    let text = std::fs::read_to_string(moto_path).map_err(|e| format!("{moto_path}: {e}"))?;
    let moto: Value = serde_json::from_str(&text).map_err(|e| format!("{moto_path}: {e}"))?;
    let measured = suite::measured(&moto)?;
    let scenarios = suite::scenarios(&measured, sizes, seed);
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let mut outcomes = BTreeMap::new();
    let total = scenarios.len();
    for (n, (key, scenario)) in scenarios.into_iter().enumerate() {
        let outcome = in_child(&exe, &scenario)?;
        let sweep = &outcome["sweeps"][0];
        eprintln!(
            "[{}/{total}] {key}: {} of {} accounts checked in sweep 1, last at {} s simulated; {} calls, {} throttled, {} retries; peak RSS {} MiB; {} s real",
            n + 1,
            sweep["accounts_checked"],
            scenario.accounts,
            sweep["last_checked_s"],
            sweep["net"]["calls"],
            sweep["net"]["throttled"],
            sweep["net"]["retries"],
            outcome["peak_rss_kib"].as_u64().unwrap_or(0) / 1024,
            outcome["real_s"],
        );
        outcomes.insert(key, outcome);
    }
    let results = suite::assemble(&measured, &outcomes, sizes, seed);
    let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    std::fs::write(out_path, text + "\n").map_err(|e| format!("{out_path}: {e}"))?;
    eprintln!("wrote {out_path}");
    Ok(())
}

/// Runs `scenario` in a child process of this program (`run`), for its own peak RSS.
fn in_child(exe: &std::path::Path, scenario: &Scenario) -> Result<Value, String> {
    let mut child = Command::new(exe)
        .arg("run")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", exe.display()))?;
    let input = serde_json::to_vec(scenario).map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(&input)
        .map_err(|e| format!("writing the scenario: {e}"))?;
    let output = child
        .wait_with_output()
        .map_err(|e| format!("running {}: {e}", scenario.name))?;
    if !output.status.success() {
        return Err(format!("{}: {}", scenario.name, output.status));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{}: {e}", scenario.name))
}
