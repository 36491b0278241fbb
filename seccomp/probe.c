/* seccomp/probe.c - call each syscall isol8's strict seccomp profile denies
 * and print what the kernel (or the filter) answered.
 *
 * Build (static, so it runs in any image):  gcc -static -O2 -o probe probe.c
 * Usage:  probe [NAME...]       (no NAME: every probe)
 * Output: one line per probe:  NAME abi=x86_64|i386 nr=N ret=R errno=E (ENAME)
 * Exit status: 0 always (the caller judges the table; see verify.sh).
 *
 * Arguments are chosen so that, WITHOUT seccomp, the call either succeeds
 * harmlessly or fails with an errno other than EPERM wherever the kernel
 * allows (bad pointer -> EFAULT, bad fd -> EBADF, bad pid -> ESRCH, bad
 * command -> EINVAL/EOPNOTSUPP), so that EPERM really comes from the filter.
 * Calls whose capability check comes first still say EPERM unconfined; the
 * table then cannot tell the two apart, and verify.sh only uses the others to
 * prove the check can fail.
 *
 * umount, stime, vm86, vm86old have no x86_64 number; they are reached
 * through the i386 ABI (int $0x80) in a child process, which the profile
 * covers through its SCMP_ARCH_X86 sub-architecture.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define BADPTR ((long)1) /* unmapped, so copy_from_user fails with EFAULT */

struct res {
    long ret;
    int err;
};

static struct res call6(long nr, long a, long b, long c, long d, long e, long f)
{
    struct res r;
    errno = 0;
    r.ret = syscall(nr, a, b, c, d, e, f);
    r.err = r.ret == -1 ? errno : 0;
    if (r.ret >= 0 && r.ret < 1024 && (nr == SYS_userfaultfd || nr == SYS_io_uring_setup))
        close((int)r.ret); /* returned a file descriptor */
    return r;
}

