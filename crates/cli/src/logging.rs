//! `-v`, `--log-level`: tracing to stderr with tracing's own subscriber, off by default. The
//! AWS SDK logs each call, retry and throttling at debug through `tracing`.

use crate::args::LogFlags;
use crate::failure::Failure;
use tracing_subscriber::EnvFilter;

/// The filter the flags ask for: `--log-level` (or `FLOWGUARD_LOG_LEVEL`), else `-v`…, else
/// `rust_log` (`RUST_LOG`); `None`: tracing stays off.
fn filter(flags: &LogFlags, rust_log: Option<String>) -> Result<Option<EnvFilter>, Failure> {
    let given = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
    let (directives, source) = if let Some(level) = given(&flags.log_level) {
        (level, "--log-level (FLOWGUARD_LOG_LEVEL)")
    } else if flags.verbose > 0 {
        let level = match flags.verbose {
            1 => "info",
            2 => "debug",
            _ => "trace",
        };
        (level.to_owned(), "-v")
    } else if let Some(value) = given(&rust_log) {
        (value, "RUST_LOG")
    } else {
        return Ok(None);
    };
    EnvFilter::builder()
        .parse(&directives)
        .map(Some)
        .map_err(|e| {
            Failure(format!(
                "{source}: {directives:?} is not a log level or filter ({e}): expected error, \
                 warn, info, debug, trace, or a filter such as aws_smithy_runtime=debug"
            ))
        })
}

/// Starts tracing to stderr when the flags or the environment ask for it; says whether it is
/// on (the progress bar then gives way to lines).
pub fn init(flags: &LogFlags) -> Result<bool, Failure> {
    let Some(filter) = filter(flags, std::env::var("RUST_LOG").ok())? else {
        return Ok(false);
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| Failure(format!("could not start tracing: {e}")))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(verbose: u8, log_level: Option<&str>) -> LogFlags {
        LogFlags {
            quiet: false,
            verbose,
            log_level: log_level.map(str::to_owned),
        }
    }

    fn shown(flags: &LogFlags, rust_log: Option<&str>) -> Option<String> {
        filter(flags, rust_log.map(str::to_owned))
            .unwrap()
            .map(|f| f.to_string())
    }

    #[test]
    fn off_unless_asked() {
        assert_eq!(shown(&flags(0, None), None), None);
        assert_eq!(shown(&flags(0, Some(" ")), Some("")), None);
    }

    #[test]
    fn the_flag_then_the_count_then_rust_log() {
        assert_eq!(
            shown(&flags(0, Some("warn")), Some("trace")).as_deref(),
            Some("warn")
        );
        assert_eq!(
            shown(&flags(1, None), Some("trace")).as_deref(),
            Some("info")
        );
        assert_eq!(shown(&flags(2, None), None).as_deref(), Some("debug"));
        assert_eq!(shown(&flags(5, None), None).as_deref(), Some("trace"));
        assert_eq!(
            shown(&flags(0, None), Some("aws_smithy_runtime=debug")).as_deref(),
            Some("aws_smithy_runtime=debug")
        );
    }

    #[test]
    fn a_bad_filter_names_where_it_came_from() {
        let error = filter(&flags(0, Some("aws=loud")), None).unwrap_err();
        assert!(
            error.0.starts_with("--log-level (FLOWGUARD_LOG_LEVEL)"),
            "{error}"
        );
    }
}
