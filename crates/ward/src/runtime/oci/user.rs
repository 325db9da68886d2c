//! `user:` of a container, resolved against the container's own files.
//!
//! The user runs inside the rootfs, so a name means what the image's
//! `/etc/passwd` says, not the host's. Accepted forms: `UID`, `UID:GID`,
//! `NAME`, `NAME:GROUP` (a group name from the image's `/etc/group`).
//! A numeric uid that the image does not list gets gid 0, as docker does.

use super::ContainerError;
use std::path::Path;

/// A numeric user inside the container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContainerUser {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

/// Resolves `user` with the image under `rootfs`.
pub fn resolve(user: &str, rootfs: &Path) -> Result<ContainerUser, ContainerError> {
    let read = |file: &str| std::fs::read_to_string(rootfs.join(file)).unwrap_or_default();
    resolve_in(user, &read("etc/passwd"), &read("etc/group"))
        .ok_or_else(|| ContainerError::UnknownUser { user: user.to_owned(), rootfs: rootfs.to_owned() })
}

/// [`resolve`] on the text of `/etc/passwd` and `/etc/group`.
pub fn resolve_in(user: &str, passwd: &str, group: &str) -> Option<ContainerUser> {
    let (name, group_name) = match user.split_once(':') {
        Some((n, g)) => (n, Some(g)),
        None => (user, None),
    };
    let entry = passwd_entries(passwd).find(|(n, uid, _)| *n == name || Some(*uid) == name.parse().ok());
    let uid = match (name.parse::<u32>(), entry) {
        (Ok(uid), _) => uid,
        (Err(_), Some((_, uid, _))) => uid,
        (Err(_), None) => return None,
    };
    let gid = match group_name {
        None => entry.map_or(0, |(_, _, gid)| gid),
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => group_id(group, g)?,
        },
    };
    Some(ContainerUser { uid, gid })
}

/// `(name, uid, gid)` of each well-formed line of a passwd file.
fn passwd_entries(passwd: &str) -> impl Iterator<Item = (&str, u32, u32)> {
    passwd.lines().filter_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let uid = fields.nth(1)?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((name, uid, gid))
    })
}

/// The gid of group `name` in a group file.
fn group_id(group: &str, name: &str) -> Option<u32> {
    group.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then_some(())?;
        fields.nth(1)?.parse().ok()
    })
}
