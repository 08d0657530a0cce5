#!/usr/bin/env bash
# Baseline ECS agent settings; user data appends ECS_CLUSTER at launch.
install -m 0644 /tmp/ecs.config /etc/ecs/ecs.config
install -m 0644 /tmp/warmpool-prewarm.service /etc/systemd/system/warmpool-prewarm.service
systemctl enable warmpool-prewarm.service
