# Shared set-up for scripts/test and scripts/bench: a PostgreSQL server to test against and
# Debian's Chromium for browser tests. Sourced, not run.

# Installs Debian packages when apt-get is available (as root, or through sudo).
apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || return 1
        sudo="sudo"
    fi
    command -v apt-get >/dev/null 2>&1 || return 1
    echo "installing Debian packages: $*" >&2
    $sudo apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}

pg_reachable() {
    psql "$1" -Atqc 'select 1' >/dev/null 2>&1
}

# Sets PG_ADMIN_URL to an admin URL of a PostgreSQL server: $VAXLOOP_TEST_PG_URL if given, the
# machine's server on 127.0.0.1:5432 if it answers, or else a throwaway cluster started here from
# the installed PostgreSQL binaries (installed from Debian when missing). Returns non-zero when
# none can be had.
ensure_postgres() {
    if [ -n "${VAXLOOP_TEST_PG_URL:-}" ]; then
        PG_ADMIN_URL="$VAXLOOP_TEST_PG_URL"
        return 0
    fi
    command -v psql >/dev/null 2>&1 || apt_install postgresql-client || true
    if command -v psql >/dev/null 2>&1; then
        for url in "postgres://postgres@127.0.0.1:5432/postgres" "postgres://$(id -un)@127.0.0.1:5432/postgres"; do
            if pg_reachable "$url"; then
                PG_ADMIN_URL="$url"
                return 0
            fi
        done
    fi
    local bindir
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$bindir" ]; then
        apt_install postgresql || return 1
        bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        [ -n "$bindir" ] || return 1
    fi
    local port=54329
    PG_TMP_DIR=$(mktemp -d /tmp/vaxloop-pg.XXXXXX)
    local run=()
    if [ "$(id -u)" -eq 0 ]; then
        # initdb and postgres refuse to run as root.
        chown postgres:postgres "$PG_TMP_DIR" 2>/dev/null || { id postgres >/dev/null 2>&1 || useradd -r postgres; chown postgres "$PG_TMP_DIR"; }
        run=(runuser -u postgres --)
    fi
    echo "starting a throwaway PostgreSQL cluster in $PG_TMP_DIR on port $port" >&2
    "${run[@]}" "$bindir/initdb" -D "$PG_TMP_DIR/data" -A trust -U postgres --no-sync >/dev/null || return 1
    "${run[@]}" "$bindir/pg_ctl" -D "$PG_TMP_DIR/data" -l "$PG_TMP_DIR/log" -w \
        -o "-p $port -k $PG_TMP_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null || return 1
    PG_STOP=("${run[@]}" "$bindir/pg_ctl" -D "$PG_TMP_DIR/data" -m fast stop)
    PG_ADMIN_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

stop_postgres() {
    if [ -n "${PG_STOP:-}" ]; then
        "${PG_STOP[@]}" >/dev/null 2>&1 || true
        rm -rf "$PG_TMP_DIR"
    fi
}

# Removes test databases left behind by an interrupted run.
drop_stale_test_databases() {
    command -v psql >/dev/null 2>&1 || return 0
    psql "$1" -Atqc "select datname from pg_database where datname like 'vaxloop_t_%'" 2>/dev/null |
        while read -r db; do psql "$1" -qc "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true; done
}

# Makes sure /usr/bin/chromium and /usr/bin/chromedriver exist.
ensure_chromium() {
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
        return 0
    fi
    apt_install chromium chromium-driver && [ -x /usr/bin/chromedriver ]
}
