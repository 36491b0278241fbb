# isol8:bun - Bun from the npm package @oven/bun-linux-x64 (or -baseline for CPUs
# without AVX2). The host fetches it with `npm pack` as bun.tgz (see npm-packages.txt).
ARG BASE_IMAGE=isol8:base
FROM ${BASE_IMAGE}

# ADD unpacks the local tarball itself (no tar/gzip needed in the image); the npm
# package is just package/bin/bun plus two tiny metadata files.
ADD bun.tgz /opt/bun/
# bunx is bun started under that name.
RUN set -eux; \
    ln -s /opt/bun/package/bin/bun /usr/local/bin/bun; \
    ln -s bun /usr/local/bin/bunx; \
    bun --version

# Package installs (`bun install -g`) and bun's caches must land on the /sandbox tmpfs:
# the root filesystem is read-only. DO_NOT_TRACK: no crash-report/telemetry uploads.
ENV BUN_INSTALL=/sandbox/.bun \
    BUN_INSTALL_GLOBAL_DIR=/sandbox/.bun-global \
    BUN_INSTALL_BIN=/sandbox/.bun-global/bin \
    BUN_INSTALL_CACHE_DIR=/sandbox/.bun-cache \
    DO_NOT_TRACK=1
