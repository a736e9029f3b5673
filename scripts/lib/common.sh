# Shared helpers for flowguard's scripts. Source it; do not run it.
# Everything here is local: a project-local virtualenv, emulators on loopback ports, and
# dummy AWS credentials so that nothing can ever reach a real account.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
# Builds go outside the clone when CI sets CARGO_TARGET_DIR; locally, the usual ./target.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The project-local virtualenv with the pinned PyPI tools (moto, cargo-lambda, cfn-lint, checkov,
# policy-sentry, parliament). Reinstalls only when requirements.txt changed.
ensure_venv() {
  local stamp="$VENV/.requirements.sha"
  local want
  want="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the project virtualenv in .venv"
    python3 -m venv "$VENV"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing PyPI tools from requirements.txt (moto, cargo-lambda, cfn-lint, checkov, policy-sentry, parliament)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/requirements.txt"
    echo "$want" > "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

# Headless Chromium from the Debian packages, for the browser test of the HTML report
# (tests/e2e/html.rs), which finds it at CHROMIUM. Installed with apt-get when missing (as root,
# or through sudo). Not pinned, as no apt package of the project is: Debian's archive serves
# only the current build of `chromium`, which security updates replace every few weeks (this
# machine's lists offered 148.0.7778.167-1~deb12u1 before an apt-get update and
# 156.0.8078.129-1~deb12u1 after it), so a pinned version would soon not install. The version
# in use is printed; the test needs nothing of a particular one.
ensure_chromium() {
  if [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ]; then
    :
  elif command -v chromium > /dev/null; then
    CHROMIUM="$(command -v chromium)"
  else
    command -v apt-get > /dev/null ||
      die "chromium is needed for the HTML report's browser test: install it, or set CHROMIUM to its path"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    say "installing chromium from the Debian packages (the HTML report's browser test)"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends chromium > /dev/null
    CHROMIUM="$(command -v chromium)" || die "apt-get installed no chromium"
  fi
  export CHROMIUM
  say "chromium: $("$CHROMIUM" --version 2> /dev/null) ($CHROMIUM)"
}

# Dummy credentials and no instance metadata: the SDK can never find real credentials.
use_dummy_aws() {
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
  export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
  export AWS_EC2_METADATA_DISABLED=true
  unset AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Processes started by the scripts, stopped on exit (Ctrl-C included).
PIDS=()
stop_all() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap 'stop_all' EXIT
trap 'stop_all; exit 130' INT TERM

wait_http() { # url, seconds
  local url=$1 deadline=$((SECONDS + ${2:-30}))
  until curl -s -o /dev/null "$url"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

# Starts moto server on a free loopback port; sets MOTO_URL and AWS_ENDPOINT_URL.
start_moto() {
  local port log="${1:-$ROOT/.tmp/moto.log}"
  mkdir -p "$(dirname "$log")"
  port="$(free_port)"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" > "$log" 2>&1 &
  PIDS+=($!)
  export MOTO_URL="http://127.0.0.1:$port"
  export AWS_ENDPOINT_URL="$MOTO_URL"
  wait_http "$MOTO_URL/moto-api/" 60 || die "moto server did not start on $MOTO_URL (see $log)"
  say "moto server on $MOTO_URL"
}
