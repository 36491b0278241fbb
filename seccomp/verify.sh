#!/usr/bin/env bash
# seccomp/verify.sh - check seccomp/default.json against the real Docker engine.
#
#   bash seccomp/verify.sh [IMAGE]      (default IMAGE: isol8:python)
#
# Needs: docker (daemon reachable), gcc with static glibc (libc6-dev), python3.
# The image needs bash + coreutils; python3 in it is used when present.
# Starts containers, removes exactly those (by id) on exit.
# Prints one line per check and "N passed, N failed" last; exit 1 on failure.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROFILE="$HERE/default.json"
IMAGE="${1:-isol8:python}"
WORK="$(mktemp -d)"
CIDS="$WORK/container-ids" # one id a line; a file, as start() runs in $(...)
: >"$CIDS"
PASS=0
FAIL=0

cleanup() {
    local c
    while read -r c; do [ -n "$c" ] && docker rm -f "$c" >/dev/null 2>&1; done <"$CIDS"
    rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }

# The syscalls the profile must deny: make-default.py's DENIED (the source of
# truth), not the profile's own deny rule, so that a hand-edited profile fails.
DENIED=$(python3 - "$HERE/make-default.py" <<'EOF'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("make_default", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
print(" ".join(m.DENIED))
EOF
) || { echo "cannot read DENIED from make-default.py"; exit 1; }

start() { # start IMAGE with hardening flags + given seccomp opt; echo id
    local cid rc
    cid=$(docker run -d --cap-drop ALL "${@:2}" --security-opt no-new-privileges \
        --security-opt "seccomp=$1" --network none "$IMAGE" sleep infinity)
    rc=$?
    [ -n "$cid" ] && echo "$cid" >>"$CIDS" # also when created but not started
    [ $rc -eq 0 ] || return 1
    docker cp "$WORK/probe" "$cid:/tmp/probe" >/dev/null || return 1
    echo "$cid"
}

# expect_all_eperm LABEL FILE: every denied name that the probe covers says EPERM
expect_all_eperm() {
    local label=$1 out=$2 n miss=() i386ok=1
    grep -Eq '^getpid +abi=i386 .*errno=0 ' "$out" || i386ok=0
    for n in $DENIED; do
        local line
        line=$(grep -E "^$n " "$out")
        if [ -z "$line" ]; then miss+=("$n(no probe)"); continue; fi
        if [ $i386ok = 0 ] && [[ $line == *abi=i386* ]]; then continue; fi
        [[ $line == *"errno=1 (EPERM)"* ]] || miss+=("$line")
    done
    [ $i386ok = 1 ] || echo "     (kernel has no IA-32 emulation: i386-only names not probed)"
    if [ ${#miss[@]} -eq 0 ]; then
        ok "$label: all $(echo $DENIED | wc -w) denied syscalls -> EPERM"
    else
        bad "$label: not EPERM: ${miss[*]}"
    fi
}

echo "# profile: $PROFILE"
echo "# image:   $IMAGE"
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "image $IMAGE not found"; exit 1; }

if python3 "$HERE/make-default.py" --check -q; then ok "default.json is what make-default.py derives"
else bad "default.json is stale (run python3 seccomp/make-default.py)"; fi

if gcc -static -O2 -o "$WORK/probe" "$HERE/probe.c" 2>"$WORK/cc.log"; then ok "probe.c builds (static)"
else bad "probe.c does not build: $(tail -3 "$WORK/cc.log")"; echo "$PASS passed, $FAIL failed"; exit 1; fi

# 1. strict profile, no capabilities, as uid 100:101 and as root
S=$(start "$PROFILE") && ok "Docker accepts the profile (container started)" \
    || { bad "Docker refused the profile"; echo "$PASS passed, $FAIL failed"; exit 1; }
docker exec -u 100:101 "$S" /tmp/probe >"$WORK/strict-100" 2>&1
expect_all_eperm "strict, --cap-drop ALL, uid 100:101" "$WORK/strict-100"
docker exec "$S" /tmp/probe >"$WORK/strict-root" 2>&1
expect_all_eperm "strict, --cap-drop ALL, root" "$WORK/strict-root"
echo "     the seven of the brief (uid 100:101):"
grep -E '^(ptrace|mount|unshare|keyctl|bpf|userfaultfd|io_uring_setup) ' "$WORK/strict-100" | sed 's/^/       /'

# 2. strict profile with the capabilities that upstream rules key on: still denied
A=$(start "$PROFILE" --cap-add SYS_ADMIN --cap-add SYS_PTRACE --cap-add SYS_MODULE \
    --cap-add SYS_BOOT --cap-add SYS_TIME --cap-add SYS_NICE --cap-add SYS_RAWIO \
    --cap-add SYSLOG --cap-add SYS_PACCT --cap-add DAC_READ_SEARCH) || bad "start with caps failed"
if [ -n "${A:-}" ]; then
    docker exec "$A" /tmp/probe >"$WORK/caps-root" 2>&1
    expect_all_eperm "strict, root + SYS_ADMIN,SYS_PTRACE,SYS_MODULE,SYS_BOOT,SYS_TIME,SYS_NICE,SYS_RAWIO,SYSLOG,SYS_PACCT,DAC_READ_SEARCH" "$WORK/caps-root"
fi

# 3. ordinary programs still work under the profile
cat >"$WORK/ordinary.sh" <<'EOF'
set -e
bash -c 'x=0; for i in 1 2 3; do x=$((x+i)); done; [ $x = 6 ]'
[ "$(printf 'c\nb\na\n' | sort | tr -d '\n')" = abc ]
d=$(mktemp -d); cd "$d"; echo hello >f; cp f g; mv g h; ln -s h l; [ "$(cat l)" = hello ]
sha256sum f >/dev/null; ls -l >/dev/null; date -u >/dev/null; uname -a >/dev/null
head -c 100000 /dev/urandom | gzip -c | gzip -dc | wc -c | grep -qx 100000
cd /; rm -r "$d"
if command -v python3 >/dev/null; then
python3 - <<'PY'
import threading, subprocess, multiprocessing as mp, socket, asyncio, tempfile, os, hashlib, ctypes
t = [threading.Thread(target=lambda: None) for _ in range(8)]; [x.start() for x in t]; [x.join() for x in t]
assert subprocess.run(["echo", "hi"], capture_output=True, text=True).stdout == "hi\n"
with mp.Pool(2) as p: assert sum(p.map(abs, range(-5, 5))) == 25
a, b = socket.socketpair(); a.send(b"x"); assert b.recv(1) == b"x"
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); s.close()
async def m(): await asyncio.sleep(0.01); return 1
assert asyncio.run(m()) == 1
with tempfile.TemporaryDirectory() as d: open(os.path.join(d, "x"), "w").write("y")
hashlib.sha256(b"x").hexdigest()
libc = ctypes.CDLL(None, use_errno=True)
assert libc.syscall(101, 16, 0x3fffffff, 0, 0) == -1 and ctypes.get_errno() == 1  # ptrace(ATTACH, no such pid): EPERM, not ESRCH
print("python3 ok")
PY
fi
echo ordinary-ok
EOF
for u in 100:101 0:0; do
    if out=$(docker exec -i -u "$u" "$S" bash -s <"$WORK/ordinary.sh" 2>&1) && [[ $out == *ordinary-ok* ]]; then
        ok "ordinary programs work as $u (bash, coreutils$([[ $out == *"python3 ok"* ]] && echo ", python3 threads/subprocess/multiprocessing/sockets/asyncio"))"
    else
        bad "ordinary programs as $u: $(echo "$out" | tail -5)"
    fi
done

# 4. the check can fail: unconfined, the same calls answer differently
U=$(start unconfined) || bad "start unconfined failed"
if [ -n "${U:-}" ]; then
    docker exec -u 100:101 "$U" /tmp/probe >"$WORK/unconf-100" 2>&1
    diff_n=0
    for n in ptrace mount unshare keyctl bpf userfaultfd io_uring_setup; do
        line=$(grep -E "^$n " "$WORK/unconf-100")
        echo "       unconfined: $line"
        [[ $line == *"errno=1 (EPERM)"* ]] || diff_n=$((diff_n + 1))
    done
    robust=1
    for n in ptrace mount keyctl; do # answers that depend on no sysctl
        grep -E "^$n " "$WORK/unconf-100" | grep -q 'errno=1 (EPERM)' && robust=0
    done
    if [ $robust = 1 ] && [ $diff_n -ge 3 ]; then
        ok "unconfined: $diff_n of the 7 answer other than EPERM (so the EPERM above is the filter's)"
    else
        bad "unconfined: only $diff_n of the 7 differ from EPERM"
    fi
fi

# 5. Docker refuses an invalid profile
head -c 2000 "$PROFILE" >"$WORK/broken.json"
docker run -d --cap-drop ALL --security-opt "seccomp=$WORK/broken.json" \
    --network none "$IMAGE" true >"$WORK/broken.out" 2>"$WORK/broken.err"
rc=$?
cat "$WORK/broken.out" >>"$CIDS"
if [ $rc -ne 0 ] && [ ! -s "$WORK/broken.out" ] && grep -q 'seccomp profile' "$WORK/broken.err"; then
    ok "Docker refuses truncated JSON (exit $rc): $(head -1 "$WORK/broken.err")"
else
    bad "truncated JSON: exit $rc, stdout '$(cat "$WORK/broken.out")', stderr '$(head -1 "$WORK/broken.err")'"
fi

echo "$PASS passed, $FAIL failed"
[ $FAIL -eq 0 ]
