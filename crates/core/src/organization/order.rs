//! The fair order of a sweep: the accounts due first, then the others by their distance from a
//! clock hand that goes once around a circle of account hashes every [`ROTATION_SECONDS`]
//! (see [`super::AccountScope::sweep_order`]).

use std::collections::BTreeSet;

/// How long the clock hand of [`super::AccountScope::sweep_order`] takes to go once around the
/// accounts: two hourly sweeps.
pub const ROTATION_SECONDS: i64 = 2 * 60 * 60;

/// Where an account stands in a sweep's fair order ([`super::AccountScope::sweep_order`]): the
/// accounts `due` first, then the others by their distance from the clock hand at `at` (Unix
/// seconds) on a circle of account hashes; by id when there is no hand. Smaller goes first.
/// The key needs no other account: a sweep can order accounts as the organization's listing
/// brings them ([`crate::sweep::sweep`]).
pub fn order_key(account: &str, due: &BTreeSet<String>, at: Option<i64>) -> (bool, u64) {
    let distance = at.map_or(0, |at| circle_point(account).wrapping_sub(hand(at)));
    (!due.contains(account), distance)
}

/// The clock hand at `at`: once around the circle (all of `u64`) every [`ROTATION_SECONDS`].
fn hand(at: i64) -> u64 {
    let phase = u128::try_from(at.rem_euclid(ROTATION_SECONDS)).unwrap_or(0);
    let rotation = u128::try_from(ROTATION_SECONDS).unwrap_or(1);
    u64::try_from((phase << 64) / rotation).unwrap_or(0)
}

/// An account's point on the circle: its id times 2^64/φ (Fibonacci hashing), which spreads
/// any run of ids evenly around the circle; an id that is not a number is hashed first
/// (FNV-1a).
fn circle_point(account: &str) -> u64 {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
    let n = account.parse::<u64>().unwrap_or_else(|_| {
        account.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
        })
    });
    n.wrapping_mul(GOLDEN)
}
