#!/usr/bin/env bash
# Nothing instance-specific may stay in the image: registry credentials, the ECS agent's
# registration state, cloud-init's record of this boot, logs.
docker logout "${ECR_REGISTRY}" >/dev/null 2>&1 || true
rm -f /root/.docker/config.json /home/ec2-user/.docker/config.json
systemctl stop ecs || true
rm -rf /var/lib/ecs/data/*
rm -f /var/log/ecs/*
rm -f /tmp/ecs.config /tmp/warmpool-prewarm.service /tmp/99-warmpool.cfg
cloud-init clean --logs
