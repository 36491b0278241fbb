# isol8:python - Debian's CPython 3.11 with pip.
ARG BASE_IMAGE=isol8:base
FROM ${BASE_IMAGE}

# Debian's python3 rather than a separate build: it shares glibc/libssl with the base,
# is byte-compiled at install time (fast start on a read-only root) and gets security
# updates from the same mirror. pip serves per-run `pip install --user` into
# /sandbox/.local; without recommends it adds ~60 MB instead of pulling a C toolchain.
# EXTERNALLY-MANAGED (PEP 668) is removed because the container is the isolation
# boundary: plain `pip install --user` in user code should just work.
# Two startup hooks every interpreter start would pay for (~0.8 ms each run) are removed:
# Debian's sitecustomize (apport's crash hook; apport is not installed, and the failed import
# scans all of sys.path) and setuptools' distutils-precedence.pth shim.
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update; \
    apt-get install -y --no-install-recommends python3 python3-pip; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log /var/cache/debconf/*-old; \
    rm -f /usr/lib/python3*/EXTERNALLY-MANAGED; \
    rm -f /etc/python3*/sitecustomize.py /usr/lib/python3*/sitecustomize.py \
          /usr/lib/python3/dist-packages/distutils-precedence.pth; \
    ln -s /usr/bin/python3 /usr/local/bin/python; \
    python3 --version; pip3 --version

# No network (or a filtered one) at run time: skip pip's self-update check.
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
