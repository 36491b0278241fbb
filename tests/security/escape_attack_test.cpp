// Escapes a program might try from inside the sandbox: privilege, filesystem, kernel
// interfaces, network, resource exhaustion. Each case runs a real program through the real
// engine; the program prints what it managed, and the test asserts that it was contained.
#include <catch2/catch.hpp>

#include "support.hpp"

using isol8::DockerIsol8;
using isol8::test::codeRequest;
using isol8::test::shellRequest;

namespace {

// Runs python code in a fresh engine and returns its stdout (the test's verdict lines).
std::string python(const std::string& code) {
  DockerIsol8 engine;
  auto r = engine.execute(codeRequest("python", code));
  INFO(r.stderrText);
  return r.stdoutText;
}

// A python helper for the cases: try(f) prints "ok" when f() returns, else the errno name.
const std::string kTry = R"(import errno, os, socket
def attempt(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
)";

}  // namespace

TEST_CASE("attack: mounting a filesystem or making a new namespace is refused", "[security][escape]") {
  const auto out = python(kTry + R"(
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def mount():
    if libc.mount(b"none", b"/sandbox", b"tmpfs", 0, None) != 0: raise OSError(ctypes.get_errno(), "mount")
def unshare(flag):
    def f():
        if libc.unshare(flag) != 0: raise OSError(ctypes.get_errno(), "unshare")
    return f
print(attempt(mount), attempt(unshare(0x10000000)), attempt(unshare(0x00020000)), attempt(unshare(0x20000000)))
)");
  // CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID: all refused (seccomp or missing capability).
  CHECK(out.find("ok") == std::string::npos);
  CHECK(out.size() > 4);
}

TEST_CASE("attack: setuid programs do not make the code root", "[security][escape]") {
  DockerIsol8 engine;
  auto r = engine.execute(shellRequest(
      "for p in /usr/bin/su /usr/bin/mount /usr/bin/passwd /usr/bin/newgrp; do "
      "  [ -u \"$p\" ] || continue; echo x | timeout 5 \"$p\" root -c 'id -u' 2>/dev/null | grep -qx 0 && echo ROOT; "
      "done; timeout 5 /usr/bin/mount -t tmpfs none /sandbox 2>/dev/null && echo MOUNTED; id -u"));
  CHECK(r.stdoutText == "100\n");
}

TEST_CASE("attack: kernel tunables, sysrq and the kernel's memory are out of reach", "[security][escape]") {
  const auto out = python(kTry + R"(
def write(path, data):
    def f():
        with open(path, "w") as fh: fh.write(data)
    return f
def read(path):  # masked paths read as empty: that counts as refused
    def f():
        with open(path, "rb") as fh:
            if not fh.read(16): raise OSError(errno.ENODATA, path)
    return f
print(attempt(write("/proc/sys/kernel/hostname", "pwned")),
      attempt(write("/proc/sysrq-trigger", "b")),
      attempt(write("/sys/kernel/mm/transparent_hugepage/enabled", "never")),
      attempt(read("/proc/kcore")),
      attempt(write("/proc/self/oom_score_adj", "-1000")))
)");
  CHECK(out.find("ok") == std::string::npos);
  CHECK(out.size() > 10);
}

TEST_CASE("attack: device nodes cannot be made and raw devices are absent", "[security][escape]") {
  const auto out = python(kTry + R"(
import stat
print(attempt(lambda: os.mknod("/sandbox/sda", stat.S_IFBLK | 0o600, os.makedev(8, 0))),
      attempt(lambda: os.mknod("/sandbox/mem", stat.S_IFCHR | 0o600, os.makedev(1, 1))),
      os.path.exists("/dev/mem"), os.path.exists("/dev/sda"), os.path.exists("/dev/kmsg"))
)");
  CHECK(out == "EPERM EPERM False False False\n");
}

TEST_CASE("attack: raw and packet sockets are refused (no CAP_NET_RAW)", "[security][escape][network]") {
  const auto out = python(kTry + R"(
print(attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)),
      attempt(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)))
)");
  CHECK(out.find("ok") == std::string::npos);
  CHECK(out.size() > 4);
}

