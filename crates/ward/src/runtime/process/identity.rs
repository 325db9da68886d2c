//! The user a child runs as: its ids and groups from the user database
//! (only root may switch users).

use crate::runtime::SpawnError;
use crate::runtime::spawn;
use crate::runtime::users;

/// The uid and primary gid of `user` (a name or uid), if it exists.
pub fn user_ids(user: &str) -> Option<(u32, u32)> {
    users::lookup_user(user).ok().flatten().map(|c| (c.uid, c.gid))
}

/// The uid, gid and groups of `user`; only root may switch users.
pub(super) fn credentials(user: &str) -> Result<spawn::Creds, SpawnError> {
    let euid = rustix::process::geteuid();
    if !euid.is_root() {
        return Err(SpawnError::NotRoot(user.to_owned(), euid.as_raw()));
    }
    users::lookup_user(user)?.ok_or_else(|| SpawnError::UnknownUser(user.to_owned()))
}