/* i386 ABI through int $0x80 (args truncated to 32 bits). */
static long int80(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

/* Run fn in a child so that side effects (namespaces, a fault when the
 * kernel lacks IA-32 emulation) stay there; result comes back in a pipe. */
static struct res in_child(struct res (*fn)(long), long arg)
{
    int p[2];
    struct res r = {-1, 0};
    if (pipe(p) != 0) {
        r.err = errno;
        return r;
    }
    pid_t pid = fork();
    if (pid == 0) {
        struct res cr = fn(arg);
        ssize_t n = write(p[1], &cr, sizeof cr);
        _exit(n == (ssize_t)sizeof cr ? 0 : 1);
    }
    close(p[1]);
    int status = 0;
    ssize_t n = read(p[0], &r, sizeof r);
    close(p[0]);
    waitpid(pid, &status, 0);
    if (n != (ssize_t)sizeof r) {
        r.ret = -2; /* child died: report the signal as a negative errno */
        r.err = WIFSIGNALED(status) ? -WTERMSIG(status) : -999;
    }
    return r;
}

static struct res do_unshare_userns(long flags)
{
    return call6(SYS_unshare, flags, 0, 0, 0, 0, 0);
}

static struct res do_int80(long which)
{
    struct res r;
    long ret;
    switch (which) {
    case 22: ret = int80(22, BADPTR, 0, 0); break;   /* umount(name) */
    case 25: ret = int80(25, BADPTR, 0, 0); break;   /* stime(tptr) */
    case 113: ret = int80(113, BADPTR, 0, 0); break; /* vm86old(info) */
    case 166: ret = int80(166, 0x1234, BADPTR, 0); break; /* vm86(fn, v86) */
    default: ret = int80(which, 0, 0, 0); break;     /* e.g. 20 = getpid */
    }
    r.ret = ret < 0 && ret > -4096 ? -1 : ret;
    r.err = ret < 0 && ret > -4096 ? (int)-ret : 0;
    return r;
}

static char buf_src[16] = "isol8-probe", buf_dst[16];

struct probe {
    const char *name;
    const char *abi;
    long nr;
    struct res (*run)(const struct probe *);
};

#define P(nm) static struct res p_##nm(const struct probe *pr)

P(ptrace) { (void)pr; return call6(SYS_ptrace, 16 /* PTRACE_ATTACH */, 0x3fffffff /* no such pid */, 0, 0, 0, 0); }
P(mount) { (void)pr; return call6(SYS_mount, (long)"none", (long)"/tmp", BADPTR /* fstype */, 0, 0, 0); }
P(unshare) { (void)pr; return in_child(do_unshare_userns, CLONE_NEWUSER); }
P(keyctl) { (void)pr; return call6(SYS_keyctl, 9999 /* no such command */, 0, 0, 0, 0, 0); }
P(bpf) { (void)pr; return call6(SYS_bpf, 0 /* BPF_MAP_CREATE */, BADPTR, 4096, 0, 0, 0); }
P(userfaultfd) { (void)pr; return call6(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */, 0, 0, 0, 0, 0); }
P(io_uring_setup)
{
    (void)pr;
    static unsigned char params[120]; /* struct io_uring_params, zeroed */
    memset(params, 0, sizeof params);
    return call6(SYS_io_uring_setup, 1, (long)params, 0, 0, 0, 0);
}
P(io_uring_enter) { (void)pr; return call6(SYS_io_uring_enter, -1, 0, 0, 0, 0, 0); }
P(io_uring_register) { (void)pr; return call6(SYS_io_uring_register, -1, 0, 0, 0, 0, 0); }
P(acct) { (void)pr; return call6(SYS_acct, 0, 0, 0, 0, 0, 0); }
P(add_key) { (void)pr; return call6(SYS_add_key, BADPTR, BADPTR, 0, 0, -3, 0); }
P(request_key) { (void)pr; return call6(SYS_request_key, BADPTR, BADPTR, 0, 0, 0, 0); }
P(clock_adjtime) { (void)pr; return call6(SYS_clock_adjtime, 0, BADPTR, 0, 0, 0, 0); }
P(clock_settime) { (void)pr; return call6(SYS_clock_settime, 0, BADPTR, 0, 0, 0, 0); }
P(settimeofday) { (void)pr; return call6(SYS_settimeofday, BADPTR, 0, 0, 0, 0, 0); }
P(create_module) { (void)pr; return call6(SYS_create_module, 0, 0, 0, 0, 0, 0); }
P(query_module) { (void)pr; return call6(SYS_query_module, 0, 0, 0, 0, 0, 0); }
P(init_module) { (void)pr; return call6(SYS_init_module, 0, 0, BADPTR, 0, 0, 0); }
P(finit_module) { (void)pr; return call6(SYS_finit_module, -1, BADPTR, 0, 0, 0, 0); }
P(delete_module) { (void)pr; return call6(SYS_delete_module, BADPTR, 0, 0, 0, 0, 0); }
P(get_mempolicy) { (void)pr; return call6(SYS_get_mempolicy, 0, 0, 0, 0, 0, 0); }
P(set_mempolicy) { (void)pr; return call6(SYS_set_mempolicy, 0 /* MPOL_DEFAULT */, 0, 0, 0, 0, 0); }
P(mbind) { (void)pr; return call6(SYS_mbind, 0, 0, 0, 0, 0, 0); }
P(move_pages) { (void)pr; return call6(SYS_move_pages, 0, 0, 0, 0, 0, 0); }
P(ioperm) { (void)pr; return call6(SYS_ioperm, 0x80, 1, 0 /* turn off */, 0, 0, 0); }
P(iopl) { (void)pr; return call6(SYS_iopl, 0, 0, 0, 0, 0, 0); }
P(kcmp) { (void)pr; long me = getpid(); return call6(SYS_kcmp, me, me, 1 /* KCMP_VM */, 0, 0, 0); }
P(kexec_load) { (void)pr; return call6(SYS_kexec_load, 0, 0, 0, 0, 0, 0); }
P(kexec_file_load) { (void)pr; return call6(SYS_kexec_file_load, -1, -1, 0, 0, 0, 0); }
P(lookup_dcookie) { (void)pr; return call6(SYS_lookup_dcookie, 0, BADPTR, 0, 0, 0, 0); }
P(name_to_handle_at) { (void)pr; return call6(SYS_name_to_handle_at, AT_FDCWD, BADPTR, BADPTR, BADPTR, 0, 0); }
P(open_by_handle_at) { (void)pr; return call6(SYS_open_by_handle_at, -1, BADPTR, 0, 0, 0, 0); }
P(perf_event_open) { (void)pr; return call6(SYS_perf_event_open, BADPTR, 0, -1, -1, 0, 0); }
P(pivot_root) { (void)pr; return call6(SYS_pivot_root, BADPTR, BADPTR, 0, 0, 0, 0); }
P(process_vm_readv)
{
    (void)pr;
    struct iovec l = {buf_dst, sizeof buf_dst}, r = {buf_src, sizeof buf_src};
    return call6(SYS_process_vm_readv, getpid(), (long)&l, 1, (long)&r, 1, 0);
}
P(process_vm_writev)
{
    (void)pr;
    struct iovec l = {buf_src, sizeof buf_src}, r = {buf_dst, sizeof buf_dst};
    return call6(SYS_process_vm_writev, getpid(), (long)&l, 1, (long)&r, 1, 0);
}
P(quotactl) { (void)pr; return call6(SYS_quotactl, 0, BADPTR, 0, 0, 0, 0); }
P(reboot) { (void)pr; return call6(SYS_reboot, 0, 0, 0, 0, 0, 0); /* bad magic */ }
P(setns) { (void)pr; return call6(SYS_setns, -1, 0, 0, 0, 0, 0); }
P(swapon) { (void)pr; return call6(SYS_swapon, BADPTR, 0, 0, 0, 0, 0); }
P(swapoff) { (void)pr; return call6(SYS_swapoff, BADPTR, 0, 0, 0, 0, 0); }
P(sysfs) { (void)pr; return call6(SYS_sysfs, 1, BADPTR, 0, 0, 0, 0); }
P(syslog) { (void)pr; return call6(SYS_syslog, 10 /* SIZE_BUFFER */, 0, 0, 0, 0, 0); }
P(umount2) { (void)pr; return call6(SYS_umount2, BADPTR, 0, 0, 0, 0, 0); }
P(uselib) { (void)pr; return call6(SYS_uselib, BADPTR, 0, 0, 0, 0, 0); }
P(ustat) { (void)pr; return call6(SYS_ustat, 0, BADPTR, 0, 0, 0, 0); }
P(i386) { return in_child(do_int80, pr->nr); }

#define X(nm) {#nm, "x86_64", SYS_##nm, p_##nm}
static const struct probe probes[] = {
    /* the seven named in the brief first */
    X(ptrace), X(mount), X(unshare), X(keyctl), X(bpf), X(userfaultfd), X(io_uring_setup),
    X(io_uring_enter), X(io_uring_register),
    X(acct), X(add_key), X(clock_adjtime), X(clock_settime), X(create_module),
    X(delete_module), X(finit_module), X(get_mempolicy), X(init_module), X(ioperm),
    X(iopl), X(kcmp), X(kexec_file_load), X(kexec_load), X(lookup_dcookie), X(mbind),
    X(move_pages), X(name_to_handle_at), X(open_by_handle_at), X(perf_event_open),
    X(pivot_root), X(process_vm_readv), X(process_vm_writev), X(query_module),
    X(quotactl), X(reboot), X(request_key), X(set_mempolicy), X(setns),
    X(settimeofday), X(swapon), X(swapoff), X(sysfs), X(syslog), X(umount2),
    X(uselib), X(ustat),
    /* i386-only names, through int $0x80 */
    {"umount", "i386", 22, p_i386},
    {"stime", "i386", 25, p_i386},
    {"vm86old", "i386", 113, p_i386},
    {"vm86", "i386", 166, p_i386},
    /* control: an allowed i386 call, proves int $0x80 itself works */
    {"getpid", "i386", 20, p_i386},
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        const struct probe *pr = &probes[i];
        if (argc > 1) {
            int want = 0;
            for (int a = 1; a < argc; a++)
                want |= strcmp(argv[a], pr->name) == 0;
            if (!want)
                continue;
        }
        struct res r = pr->run(pr);
        const char *en = r.err > 0 ? strerrorname_np(r.err) : NULL;
        printf("%-18s abi=%-6s nr=%-3ld ret=%-4ld errno=%d (%s)\n", pr->name, pr->abi,
               pr->nr, r.ret, r.err,
               r.err > 0 ? (en ? en : "?") : r.err < 0 ? "child killed by signal" : "-");
    }
    return 0;
}
