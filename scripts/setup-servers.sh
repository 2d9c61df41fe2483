#!/usr/bin/env bash
# Installs and starts what `npm run test:servers` needs on a Debian machine, as root:
# PostgreSQL 15 on 127.0.0.1:5432 with trust for local TCP connections, pgTAP and
# pg_prove, plpgsql_check (for `supabase db lint`) and Chromium. Safe to run again: it
# installs only what is missing, edits pg_hba.conf once, and starts the cluster only if
# it is down. The collector, Prometheus, Alertmanager and postgres_exporter are not
# Debian's: `npm run tools` builds the versions docker-compose.yml pins, with Go.
#
#   sudo npm run setup:servers      (or: sudo bash scripts/setup-servers.sh)
#
# PG_VERSION (15) and PG_PORT (5432) may be set to use another cluster.
set -euo pipefail

pg_version="${PG_VERSION:-15}"
pg_port="${PG_PORT:-5432}"
cluster=main

if [[ "$(id -u)" != 0 ]]; then
  echo "setup-servers: run as root (it installs Debian packages and configures PostgreSQL)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
debian_packages=(
  "postgresql-$pg_version"                   # the server the tests and benchmarks use
  "postgresql-$pg_version-pgtap"             # pgTAP, for supabase/tests
  "postgresql-$pg_version-plpgsql-check"     # plpgsql_check, for `supabase db lint`
  libtap-parser-sourcehandler-pgtap-perl     # pg_prove
  chromium                                   # the browser tests (driven by playwright-core)
)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "setup-servers: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The cluster: created if the package's post-install made none (or it was dropped).
if ! pg_lsclusters -h | awk -v v="$pg_version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
  pg_createcluster --port "$pg_port" "$pg_version" "$cluster"
fi
conf_dir="/etc/postgresql/$pg_version/$cluster"

# Trust for TCP from this machine only, ahead of Debian's scram-sha-256 lines (the
# first matching line wins). Marked, so a second run leaves the file as it is.
hba="$conf_dir/pg_hba.conf"
marker='# uuid-lookup-observability: trust local TCP for the test suites'
if ! grep -qF "$marker" "$hba"; then
  tmp="$(mktemp)"
  {
    echo "$marker"
    echo "host    all             all             127.0.0.1/32            trust"
    echo "host    all             all             ::1/128                 trust"
    echo "host    replication     all             127.0.0.1/32            trust"
    cat "$hba"
  } > "$tmp"
  install -o postgres -g postgres -m 640 "$tmp" "$hba"
  rm -f "$tmp"
fi

# Listen on loopback at the port asked for.
sed -i -E "s/^#?port = [0-9]+/port = $pg_port/" "$conf_dir/postgresql.conf"

status="$(pg_lsclusters -h | awk -v v="$pg_version" -v c="$cluster" '$1 == v && $2 == c { print $4 }')"
if [[ "$status" == online* ]]; then
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$cluster" reload
else
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$cluster" start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$pg_port" && break
  sleep 1
done
if ! psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'SELECT 1' >/dev/null; then
  echo "setup-servers: PostgreSQL $pg_version does not answer on 127.0.0.1:$pg_port (see /var/log/postgresql/postgresql-$pg_version-$cluster.log)" >&2
  exit 1
fi
echo "setup-servers: PostgreSQL $pg_version on 127.0.0.1:$pg_port (trust for local TCP), pgTAP, plpgsql_check, Chromium"
