//! Fuzzes `flowguard_core::trigger::parse_event`, the only code that reads untrusted bytes.
//!
//! Besides "never panics, never overflows the stack, never hangs", it checks the invariants
//! the rest of flowguard relies on:
//! - the size limit and the empty-input check come first;
//! - a trigger always carries a reason, and names only well-formed VPC ids and non-empty
//!   log-group names (the ids reach AWS API calls and the report);
//! - parsing is deterministic, and `parse_event` agrees with `trigger_from_value` on the
//!   same document.

#![no_main]

use flowguard_core::VpcId;
use flowguard_core::trigger::{
    InvalidEvent, MAX_EVENT_BYTES, Target, parse_event, trigger_from_value,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let result = parse_event(data);
    assert_eq!(
        result,
        parse_event(data),
        "parse_event is not deterministic"
    );
    match &result {
        Err(InvalidEvent::TooLarge(n)) => {
            assert_eq!(*n, data.len());
            assert!(data.len() > MAX_EVENT_BYTES);
        }
        Err(InvalidEvent::Empty) => assert!(data.iter().all(u8::is_ascii_whitespace)),
        Err(error) => assert!(!error.to_string().is_empty()),
        Ok(trigger) => {
            assert!(!trigger.reason.is_empty(), "a trigger without a reason");
            match &trigger.target {
                Target::Vpcs(ids) => {
                    assert!(!ids.is_empty(), "a VPC trigger without a VPC");
                    for id in ids {
                        assert!(VpcId::is_well_formed(id.as_str()), "VPC id {id:?}");
                    }
                }
                Target::LogGroup(name) => assert!(!name.as_str().is_empty()),
                Target::Sweep | Target::Ignored => {}
            }
        }
    }
    // Whatever serde_json reads, trigger_from_value (the Lambda's path) decides the same way.
    if data.len() <= MAX_EVENT_BYTES
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(data)
    {
        assert_eq!(trigger_from_value(&value), result);
    }
});
