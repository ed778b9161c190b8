#!/usr/bin/env bash
# Set up a virtualenv, start the platform on the embedded defaults, and call it with the admin token.
# The server keeps running in the foreground afterwards; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${AGYN_PORT:-8080}"
DATA_DIR="${AGYN_DATA_DIR:-.agyn}"
export AGYN_LOG_FORMAT="${AGYN_LOG_FORMAT:-text}"

if [ ! -x .venv/bin/agyn ]; then
  echo "==> Installing agyn into .venv (first run only)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e '.[dev]'
fi

echo "==> Starting agyn serve on http://127.0.0.1:${PORT} (data dir ${DATA_DIR})"
.venv/bin/agyn serve --port "$PORT" --data-dir "$DATA_DIR" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' INT TERM

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:${PORT}/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then echo "agyn serve exited; see the error above" >&2; exit 1; fi
  sleep 0.1
done

echo "==> GET /me with the admin token from ${DATA_DIR}/admin-token"
curl -fsS -H "Authorization: Bearer $(cat "${DATA_DIR}/admin-token")" "http://127.0.0.1:${PORT}/me"
echo
echo "==> The platform is running (API docs: http://127.0.0.1:${PORT}/docs). Ctrl-C to stop."
wait "$SERVER"
