#!/usr/bin/env bash
# A real Tryton 6.0 server (Debian bookworm packages, SQLite) for the contract and
# end-to-end tests. Everything lives under one state directory (default .tmp/tryton).
#
#   scripts/tryton.sh install    apt-get install tryton-server + tryton-modules-sale when missing (root)
#   scripts/tryton.sh init       write trytond.conf, create the SQLite database, activate `sale`
#   scripts/tryton.sh start      start trytond on 127.0.0.1 (free port unless TRYTON_PORT), wait until it answers
#   scripts/tryton.sh fixtures   company, currencies, countries, accounting, products, taxes -> fixtures.json
#   scripts/tryton.sh snapshot   save the database + fixtures.json as the template (stops/restarts the server)
#   scripts/tryton.sh restore    copy the template back over the database (stops/restarts the server)
#   scripts/tryton.sh stop       stop the server by its PID
#   scripts/tryton.sh up | all   install, then restore the template if it is current, else build it; start
#   scripts/tryton.sh status     print server.json when the server answers (exit 1 otherwise)
#   scripts/tryton.sh clean      stop and delete the instance (the template stays)
#
# Layout:
#   $TRYTON_STATE_DIR/template.sqlite, template.fixtures.json, template.key   (shared, flock-guarded)
#   $TRYTON_INSTANCE/{trytond.conf,db/,trytond.pid,trytond.log,url,fixtures.json,server.json}
# TRYTON_INSTANCE defaults to $TRYTON_STATE_DIR/instance; the test helper uses one per run,
# so two test runs on one machine do not share a server.
#
# Facts this relies on (tryton-server 6.0.29 / tryton-modules-sale 6.0.10, trytond sources
# trytond/backend/sqlite, trytond/admin.py, trytond/config.py):
#  - the SQLite backend does not create the database file: `touch` it first;
#  - trytond-admin prompts for the admin e-mail and password on a new database:
#    pass --email and TRYTONPASSFILE (exactly one line) or it dies with EOFError;
#  - TRYTOND_* environment variables lose to the config file, so the port is written to
#    the config file on every start;
#  - the Debian scripts run #!/usr/bin/python3: a pyenv/venv python3 first on PATH cannot
#    import trytond, hence the PATH below;
#  - never copy the database file under a running server (it caches records);
#  - SIGTERM leaves the pidfile behind, and in containers without an init the process
#    may linger as a zombie: wait for "gone or Z", not for kill -0 to fail.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${TRYTON_STATE_DIR:-$REPO/.tmp/tryton}
INSTANCE=${TRYTON_INSTANCE:-$STATE/instance}
DB=${TRYTON_DB:-orderbridge_test}
HOST=127.0.0.1
ADMIN_LOGIN=admin
ADMIN_PASSWORD=${TRYTON_ADMIN_PASSWORD:-orderbridge-admin-1}   # >= 8 chars ([password] length)
ADMIN_EMAIL=admin@example.com

CONF=$INSTANCE/trytond.conf
DBDIR=$INSTANCE/db
DBFILE=$DBDIR/$DB.sqlite
PIDFILE=$INSTANCE/trytond.pid
LOG=$INSTANCE/trytond.log
TEMPLATE=$STATE/template.sqlite
TEMPLATE_FIXTURES=$STATE/template.fixtures.json
TEMPLATE_KEY=$STATE/template.key
PASSFILE=$STATE/admin.pass

export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
NODE=${NODE:-$(command -v node)}
TSX=$REPO/node_modules/.bin/tsx

