#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback, run "$@" with TEST_DATABASE_URL pointing at it, then remove it.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
PGBIN=$(find_bin || true)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "installing Debian postgresql for the PostgreSQL test run..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  PGBIN=$(find_bin)
fi
PGDATA=$(mktemp -d /tmp/pgtest.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# PostgreSQL refuses to run as root: run the server as the postgres user when we are root.
AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$PGDATA"; AS=(runuser -u postgres --)
fi
cleanup() { "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true; rm -rf "$PGDATA"; }
trap cleanup EXIT
"${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U directory --auth=trust -E UTF8 >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
  -o "-h 127.0.0.1 -p $PORT -k $PGDATA -c fsync=off -c full_page_writes=off -c max_connections=200" start >/dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U directory directory_test
echo "throwaway PostgreSQL on 127.0.0.1:$PORT"
export TEST_DATABASE_URL="postgresql+psycopg://directory@127.0.0.1:$PORT/directory_test"
"$@"
