#!/usr/bin/env bash
# Boot does less: cloud-init skips package refresh; the AMI is rebuilt when packages change.
install -m 0644 /tmp/99-warmpool.cfg /etc/cloud/cloud.cfg.d/99-warmpool.cfg
dnf clean all
