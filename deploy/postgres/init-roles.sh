#!/bin/sh
# docker-entrypoint-initdb.d hook of the postgres container (first start of an empty
# volume only): the roles of deploy/postgres/roles.sql, then their passwords from the
# environment (deploy/env.example). Changing a password later: ALTER ROLE ... PASSWORD.
set -eu
: "${MIGRATE_DB_PASSWORD:?set MIGRATE_DB_PASSWORD}"
: "${CHECKOUT_DB_PASSWORD:?set CHECKOUT_DB_PASSWORD}"
: "${SUBSCRIPTIONS_DB_PASSWORD:?set SUBSCRIPTIONS_DB_PASSWORD}"
: "${WEBHOOKS_DB_PASSWORD:?set WEBHOOKS_DB_PASSWORD}"
: "${ANALYTICS_DB_PASSWORD:?set ANALYTICS_DB_PASSWORD}"
: "${NOTIFICATIONS_DB_PASSWORD:?set NOTIFICATIONS_DB_PASSWORD}"
psql="psql -v ON_ERROR_STOP=1 --username $POSTGRES_USER --dbname $POSTGRES_DB"
$psql -f /billing/roles.sql
$psql -v owner="$MIGRATE_DB_PASSWORD" -v checkout="$CHECKOUT_DB_PASSWORD" \
      -v subscriptions="$SUBSCRIPTIONS_DB_PASSWORD" -v webhooks="$WEBHOOKS_DB_PASSWORD" \
      -v analytics="$ANALYTICS_DB_PASSWORD" \
      -v notifications="$NOTIFICATIONS_DB_PASSWORD" <<'SQL'
ALTER ROLE billing_owner PASSWORD :'owner';
ALTER ROLE billing_checkout PASSWORD :'checkout';
ALTER ROLE billing_subscriptions PASSWORD :'subscriptions';
ALTER ROLE billing_webhooks PASSWORD :'webhooks';
ALTER ROLE billing_analytics PASSWORD :'analytics';
ALTER ROLE billing_notifications PASSWORD :'notifications';
SQL
