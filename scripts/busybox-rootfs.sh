#!/usr/bin/env bash
# Builds a minimal root filesystem for containers: a static busybox, its
# applets as symlinks, and just enough of /etc. Used by the tests (and handy
# to try the OCI runtime: `scripts/busybox-rootfs.sh images/busybox`).
#
# usage: scripts/busybox-rootfs.sh DIR
# needs: a static busybox (Debian: apt-get install busybox-static), at
#        /bin/busybox, in PATH, or in $BUSYBOX.
set -euo pipefail

dir=${1:?usage: $0 DIR}
busybox=${BUSYBOX:-$(command -v busybox || true)}
if [ -z "$busybox" ] || ! [ -x "$busybox" ]; then
  echo "busybox-rootfs.sh: no busybox found (apt-get install busybox-static, or set BUSYBOX)" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "busybox-rootfs.sh: $busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi

mkdir -p "$dir"/{bin,etc,tmp,proc,sys,dev,root}
chmod 1777 "$dir/tmp"
install -m 0755 "$busybox" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
cat >"$dir/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/:/bin/false
nobody:x:65534:65534:nobody:/:/bin/false
PASSWD
cat >"$dir/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GROUP
echo "busybox-rootfs.sh: rootfs ready in $dir" >&2
