# isol8:deno - Deno from the npm package @deno/linux-x64-glibc, fetched on the host
# with `npm pack` as deno.tgz (see npm-packages.txt).
ARG BASE_IMAGE=isol8:base
FROM ${BASE_IMAGE}

# ADD unpacks the local tarball itself; the package is just package/deno.
ADD deno.tgz /opt/deno/
RUN set -eux; \
    ln -s /opt/deno/package/deno /usr/local/bin/deno; \
    deno --version

# DENO_DIR (/sandbox/.deno, set in the base) holds deno's caches on the tmpfs.
# No update check (it writes a marker file and needs network) and never prompt for a
# permission: the engine grants permissions on the command line, anything else is denied.
ENV DENO_NO_UPDATE_CHECK=1 \
    DENO_NO_PROMPT=1
