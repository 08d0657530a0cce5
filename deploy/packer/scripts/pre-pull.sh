#!/usr/bin/env bash
# Pulls the pool image into Docker's store so ECS_IMAGE_PULL_BEHAVIOR=prefer-cached starts tasks
# without a registry round trip.
systemctl start docker
if [ -n "${ECR_REGISTRY}" ]; then
  aws ecr get-login-password --region "${AWS_REGION}" | docker login --username AWS --password-stdin "${ECR_REGISTRY}"
fi
docker pull "${POOL_IMAGE}"
docker image inspect "${POOL_IMAGE}" --format '{{.Id}} {{.Size}}'
