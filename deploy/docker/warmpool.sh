#!/bin/sh
# `warmpool` inside an agent image: the bridge's own Node, never the agent's.
exec /opt/warmpool/bin/node /opt/warmpool/app/dist/cmd/warmpool.js "$@"