TEST_CASE("attack: the clock, hostname and kernel modules cannot be changed", "[security][escape]") {
  DockerIsol8 engine;
  auto r = engine.execute(shellRequest(
      "date -s '2000-01-01' >/dev/null 2>&1 && echo CLOCK; hostname pwned 2>/dev/null && echo HOSTNAME; "
      "python3 -c 'import ctypes; l=ctypes.CDLL(None); print(\"MODULE\" if l.init_module(0,0,b\"\")==0 else \"\", end=\"\")' 2>/dev/null; "
      "echo done"));
  CHECK(r.stdoutText == "done\n");
}

TEST_CASE("attack: the Docker socket and the host's processes are not visible", "[security][escape]") {
  DockerIsol8 engine;
  auto r = engine.execute(shellRequest(
      "ls /var/run/docker.sock /run/docker.sock 2>/dev/null; "
      "n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; [ $n -lt 10 ] && echo few-processes; "
      "[ -e /proc/1/cmdline ] && tr '\\0' ' ' < /proc/1/cmdline 2>/dev/null | grep -c dockerd"));
  CHECK(r.stdoutText == "few-processes\n0\n");
}

TEST_CASE("attack: a file-descriptor flood stops at the nofile limit", "[security][escape][limits]") {
  const auto out = python(R"(
import os
fds = []
try:
    while len(fds) < 100000:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print("stopped", e.errno == 24, len(fds) < 5000)
)");
  CHECK(out == "stopped True True\n");
}

TEST_CASE("attack: a thread bomb is stopped by the pids limit", "[security][escape][limits]") {
  isol8::EngineOptions options;
  options.pidsLimit = 32;
  DockerIsol8 engine(options);
  auto r = engine.execute(codeRequest("python", R"(
import threading, time
threads = []
try:
    for i in range(1000):
        t = threading.Thread(target=time.sleep, args=(30,), daemon=True)
        t.start()
        threads.append(t)
except RuntimeError:
    pass
print("threads", len(threads) < 32)
import os; os._exit(0)
)"));
  CHECK(r.stdoutText == "threads True\n");
}

TEST_CASE("attack: a planted symlink anywhere on a path redirects no file write or read", "[security][escape][files]") {
  isol8::EngineOptions options;
  options.mode = isol8::ExecutionMode::persistent;
  DockerIsol8 engine(options);
  engine.start();
  // Run 1 plants links to elsewhere, as a directory on the path and as the file itself.
  REQUIRE(engine.execute(shellRequest("ln -s /tmp /sandbox/link && ln -s /tmp/target /sandbox/file && "
                                      "ln -s /etc /sandbox/etc")).exitCode == 0);
  CHECK_THROWS_WITH(engine.putFile("/sandbox/link/x", "through the link"), Catch::Contains("/sandbox/link/x"));
  CHECK_THROWS(engine.putFile("/sandbox/file", "through the link"));
  CHECK(engine.execute(shellRequest("ls /tmp; echo end")).stdoutText == "end\n");
  // Reading back through a linked directory gets nothing.
  auto req = shellRequest("true");
  req.outputPaths = {"/sandbox/etc/passwd", "/sandbox/link/x"};
  CHECK(engine.execute(req).files.empty());
  CHECK_THROWS(engine.getFile("/sandbox/etc/passwd"));
  engine.stop();
}

TEST_CASE("attack: the code's environment holds no engine or host secrets", "[security][escape]") {
  DockerIsol8 engine;
  auto req = shellRequest("env | cut -d= -f1 | sort | tr '\\n' ' '");
  auto r = engine.execute(req);
  for (const char* name : {"DOCKER_HOST", "ISOL8_API_KEY", "ISOL8_MASTER_KEY", "HOSTNAME_HOST", "SSH_AUTH_SOCK"}) {
    INFO(name);
    CHECK(r.stdoutText.find(name) == std::string::npos);
  }
}
