//! Which instances `ward logs` reads: patterns `SERVICE`, `SERVICE/N`, or a
//! glob on the service name (`web*`, `api-?`, `*/0`).

/// One pattern: a glob on the service name and, maybe, one replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    service: String,
    replica: Option<u32>,
}

/// Why a pattern is not one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0:?} is not an instance pattern: expected SERVICE, SERVICE/N or a glob such as web* (replica N a number)"
)]
pub struct BadPattern(pub String);

impl std::str::FromStr for Pattern {
    type Err = BadPattern;

    fn from_str(s: &str) -> Result<Pattern, BadPattern> {
        let bad = || BadPattern(s.to_string());
        let (service, replica) = match s.split_once('/') {
            Some((svc, n)) => (svc, Some(n.parse::<u32>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let ok = !service.is_empty()
            && service.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*' | '?'));
        if !ok {
            return Err(bad());
        }
        Ok(Pattern { service: service.to_string(), replica })
    }
}

impl Pattern {
    /// Whether instance `service/replica` matches.
    pub fn matches(&self, service: &str, replica: u32) -> bool {
        self.replica.is_none_or(|r| r == replica) && glob(self.service.as_bytes(), service.as_bytes())
    }
}

/// Whether any of `patterns` matches (all instances when there is none).
pub fn any_matches(patterns: &[Pattern], service: &str, replica: u32) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| p.matches(service, replica))
}

/// `<service>.<replica>.log` → `(service, replica)`.
pub fn instance_of(file: &str) -> Option<(&str, u32)> {
    let (service, replica) = file.strip_suffix(".log")?.rsplit_once('.')?;
    Some((service, replica.parse().ok()?))
}

/// `*` any run of characters, `?` one character, anything else itself.
fn glob(pat: &[u8], s: &[u8]) -> bool {
    // Iterative matching with one backtrack point for the last `*`.
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() && (pat[p] == b'?' || pat[p] == s[i]) {
            p += 1;
            i += 1;
        } else if p < pat.len() && pat[p] == b'*' {
            star = Some((p, i));
            p += 1;
        } else if let Some((sp, si)) = star {
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}
