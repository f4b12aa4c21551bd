#!/usr/bin/env bash
# Starts a throwaway MariaDB server (Debian packages) on 127.0.0.1 on a free port for the Java
# database tests, runs the command given with the connection in the environment, and stops the
# server by its PID when the command ends (never by name). Run as root (CI is).
#
#   bash tests/mariadb_server.sh mvn -f java/pom.xml -B -ntp verify
#
# Exports LKR_TEST_MYSQL_HOST, _PORT, _USER, _PASSWORD, _DATABASE. The user may create
# databases (each test class makes its own: SETTING and NODE have fixed names).
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi
if ! [ -x /usr/sbin/mariadbd ] || ! command -v mariadb-install-db >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
fi
MDB=$(mktemp -d /tmp/lkr-mdb.XXXXXX)
chown mysql:mysql "$MDB"
MDB_PID=
cleanup() {
  if [ -n "$MDB_PID" ]; then
    kill "$MDB_PID" 2>/dev/null || true
    wait "$MDB_PID" 2>/dev/null || true
  fi
  rm -rf "$MDB"
}
trap cleanup EXIT
mariadb-install-db --no-defaults --user=mysql --datadir="$MDB/data" \
  --auth-root-authentication-method=normal --skip-test-db >"$MDB/install.log" 2>&1 \
  || { echo "mariadb-install-db failed:" >&2; cat "$MDB/install.log" >&2; exit 1; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$MDB/data" \
  --socket="$MDB/mysqld.sock" --pid-file="$MDB/mysqld.pid" --port="$PORT" \
  --bind-address=127.0.0.1 --skip-name-resolve --innodb-buffer-pool-size=64M \
  --log-error="$MDB/error.log" &
MDB_PID=$!
ready=
for _ in $(seq 1 600); do  # up to ~60 s on a busy machine
  if mariadb-admin --no-defaults --socket="$MDB/mysqld.sock" -uroot ping >/dev/null 2>&1; then
    ready=1; break
  fi
  if ! kill -0 "$MDB_PID" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "MariaDB did not start:" >&2; cat "$MDB/error.log" >&2; exit 1
fi
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
mariadb --no-defaults --socket="$MDB/mysqld.sock" -uroot <<SQL
CREATE DATABASE lkr_test;
CREATE USER 'lkr'@'127.0.0.1' IDENTIFIED BY '$PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'lkr'@'127.0.0.1';
SQL
export LKR_TEST_MYSQL_HOST=127.0.0.1 LKR_TEST_MYSQL_PORT="$PORT" LKR_TEST_MYSQL_USER=lkr \
  LKR_TEST_MYSQL_PASSWORD="$PASSWORD" LKR_TEST_MYSQL_DATABASE=lkr_test
echo "== MariaDB at 127.0.0.1:$PORT (database lkr_test, user lkr), pid $MDB_PID"
"$@"
