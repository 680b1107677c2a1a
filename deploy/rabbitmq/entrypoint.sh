#!/bin/sh
# The rabbitmq image's own entrypoint, plus deploy/rabbitmq/users.sh (one user per
# service) as soon as the node answers. The healthcheck waits for the users, so no
# service connects before its user exists.
set -eu
(
  until rabbitmqctl --quiet await_startup >/dev/null 2>&1; do sleep 2; done
  sh /billing/users.sh
) &
exec docker-entrypoint.sh rabbitmq-server
