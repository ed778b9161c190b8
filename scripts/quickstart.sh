#!/usr/bin/env bash
# Set up a virtualenv, start the platform on the embedded defaults in the background, call it with the
# admin token, declare an organization, the built-in test LLM, a model and the agent `assistant` with an
# MCP tool through Terraform (examples/quickstart/), send the agent a message and print its reply, and end
# with the web chat page's URL (its bundle is built from web/ with npm on first run). All offline. The
# platform keeps running afterwards: `.venv/bin/agyn stop` stops it. Works the same at a
# terminal and in a script. AGYN_PORT (default 8080) and AGYN_DATA_DIR (default .agyn) choose where.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${AGYN_PORT:-8080}"
DATA_DIR="${AGYN_DATA_DIR:-.agyn}"
export AGYN_LOG_FORMAT="${AGYN_LOG_FORMAT:-text}"
# the platform starts each agent's runtime (`agyn agent-runtime`) and MCP servers from this PATH
export PATH="$PWD/.venv/bin:$PATH"

if [ ! -x .venv/bin/agyn ]; then
  echo "==> Installing agyn into .venv (first run only)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e '.[dev]'
fi

echo "==> Building the web chat page (npm ci + esbuild, first run only)"
if ! .venv/bin/agyn web build; then
  echo "==> The chat page is not built (see above); the rest works without it." >&2
fi

echo "==> Starting agyn serve on http://127.0.0.1:${PORT} (data dir ${DATA_DIR})"
# `serve --detach` checks the port before anything else: a port another process holds is an error here,
# never a "running" platform that is someone else's
if ! .venv/bin/agyn serve --detach --port "$PORT" --data-dir "$DATA_DIR"; then
  echo "==> The platform did not start. If port ${PORT} is taken, use another one:" \
       "AGYN_PORT=8081 bash scripts/quickstart.sh (or stop the process using ${PORT})." >&2
  exit 1
fi

echo "==> GET /me with the admin token from ${DATA_DIR}/admin-token"
curl -fsS -H "Authorization: Bearer $(cat "${DATA_DIR}/admin-token")" "http://127.0.0.1:${PORT}/me"
echo

echo "==> Declaring an organization, the test LLM, a model and the agent @assistant with Terraform" \
     "(examples/quickstart/)"
export AGYN_API_URL="http://127.0.0.1:${PORT}" AGYN_API_TOKEN="$(cat "${DATA_DIR}/admin-token")"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
[ -e "${TF_CLI_CONFIG_FILE:-/dev/null}" ] || unset TF_CLI_CONFIG_FILE
.venv/bin/agyn provider install >/dev/null
(
  cd examples/quickstart
  terraform init -input=false -no-color >/dev/null
  terraform apply -auto-approve -input=false -no-color -var "platform_url=${AGYN_API_URL}" | grep "^Apply complete"
)

echo "==> Asking @assistant (it calls its weather tool, then answers)"
.venv/bin/agyn chat @assistant --org quickstart --message "What is the weather in Paris?"

echo
echo "==> The platform is running in the background (API docs: http://127.0.0.1:${PORT}/docs, log:" \
     "${DATA_DIR}/agyn.log). Stop it with: .venv/bin/agyn stop"
echo "==> Continue the conversation: .venv/bin/agyn chat @assistant --org quickstart"
echo "==> Chat in the browser: http://127.0.0.1:${PORT}/ (sign in with the token in ${DATA_DIR}/admin-token)"
