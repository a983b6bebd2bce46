#!/usr/bin/env bash
# A real Tryton server for the contract, reliability and end-to-end tests and the bench, in
# one of three configurations (TRYTON_FLAVOUR):
#
#   6.0-sqlite       Tryton 6.0 from this Debian 12 host's packages, SQLite, no worker (default)
#   7.0-sqlite       Tryton 7.0 LTS from a Debian 13 root file system (chroot), SQLite, no worker
#   7.0-postgresql   Tryton 7.0 LTS in that chroot on PostgreSQL 17 (one cluster per instance),
#                    `[queue] worker = True` and one `trytond-worker`, as production runs it
#
#   scripts/tryton.sh install    6.0: apt-get install the packages; 7.0: debootstrap the root file
#                                system once per machine (root only; ~3 min, cached)
#   scripts/tryton.sh init       write trytond.conf, create the database, activate `sale`
#   scripts/tryton.sh start      start (PostgreSQL,) trytond (and the worker) on 127.0.0.1, wait until it answers
#   scripts/tryton.sh fixtures   company, currencies, countries, accounting, products, taxes -> fixtures.json
#   scripts/tryton.sh snapshot   save the database + fixtures.json as the template (stops/restarts the server)
#   scripts/tryton.sh restore    copy the template back over the database (stops/restarts the server)
#   scripts/tryton.sh stop       stop the worker, the server and PostgreSQL by their PIDs
#   scripts/tryton.sh up | all   install, then restore the template if it is current, else build it; start
#   scripts/tryton.sh status     print server.json when the server answers (exit 1 otherwise)
#   scripts/tryton.sh clean      stop and delete the instance (the template stays)
#   scripts/tryton.sh settle     7.0-postgresql: wait until the worker has run every queued task
#                                (ir_queue read with psql; tests call it after a button that queues)
#   scripts/tryton.sh where      print the state directory of the flavour
#   scripts/tryton.sh sweep      clean the instances runs/<prefix>-<pid> whose owner process is gone
#
# Layout ($STATE: .tmp/tryton for 6.0, $TRYTON7_ROOT/srv/orderbridge/<flavour> for 7.0, because a
# chroot sees only what is under its root):
#   $STATE/template.{sqlite|pgdata}, template.fixtures.json, template.key   (shared, flock-guarded)
#   $INSTANCE/{trytond.conf,db/ or pgdata/,trytond.pid,worker.pid,*.log,url,fixtures.json,server.json}
# TRYTON_INSTANCE (or TRYTON_INSTANCE_NAME under $STATE/runs) selects the instance; the test
# helper uses one per run, so two test runs on one machine do not share a server.
#
# Facts this relies on (trytond 6.0.29 and 7.0.30 sources: trytond/backend/sqlite,
# trytond/admin.py, trytond/config.py, trytond/worker.py; docs/tryton-versions.md):
#  - the SQLite backend does not create the database file: `touch` it first; on PostgreSQL
#    trytond-admin does not create the database either: `createdb` first;
#  - trytond-admin prompts for the admin e-mail and password on a new database:
#    pass --email and TRYTONPASSFILE (exactly one line) or it dies with EOFError;
#  - TRYTOND_* environment variables lose to the config file, so the ports are written to
#    the config file on every start;
#  - the Debian scripts run #!/usr/bin/python3: a pyenv/venv python3 first on PATH cannot
#    import trytond, hence the PATH below;
#  - never copy the database under a running server (it caches records; PostgreSQL must be
#    stopped cleanly before its data directory is copied);
#  - trytond-worker runs its tasks in a multiprocessing pool: it is started in its own process
#    group and stopped as a group, or its pool processes outlive it;
#  - SIGTERM leaves the pidfile behind, and in containers without an init the process
#    may linger as a zombie: wait for "gone or Z", not for kill -0 to fail.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FLAVOUR=${TRYTON_FLAVOUR:-6.0-sqlite}
case $FLAVOUR in
  6.0-sqlite) SERIES=6.0 BACKEND=sqlite ;;
  7.0-sqlite) SERIES=7.0 BACKEND=sqlite ;;
  7.0-postgresql) SERIES=7.0 BACKEND=postgresql ;;
  *) printf '[tryton] ERROR: TRYTON_FLAVOUR=%s: expected 6.0-sqlite, 7.0-sqlite or 7.0-postgresql\n' "$FLAVOUR" >&2; exit 2 ;;