log() { printf '[tryton] %s\n' "$*" >&2; }
die() { printf '[tryton] ERROR: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# ---- install ------------------------------------------------------------------------
installed() {
  [ -x /usr/bin/trytond ] && [ -x /usr/bin/trytond-admin ] &&
    dpkg-query -W -f='${Status}' tryton-modules-sale 2>/dev/null | grep -q 'install ok installed'
}

cmd_install() {
  if installed; then return 0; fi
  command -v apt-get >/dev/null || die "Tryton 6.0 is not installed and there is no apt-get (Debian bookworm needed)"
  [ "$(id -u)" = 0 ] || die "Tryton 6.0 is not installed; run as root: $0 install (apt-get install tryton-server tryton-modules-sale)"
  local t0; t0=$(now_ms)
  local pkgs=(tryton-server tryton-modules-sale)
  # tryton-modules-sale pulls in account, account_invoice, account_product, stock, company,
  # party, product, currency, country: everything invoice_method=order needs.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >"$STATE/apt.log" 2>&1; then
    log "apt-get install failed, refreshing package lists once"
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$STATE/apt.log" 2>&1 || { cat "$STATE/apt.log" >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >>"$STATE/apt.log" 2>&1 ||
      { tail -n 30 "$STATE/apt.log" >&2; die "apt-get install ${pkgs[*]} failed"; }
  fi
  # A systemd host starts the packaged service on localhost:8000; we never use it.
  if [ -d /run/systemd/system ]; then systemctl disable --now tryton-server >/dev/null 2>&1 || true; fi
  installed || die "tryton packages still missing after apt-get install"
  log "installed $(/usr/bin/trytond --version) in $(($(now_ms) - t0)) ms"
}

# ---- config + database --------------------------------------------------------------
write_conf() { # PORT
  mkdir -p "$DBDIR"
  cat >"$CONF" <<EOF
[database]
uri = sqlite://
path = $DBDIR
list = True
[web]
listen = $HOST:$1
[session]
# lifetime in seconds since login (not sliding); 'timeout' only guards fresh-session calls
max_age = 86400
[queue]
# no trytond-worker: queued tasks (sale.process after confirm) run inside the request
worker = False
EOF
}

ensure_passfile() {
  mkdir -p "$STATE"
  printf '%s\n' "$ADMIN_PASSWORD" >"$PASSFILE"
  chmod 600 "$PASSFILE"
}

cmd_init() {
  cmd_stop
  ensure_passfile
  write_conf 8000
  rm -f "$DBFILE"
  touch "$DBFILE"
  local t0; t0=$(now_ms)
  TRYTONPASSFILE=$PASSFILE /usr/bin/trytond-admin -c "$CONF" -d "$DB" -u sale --activate-dependencies \
    --email "$ADMIN_EMAIL" >"$INSTANCE/admin.log" 2>&1 </dev/null ||
    { tail -n 40 "$INSTANCE/admin.log" >&2; die "trytond-admin failed (log: $INSTANCE/admin.log)"; }
  log "database $DB created, sale activated in $(($(now_ms) - t0)) ms"
}

# ---- start / stop -------------------------------------------------------------------
running() { # true when the pidfile names a live (non-zombie) process
  [ -s "$PIDFILE" ] || return 1
  local st; st=$(ps -o stat= -p "$(cat "$PIDFILE")" 2>/dev/null || true)
  [ -n "$st" ] && [[ $st != Z* ]]
}

free_port() {
  "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

write_server_json() {
  local url=$1
  printf '%s\n' "$url" >"$INSTANCE/url"
  cat >"$INSTANCE/server.json" <<EOF
{"url":"$url","database":"$DB","username":"$ADMIN_LOGIN","passwordFile":"$PASSFILE","pid":$(cat "$PIDFILE"),"fixturesFile":"$INSTANCE/fixtures.json","instance":"$INSTANCE"}
EOF
}

# Poll common.server.version until it answers; one node process, no curl/jq needed. The cap is
# far above a start on a busy machine (CI shares its cores); an exited server fails at once.
wait_ready() { # URL PID
  "$NODE" - "$1" "$2" <<'EOF'
const [url, pid] = process.argv.slice(2);
const body = JSON.stringify({ id: 0, method: "common.server.version", params: [] });
const deadline = Date.now() + 180000;
const alive = () => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
(async () => {
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url + "/", { method: "POST", headers: { "Content-Type": "application/json" }, body });
      const j = await r.json();
      if (j.result) { console.log(j.result); return; }
    } catch {}
    if (!alive()) { console.error("trytond exited"); process.exit(1); }
    await new Promise((r) => setTimeout(r, 50));
  }
  console.error("trytond did not answer within 180 s"); process.exit(1);
})();
EOF
}

