# isol8:bash - the base image plus curl.
ARG BASE_IMAGE=isol8:base
FROM ${BASE_IMAGE}

# bash, coreutils, procps etc. come from the base. curl is the one addition: every other
# runtime has an HTTP client built in (urllib, fetch), and with --net filtered a shell
# snippet has no other way to reach an allowed host. No recommends: ~6 MB.
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update; \
    apt-get install -y --no-install-recommends curl; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log /var/cache/debconf/*-old; \
    curl --version | head -n1
