//! [`Arn`]: the fields of an Amazon Resource Name, read in one place.

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, borrowed from the text; the resource may
/// hold colons of its own (`log-group:NAME:*`). Placeholders (`{partition}`, `{region}`,
/// `{account_id}`) are fields like any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// The fields of `text`, when it has the six of an ARN and begins with `arn`.
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut fields = text.splitn(6, ':');
        if fields.next()? != "arn" {
            return None;
        }
        Some(Self {
            partition: fields.next()?,
            service: fields.next()?,
            region: fields.next()?,
            account: fields.next()?,
            resource: fields.next()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_order_and_the_resource_whole() {
        let arn = Arn::parse("arn:aws:logs:us-east-1:123456789012:log-group:/vpc/fl:*");
        assert_eq!(
            arn,
            Some(Arn {
                partition: "aws",
                service: "logs",
                region: "us-east-1",
                account: "123456789012",
                resource: "log-group:/vpc/fl:*",
            })
        );
        assert_eq!(
            Arn::parse("arn:{partition}:s3:::bucket/prefix").map(|a| a.resource),
            Some("bucket/prefix")
        );
        assert_eq!(Arn::parse("urn:aws:s3:::b"), None);
        assert_eq!(Arn::parse("arn:aws:s3"), None);
    }
}