cmd_start() {
  if running; then log "already running (pid $(cat "$PIDFILE")) at $(cat "$INSTANCE/url")"; return 0; fi
  [ -s "$DBFILE" ] || die "no database at $DBFILE: run '$0 init' or '$0 restore' first"
  rm -f "$PIDFILE"
  local port=${TRYTON_PORT:-$(free_port)} t0 version
  write_conf "$port"
  t0=$(now_ms)
  # -d preloads the module pool, so the first request is fast. setsid: own process group,
  # so a Ctrl-C in the caller's terminal does not hit it; we stop it by PID.
  # 9>&-: never inherit the template lock (with_lock), or the lock lives as long as the server.
  setsid nohup /usr/bin/trytond -c "$CONF" -d "$DB" --pidfile "$PIDFILE" >"$LOG" 2>&1 </dev/null 9>&- &
  local launcher=$!
  # trytond writes its pidfile after importing its modules (seconds on a busy machine); gone or
  # a zombie (not reaped yet) means it died.
  for _ in $(seq 1 9000); do
    [ -s "$PIDFILE" ] && break
    case $(ps -o stat= -p "$launcher" 2>/dev/null || true) in '' | Z*) break ;; esac
    sleep 0.02
  done
  [ -s "$PIDFILE" ] || { tail -n 30 "$LOG" >&2; die "trytond did not start (log: $LOG)"; }
  if ! version=$(wait_ready "http://$HOST:$port" "$(cat "$PIDFILE")"); then
    tail -n 30 "$LOG" >&2
    cmd_stop
    die "trytond did not answer on port $port (log: $LOG)"
  fi
  write_server_json "http://$HOST:$port"
  log "trytond $version pid $(cat "$PIDFILE") on http://$HOST:$port after $(($(now_ms) - t0)) ms"
}

cmd_stop() {
  [ -s "$PIDFILE" ] || return 0
  local pid; pid=$(cat "$PIDFILE")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    case $(ps -o stat= -p "$pid" 2>/dev/null || true) in '' | Z*) break ;; esac
    sleep 0.05
  done
  case $(ps -o stat= -p "$pid" 2>/dev/null || true) in
    '' | Z*) ;;
    *) log "pid $pid ignored SIGTERM, sending SIGKILL"; kill -9 "$pid" 2>/dev/null || true ;;
  esac
  rm -f "$PIDFILE"
  log "stopped pid $pid"
}

# ---- fixtures -------------------------------------------------------------------------
cmd_fixtures() {
  running || die "server not running: $0 start"
  [ -x "$TSX" ] || die "tsx missing: run npm ci first"
  local t0; t0=$(now_ms)
  "$TSX" "$REPO/scripts/tryton-fixtures.ts" --url "$(cat "$INSTANCE/url")" --database "$DB" \
    --username "$ADMIN_LOGIN" --password-file "$PASSFILE" --out "$INSTANCE/fixtures.json" >&2 ||
    die "fixtures failed"
  log "fixtures written to $INSTANCE/fixtures.json in $(($(now_ms) - t0)) ms"
}

# ---- template -------------------------------------------------------------------------
# The template is current when the packages, the fixture script and this script are unchanged.
template_key() {
  {
    dpkg-query -W -f='${Package} ${Version}\n' tryton-server tryton-modules-sale 2>/dev/null || true
    printf '%s\n' "$DB" "$ADMIN_PASSWORD"
    cat "$REPO/scripts/tryton-fixtures.ts" "$REPO/scripts/tryton.sh"
  } | sha256sum | cut -d' ' -f1
}

template_current() {
  [ -s "$TEMPLATE" ] && [ -s "$TEMPLATE_FIXTURES" ] && [ -s "$TEMPLATE_KEY" ] &&
    [ "$(cat "$TEMPLATE_KEY")" = "$(template_key)" ]
}

