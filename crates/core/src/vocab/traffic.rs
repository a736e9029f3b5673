//! [`TrafficType`]: which traffic a flow log captures.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which traffic a flow log captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrafficType {
    Accept,
    Reject,
    All,
}

impl TrafficType {
    /// Parses the EC2 spelling (`ACCEPT`, `REJECT`, `ALL`).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "ACCEPT" => Some(Self::Accept),
            "REJECT" => Some(Self::Reject),
            "ALL" => Some(Self::All),
            _ => None,
        }
    }

    /// The EC2 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "ACCEPT",
            Self::Reject => "REJECT",
            Self::All => "ALL",
        }
    }

    /// Whether a flow log of this type satisfies a policy that asks for `wanted`:
    /// REJECT is satisfied by REJECT or ALL; ALL only by ALL; ACCEPT never counts.
    pub fn satisfies(self, wanted: TrafficType) -> bool {
        match wanted {
            Self::All => self == Self::All,
            Self::Reject | Self::Accept => matches!(self, Self::Reject | Self::All),
        }
    }
}

impl fmt::Display for TrafficType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
