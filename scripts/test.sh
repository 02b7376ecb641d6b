#!/usr/bin/env bash
# The one test command: installs and starts what the tests need when it is
# missing (PostgreSQL, Prometheus and promtool, Alertmanager, Chromium, all
# from Debian's packages), then runs go vet, staticcheck and every test with
# the race detector. `make test` and .ci/run call this.
#
# With an argument it runs something else on the same setup:
#   scripts/test.sh bench   every benchmark, on both databases (make bench)
#   scripts/test.sh load    the 60 s Alertmanager-to-page load test (make load)
set -euo pipefail
mode=${1:-test}
case "$mode" in
test | bench | load) ;;
*)
	echo "usage: $0 [test|bench|load]" >&2
	exit 2
	;;
esac
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

apt_updated=""
apt_install() {
	if [ -z "$apt_updated" ]; then
		log "apt-get update"
		$SUDO apt-get update -qq
		apt_updated=1
	fi
	log "installing $*"
	# Services in the packages may fail to start without systemd; the test
	# starts its own instances, so that is harmless.
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL -------------------------------------------------------------
PGHOST=127.0.0.1
PGPORT=${TANDEM_TEST_PGPORT:-5432}
if ! command -v pg_isready >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
	apt_install postgresql postgresql-client
fi
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
	log "starting PostgreSQL"
	version=$(ls /etc/postgresql | sort -V | tail -1)
	$SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
	for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
	pg_isready -h "$PGHOST" -p "$PGPORT"
fi
# The tests use a role and a database of their own, tandem_test, created
# when missing. An existing role is never altered (its password least of
# all): when tandem_test exists with another password, give the tests a URL
# of your own in TANDEM_TEST_POSTGRES_URL. The role needs CREATEDB, since
# every store test creates and drops a database of its own.
pg_admin() {
	# Trust over TCP as the postgres role where the server allows it,
	# else peer authentication on the local socket as the postgres user.
	if psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -w -Atqc 'select 1' >/dev/null 2>&1; then
		psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -w -v ON_ERROR_STOP=1 -Atq "$@"
	elif [ "$(id -u)" = 0 ]; then
		su postgres -c "$(printf '%q ' psql -p "$PGPORT" -d postgres -v ON_ERROR_STOP=1 -Atq "$@")"
	else
		sudo -u postgres psql -p "$PGPORT" -d postgres -v ON_ERROR_STOP=1 -Atq "$@"
	fi
}
if [ -z "${TANDEM_TEST_POSTGRES_URL:-}" ]; then
	if [ "$(pg_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'tandem_test'")" != 1 ]; then
		log "creating the PostgreSQL role tandem_test"
		pg_admin -c "CREATE ROLE tandem_test LOGIN CREATEDB PASSWORD 'tandem_test'"
	fi
	if [ "$(pg_admin -c "SELECT 1 FROM pg_database WHERE datname = 'tandem_test'")" != 1 ]; then
		log "creating the PostgreSQL database tandem_test"
		pg_admin -c "CREATE DATABASE tandem_test OWNER tandem_test"
	fi
	TANDEM_TEST_POSTGRES_URL="postgres://tandem_test:tandem_test@$PGHOST:$PGPORT/tandem_test?sslmode=disable"
	if ! psql "$TANDEM_TEST_POSTGRES_URL" -w -Atqc 'select 1' >/dev/null 2>&1; then
		echo "cannot connect as the existing role tandem_test with its password;" >&2
		echo "set TANDEM_TEST_POSTGRES_URL to a role that may CREATE DATABASE" >&2
		exit 1
	fi
fi
export TANDEM_TEST_POSTGRES_URL

# --- Prometheus, promtool, Alertmanager, Chromium ---------------------------
missing=()
command -v prometheus >/dev/null || missing+=(prometheus)
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
	apt_install $(printf '%s\n' "${missing[@]}" | sort -u)
fi
export TANDEM_TEST_PROMETHEUS="${TANDEM_TEST_PROMETHEUS:-$(command -v prometheus)}"
export TANDEM_TEST_PROMTOOL="${TANDEM_TEST_PROMTOOL:-$(command -v promtool)}"
export TANDEM_TEST_ALERTMANAGER="${TANDEM_TEST_ALERTMANAGER:-$(command -v prometheus-alertmanager)}"
export TANDEM_TEST_CHROMIUM="${TANDEM_TEST_CHROMIUM:-$(command -v chromium)}"
# Tests that need these fail, not skip, when they are missing.
export TANDEM_TEST_REQUIRE_ALL=1

# --- Checks and tests -------------------------------------------------------
case "$mode" in
bench)
	log "go test -bench"
	exec go test -run '^$' -bench . -benchmem ./...
	;;
load)
	log "load test: ${TANDEM_LOAD_RATE:-200} alerts/s for ${TANDEM_LOAD_SECONDS:-60} s on each database"
	TANDEM_LOAD_TEST=1 exec go test -count=1 -v -timeout 30m -run '^TestLoadAlertmanagerToPage$' ./internal/incident
	;;
esac
log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi
log "go vet"
go vet ./...
log "staticcheck"
make --no-print-directory staticcheck
log "go test -race"
go test -race -count=1 -timeout 20m ./...
