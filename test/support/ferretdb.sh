#!/usr/bin/env bash
# FerretDB v1.24.2 (SQLite handler): the MongoDB-wire server the MongoDB suites run against
# where no MongoDB can be had (CI). See README, "FerretDB".
#
#   test/support/ferretdb.sh install        build it once into $GOPATH/bin/ferretdb-v1.24.2; print its path
#   test/support/ferretdb.sh run CMD [ARG]  start it on a free port with a data directory of its
#                                           own, run CMD with MONGODB_URI pointing at it, stop it
#
# `run` starts nothing when MONGODB_URI is already set (a real MongoDB): CMD runs against that.
# The module comes from the Go module proxy. It is built from its source rather than with
# `go install …@v1.24.2`: the module lacks build/version/version.txt, without which a
# binary built as the main module panics at start ("Invalid build/version/version.txt").
set -euo pipefail

VERSION=v1.24.2
MODULE=github.com/FerretDB/FerretDB

log() { echo "ferretdb.sh: $*" >&2; }

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go
  elif [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go
  else log "Go is needed to build FerretDB (https://go.dev/dl/)"; exit 1
  fi
}

# Where the binary is kept between runs and clones: beside the binaries `go install` makes.
binary_path() {
  local gopath
  gopath=$("$(find_go)" env GOPATH)
  echo "${FERRETDB_BIN:-${gopath%%:*}/bin/ferretdb-$VERSION}"
}

install() {
  local BIN
  BIN=$(binary_path)
  if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -qx "version: $VERSION"; then
    echo "$BIN"
    return
  fi
  local go started=$SECONDS src dir
  go=$(find_go)
  log "building FerretDB $VERSION from the Go module proxy into $BIN (once; about 2 minutes)"
  # Toolchains are not downloaded: the machine's Go builds it.
  export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
  dir=$("$go" mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -d "$dir" ] || { log "go mod download gave no source directory for $MODULE@$VERSION"; exit 1; }
  src=$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-src.XXXXXX")
  mkdir -p "$(dirname "$BIN")" && cp -R "$dir/." "$src" && chmod -R u+w "$src"
  echo "$VERSION" >"$src/build/version/version.txt"
  (cd "$src" && CGO_ENABLED=0 "$go" build -trimpath -o "$BIN.tmp.$$" ./cmd/ferretdb)
  mv "$BIN.tmp.$$" "$BIN" # atomic: another run never starts a half-written binary
  rm -rf "$src"
  log "built $BIN in $((SECONDS - started)) s"
  echo "$BIN"
}

free_port() {
  node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

PID=
DATA=
stop() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    log "stopped FerretDB (pid $PID)"
  fi
  PID=
  [ -n "$DATA" ] && rm -rf "$DATA"
  DATA=
}

# Starts FerretDB on a free port; sets PORT. A port taken between choosing and binding is retried.
start() {
  local bin=$1 attempt waited
  for attempt in 1 2 3; do
    PORT=$(free_port)
    DATA=$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-data.XXXXXX")
    "$bin" --handler=sqlite --sqlite-url="file:$DATA/" --state-dir="$DATA" \
      --listen-addr="127.0.0.1:$PORT" --debug-addr=- --telemetry=disable --log-level=warn \
      >"$DATA/ferretdb.log" 2>&1 &
    PID=$!
    for waited in $(seq 1 300); do
      if ! kill -0 "$PID" 2>/dev/null; then break; fi
      if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
      sleep 0.1
    done
    log "FerretDB did not start on port $PORT (attempt $attempt):"
    cat "$DATA/ferretdb.log" >&2 || true
    stop
  done
  log "giving up: FerretDB would not start"
  exit 1
}

run() {
  if [ -n "${MONGODB_URI:-}" ]; then
    log "MONGODB_URI is set: running against it, starting no FerretDB"
    exec "$@"
  fi
  local bin started status
  bin=$(install)
  trap stop EXIT
  trap 'exit 143' TERM INT
  started=$SECONDS
  start "$bin"
  export MONGODB_URI="mongodb://127.0.0.1:$PORT/"
  log "FerretDB $VERSION listening at $MONGODB_URI (data in $DATA), ready in $((SECONDS - started)) s"
  set +e
  "$@"
  status=$?
  set -e
  exit "$status"
}

case "${1:-}" in
  install) install ;;
  run) shift; [ $# -gt 0 ] || { log "usage: $0 run CMD [ARG...]"; exit 2; }; run "$@" ;;
  *) log "usage: $0 install | run CMD [ARG...]"; exit 2 ;;
esac
