//! The user database, read before a fork: a user's ids, groups and home
//! (for `user:`), a group's id (for `group:`).

use std::ffi::{CStr, CString};
use std::{io, mem, ptr};

use super::spawn::Creds;

/// Looks up `user` (a name, or a numeric uid) in the user database.
/// `Ok(None)` means there is no such user.
pub(super) fn lookup_user(user: &str) -> io::Result<Option<Creds>> {
    let Ok(name) = CString::new(user) else {
        return Ok(None);
    };
    let uid: Option<libc::uid_t> = user.parse().ok();
    // SAFETY: passwd is plain data; all-zero is a valid (empty) value.
    let mut pwd: libc::passwd = unsafe { mem::zeroed() };
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    let mut found: *mut libc::passwd = ptr::null_mut();
    loop {
        // SAFETY: every pointer is valid for the call, `buf.len()` is the
        // true size of `buf`; the results point into `pwd` and `buf`.
        let rc = unsafe {
            match uid {
                Some(uid) => libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found),
                None => libc::getpwnam_r(name.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found),
            }
        };
        match rc {
            0 => break,
            libc::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 2, 0),
            libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM => return Ok(None),
            rc => return Err(io::Error::from_raw_os_error(rc)),
        }
    }
    if found.is_null() {
        return Ok(None);
    }
    // SAFETY: on success pw_name points to a NUL-terminated string in `buf`,
    // which is still alive.
    let name = unsafe { CStr::from_ptr(pwd.pw_name) };
    // SAFETY: the same for pw_dir (never null in glibc's results).
    let home = unsafe { CStr::from_ptr(pwd.pw_dir) }.to_string_lossy().into_owned();
    let groups = group_list(name, pwd.pw_gid)?;
    let name = name.to_string_lossy().into_owned();
    Ok(Some(Creds { uid: pwd.pw_uid, gid: pwd.pw_gid, groups, name, home }))
}

/// Looks up `group` (a name, or a numeric gid); `Ok(None)` when there is no such group.
pub(super) fn lookup_group(group: &str) -> io::Result<Option<libc::gid_t>> {
    if let Ok(gid) = group.parse::<libc::gid_t>() {
        return Ok(Some(gid));
    }
    let Ok(name) = CString::new(group) else {
        return Ok(None);
    };
    // SAFETY: group is plain data; all-zero is a valid (empty) value.
    let mut grp: libc::group = unsafe { mem::zeroed() };
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    let mut found: *mut libc::group = ptr::null_mut();
    loop {
        // SAFETY: as in lookup_user: valid pointers, the true size of `buf`.
        let rc =
            unsafe { libc::getgrnam_r(name.as_ptr(), &mut grp, buf.as_mut_ptr(), buf.len(), &mut found) };
        match rc {
            0 => break,
            libc::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 2, 0),
            libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM => return Ok(None),
            rc => return Err(io::Error::from_raw_os_error(rc)),
        }
    }
    Ok((!found.is_null()).then_some(grp.gr_gid))
}

/// The groups of `user`, `gid` included.
fn group_list(user: &CStr, gid: libc::gid_t) -> io::Result<Vec<libc::gid_t>> {
    let mut groups: Vec<libc::gid_t> = vec![0; 32];
    loop {
        let mut count = libc::c_int::try_from(groups.len()).map_err(io::Error::other)?;
        // SAFETY: `groups` has room for `count` entries; getgrouplist writes
        // at most that many and sets `count` to the number it needs.
        let rc = unsafe { libc::getgrouplist(user.as_ptr(), gid, groups.as_mut_ptr(), &mut count) };
        let needed = usize::try_from(count).unwrap_or(0);
        if rc >= 0 {
            groups.truncate(needed);
            return Ok(groups);
        }
        if groups.len() >= 1 << 16 {
            return Err(io::Error::other("too many groups"));
        }
        groups.resize(needed.max(groups.len() * 2), 0);
    }
}
