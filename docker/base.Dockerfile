# isol8:base - the one layer every runtime image shares.
#
# ROOT_IMAGE is isol8:rootfs (offline debootstrap, see bootstrap-rootfs.sh) or, where
# Docker Hub is reachable, debian:bookworm-slim. Both are Debian bookworm; this file
# must work on either, so it only installs what the root image lacks.
ARG ROOT_IMAGE=isol8:rootfs
FROM ${ROOT_IMAGE}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# 1. Tools in every image: tini as PID 1 for containers started by hand (the engine's own
#    containers run its supervisor as PID 1 instead, mounted from the host), CA roots for
#    filtered-network HTTPS, procps (ps, pgrep) for programs. Only what the root image lacks
#    is installed; the engine itself needs nothing from the image but the runtime.
# 2. User sandbox must be exactly uid 100 / gid 101: the engine execs as 100:101 and
#    mounts /sandbox with uid=100,gid=101. Older Debian releases give uid 100 to _apt and
#    derived images may own gid 101, so any other holder is moved to a free system id
#    (with its files) instead of failing or silently sharing the id.
RUN set -eux; \
    missing=""; \
    [ -x /usr/bin/tini ] || missing="$missing tini"; \
    [ -s /etc/ssl/certs/ca-certificates.crt ] || missing="$missing ca-certificates"; \
    command -v pkill >/dev/null || missing="$missing procps"; \
    if [ -n "$missing" ]; then \
        export DEBIAN_FRONTEND=noninteractive; \
        apt-get update; \
        apt-get install -y --no-install-recommends $missing; \
        apt-get clean; \
        rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log /var/cache/debconf/*-old; \
    fi; \
    free_id() { for i in $(seq 999 -1 102); do getent "$1" "$i" >/dev/null || { echo "$i"; return; }; done; exit 1; }; \
    g=$(getent group 101 | cut -d: -f1 || true); \
    if [ -n "$g" ] && [ "$g" != sandbox ]; then \
        n=$(free_id group); groupmod -g "$n" "$g"; find / -xdev -gid 101 -exec chgrp -h "$n" {} +; \
    fi; \
    u=$(getent passwd 100 | cut -d: -f1 || true); \
    if [ -n "$u" ] && [ "$u" != sandbox ]; then \
        n=$(free_id passwd); usermod -u "$n" "$u"; find / -xdev -uid 100 -exec chown -h "$n" {} +; \
    fi; \
    if getent group sandbox >/dev/null; then groupmod -g 101 sandbox; else groupadd -g 101 sandbox; fi; \
    if getent passwd sandbox >/dev/null; then \
        usermod -u 100 -g 101 -d /sandbox -s /bin/bash sandbox; \
    else \
        useradd --no-log-init -u 100 -g 101 -d /sandbox -M -s /bin/bash sandbox; \
    fi; \
    install -d -o 100 -g 101 -m 0755 /sandbox; \
    [ "$(id -u sandbox):$(id -g sandbox)" = "100:101" ]

# 3. The host's CA certificates (host-ca.crt in the build context, empty when the host has
#    no bundle). Behind a TLS-intercepting proxy (corporate networks, some CI machines) the
#    host trusts the proxy's CA and the image must too, or every npm/pip/deno download fails.
#    Only certificates Debian's bundle lacks are added, as files under
#    /usr/local/share/ca-certificates, so update-ca-certificates appends them to
#    /etc/ssl/certs/ca-certificates.crt (Debian's CAs stay) and keeps them on later
#    regenerations (e.g. a ca-certificates upgrade in a custom image).
COPY host-ca.crt /tmp/isol8-host-ca.crt
RUN set -eu; \
    dir=/usr/local/share/ca-certificates/isol8-host; \
    mkdir -p "$dir"; \
    awk -v dir="$dir" ' \
      { sub(/\r$/, "") } \
      /-----BEGIN CERTIFICATE-----/ { inblk = 1; pem = ""; key = "" } \
      inblk { pem = pem $0 "\n"; line = $0; gsub(/[ \t]/, "", line); key = key line } \
      /-----END CERTIFICATE-----/ && inblk { \
        inblk = 0; \
        if (FNR == NR) { seen[key] = 1 } \
        else if (!(key in seen)) { seen[key] = 1; n++; f = sprintf("%s/host-%03d.crt", dir, n); printf "%s", pem > f; close(f) } \
      } \
      END { print (n + 0) " host CA certificate(s) to add" }' \
      /etc/ssl/certs/ca-certificates.crt /tmp/isol8-host-ca.crt; \
    rm -f /tmp/isol8-host-ca.crt; \
    if [ -n "$(ls -A "$dir")" ]; then update-ca-certificates; else rmdir "$dir"; fi

# The same variables the engine passes to every exec, so `docker run isol8:<rt>` by hand
# behaves like the engine. Everything writable lives under /sandbox (tmpfs at run time;
# the root filesystem is read-only), hence HOME, the user install prefixes and DENO_DIR.
# BUN_RUNTIME_TRANSPILER_CACHE_PATH=0: bun would otherwise try to cache transpiled files.
# The system CA store (with the host's CAs, see 3.) for every runtime: node and bun read
# NODE_EXTRA_CA_CERTS on top of their built-in roots (loaded lazily: no start-up cost),
# deno uses only its built-in roots unless DENO_TLS_CA_STORE=system, and `requests`
# installed from PyPI would use its own certifi bundle. Debian's python, pip and curl
# use the system bundle already.
ENV HOME=/sandbox \
    LANG=C.UTF-8 \
    PATH=/sandbox/.local/bin:/sandbox/.npm-global/bin:/sandbox/.bun-global/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin \
    PYTHONUNBUFFERED=1 \
    PYTHONUSERBASE=/sandbox/.local \
    NPM_CONFIG_PREFIX=/sandbox/.npm-global \
    NODE_PATH=/usr/local/lib/node_modules:/sandbox/.npm-global/lib/node_modules:/sandbox/node_modules \
    DENO_DIR=/sandbox/.deno \
    BUN_RUNTIME_TRANSPILER_CACHE_PATH=0 \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    DENO_TLS_CA_STORE=system \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

WORKDIR /sandbox
# By hand: idle as root under tini. The engine replaces the entrypoint with its supervisor,
# which runs all user code as 100:101.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["sleep", "infinity"]
