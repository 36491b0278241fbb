#!/usr/bin/env bash
# bootstrap-rootfs.sh OUT_TAR
#
# Builds a minimal Debian bookworm root filesystem with debootstrap and writes it
# as a tar archive to OUT_TAR. `isol8 setup` imports that archive as `isol8:rootfs`
# when no Debian base image can be pulled (no Docker Hub), e.g.:
#   docker import --change 'ENTRYPOINT ["/usr/bin/tini","--"]' OUT_TAR isol8:rootfs
#
# Run on the host as root. Environment:
#   ISOL8_CACHE_DIR      cache root (default: $HOME/.cache/isol8); .debs are kept
#                        in its debootstrap/ subfolder so a re-run downloads less.
#   ISOL8_DEBIAN_MIRROR  override the mirror (default: taken from the host's apt sources).
#   TMPDIR               where the temporary root filesystem is built (default /var/tmp;
#                        must allow exec and device nodes, so not a noexec tmpfs).
set -Eeuo pipefail
umask 022

SUITE=bookworm
INCLUDE=tini,ca-certificates,procps   # procps: ps/pkill for pool hygiene; saves an apt run in base.Dockerfile
DEFAULT_MIRROR=http://deb.debian.org/debian

log() { printf 'isol8-bootstrap: %s\n' "$*" >&2; }
die() { printf 'isol8-bootstrap: error: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 1 && -n $1 ]] || { echo "usage: $0 OUT_TAR" >&2; exit 2; }
OUT_TAR=$1

[[ $EUID -eq 0 ]] || die "must run as root (debootstrap needs chroot and mknod)"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found; install it with: apt-get install debootstrap"
for tool in tar chroot mktemp awk setsid; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found"
done
out_dir=$(dirname -- "$OUT_TAR")
[[ -d $out_dir && -w $out_dir ]] || die "output directory '$out_dir' does not exist or is not writable"

# --- mirror discovery ------------------------------------------------------
# Prints "<suite> <first-uri>" for every enabled `deb` entry in the host's apt sources,
# most authoritative file first: debian.sources (deb822), sources.list, the rest.
apt_source_pairs() {
  local f
  local -a deb822=() oneline=()
  [[ -f /etc/apt/sources.list.d/debian.sources ]] && deb822+=(/etc/apt/sources.list.d/debian.sources)
  [[ -f /etc/apt/sources.list ]] && oneline+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f && $f != /etc/apt/sources.list.d/debian.sources ]] && deb822+=("$f")
  done
  for f in /etc/apt/sources.list.d/*.list; do [[ -f $f ]] && oneline+=("$f"); done

  # deb822: paragraphs separated by blank lines; fields may be folded onto indented lines.
  for f in "${deb822[@]}"; do
    awk '
      function flush(   i, n, s, u) {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no") {
          split(uris, u, /[ \t]+/); n = split(suites, s, /[ \t]+/)
          for (i = 1; i <= n; i++) if (s[i] != "" && u[1] != "") print s[i], u[1]
        }
        types = uris = suites = enabled = ""; key = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/   { v = $0; gsub(/^[ \t]+|[ \t]+$/, "", v)
                   if (key == "types") types = types " " v; else if (key == "uris") uris = uris " " v
                   else if (key == "suites") suites = suites " " v; next }
      { k = tolower($0); sub(/:.*/, "", k); v = $0; sub(/^[^:]*:[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
        key = k
        if (k == "types") types = v; else if (k == "uris") uris = v
        else if (k == "suites") suites = v; else if (k == "enabled") enabled = v }
      END { flush() }
    ' "$f" | awk '{ sub(/^[ \t]+/, ""); print }'
  done
  # one-line style: deb [options] URI SUITE COMPONENTS...
  for f in "${oneline[@]}"; do
    awk '
      /^[ \t]*deb[ \t]/ {
        line = $0; sub(/#.*/, "", line); sub(/^[ \t]*deb[ \t]+/, "", line)
        if (line ~ /^\[/) { sub(/^\[[^]]*\][ \t]*/, "", line) }
        n = split(line, w, /[ \t]+/); if (n >= 2) print w[2], w[1]
      }' "$f"
  done
}

usable_uri() { [[ $1 =~ ^(https?|file):/ ]]; }

pairs=$(apt_source_pairs 2>/dev/null || true)
pick() {  # pick SUITE -> first usable URI for that suite
  local suite uri
  while read -r suite uri; do
    [[ $suite == "$1" ]] && usable_uri "$uri" && { printf '%s\n' "${uri%/}"; return 0; }
  done <<<"$pairs"
  return 1
}

if [[ -n ${ISOL8_DEBIAN_MIRROR:-} ]]; then
  MIRROR=${ISOL8_DEBIAN_MIRROR%/}
  mirror_from="ISOL8_DEBIAN_MIRROR"
elif MIRROR=$(pick "$SUITE"); then
  mirror_from="host apt sources"
else
  MIRROR=$DEFAULT_MIRROR
  mirror_from="default"
fi
# The image keeps the host's choice for updates/security; an unreachable suite would
# make every later `apt-get update` in docker build fail, so only add what the host uses
# (or everything, when we fell back to the public mirror).
SECURITY_URI=$(pick "$SUITE-security" || true)
HAS_UPDATES=""
if pick "$SUITE-updates" >/dev/null; then HAS_UPDATES=yes; fi
if [[ $mirror_from == default ]]; then
  SECURITY_URI=${SECURITY_URI:-http://deb.debian.org/debian-security}
  HAS_UPDATES=yes
fi

# --- work dirs and cleanup -------------------------------------------------
CACHE_ROOT=${ISOL8_CACHE_DIR:-${HOME:-/root}/.cache/isol8}
DEB_CACHE=$CACHE_ROOT/debootstrap
mkdir -p -- "$DEB_CACHE" || die "cannot create cache dir $DEB_CACHE"
DEB_CACHE=$(cd -- "$DEB_CACHE" && pwd -P)        # debootstrap wants an absolute path

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/isol8-rootfs.XXXXXX") || die "cannot create a temporary directory"
ROOTFS=$WORK/rootfs
TMP_OUT=""
CHILD=""

# Long steps run in the background and are waited for, so that INT/TERM interrupt them
# at once (bash defers traps until a foreground child exits); each runs in its own
# process group so cleanup can stop it with all its children.
run() {
  local rc=0
  setsid "$@" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}

cleanup() {
  local rc=$? m
  if [[ -n $CHILD ]]; then
    kill -TERM -- "-$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  # debootstrap mounts /proc and /sys inside the target; an interrupted run can leave
  # them behind, and rm -rf must never walk into the host's /proc or /sys.
  if [[ -d $WORK ]]; then
    while read -r m; do
      umount -l -- "$m" 2>/dev/null || true
    done < <(awk -v r="$WORK/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system -- "$WORK"
  fi
  [[ -n $TMP_OUT ]] && rm -f -- "$TMP_OUT"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# --- debootstrap -----------------------------------------------------------
log "mirror $MIRROR ($mirror_from), cache $DEB_CACHE"
log "debootstrap --variant=minbase $SUITE (include $INCLUDE) ..."
start=$SECONDS
if ! run debootstrap --variant=minbase --include="$INCLUDE" --cache-dir="$DEB_CACHE" \
      "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
  tail -n 25 "$WORK/debootstrap.log" >&2 || true
  [[ -f $ROOTFS/debootstrap/debootstrap.log ]] && tail -n 25 "$ROOTFS/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (mirror $MIRROR)"
fi
log "debootstrap done in $((SECONDS - start)) s"

# --- configure for container use -------------------------------------------
log "configuring and slimming"
R=$ROOTFS

# Keep later `apt-get install` runs in derived images small, like Debian's official
# slim images do: dpkg skips docs/man/locales, apt drops its caches and recommends.
mkdir -p "$R/etc/dpkg/dpkg.cfg.d" "$R/etc/apt/apt.conf.d"
cat >"$R/etc/dpkg/dpkg.cfg.d/isol8-slim" <<'EOF'
# isol8: no documentation, manuals or translations in container images
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
cat >"$R/etc/apt/apt.conf.d/90isol8" <<'EOF'
// isol8: container image defaults
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::AutoRemove::SuggestsImportant "false";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
EOF
# No service may start during package installs inside `docker build`.
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"

# apt sources for derived images (deb822, same mirrors the host uses).
rm -f "$R/etc/apt/sources.list"
{
  printf 'Types: deb\nURIs: %s\nSuites: %s%s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$MIRROR" "$SUITE" "${HAS_UPDATES:+ $SUITE-updates}"
  if [[ -n $SECURITY_URI ]]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$SECURITY_URI" "$SUITE"
  fi
} >"$R/etc/apt/sources.list.d/debian.sources"

# debootstrap installs the point release only; pull pending security/point updates
# (openssl, ca-certificates, ...) so every image starts patched. Best effort: an offline
# mirror without those suites still yields a usable root filesystem.
if [[ -n $SECURITY_URI || -n $HAS_UPDATES ]] && [[ ${ISOL8_BOOTSTRAP_UPGRADE:-1} != 0 ]]; then
  log "applying updates from ${SUITE}-updates/${SUITE}-security"
  mount -t proc proc "$R/proc"
  if ! run chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -c 'apt-get update -q && apt-get -y -q -o Dpkg::Options::=--force-confold upgrade' \
        >"$WORK/upgrade.log" 2>&1; then
    tail -n 5 "$WORK/upgrade.log" >&2 || true
    log "warning: apt-get upgrade failed; continuing with the point release packages"
  fi
  umount "$R/proc"
fi

# Host identity leaks in from debootstrap; Docker provides these at run time.
rm -f "$R/etc/resolv.conf" "$R/etc/hostname"
: >"$R/etc/machine-id" 2>/dev/null || true
printf 'localhost\n' >"$R/etc/hostname"

# Slim: documentation, manuals, translations, package lists, caches, logs.
find "$R/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
find "$R/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/usr/share/groff/* \
       "$R"/usr/share/lintian/* "$R"/usr/share/linda/* "$R"/usr/share/locale/*
find "$R/var/lib/apt/lists" "$R/var/cache/apt" -type f -delete 2>/dev/null || true
rm -f "$R"/var/cache/debconf/*-old "$R"/var/lib/dpkg/*-old "$R/var/cache/ldconfig/aux-cache"
find "$R/var/log" -type f -delete 2>/dev/null || true
rm -rf "$R/debootstrap" "$R"/tmp/* "$R"/var/tmp/* "$R"/root/.[!.]* 2>/dev/null || true
# Docker mounts its own /dev, /proc and /sys; ship them as empty mount points.
find "$R/dev" "$R/proc" "$R/sys" -mindepth 1 -xdev -delete 2>/dev/null || true

# --- archive -----------------------------------------------------------------
log "writing $OUT_TAR"
TMP_OUT="$OUT_TAR.partial.$$"
run tar -C "$ROOTFS" --numeric-owner -c . >"$TMP_OUT" || die "tar failed"
mv -f -- "$TMP_OUT" "$OUT_TAR"
TMP_OUT=""
size=$(du -m -- "$OUT_TAR" | cut -f1)
log "done in $((SECONDS - start)) s: $OUT_TAR (${size} MB)"