# Run "$@" with the server stopped, restarting it afterwards if it was running.
with_server_stopped() {
  local was_running=0
  if running; then was_running=1; cmd_stop; fi
  "$@"
  if [ $was_running = 1 ]; then cmd_start; fi
}

copy_to_template() {
  [ -s "$DBFILE" ] || die "no database to snapshot at $DBFILE"
  [ -s "$INSTANCE/fixtures.json" ] || die "no fixtures.json in $INSTANCE: run '$0 fixtures' first"
  cp "$DBFILE" "$TEMPLATE.tmp" && mv "$TEMPLATE.tmp" "$TEMPLATE"
  cp "$INSTANCE/fixtures.json" "$TEMPLATE_FIXTURES"
  template_key >"$TEMPLATE_KEY"
  log "snapshot saved to $TEMPLATE"
}

copy_from_template() {
  [ -s "$TEMPLATE" ] || die "no snapshot at $TEMPLATE: run '$0 up' first"
  mkdir -p "$DBDIR"
  cp "$TEMPLATE" "$DBFILE"
  cp "$TEMPLATE_FIXTURES" "$INSTANCE/fixtures.json"
  log "database restored from snapshot"
}

cmd_snapshot() { with_lock with_server_stopped copy_to_template; }
cmd_restore() { with_lock with_server_stopped copy_from_template; }

with_lock() {
  mkdir -p "$STATE"
  if command -v flock >/dev/null; then
    (
      flock -w 300 9 || die "timed out waiting for $STATE/template.lock"
      "$@"
    ) 9>"$STATE/template.lock"
  else
    "$@"
  fi
}

# The freshly activated database (before fixtures) is kept too: rebuilding after a change
# of the fixture script then skips the 15 s module activation.
activated_key() {
  { dpkg-query -W -f='${Package} ${Version}\n' tryton-server tryton-modules-sale 2>/dev/null || true
    printf '%s\n' "$DB" "$ADMIN_PASSWORD"; } | sha256sum | cut -d' ' -f1
}

build_or_restore() {
  if template_current; then
    with_server_stopped copy_from_template
    return 0
  fi
  log "no current snapshot: building the template database"
  local t0; t0=$(now_ms)
  trap 'cmd_stop >/dev/null 2>&1 || true' EXIT   # never leave a half-built server running
  if [ -s "$STATE/activated.sqlite" ] && [ "$(cat "$STATE/activated.key" 2>/dev/null)" = "$(activated_key)" ]; then
    cmd_stop
    ensure_passfile
    mkdir -p "$DBDIR"
    cp "$STATE/activated.sqlite" "$DBFILE"
    log "reusing the activated database ($STATE/activated.sqlite)"
  else
    cmd_init
    cp "$DBFILE" "$STATE/activated.sqlite"
    activated_key >"$STATE/activated.key"
  fi
  cmd_start
  cmd_fixtures
  cmd_stop
  copy_to_template
  trap - EXIT
  log "template built in $(($(now_ms) - t0)) ms"
}

cmd_up() {
  mkdir -p "$STATE" "$INSTANCE"
  ensure_passfile
  cmd_install
  with_lock build_or_restore
  cmd_start
  cat "$INSTANCE/server.json"
}

cmd_status() {
  running && [ -s "$INSTANCE/server.json" ] && wait_ready "$(cat "$INSTANCE/url")" "$(cat "$PIDFILE")" >/dev/null &&
    cat "$INSTANCE/server.json"
}

cmd_clean() {
  cmd_stop
  case $INSTANCE in "$STATE"/*) rm -rf "$INSTANCE" ;; *) die "refusing to delete $INSTANCE (outside $STATE)" ;; esac
}

mkdir -p "$STATE" "$INSTANCE"
[ $# -gt 0 ] || set -- up
for c in "$@"; do
  case $c in
    install | init | start | stop | fixtures | snapshot | restore | up | status | clean) "cmd_$c" ;;
    all) cmd_up ;;
    *) echo "usage: $0 {install|init|start|fixtures|snapshot|restore|stop|up|all|status|clean}..." >&2; exit 2 ;;
  esac
done
