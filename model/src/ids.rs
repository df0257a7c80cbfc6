use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct IdentifierError {
    pub kind: &'static str,
    pub value: String,
    pub reason: &'static str,
}

const MAX_IDENTIFIER_LEN: usize = 64;

fn check_identifier(
    kind: &'static str,
    value: &str,
    extra_allowed: &[char],
) -> Result<(), IdentifierError> {
    let fail = |reason| {
        Err(IdentifierError {
            kind,
            value: value.to_owned(),
            reason,
        })
    };
    if value.is_empty() {
        return fail("empty");
    }
    if value.len() > MAX_IDENTIFIER_LEN {
        return fail("longer than 64 characters");
    }
    let allowed = |c: char| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '+') || extra_allowed.contains(&c)
    };
    if !value.chars().all(allowed) {
        return fail(if extra_allowed.is_empty() {
            "only letters, digits and _ - . @ + are allowed"
        } else {
            "only letters, digits, spaces and _ - . @ + / : are allowed"
        });
    }
    if value.trim() != value {
        return fail("leading or trailing space");
    }
    Ok(())
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $extra_chars:expr, $extra:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, IdentifierError> {
                check_identifier($kind, value, $extra_chars)?;
                let extra: fn(&str) -> Option<&'static str> = $extra;
                if let Some(reason) = extra(value) {
                    return Err(IdentifierError { kind: $kind, value: value.to_owned(), reason });
                }
                Ok(Self(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdentifierError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

identifier!(
    /// A tenant: one customer organisation of the platform. Also a directory name in the store,
    /// hence no leading `.` or `_` (readers skip such entries).
    TenantId,
    "tenant",
    &[],
    |v| (v.starts_with('.') || v.starts_with('_')).then_some("must not start with . or _")
);
identifier!(
    /// A queue, also called split or skill: a group of calls served by a set of agents.
    QueueName,
    "queue",
    &[],
    |_| None
);
identifier!(
    /// An agent, usually the extension or login; member names imported from other systems may
    /// hold spaces, `/` and `:`.
    AgentId,
    "agent",
    &[' ', '/', ':'],
    |_| None
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_usual_names() {
        assert_eq!(TenantId::parse("acme-pl").unwrap().as_str(), "acme-pl");
        assert!(AgentId::parse("Anna Nowak").is_ok());
        assert!(AgentId::parse(" 1001").is_err());
        assert!(AgentId::parse("10;01").is_err());
        assert!(AgentId::parse("1001").is_ok());
        assert!(QueueName::parse("billing.en").is_ok());
    }

    #[test]
    fn refuses_bad_names_with_a_reason() {
        let err = TenantId::parse("_txn").unwrap_err();
        assert_eq!(err.reason, "must not start with . or _");
        assert!(QueueName::parse("").is_err());
        assert!(QueueName::parse(&"q".repeat(65)).is_err());
        assert!(TenantId::parse("a/b").is_err());
        assert!(TenantId::parse("a=b").is_err());
    }
}
