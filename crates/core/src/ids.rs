//! Newtypes for the identifiers flowguard handles, so that a VPC id can never be passed
//! where a flow-log id or a log-group name is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value as it is; validation happens where values enter (events, config).
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The identifier as AWS spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

id_type!(
    /// A VPC id, `vpc-…`.
    VpcId
);
id_type!(
    /// A flow-log id, `fl-…`.
    FlowLogId
);
id_type!(
    /// A CloudWatch Logs log-group name.
    LogGroupName
);

impl VpcId {
    /// Whether `value` looks like a VPC id (`vpc-` then 1 to 32 letters or digits). Used to
    /// read ids out of events leniently without trusting them.
    pub fn is_well_formed(value: &str) -> bool {
        value.strip_prefix("vpc-").is_some_and(|rest| {
            (1..=32).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
    }
}

impl FlowLogId {
    /// Whether `value` looks like a flow-log id (`fl-` then 1 to 32 letters or digits).
    pub fn is_well_formed(value: &str) -> bool {
        value.strip_prefix("fl-").is_some_and(|rest| {
            (1..=32).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
    }
}

/// Where a run acts: one region of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub region: String,
    pub account: String,
}
