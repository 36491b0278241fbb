// Attacks against the container's hardening, each run on the real engine. Where a check could
// pass for another reason, a control run shows the same code succeeds without the measure.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support.hpp"

using isol8::EngineOptions;
using isol8::test::runCode;
using isol8::test::runProgram;

TEST_CASE("code runs as uid 100 with no capabilities and no_new_privs", "[hardening]") {
  auto r = runCode("bash", "id -u; id -g; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/self/status");
  CHECK(r.stdoutText ==
        "100\n101\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\n");
}

TEST_CASE("the sandbox user cannot signal PID 1", "[hardening]") {
  auto r = runCode("bash", "kill -9 1 2>&1; echo rc=$?; kill -TERM 1 2>&1; echo rc=$?");
  CHECK_THAT(r.stdoutText, Catch::Contains("Operation not permitted"));
  CHECK_THAT(r.stdoutText, Catch::Contains("rc=1\n"));
  CHECK_THAT(r.stdoutText, !Catch::Contains("rc=0"));
}

TEST_CASE("the root filesystem is read-only - /sandbox and /tmp are writable", "[hardening]") {
  auto r = runCode("bash",
                   "for d in / /etc /usr/bin /sandbox /tmp; do touch $d/probe 2>/dev/null && echo \"$d ok\" || echo \"$d denied\"; done");
  CHECK(r.stdoutText == "/ denied\n/etc denied\n/usr/bin denied\n/sandbox ok\n/tmp ok\n");
  // As the container's root (no capabilities) it is still read-only: the mount, not the
  // file permissions, refuses it.
  auto mounts = runCode("bash", "grep -E ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1");
  CHECK(mounts.stdoutText == "ro\n");
}

TEST_CASE("programs cannot be executed from /tmp (noexec) but can from /sandbox", "[hardening]") {
  auto r = runCode("bash", "cp /bin/true /tmp/t && /tmp/t; echo tmp=$?; cp /bin/true /sandbox/t && /sandbox/t; echo sandbox=$?");
  CHECK_THAT(r.stderrText, Catch::Contains("Permission denied"));
  CHECK(r.stdoutText == "tmp=126\nsandbox=0\n");
}

TEST_CASE("tmpfs sizes cap what the sandbox can write", "[hardening][limits]") {
  EngineOptions options;
  options.tmpSize = "8m";
  auto r = runCode("bash", "head -c 20000000 /dev/zero > /tmp/big; echo rc=$?; du -m /tmp/big | cut -f1", options);
  CHECK_THAT(r.stderrText, Catch::Contains("No space left on device"));
  CHECK_THAT(r.stdoutText, Catch::StartsWith("rc=1\n8\n"));
}

namespace {
// A TCP listener on the host (all interfaces) that a sandbox could try to reach.
struct HostListener {
  int fd = -1;
  int port = 0;
  HostListener() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd, 16);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~HostListener() { close(fd); }
};

std::string connectProbe(const std::string& host, int port) {
  return "import socket\ns = socket.socket()\ns.settimeout(3)\ntry:\n  s.connect(('" + host + "', " +
         std::to_string(port) + "))\n  print('connected')\nexcept OSError as e:\n  print('blocked', e.errno)\n";
}
}  // namespace

TEST_CASE("network none: no connection leaves the sandbox", "[hardening][network]") {
  HostListener listener;
  // The host's own address: reachable from any container that has a network at all.
  auto addresses = runProgram({"hostname", "-I"});
  auto host = addresses.out.substr(0, addresses.out.find(' '));
  REQUIRE(!host.empty());
  // Control: with the host's network the same probe reaches the listener.
  EngineOptions hostNet;
  hostNet.network = isol8::NetworkMode::host;
  CHECK(runCode("python", connectProbe("127.0.0.1", listener.port), hostNet).stdoutText == "connected\n");

  auto blocked = runCode("python", connectProbe(host, listener.port));
  CHECK(blocked.stdoutText == "blocked 101\n");  // ENETUNREACH: no interface but loopback
  auto dns = runCode("python", "import socket\ntry:\n  socket.getaddrinfo('deb.debian.org', 80)\n  print('resolved')\nexcept OSError:\n  print('no dns')\n");
  CHECK(dns.stdoutText == "no dns\n");
}

TEST_CASE("the default seccomp profile refuses dangerous syscalls - unconfined does not", "[hardening][seccomp]") {
  // syscall numbers for x86_64; each call is made with harmless arguments.
  const std::string probe = R"(import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
calls = [('ptrace', 101, (0, 0, 0, 0)), ('unshare', 272, (0x10000000,)), ('userfaultfd', 323, (0,)),
         ('io_uring_setup', 425, (1, ctypes.create_string_buffer(120))), ('keyctl', 250, (0, 0, 0, 0)),
         ('bpf', 321, (0, 0, 0)), ('mount', 165, (0, 0, 0, 0, 0))]
for name, nr, args in calls:
    rc = libc.syscall(nr, *args)
    print(name, 'EPERM' if rc == -1 and ctypes.get_errno() == 1 else 'allowed')
)";
  auto strict = runCode("python", probe);
  CHECK(strict.stdoutText ==
        "ptrace EPERM\nunshare EPERM\nuserfaultfd EPERM\nio_uring_setup EPERM\nkeyctl EPERM\nbpf EPERM\nmount EPERM\n");
  EngineOptions unconfined;
  unconfined.security.seccomp = isol8::SeccompMode::unconfined;
  auto open = runCode("python", probe, unconfined);
  CHECK_THAT(open.stdoutText, Catch::Contains("ptrace allowed"));
  // (userfaultfd is not a control: the kernel's vm.unprivileged_userfaultfd=0 refuses it to
  // uid 100 with EPERM even without seccomp.)
  CHECK_THAT(open.stdoutText, Catch::Contains("io_uring_setup allowed"));
}
