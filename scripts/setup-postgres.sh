#!/usr/bin/env bash
# PostgreSQL for tests/postgres_isolation.rs and workloads/postgres-*.toml (Debian, as root;
# scripts/setup.sh runs it): Debian's postgresql package where missing, its cluster started
# (idempotent: fine when it already runs), a role `splitbrain` with the password from
# PGPASSWORD (default `splitbrain-test`, the local test cluster's, which the tests also
# default to) and a database `splitbrain` it owns. Listens on 127.0.0.1:5432 only (Debian's
# default), with deadlock_timeout 50 ms for the role.
set -euo pipefail
password=${PGPASSWORD:-splitbrain-test}
if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "setup: installing postgresql" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
[ -d "/etc/postgresql/$version/main" ] || pg_createcluster "$version" main
pg_ctlcluster "$version" main status >/dev/null 2>&1 || pg_ctlcluster "$version" main start
as_postgres() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA "$@"; }
for _ in $(seq 50); do as_postgres -c 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
# The password goes in on stdin (a psql variable), never on a command line.
if [ "$(as_postgres -c "select 1 from pg_roles where rolname = 'splitbrain'")" != 1 ]; then
  as_postgres -c 'create role splitbrain login'
fi
printf '%s\n' "\\set pw '$password'" "alter role splitbrain password :'pw';" | as_postgres >/dev/null
# Txns that append to the same keys in different orders deadlock; PostgreSQL's default 1 s
# before it looks would leave the workers waiting most of a run.
as_postgres -c "alter role splitbrain set deadlock_timeout = '50ms'"
if [ "$(as_postgres -c "select 1 from pg_database where datname = 'splitbrain'")" != 1 ]; then
  as_postgres -c 'create database splitbrain owner splitbrain'
fi
echo "setup: PostgreSQL $version on 127.0.0.1:5432, role and database splitbrain" >&2
