#!/usr/bin/env python3
"""Derive isol8's default ("strict") seccomp profile from Docker's default.

    python3 seccomp/make-default.py            # rewrite seccomp/default.json
    python3 seccomp/make-default.py --check    # exit 1 if default.json is stale
    python3 seccomp/make-default.py UPSTREAM OUTPUT

Input: Docker's own default profile (moby profiles/seccomp/default.json),
committed verbatim as seccomp/docker-default.upstream.json.

What is changed, and nothing else:
  1. every name in DENIED is removed from every rule of the upstream profile
     (unconditional, capability-conditional `includes: {caps: [...]}`,
     `minKernel`, arch-conditional alike); a rule left without names is dropped;
  2. one explicit rule is appended: DENIED -> SCMP_ACT_ERRNO, errnoRet 1 (EPERM);
  3. top-level "defaultErrnoRet" is dropped: Docker 20.10's profile loader has
     no such field and silently ignores it; runc then uses EPERM for a bare
     SCMP_ACT_ERRNO, so dropping the value 1 (EPERM) changes nothing.
     Any other value is refused.

Every key of the profile is checked against the fields Docker 20.10.24 reads
(profiles/seccomp/seccomp.go of that release; Go's json.Unmarshal silently
ignores unknown keys, so an unknown key would be a rule Docker does not
enforce). Unknown keys are an error, not a warning.

Output is deterministic: upstream order is kept, DENIED is sorted, the JSON is
tab-indented like upstream (Go's json.MarshalIndent), with a final newline.
Python 3 standard library only.
"""

import argparse
import json
import os
import sys

# 47 syscalls + io_uring (removed from Docker's default after 24.x).
DENIED = sorted({
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime",
    "create_module", "delete_module", "finit_module", "get_mempolicy",
    "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load",
    "keyctl", "lookup_dcookie", "mbind", "mount", "move_pages",
    "name_to_handle_at", "open_by_handle_at", "perf_event_open", "pivot_root",
    "process_vm_readv", "process_vm_writev", "ptrace", "query_module",
    "quotactl", "reboot", "request_key", "set_mempolicy", "setns",
    "settimeofday", "stime", "swapon", "swapoff", "sysfs", "syslog",
    "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86",
    "vm86old",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
})
assert len(DENIED) == 50, len(DENIED)

EPERM = 1
DENY_RULE = {
    "names": DENIED,
    "action": "SCMP_ACT_ERRNO",
    "errnoRet": EPERM,
    "comment": "isol8: denied whatever the container's capabilities "
               "(removed from every allow rule above); see seccomp/README.md",
}

# Fields of Docker 20.10.24's seccomp profile types (profiles/seccomp/seccomp.go).
TOP_KEYS = {"defaultAction", "architectures", "archMap", "syscalls"}
ARCHMAP_KEYS = {"architecture", "subArchitectures"}
RULE_KEYS = {"name", "names", "action", "errnoRet", "args", "comment",
             "includes", "excludes"}
FILTER_KEYS = {"caps", "arches", "minKernel"}
ARG_KEYS = {"index", "value", "valueTwo", "op"}


class ProfileError(Exception):
    pass


def _check_keys(obj, allowed, where):
    if not isinstance(obj, dict):
        raise ProfileError("%s: expected an object" % where)
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ProfileError("%s: keys not understood by Docker 20.10: %s"
                           % (where, ", ".join(unknown)))


def check_docker_2010_fields(profile):
    _check_keys(profile, TOP_KEYS, "profile")
    for i, a in enumerate(profile.get("archMap") or []):
        _check_keys(a, ARCHMAP_KEYS, "archMap[%d]" % i)
    for i, rule in enumerate(profile.get("syscalls") or []):
        where = "syscalls[%d]" % i
        _check_keys(rule, RULE_KEYS, where)
        if "name" in rule and "names" in rule:
            raise ProfileError("%s: both 'name' and 'names'" % where)
        for f in ("includes", "excludes"):
            if f in rule:
                _check_keys(rule[f], FILTER_KEYS, "%s.%s" % (where, f))
        for j, arg in enumerate(rule.get("args") or []):
            _check_keys(arg, ARG_KEYS, "%s.args[%d]" % (where, j))


def rule_names(rule):
    if "name" in rule:
        return [rule["name"]]
    return list(rule.get("names") or [])


def derive(upstream, log):
    if upstream.get("defaultAction") != "SCMP_ACT_ERRNO":
        raise ProfileError("upstream is not an allow-list profile "
                           "(defaultAction %r)" % upstream.get("defaultAction"))
    out = {}
    for key, value in upstream.items():
        if key == "defaultErrnoRet":
            if value != EPERM:
                raise ProfileError("defaultErrnoRet %r: Docker 20.10 ignores "
                                   "this field; only 1 (EPERM, runc's default) "
                                   "can be dropped safely" % (value,))
            log("dropped top-level defaultErrnoRet=1 (unknown to Docker 20.10; "
                "EPERM is runc's default anyway)")
            continue
        if key != "syscalls":
            out[key] = value
            continue
        rules = []
        for i, rule in enumerate(value):
            names = rule_names(rule)
            kept = [n for n in names if n not in DENIED]
            gone = [n for n in names if n in DENIED]
            cond = {k: rule[k] for k in ("includes", "excludes", "args")
                    if rule.get(k)}
            if gone:
                log("upstream rule %d %s %s: removed %s%s"
                    % (i, rule.get("action"), json.dumps(cond, sort_keys=True),
                       ", ".join(gone), "" if kept else " -> rule dropped"))
            if not kept:
                continue
            new = {}
            for k, v in rule.items():
                if k == "name":
                    new["name"] = kept[0]
                elif k == "names":
                    new["names"] = kept
                else:
                    new[k] = v
            rules.append(new)
        rules.append(dict(DENY_RULE))
        out[key] = rules
    check_docker_2010_fields(out)
    verify(out)
    return out


def verify(profile):
    """Independent re-check of the result (belt and braces)."""
    rules = profile["syscalls"]
    deny = rules[-1]
    if deny != DENY_RULE:
        raise ProfileError("last rule is not the isol8 deny rule")
    for i, rule in enumerate(rules[:-1]):
        bad = sorted(set(rule_names(rule)) & set(DENIED))
        if bad:
            raise ProfileError("rule %d still names denied syscalls: %s"
                               % (i, bad))
        if not rule_names(rule):
            raise ProfileError("rule %d has no names" % i)
    if "defaultErrnoRet" in profile:
        raise ProfileError("defaultErrnoRet left in output")


def render(profile):
    return json.dumps(profile, indent="\t", ensure_ascii=True) + "\n"


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("upstream", nargs="?",
                    default=os.path.join(here, "docker-default.upstream.json"))
    ap.add_argument("output", nargs="?",
                    default=os.path.join(here, "default.json"))
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if OUTPUT differs")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)

    def log(msg):
        if not args.quiet:
            print("make-default: " + msg, file=sys.stderr)

    with open(args.upstream, encoding="utf-8") as f:
        upstream = json.load(f)
    try:
        text = render(derive(upstream, log))
    except ProfileError as e:
        print("make-default: error: %s" % e, file=sys.stderr)
        return 2

    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print("make-default: %s is out of date; run "
                  "python3 seccomp/make-default.py" % args.output,
                  file=sys.stderr)
            return 1
        log("%s is up to date" % args.output)
        return 0

    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    log("wrote %s (%d rules, %d denied names)"
        % (args.output, len(json.loads(text)["syscalls"]), len(DENIED)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
