#!/usr/bin/env bash
# Starts a real KMS-API server (moto, from PyPI) on 127.0.0.1 for tests/kms/, then runs the
# command given (default: cargo test --test kms --test kms_child, the child process it runs)
# with LKR_TEST_KMS_ENDPOINT set, and stops the server by its PID when the command ends. The venv
# is reused when present.
#
#   bash tests/kms_server.sh                       # the KMS tests
#   bash tests/kms_server.sh cargo test --locked   # every test, with the server up
set -euo pipefail
VENV=${LKR_KMS_VENV:-/tmp/lkr-kmsvenv}
if [ ! -x "$VENV/bin/moto_server" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'moto==5.2.5' 'flask<4' flask-cors
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$(mktemp /tmp/lkr-moto.XXXXXX.log)
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do  # up to ~30 s on a busy machine
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$MOTO_PID" 2>/dev/null; then
    echo "moto_server exited:" >&2; cat "$LOG" >&2; exit 1
  fi
  sleep 0.1
done
python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/', timeout=1)" \
  || { echo "moto_server did not become ready on port $PORT" >&2; cat "$LOG" >&2; exit 1; }
export LKR_TEST_KMS_ENDPOINT="http://127.0.0.1:$PORT"
echo "== KMS-API server (moto) at $LKR_TEST_KMS_ENDPOINT, pid $MOTO_PID"
if [ $# -eq 0 ]; then set -- cargo test --test kms --test kms_child; fi
"$@"
