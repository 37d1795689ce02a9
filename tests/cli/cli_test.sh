#!/usr/bin/env bash
# Drives the thanglong binary as an operator would: subcommands, --help, configuration, accounts
# created from the command line while the server runs, durability across kill -9, audit
# verification and tampering, graceful shutdown on SIGTERM.
set -uo pipefail
BIN="${1:?path to thanglong}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d /tmp/thanglong-cli.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
passed=0; failed=0
check() {  # check NAME COMMAND...
  local name="$1"; shift
  if "$@" >"$WORK/out" 2>&1; then echo "PASS $name"; passed=$((passed + 1));
  else echo "FAIL $name"; sed 's/^/    /' "$WORK/out" | head -20; failed=$((failed + 1)); fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
DATA="$WORK/var"
export THANGLONG_PASSWORD_COST=minimum THANGLONG_DATA_ROOT="$ROOT/data" THANGLONG_WEB_ROOT="$ROOT/web/dist" THANGLONG_DEMO_DOSSIERS=40

start_server() {
  "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/serve.out" 2>"$WORK/serve.err" &
  PID=$!
  for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
login() { curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$1\",\"password\":\"$2\"}"; }

check "version prints the version" bash -c "'$BIN' version | grep -q '^thanglong [0-9]'"
for sub in serve import users audit "users create" "users reset-password" "users list" "users disable" "audit verify" "import procedures" "import people" "import organisations"; do
  check "'$sub --help' works" bash -c "'$BIN' $sub --help | grep -qi usage"
done
check "unknown subcommand fails" bash -c "! '$BIN' frobnicate 2>/dev/null"
check "print-config masks the database password and honours precedence" bash -c "
  THANGLONG_DATABASE='postgresql://tl:hunter2@db/x' THANGLONG_LISTEN=0.0.0.0:1 '$BIN' serve --print-config --listen 127.0.0.1:9 > '$WORK/cfg'
  grep -q '\"listen\": \"127.0.0.1:9\"' '$WORK/cfg' && grep -q '\*\*\*' '$WORK/cfg' && ! grep -q hunter2 '$WORK/cfg'"
check "a bad setting is named" bash -c "! THANGLONG_WORKERS=lots '$BIN' serve --print-config 2>'$WORK/err' && grep -q THANGLONG_WORKERS '$WORK/err'"

start_server || { echo "FAIL first start"; cat "$WORK/serve.err"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }
check "serve starts with demo data and prints the demo accounts" grep -q 'agencyadmin' "$WORK/serve.out"
check "the demo data includes simulated traffic of the last 60 days" bash -c "
  grep -Eq 'Demo traffic: (3[0-9]|40) simulated dossiers' '$WORK/serve.out' || { grep -E 'Demo traffic|simulation:' '$WORK/serve.out' '$WORK/serve.err'; false; }"
check "simulate dossiers plays a slice of a year through the services" bash -c "
  '$BIN' simulate dossiers --data-dir '$WORK/sim' --year 2025 --scale 0.00002 > '$WORK/sim.out' 2>&1
  grep -q 'simulated 80 dossiers' '$WORK/sim.out' && grep -q ' 0 failed' '$WORK/sim.out'"
check "simulate dossiers --bulk loads a year's histories with the same rules, and the index counts them" bash -c "
  '$BIN' simulate dossiers --data-dir '$WORK/bulk' --year 2025 --scale 0.0005 --bulk > '$WORK/bulk.out' 2>&1
  n=\$(sed -n 's/^simulated \\([0-9]*\\) dossiers.*/\\1/p' '$WORK/bulk.out')
  [ \"\$n\" -gt 1900 ] && grep -q ' 0 failed' '$WORK/bulk.out' &&
  [ \"\$(sqlite3 '$WORK/bulk/thanglong.db' 'SELECT SUM(received) FROM dossier_daily_counts')\" = \"\$n\" ] &&
  [ \"\$(sqlite3 '$WORK/bulk/thanglong.db' 'SELECT COUNT(*) FROM dossiers')\" = \"\$n\" ]"
kill -TERM "$PID"; wait "$PID"; PID=""
start_server || { echo "FAIL server did not start"; cat "$WORK/serve.err"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }
check "a restart does not print the demo accounts again" bash -c "! grep -q 'Demo accounts' '$WORK/serve.out'"
check "logs are JSON lines with route, status, duration and request id" bash -c "
  curl -fs 'http://127.0.0.1:$PORT/api/v1/procedures/1.001193' >/dev/null; sleep 0.2
  grep '\"msg\":\"request\"' '$WORK/serve.err' | tail -n 1 | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d[\"route\"]==\"/api/v1/procedures/{code}\" and d[\"status\"]==200 and \"duration_ms\" in d and d[\"request_id\"]'"
check "users create reads the password from stdin while the server runs" bash -c "
  echo 'Mật khẩu dài 2025' | '$BIN' users create --data-dir '$DATA' --username cli.desk --role desk_officer --agency UBND00004 --full-name 'Ngô Văn Cường'
  $(declare -f login); PORT=$PORT; login cli.desk 'Mật khẩu dài 2025' | grep -q token"
check "users create rejects an invalid personal ID, naming it" bash -c "
  ! echo 'Mật khẩu dài 2025' | '$BIN' users create --data-dir '$DATA' --username dan1 --role citizen --personal-id 12345 2>'$WORK/err' && grep -q personal_id '$WORK/err'"
check "users list shows the new account" bash -c "'$BIN' users list --data-dir '$DATA' | grep -q '^cli.desk'"
check "users reset-password then login with the new one" bash -c "
  echo 'Mật khẩu mới 2026' | '$BIN' users reset-password --data-dir '$DATA' --username cli.desk
  $(declare -f login); PORT=$PORT; login cli.desk 'Mật khẩu mới 2026' | grep -q token"
check "users disable blocks login" bash -c "
  '$BIN' users disable --data-dir '$DATA' --username cli.desk
  $(declare -f login); PORT=$PORT; ! login cli.desk 'Mật khẩu mới 2026'"

# Durability: an acknowledged write survives kill -9.
TOKEN="$(login admin ThangLong@2025 | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
for i in $(seq 1 20); do
  curl -fs -o /dev/null -X POST "http://127.0.0.1:$PORT/api/v1/users" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"username\":\"durable$i\",\"password\":\"Mật khẩu dài 2025\",\"role\":\"specialist\",\"full_name\":\"Bền $i\",\"agency_code\":\"UBND00004\"}" \
    && echo "$i" >> "$WORK/acked"
done
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=""
t0=$(date +%s%N)
start_server
t1=$(date +%s%N)
echo "    (restart to ready on the existing store: $(( (t1 - t0) / 1000000 )) ms)"
check "every acknowledged account survived kill -9" bash -c "
  n=\$(wc -l < '$WORK/acked'); [ \"\$n\" -eq 20 ] || exit 1
  for i in \$(cat '$WORK/acked'); do '$BIN' users list --data-dir '$DATA' | grep -q \"^durable\$i\s\" || { echo missing durable\$i; exit 1; }; done"
check "audit verify reports an intact log" bash -c "'$BIN' audit verify --data-dir '$DATA' | grep -q 'intact'"
check "audit list prints JSON lines" bash -c "'$BIN' audit list --data-dir '$DATA' -n 3 | python3 -c 'import sys,json; l=[json.loads(x) for x in sys.stdin]; assert len(l)==3'"
check "SIGTERM stops the server cleanly" bash -c "kill -TERM $PID; for i in \$(seq 1 100); do kill -0 $PID 2>/dev/null || break; sleep 0.05; done; ! kill -0 $PID 2>/dev/null && grep -q 'stopped cleanly' '$WORK/serve.err'"
PID=""
check "audit verify detects an edited entry (exit 1)" bash -c "
  sqlite3 '$DATA/thanglong.db' \"UPDATE audit_log SET actor='mallory' WHERE seq=5\"
  ! '$BIN' audit verify --data-dir '$DATA' > '$WORK/v' && grep -q 'TAMPERED' '$WORK/v'"
check "keys create prints a secret once; list shows no secret; revoke marks it" bash -c "
  '$BIN' keys create --data-dir '$DATA' --name 'Hệ thống hộ tịch' --agency UBND00004 --scope registry.read > '$WORK/key' &&
  grep -q '^tlk_' '$WORK/key' &&
  '$BIN' keys list --data-dir '$DATA' > '$WORK/keys' && ! grep -q tlk_ '$WORK/keys' && grep -q '\"agency\":\"UBND00004\"' '$WORK/keys' &&
  id=\$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[\"id\"])' '$WORK/keys') &&
  '$BIN' keys revoke --data-dir '$DATA' --id \$id | grep -q revoked &&
  '$BIN' keys list --data-dir '$DATA' | grep -q '\"revoked_at\":\"'"
check "keys create refuses an unknown scope, naming it" bash -c "
  ! '$BIN' keys create --data-dir '$DATA' --name x --agency UBND00004 --scope everything 2>'$WORK/err' && grep -q scope '$WORK/err'"
check "generate population writes valid people, import people loads them and reports rejects" bash -c "
  '$BIN' generate population --data-dir '$DATA' --people 500 --seed 3 --out '$WORK/people.ndjson' 2>/dev/null &&
  [ \$(wc -l < '$WORK/people.ndjson') -eq 500 ] &&
  echo '{\"personal_id\":\"001287000001\",\"full_name\":\"X\",\"birth_date\":\"1987-01-01\",\"sex\":\"male\",\"birth_place\":\"x\"}' >> '$WORK/people.ndjson' &&
  '$BIN' import people --data-dir '$DATA' --file '$WORK/people.ndjson' --rejects '$WORK/rejects' > '$WORK/imp'; rc=\$?;
  [ \$rc -eq 3 ] && grep -q '500 imported, 1 rejected' '$WORK/imp' && grep -q '\"line\":501' '$WORK/rejects'"
check "import organisations loads a CSV, and importing it again changes nothing" bash -c "
  '$BIN' import organisations '$ROOT/data/samples/organisations-synthetic.csv' --data-dir '$DATA' > '$WORK/org1' &&
  grep -q '5 imported, 0 unchanged, 0 rejected' '$WORK/org1' &&
  '$BIN' import organisations --file '$ROOT/data/samples/organisations-synthetic.csv' --data-dir '$DATA' > '$WORK/org2' &&
  grep -q '0 imported, 5 unchanged, 0 rejected' '$WORK/org2'"
check "import organisations upserts by tax code and reports each rejected row with its line and field" bash -c "
  printf '%s\\n' '{\"tax_code\":\"0109990002\",\"name\":\"Công ty Cổ phần Mẫu Hồ Tây\",\"address\":\"Hà Nội\",\"status\":\"suspended\"}' \
    '{\"tax_code\":\"01099\",\"name\":\"X\",\"address\":\"Hà Nội\"}' 'not json' > '$WORK/orgs.ndjson' &&
  '$BIN' import organisations --data-dir '$DATA' --file '$WORK/orgs.ndjson' --rejects '$WORK/org-rejects' > '$WORK/org3'; rc=\$?;
  [ \$rc -eq 3 ] && grep -q '1 imported, 0 unchanged, 2 rejected' '$WORK/org3' &&
  grep -q '\"field\":\"tax_code\",\"line\":2,' '$WORK/org-rejects' && grep -q '\"field\":\"row\",\"line\":3,' '$WORK/org-rejects'"
check "exchange verify-log reports an intact data access log" bash -c "'$BIN' exchange verify-log --data-dir '$DATA' | grep -q 'intact'"
check "import procedures is idempotent" bash -c "'$BIN' import procedures --data-dir '$DATA' | grep -q '1601 unchanged'"
check "a newer schema is refused by this binary" bash -c "
  sqlite3 '$DATA/thanglong.db' \"INSERT INTO schema_migrations VALUES (99999, 'future', 'x')\"
  ! '$BIN' migrate --data-dir '$DATA' 2>'$WORK/err' && grep -qi 'newer' '$WORK/err'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
