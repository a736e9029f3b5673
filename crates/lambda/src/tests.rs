//! The Lambda's own part of an invocation: when to stop starting new steps.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn the_deadline_is_the_runtimes_less_a_margin() {
    let now_ms: u128 = 1_800_000_000_000;
    let secs = std::time::Duration::from_secs;
    let in_a_minute = super::deadline(1_800_000_060_000, now_ms).unwrap();
    let left = in_a_minute.stop_at - std::time::Instant::now();
    assert!(left <= secs(30) && left > secs(25), "{left:?}");
    // A 20-second function stops starting work halfway.
    let short = super::deadline(1_800_000_020_000, now_ms).unwrap();
    let left = short.stop_at - std::time::Instant::now();
    assert!(left <= secs(10) && left > secs(8), "{left:?}");
    // Already late: stop at once.
    assert!(super::deadline(1_799_999_000_000, now_ms).unwrap().passed());
    // No time given (0), or a timeout instead of a time (`cargo lambda watch`): none.
    assert!(super::deadline(0, now_ms).is_none());
    assert!(super::deadline(600_000, now_ms).is_none());
}