esac
if [ $SERIES = 7.0 ]; then
  ROOT=${TRYTON7_ROOT:-/var/cache/orderbridge/tryton-7.0-trixie}
  STATE=${TRYTON_STATE_DIR:-$ROOT/srv/orderbridge/$FLAVOUR}
else
  ROOT=
  STATE=${TRYTON_STATE_DIR:-$REPO/.tmp/tryton}
fi
INSTANCE=${TRYTON_INSTANCE:-$STATE/${TRYTON_INSTANCE_NAME:+runs/}${TRYTON_INSTANCE_NAME:-instance}}
DB=${TRYTON_DB:-orderbridge_test}
HOST=127.0.0.1
ADMIN_LOGIN=admin
ADMIN_PASSWORD=${TRYTON_ADMIN_PASSWORD:-orderbridge-admin-1}   # >= 8 chars ([password] length)
ADMIN_EMAIL=admin@example.com
# Debian 13 packages of the 7.0 root file system: Tryton 7.0 LTS, its sale module, the
# PostgreSQL driver; PostgreSQL 17 is added after debootstrap (install_rootfs).
ROOTFS_PACKAGES=tryton-server,tryton-modules-sale,python3-psycopg2
ROOTFS_LATE_PACKAGES=postgresql-17
PG_BIN=/usr/lib/postgresql/17/bin

CONF=$INSTANCE/trytond.conf
DBDIR=$INSTANCE/db
DBFILE=$DBDIR/$DB.sqlite
PGDATA=$INSTANCE/pgdata
PIDFILE=$INSTANCE/trytond.pid
WORKER_PIDFILE=$INSTANCE/worker.pid
PG_PIDFILE=$INSTANCE/postgres.pid
LOG=$INSTANCE/trytond.log
TEMPLATE_FIXTURES=$STATE/template.fixtures.json
TEMPLATE_KEY=$STATE/template.key
PASSFILE=$STATE/admin.pass
if [ $BACKEND = postgresql ]; then
  TEMPLATE=$STATE/template.pgdata ACTIVATED=$STATE/activated.pgdata
else
  TEMPLATE=$STATE/template.sqlite ACTIVATED=$STATE/activated.sqlite
fi

export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
NODE=${NODE:-$(command -v node)}
TSX=$REPO/node_modules/.bin/tsx

