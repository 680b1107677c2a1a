-- One database role per service, with rights on its own schema only, and an owner
-- role that runs the migrations (issue 15 item 8). Run once per database by a
-- superuser: docker-compose's postgres container runs it at first start
-- (deploy/postgres/init-roles.sh, which then sets the passwords from the environment);
-- tests/hostile/test_trust_database.py runs this very file and proves a service role
-- cannot read another service's tables. Idempotent.
--
--   billing_owner          owns the schemas and every table: `billing migrate`, `billing prune`
--   billing_checkout       SELECT/INSERT/UPDATE/DELETE in schema checkout only
--   billing_subscriptions  the same in schema subscriptions only
--   billing_webhooks       the same in schema webhooks only
--   billing_analytics      the same in schema analytics only
--   billing_notifications  the same in schema notifications only
--
-- Service roles can create nothing (no DDL): tables come from migrations, as the owner,
-- and reach the service role through the default privileges below.

DO $roles$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['billing_owner', 'billing_checkout', 'billing_subscriptions',
                                'billing_webhooks', 'billing_analytics',
                                'billing_notifications']
    LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', name);
        END IF;
    END LOOP;
    -- alembic's CREATE SCHEMA IF NOT EXISTS checks this right before the schema exists
    EXECUTE format('GRANT CONNECT, CREATE ON DATABASE %I TO billing_owner', current_database());
END
$roles$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;

DO $schemas$
DECLARE
    service text;
BEGIN
    FOREACH service IN ARRAY ARRAY['checkout', 'subscriptions', 'webhooks', 'analytics', 'notifications']
    LOOP
        EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION billing_owner', service);
        EXECUTE format('ALTER SCHEMA %I OWNER TO billing_owner', service);
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', service);
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', service, 'billing_' || service);
        EXECUTE format(
            'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I',
            service, 'billing_' || service);
        EXECUTE format(
            'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I',
            service, 'billing_' || service);
        EXECUTE format(
            'ALTER DEFAULT PRIVILEGES FOR ROLE billing_owner IN SCHEMA %I '
            'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
            service, 'billing_' || service);
        EXECUTE format(
            'ALTER DEFAULT PRIVILEGES FOR ROLE billing_owner IN SCHEMA %I '
            'GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I',
            service, 'billing_' || service);
    END LOOP;
END
$schemas$;
