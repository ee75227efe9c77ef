#!/bin/sh
set -eu
# Restart {svc} one pod at a time.
kubectl -n {svc} rollout restart deployment/{svc}

