#!/bin/sh
# One RabbitMQ user per service, allowed only what that service does (issue 15 item 6).
# Run where `rabbitmqctl` reaches the node: docker-compose runs it inside the rabbitmq
# container once the node is up (deploy/rabbitmq/entrypoint.sh); on Kubernetes, a Job
# or the RabbitMQ topology operator's User/Permission/TopicPermission objects with the
# same patterns (deploy/README.md, "Broker users"). Idempotent: re-running updates
# passwords and permissions. tests/hostile/test_trust_bus.py runs this very script
# against a throwaway vhost and proves what each user can and cannot do.
#
# Environment: CHECKOUT_AMQP_PASSWORD, SUBSCRIPTIONS_AMQP_PASSWORD, WEBHOOKS_AMQP_PASSWORD,
# ANALYTICS_AMQP_PASSWORD
# (required); RABBITMQ_VHOST (default /); BILLING_USER_PREFIX (default billing-).
#
# Permissions are regexes over resource names (configure, write, read): a service may
# declare the exchange `billing.events`, its dead-letter exchange and its OWN queue, DLQ
# and slow lane, publish to the exchange, and read only its own queue. Plain permissions cannot
# say which routing keys a user may publish to an exchange; topic permissions can: each
# user may publish only the routing keys of the event types it owns
# (billing_domain.event_publishers; a test keeps this file equal to it). Consumers also
# check each envelope's `source` against the same catalogue; that field is self-declared,
# so the topic permission is what binds it to the publisher's identity.
set -eu

: "${CHECKOUT_AMQP_PASSWORD:?set CHECKOUT_AMQP_PASSWORD}"
: "${SUBSCRIPTIONS_AMQP_PASSWORD:?set SUBSCRIPTIONS_AMQP_PASSWORD}"
: "${WEBHOOKS_AMQP_PASSWORD:?set WEBHOOKS_AMQP_PASSWORD}"
: "${ANALYTICS_AMQP_PASSWORD:?set ANALYTICS_AMQP_PASSWORD}"
: "${NOTIFICATIONS_AMQP_PASSWORD:?set NOTIFICATIONS_AMQP_PASSWORD}"
VHOST="${RABBITMQ_VHOST:-/}"
PREFIX="${BILLING_USER_PREFIX:-billing-}"
EXCHANGE="billing.events"
X='billing\.events'

ctl() { rabbitmqctl --quiet "$@"; }

# user NAME PASSWORD CONFIGURE WRITE READ TOPIC_WRITE
user() {
  name="$PREFIX$1"
  if ctl list_users | cut -f1 | grep -qx "$name"; then
    ctl change_password "$name" "$2"
  else
    ctl add_user "$name" "$2"
  fi
  ctl set_permissions -p "$VHOST" "$name" "$3" "$4" "$5"
  ctl set_topic_permissions -p "$VHOST" "$name" "$EXCHANGE" "$6" '^billing\.'
}

# own Q: the consumer queue Q, its dead-letter queue and its slow lane for transient
# failures (billing_platform.messaging.retry_lane: the Q.retry and Q.requeue exchanges,
# the Q.retry.<N>s delay queues)
own() { printf '%s(\\.dlq|\\.retry|\\.retry\\.[0-9]+s|\\.requeue)?' "$1"; }

Q=$(own 'checkout\.billing-events')
user checkout "$CHECKOUT_AMQP_PASSWORD" \
  "^($X|$X\\.dlx|$Q)\$" "^($X|$X\\.dlx|$Q)\$" "^($X|$X\\.dlx|$Q)\$" \
  '^billing\.(checkout\.session_created|customer\.created|portal\.session_created)$'

Q=$(own 'subscriptions\.billing-events')
user subscriptions "$SUBSCRIPTIONS_AMQP_PASSWORD" \
  "^($X|$X\\.dlx|$Q)\$" "^($X|$X\\.dlx|$Q)\$" "^($X|$X\\.dlx|$Q)\$" \
  '^billing\.(subscription\.(activated|plan_changed|cancel_scheduled|resumed|canceled|trial_extended)|payment\.reminder_requested|entitlements\.changed)$'

user webhooks "$WEBHOOKS_AMQP_PASSWORD" \
  "^($X|$X\\.dlx)\$" "^$X\$" '^$' \
  '^billing\.(checkout\.(completed|async_payment_failed|session_expired)|subscription\.(updated|trial_will_end)|invoice\.(paid|payment_failed|payment_action_required|voided|marked_uncollectible|created|finalized|updated|upcoming)|payment_method\.(attached|updated|detached)|customer\.updated)$'

# analytics publishes nothing: it consumes its own queue only
Q=$(own 'analytics\.billing-events')
user analytics "$ANALYTICS_AMQP_PASSWORD" \
  "^($X|$X\\.dlx|$Q)\$" "^($X|$X\\.dlx|$Q)\$" "^($X|$X\\.dlx|$Q)\$" \
  '^$'

Q=$(own 'notifications\.billing-events')
user notifications "$NOTIFICATIONS_AMQP_PASSWORD" \
  "^($X|$X\\.dlx|$Q)\$" "^($X|$X\\.dlx|$Q)\$" "^($X|$X\\.dlx|$Q)\$" \
  '^billing\.notification\.sent$'


echo "billing broker users ready in vhost $VHOST: ${PREFIX}checkout ${PREFIX}subscriptions ${PREFIX}webhooks ${PREFIX}analytics ${PREFIX}notifications"
