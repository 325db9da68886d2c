//! What a native process gets besides its argv: resource limits (`limits:`,
//! applied with setrlimit before exec), its group (`group:`) and its file
//! mode mask (`umask:`). Read here, so `parse` stays a list of keys.

use super::raw::{Kind, Node, Reader, join};

/// The keys of `limits:`, each with its resource and whether its value is a
/// byte size (`core: 1GiB`) or a count (`nofile: 65536`).
const RLIMITS: &[(&str, Rlimit, bool)] = &[
    ("as", Rlimit::As, true),
    ("core", Rlimit::Core, true),
    ("cpu", Rlimit::Cpu, false),
    ("data", Rlimit::Data, true),
    ("fsize", Rlimit::Fsize, true),
    ("locks", Rlimit::Locks, false),
    ("memlock", Rlimit::Memlock, true),
    ("msgqueue", Rlimit::Msgqueue, true),
    ("nice", Rlimit::Nice, false),
    ("nofile", Rlimit::Nofile, false),
    ("nproc", Rlimit::Nproc, false),
    ("rss", Rlimit::Rss, true),
    ("rtprio", Rlimit::Rtprio, false),
    ("sigpending", Rlimit::Sigpending, false),
    ("stack", Rlimit::Stack, true),
];

/// A resource that `setrlimit(2)` limits (`RLIMIT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rlimit {
    /// `RLIMIT_AS`: address space, bytes.
    As,
    /// `RLIMIT_CORE`: core file size, bytes.
    Core,
    /// `RLIMIT_CPU`: CPU time, seconds.
    Cpu,
    /// `RLIMIT_DATA`: data segment, bytes.
    Data,
    /// `RLIMIT_FSIZE`: file size, bytes.
    Fsize,
    /// `RLIMIT_LOCKS`: file locks.
    Locks,
    /// `RLIMIT_MEMLOCK`: locked memory, bytes.
    Memlock,
    /// `RLIMIT_MSGQUEUE`: POSIX message queues, bytes.
    Msgqueue,
    /// `RLIMIT_NICE`: nice ceiling.
    Nice,
    /// `RLIMIT_NOFILE`: open files.
    Nofile,
    /// `RLIMIT_NPROC`: processes of the user.
    Nproc,
    /// `RLIMIT_RSS`: resident set, bytes (ignored by Linux).
    Rss,
    /// `RLIMIT_RTPRIO`: real-time priority ceiling.
    Rtprio,
    /// `RLIMIT_SIGPENDING`: queued signals.
    Sigpending,
    /// `RLIMIT_STACK`: stack size, bytes.
    Stack,
}

impl Rlimit {
    /// The key of this limit in `limits:`.
    pub fn key(self) -> &'static str {
        RLIMITS.iter().find(|(_, r, _)| *r == self).map_or("?", |(k, _, _)| k)
    }

    /// The limit named `key`, if there is one.
    pub fn from_key(key: &str) -> Option<Rlimit> {
        RLIMITS.iter().find(|(k, _, _)| *k == key).map(|(_, r, _)| *r)
    }
}

/// One `limits:` entry: soft and hard limit alike; `None` is unlimited.
pub type RlimitValue = Option<u64>;

/// Reads `limits: { nofile: 65536, core: unlimited, stack: 8MiB }`.
pub(super) fn read_limits(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<Vec<(Rlimit, RlimitValue)>> {
    let keys: Vec<&str> = RLIMITS.iter().map(|(k, _, _)| *k).collect();
    r.mapping(node, path, &keys.join(" "))?;
    let mut limits = Vec::new();
    for (key, value) in r.entries(node, path, "a mapping of limits")? {
        let Some(&(_, limit, is_size)) = RLIMITS.iter().find(|(k, _, _)| k == key) else {
            continue; // reported by `mapping`
        };
        let at = join(path, key);
        let read = match &value.kind {
            Kind::Str(s) if s == "unlimited" || s == "infinity" => Some(None),
            Kind::Str(_) if is_size => r.size(value, &at).map(Some),
            Kind::Int(..) => r.size(value, &at).map(Some),
            _ => {
                let form = if is_size {
                    "a size such as 64MiB, or `unlimited`"
                } else {
                    "a whole number, or `unlimited`"
                };
                r.expected(value, &at, form)
            }
        };
        if let Some(v) = read {
            limits.push((limit, v));
        }
    }
    Some(limits)
}

/// Reads `umask: 0027` (octal digits, as a number or a string) into its mode bits.
pub(super) fn read_umask(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<u32> {
    let text = match &node.kind {
        Kind::Str(s) | Kind::Int(_, s) | Kind::Float(_, s) => s.as_str(),
        _ => return r.expected(node, path, "an octal mask such as 0027"),
    };
    let digits = text.trim().trim_start_matches("0o");
    match u32::from_str_radix(digits, 8) {
        Ok(mask) if mask <= 0o777 && !digits.is_empty() => Some(mask),
        _ => {
            let message = format!("invalid umask `{text}`, expected octal digits from 0000 to 0777");
            r.reject(node, path, message, Some("write 0027 to keep files from other users"))
        }
    }
}

/// Reads `group:` (a group name or gid).
pub(super) fn read_group(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<String> {
    match &node.kind {
        Kind::Str(s) if !s.is_empty() => Some(s.clone()),
        Kind::Int(..) => r.u32(node, path).map(|gid| gid.to_string()),
        _ => r.expected(node, path, "a group name or gid"),
    }
}

#[cfg(test)]
mod tests {
    use super::Rlimit;
    use crate::spec::parse;

    fn service(extra: &str) -> Result<crate::spec::ServiceSpec, String> {
        let yaml = format!("version: 1\nservices:\n  a:\n    command: [x]\n{extra}");
        parse(&yaml, "t.yaml").map(|s| s.services.into_values().next().expect("a")).map_err(|e| e.to_string())
    }

    #[test]
    fn limits_group_umask() {
        let s = service(
            "    limits: { nofile: 4096, core: unlimited, stack: 8MiB }\n    group: adm\n    umask: 0027\n",
        )
        .expect("valid");
        assert_eq!(
            s.limits,
            vec![(Rlimit::Nofile, Some(4096)), (Rlimit::Core, None), (Rlimit::Stack, Some(8 << 20))]
        );
        assert_eq!(s.group.as_deref(), Some("adm"));
        assert_eq!(s.umask, Some(0o027));
        assert_eq!(Rlimit::from_key("nofile"), Some(Rlimit::Nofile));
        assert_eq!(Rlimit::Nofile.key(), "nofile");
    }

    #[test]
    fn bad_values_say_where_and_what() {
        let err = service("    limits: { nofile: 1KiB, nofiles: 3 }\n").expect_err("invalid");
        assert!(err.contains("t.yaml:5:"), "{err}");
        assert!(err.contains("services.a.limits.nofile: expected a whole number, or `unlimited`"), "{err}");
        assert!(err.contains("unknown key `nofiles`"), "{err}");
        let err = service("    umask: 0989\n").expect_err("invalid");
        assert!(err.contains("services.a.umask: invalid umask `0989`"), "{err}");
        let err = service("    umask: \"1777\"\n").expect_err("invalid");
        assert!(err.contains("expected octal digits from 0000 to 0777"), "{err}");
    }
}
