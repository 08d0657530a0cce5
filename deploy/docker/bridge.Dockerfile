# syntax=docker/dockerfile:1.7
# Adds the warmpool bridge to an agent image. The bridge is the entrypoint: it registers the task
# warm, waits for a user, prepares /mnt/efs/<userId>, then starts the agent command it is given
# after "--" (the task definition's command). The agent image must be glibc-based (Debian,
# Ubuntu, Amazon Linux; not Alpine) because the bridge brings Node's glibc build.
#   docker build -f deploy/docker/bridge.Dockerfile \
#     --build-arg AGENT_IMAGE=<your agent image>@sha256:… \
#     --build-arg WARMPOOL_IMAGE=<warmpool image>@sha256:… -t agent-warmpool:<tag> .

ARG NODE_VERSION=24.22.3
ARG NODE_IMAGE=node:${NODE_VERSION}-bookworm-slim
# Both required, by digest: a build without them fails at the FROM lines below.
ARG AGENT_IMAGE
ARG WARMPOOL_IMAGE

FROM ${WARMPOOL_IMAGE} AS warmpool
FROM ${NODE_IMAGE} AS node

FROM ${AGENT_IMAGE} AS runtime
COPY --from=node /usr/local/bin/node /opt/warmpool/bin/node
COPY --from=warmpool /app /opt/warmpool/app
COPY deploy/docker/healthcheck.mjs /opt/warmpool/app/healthcheck.mjs
COPY --chmod=0755 deploy/docker/warmpool.sh /usr/local/bin/warmpool
# The bridge starts as root (the task definition drops every capability but CHOWN, KILL, SETGID
# and SETUID) and runs each user's agent as that user's own UID, base + n, with no groups, no
# capabilities and no_new_privs; it refuses to start if it cannot (docs/security.md). The agent
# image must provide setpriv (util-linux) and env (coreutils) in /usr/bin or /bin.
USER 0:0
ENV WARMPOOL_WORKSPACE_ROOT=/mnt/efs \
    WARMPOOL_ISOLATION=per-user \
    WARMPOOL_UID_BASE=100000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/opt/warmpool/bin/node", "/opt/warmpool/app/healthcheck.mjs"]
ENTRYPOINT ["/usr/local/bin/warmpool", "bridge"]
