//! Validated names: services and instances.

use std::fmt;
use std::str::FromStr;

/// A service name: 1–63 characters of `a-z`, `0-9`, `-`, `_`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceName(String);

/// Why a string is not a valid [`ServiceName`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid service name {name:?}: {why}")]
pub struct NameError {
    /// The rejected text.
    pub name: String,
    /// What rule it breaks.
    pub why: &'static str,
}

impl ServiceName {
    /// Validates `name`.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let err = |why| NameError { name: name.to_string(), why };
        if name.is_empty() || name.len() > 63 {
            return Err(err("expected 1 to 63 characters"));
        }
        let first_ok = name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !first_ok {
            return Err(err("expected to start with a lowercase letter or a digit"));
        }
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if !name.chars().all(ok) {
            return Err(err("expected only lowercase letters, digits, '-' and '_'"));
        }
        Ok(ServiceName(name.to_string()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ServiceName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        ServiceName::new(s)
    }
}

/// One instance of a service: `SERVICE/REPLICA`, e.g. `api/0`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId {
    /// The service it belongs to.
    pub service: ServiceName,
    /// Its replica index, from 0.
    pub replica: u32,
}

impl InstanceId {
    /// The instance `service/replica`.
    pub fn new(service: ServiceName, replica: u32) -> Self {
        InstanceId { service, replica }
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.service, self.replica)
    }
}

/// What an operator names on the command line: a whole service or one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The service.
    pub service: ServiceName,
    /// One replica, or every replica when `None`.
    pub replica: Option<u32>,
}

impl FromStr for Target {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        match s.split_once('/') {
            None => Ok(Target { service: s.parse()?, replica: None }),
            Some((svc, n)) => {
                let replica = n.parse().map_err(|_| NameError {
                    name: s.to_string(),
                    why: "expected SERVICE or SERVICE/N with N a replica number",
                })?;
                Ok(Target { service: svc.parse()?, replica: Some(replica) })
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.replica {
            Some(r) => write!(f, "{}/{}", self.service, r),
            None => write!(f, "{}", self.service),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(ServiceName::new("api").is_ok());
        assert!(ServiceName::new("db-1_x").is_ok());
        assert!(ServiceName::new("").is_err());
        assert!(ServiceName::new("-api").is_err());
        assert!(ServiceName::new("Api").is_err());
        assert!(ServiceName::new("a/b").is_err());
        assert!(ServiceName::new(&"a".repeat(64)).is_err());
    }

    #[test]
    fn targets() {
        let t: Target = "api/2".parse().unwrap();
        assert_eq!((t.service.as_str(), t.replica), ("api", Some(2)));
        let t: Target = "api".parse().unwrap();
        assert_eq!(t.replica, None);
        assert!("api/x".parse::<Target>().is_err());
        assert_eq!(t.to_string(), "api");
    }
}