log() { printf '[tryton %s] %s\n' "$FLAVOUR" "$*" >&2; }
die() { printf '[tryton %s] ERROR: %s\n' "$FLAVOUR" "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }

if [ -n "$ROOT" ]; then
  case $STATE/ in "$ROOT"/*) ;; *) die "TRYTON_STATE_DIR=$STATE must be under $ROOT (the chroot sees nothing else)" ;; esac
  case $INSTANCE/ in "$ROOT"/*) ;; *) die "TRYTON_INSTANCE=$INSTANCE must be under $ROOT" ;; esac
fi

ROOT_CMD=()
[ -z "$ROOT" ] || ROOT_CMD=(chroot "$ROOT")
# A host path as the server sees it (inside the chroot for 7.0).
inner() { if [ -n "$ROOT" ]; then printf '%s' "${1#"$ROOT"}"; else printf '%s' "$1"; fi; }
# Run a command of the server's system (the chroot for 7.0); `exec`-like: the PID is the command's.
in_root() { "${ROOT_CMD[@]}" "$@"; }
as_postgres() { chroot --userspec="$(pg_owner)" "$ROOT" "$@"; }
pg_owner() { printf '%s:%s' "$(chroot "$ROOT" id -u postgres)" "$(chroot "$ROOT" id -g postgres)"; }

# ---- install ------------------------------------------------------------------------
host_installed() {
  [ -x /usr/bin/trytond ] && [ -x /usr/bin/trytond-admin ] &&
    dpkg-query -W -f='${Status}' tryton-modules-sale 2>/dev/null | grep -q 'install ok installed'
}

rootfs_ready() { [ -s "$ROOT/.orderbridge-rootfs" ] && [ "$(cat "$ROOT/.orderbridge-rootfs")" = "$ROOTFS_PACKAGES $ROOTFS_LATE_PACKAGES" ]; }

# The Debian archive this host's apt uses (its own sources name it; nothing else is reachable).
apt_mirror() {
  local uri
  uri=$(awk 'tolower($1)=="uris:"{u=$2} tolower($1)=="suites:"&&u!=""{for(i=2;i<=NF;i++) if($i !~ /-security$/){print u; exit}}' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1=="deb" && $3 !~ /-security$/ {print ($2 ~ /^\[/ ? $3 : $2); exit}' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  [ -n "$uri" ] || die "cannot tell the Debian archive from /etc/apt/sources.list*"
  printf '%s' "$uri"
}

host_apt_install() { # PACKAGE...
  mkdir -p "$STATE"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$STATE/apt.log" 2>&1; then
    log "apt-get install failed, refreshing package lists once"
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$STATE/apt.log" 2>&1 || { cat "$STATE/apt.log" >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$STATE/apt.log" 2>&1 ||
      { tail -n 30 "$STATE/apt.log" >&2; die "apt-get install $* failed"; }
  fi
}

# Debian 13 root file system with Tryton 7.0 and PostgreSQL 17, built once per machine.
# PostgreSQL's packages must neither create a cluster nor start a service: each instance runs
# its own cluster, started and stopped by this script.
install_rootfs() {
  command -v debootstrap >/dev/null || host_apt_install debootstrap
  local build="$ROOT.build" t0 mirror
  t0=$(now_ms)
  mirror=$(apt_mirror)
  rm -rf "$build"
  mkdir -p "$(dirname "$ROOT")"
  log "debootstrap Debian 13 with $ROOTFS_PACKAGES into $build (about 3 minutes, once per machine)"
  debootstrap --variant=minbase --include="$ROOTFS_PACKAGES" trixie "$build" "$mirror" >"$build.log" 2>&1 ||
    { tail -n 30 "$build.log" >&2; die "debootstrap failed (log: $build.log)"; }
  mkdir -p "$build/etc/postgresql-common/createcluster.d"
  echo "create_main_cluster = false" >"$build/etc/postgresql-common/createcluster.d/orderbridge.conf"
  printf '#!/bin/sh\nexit 101\n' >"$build/usr/sbin/policy-rc.d"
  chmod +x "$build/usr/sbin/policy-rc.d"
  { chroot "$build" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive chroot "$build" apt-get install -y -qq --no-install-recommends ${ROOTFS_LATE_PACKAGES//,/ }; } \
    >>"$build.log" 2>&1 || { tail -n 30 "$build.log" >&2; die "installing $ROOTFS_LATE_PACKAGES in the root file system failed"; }
  chroot "$build" apt-get clean >/dev/null 2>&1 || true
  echo "$ROOTFS_PACKAGES $ROOTFS_LATE_PACKAGES" >"$build/.orderbridge-rootfs"
  rm -rf "$ROOT"
  mv "$build" "$ROOT"
  mv "$build.log" "$ROOT.log"
  log "root file system ready at $ROOT ($(du -sh "$ROOT" | cut -f1)) in $(($(now_ms) - t0)) ms: $(chroot "$ROOT" /usr/bin/trytond --version)"
}

cmd_install() {
  if [ $SERIES = 7.0 ]; then
    rootfs_ready && return 0
    [ "$(id -u)" = 0 ] || die "Tryton 7.0 needs a Debian 13 root file system at $ROOT; run as root: $0 install"
    mkdir -p "$(dirname "$ROOT")"
    ( flock -w 900 8 || die "timed out waiting for $ROOT.lock"
      rootfs_ready || install_rootfs ) 8>"$ROOT.lock"
    return 0
  fi
  if host_installed; then return 0; fi
  command -v apt-get >/dev/null || die "Tryton 6.0 is not installed and there is no apt-get (Debian bookworm needed)"
  [ "$(id -u)" = 0 ] || die "Tryton 6.0 is not installed; run as root: $0 install (apt-get install tryton-server tryton-modules-sale)"
  local t0; t0=$(now_ms)
  # tryton-modules-sale pulls in account, account_invoice, account_product, stock, company,
  # party, product, currency, country: everything invoice_method=order needs.
  host_apt_install tryton-server tryton-modules-sale
  # A systemd host starts the packaged service on localhost:8000; we never use it.
  if [ -d /run/systemd/system ]; then systemctl disable --now tryton-server >/dev/null 2>&1 || true; fi
  host_installed || die "tryton packages still missing after apt-get install"
  log "installed $(/usr/bin/trytond --version) in $(($(now_ms) - t0)) ms"
}

# ---- PostgreSQL (7.0-postgresql: one cluster per instance, in the chroot) -------------
pg_running() { [ -s "$PG_PIDFILE" ] && alive "$(cat "$PG_PIDFILE")"; }
pg_port() { cat "$INSTANCE/pg.port"; }

pg_start() {
  pg_running && return 0
  [ -s "$PGDATA/PG_VERSION" ] || die "no PostgreSQL data directory at $PGDATA"
  local port; port=$(free_port)
  rm -f "$PGDATA/postmaster.pid"
  # TCP on 127.0.0.1 only, no Unix socket. fsync stays on: the production configuration.
  setsid chroot --userspec="$(pg_owner)" "$ROOT" "$PG_BIN/postgres" -D "$(inner "$PGDATA")" -p "$port" \
    -c listen_addresses=$HOST -c unix_socket_directories= -c max_connections=60 \
    >"$INSTANCE/postgres.log" 2>&1 </dev/null 9>&- 8>&- &
  echo $! >"$PG_PIDFILE"
  echo "$port" >"$INSTANCE/pg.port"
  for _ in $(seq 1 9000); do
    chroot "$ROOT" "$PG_BIN/pg_isready" -q -h $HOST -p "$port" && return 0
    pg_running || break
    sleep 0.05
  done
  tail -n 20 "$INSTANCE/postgres.log" >&2
  die "PostgreSQL did not start (log: $INSTANCE/postgres.log)"
}

pg_stop() { stop_pidfile "$PG_PIDFILE" INT postgres; }

pg_initdb() {
  rm -rf "$PGDATA"
  mkdir -p "$PGDATA"
  chown "$(pg_owner)" "$PGDATA"
  chmod 700 "$PGDATA"
  as_postgres "$PG_BIN/initdb" -D "$(inner "$PGDATA")" -U tryton --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$INSTANCE/initdb.log" 2>&1 || { tail -n 20 "$INSTANCE/initdb.log" >&2; die "initdb failed"; }
}

# ---- config + database --------------------------------------------------------------
write_conf() { # PORT
  mkdir -p "$DBDIR"
  local uri path_line worker=False
  if [ $BACKEND = postgresql ]; then
    uri="postgresql://tryton@$HOST:$(pg_port)/" path_line="" worker=True
  else
    uri="sqlite://" path_line="path = $(inner "$DBDIR")"
  fi
  cat >"$CONF" <<EOF
[database]
uri = $uri
$path_line
list = True
[web]
listen = $HOST:$1
[session]
# lifetime in seconds since login (not sliding); 'timeout' only guards fresh-session calls
max_age = 86400
[queue]
# False: queued tasks (sale.process after confirm) run inside the request (SQLite has no
# notification channel). True (PostgreSQL): they wait in ir.queue for trytond-worker.
worker = $worker
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
  mkdir -p "$DBDIR"
  if [ $BACKEND = postgresql ]; then
    pg_initdb
    pg_start
    in_root "$PG_BIN/createdb" -h $HOST -p "$(pg_port)" -U tryton "$DB" || die "createdb $DB failed"
  else
    rm -f "$DBFILE"
    touch "$DBFILE"
  fi
  write_conf 8000
  local t0; t0=$(now_ms)
  in_root env TRYTONPASSFILE="$(inner "$PASSFILE")" /usr/bin/trytond-admin -c "$(inner "$CONF")" -d "$DB" \
    -u sale --activate-dependencies --email "$ADMIN_EMAIL" >"$INSTANCE/admin.log" 2>&1 </dev/null ||
    { tail -n 40 "$INSTANCE/admin.log" >&2; die "trytond-admin failed (log: $INSTANCE/admin.log)"; }
  [ $BACKEND = postgresql ] && pg_stop
  log "database $DB created, sale activated in $(($(now_ms) - t0)) ms"
}

# ---- start / stop -------------------------------------------------------------------
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null || true); [ -n "$st" ] && [[ $st != Z* ]]; }
running() { [ -s "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; }

free_port() {
  "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

write_server_json() {
  local url=$1
  printf '%s\n' "$url" >"$INSTANCE/url"
  cat >"$INSTANCE/server.json" <<EOF
{"url":"$url","database":"$DB","username":"$ADMIN_LOGIN","passwordFile":"$PASSFILE","pid":$(cat "$PIDFILE"),"fixturesFile":"$INSTANCE/fixtures.json","instance":"$INSTANCE","flavour":"$FLAVOUR","series":"$SERIES","backend":"$BACKEND","worker":$([ $BACKEND = postgresql ] && echo true || echo false)}
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

# Start "$@" in its own session (so a Ctrl-C in the caller's terminal does not hit it, and its
# children share its process group) and wait for PIDFILE, written by the program itself once
# its modules are imported (seconds on a busy machine). 9>&- 8>&-: never inherit a lock.
launch() { # PIDFILE LOG CMD...
  local pidfile=$1 logfile=$2; shift 2
  rm -f "$pidfile"
  setsid nohup "$@" >"$logfile" 2>&1 </dev/null 9>&- 8>&- &
  local launcher=$!
  for _ in $(seq 1 9000); do
    [ -s "$pidfile" ] && return 0
    alive "$launcher" || break
    sleep 0.02
  done
  [ -s "$pidfile" ] || { tail -n 30 "$logfile" >&2; die "$* did not start (log: $logfile)"; }
}

cmd_start() {
  if running; then log "already running (pid $(cat "$PIDFILE")) at $(cat "$INSTANCE/url")"; return 0; fi
  if [ $BACKEND = postgresql ]; then pg_start; else [ -s "$DBFILE" ] || die "no database at $DBFILE: run '$0 init' or '$0 restore' first"; fi
  local port=${TRYTON_PORT:-$(free_port)} t0 version
  write_conf "$port"
  t0=$(now_ms)
  # -d preloads the module pool, so the first request is fast.
  launch "$PIDFILE" "$LOG" "${ROOT_CMD[@]}" /usr/bin/trytond -c "$(inner "$CONF")" -d "$DB" --pidfile "$(inner "$PIDFILE")"
  if ! version=$(wait_ready "http://$HOST:$port" "$(cat "$PIDFILE")"); then
    tail -n 30 "$LOG" >&2
    cmd_stop
    die "trytond did not answer on port $port (log: $LOG)"
  fi
  if [ $BACKEND = postgresql ]; then
    # One pool process: the machines this runs on have two cores, shared with the tests.
    launch "$WORKER_PIDFILE" "$INSTANCE/worker.log" "${ROOT_CMD[@]}" /usr/bin/trytond-worker -c "$(inner "$CONF")" -d "$DB" \
      -n "${TRYTON_WORKERS:-1}" --pidfile "$(inner "$WORKER_PIDFILE")"
  fi
  write_server_json "http://$HOST:$port"
  log "trytond $version pid $(cat "$PIDFILE") on http://$HOST:$port after $(($(now_ms) - t0)) ms"
}

# Stop the process of PIDFILE (and its process group: the worker's pool) with SIGNAL, wait.
stop_pidfile() { # PIDFILE SIGNAL NAME
  [ -s "$1" ] || return 0
  local pid; pid=$(cat "$1")
  kill -"$2" -- "-$pid" 2>/dev/null || kill -"$2" "$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then log "$3 pid $pid ignored SIG$2, sending SIGKILL"; kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$1"
  log "stopped $3 pid $pid"
}

cmd_stop() {
  stop_pidfile "$WORKER_PIDFILE" TERM trytond-worker
  stop_pidfile "$PIDFILE" TERM trytond
  [ $BACKEND = postgresql ] && pg_stop
  return 0
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
packages_key() {
  in_root dpkg-query -W -f='${Package} ${Version}\n' tryton-server tryton-modules-sale 2>/dev/null || true
  printf '%s\n' "$FLAVOUR" "$DB" "$ADMIN_PASSWORD"
}

# The template is current when the packages, the fixture script and this script are unchanged.
template_key() {
  { packages_key; cat "$REPO/scripts/tryton-fixtures.ts" "$REPO/scripts/tryton.sh"; } | sha256sum | cut -d' ' -f1
}

template_current() {
  [ -e "$TEMPLATE" ] && [ -s "$TEMPLATE_FIXTURES" ] && [ -s "$TEMPLATE_KEY" ] &&
    [ "$(cat "$TEMPLATE_KEY")" = "$(template_key)" ]
}

# Run "$@" with the server stopped, restarting it afterwards if it was running.
with_server_stopped() {
  local was_running=0
  if running; then was_running=1; fi
  cmd_stop
  "$@"
  if [ $was_running = 1 ]; then cmd_start; fi
}

# The database (SQLite file or stopped PostgreSQL data directory) copied from $1 to $2.
copy_db() {
  rm -rf "$2.tmp"
  cp -a "$1" "$2.tmp"
  rm -rf "$2"
  mv "$2.tmp" "$2"
}
instance_db() { if [ $BACKEND = postgresql ]; then printf '%s' "$PGDATA"; else printf '%s' "$DBFILE"; fi; }

copy_to_template() {
  [ -e "$(instance_db)" ] || die "no database to snapshot at $(instance_db)"
  [ -s "$INSTANCE/fixtures.json" ] || die "no fixtures.json in $INSTANCE: run '$0 fixtures' first"
  copy_db "$(instance_db)" "$TEMPLATE"
  cp "$INSTANCE/fixtures.json" "$TEMPLATE_FIXTURES"
  template_key >"$TEMPLATE_KEY"
  log "snapshot saved to $TEMPLATE"
}

copy_from_template() {
  [ -e "$TEMPLATE" ] || die "no snapshot at $TEMPLATE: run '$0 up' first"
  mkdir -p "$DBDIR"
  copy_db "$TEMPLATE" "$(instance_db)"
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
# of the fixture script then skips the module activation.
activated_key() { packages_key | sha256sum | cut -d' ' -f1; }

build_or_restore() {
  if template_current; then
    with_server_stopped copy_from_template
    return 0
  fi
  log "no current snapshot: building the template database"
  local t0; t0=$(now_ms)
  trap 'cmd_stop >/dev/null 2>&1 || true' EXIT   # never leave a half-built server running
  if [ -e "$ACTIVATED" ] && [ "$(cat "$STATE/activated.key" 2>/dev/null)" = "$(activated_key)" ]; then
    cmd_stop
    ensure_passfile
    mkdir -p "$DBDIR"
    copy_db "$ACTIVATED" "$(instance_db)"
    log "reusing the activated database ($ACTIVATED)"
  else
    cmd_init
    copy_db "$(instance_db)" "$ACTIVATED"
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

cmd_where() { printf '%s\n' "$STATE"; }

# Queued tasks (sale.process after confirm or after a shipment) are the worker's; a test that
# reads what they write first waits here until none is left unfinished. A task that failed with a
# user error never gets a finished_at: its ir_error row (origin ir.queue,<id>) marks it as over.
cmd_settle() {
  [ $BACKEND = postgresql ] || return 0
  pg_running || die "PostgreSQL is not running"
  local left
  for _ in $(seq 1 2400); do
    left=$(in_root "$PG_BIN/psql" -h $HOST -p "$(pg_port)" -U tryton -d "$DB" -tAc \
      "SELECT count(*) FROM ir_queue q WHERE q.finished_at IS NULL
         AND (q.scheduled_at IS NULL OR q.scheduled_at <= now() AT TIME ZONE 'UTC')
         AND NOT EXISTS (SELECT 1 FROM ir_error e WHERE e.origin = 'ir.queue,' || q.id)") ||
      die "cannot read ir_queue"
    [ "$left" = 0 ] && return 0
    sleep 0.05
  done
  die "the worker left $left task(s) unfinished after 120 s (log: $INSTANCE/worker.log)"
}

# Instances runs/<prefix>-<pid> left by a test run or bench that died: stopped and deleted.
cmd_sweep() {
  local dir owner
  for dir in "$STATE"/runs/*-*; do
    [ -d "$dir" ] || continue
    owner=${dir##*-}
    [[ $owner =~ ^[0-9]+$ ]] || continue
    alive "$owner" && continue
    TRYTON_INSTANCE=$dir TRYTON_INSTANCE_NAME= bash "${BASH_SOURCE[0]}" clean || true
  done
}

[ $# -gt 0 ] || set -- up
case $1 in where | sweep | settle) ;; *) mkdir -p "$STATE" "$INSTANCE" ;; esac
for c in "$@"; do
  case $c in
    install | init | start | stop | fixtures | snapshot | restore | up | status | clean | where | sweep | settle) "cmd_$c" ;;
    all) cmd_up ;;
    *) echo "usage: $0 {install|init|start|fixtures|snapshot|restore|stop|up|all|status|clean|where|sweep|settle}..." >&2; exit 2 ;;
  esac
done
