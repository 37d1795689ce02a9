#!/usr/bin/env python3
"""Kills the server with SIGKILL in the middle of a write load, restarts it, and proves that every
acknowledged dossier transition is there and nothing half-done is: for every dossier, its version
equals the number of events on its timeline, and the audit chain verifies.

usage: kill9_test.py PATH/TO/thanglong"""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BIN = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = tempfile.mkdtemp(prefix="thanglong-kill9.")
DATA = os.path.join(WORK, "var")
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


PORT = free_port()
BASE = f"http://127.0.0.1:{PORT}"
ENV = dict(os.environ, THANGLONG_PASSWORD_COST="minimum", THANGLONG_ACCESS_LOG="false", THANGLONG_DEMO_DOSSIERS="0",
           THANGLONG_DATA_ROOT=os.path.join(ROOT, "data"), THANGLONG_WEB_ROOT=os.path.join(ROOT, "web", "dist"))


def start():
    proc = subprocess.Popen([BIN, "serve", "--data-dir", DATA, "--listen", f"127.0.0.1:{PORT}"], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(WORK, "serve.err"), "ab"))
    for _ in range(400):
        try:
            urllib.request.urlopen(BASE + "/readyz", timeout=1)
            return proc
        except Exception:
            time.sleep(0.025)
    raise SystemExit("server did not start")


def call(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, {}


def login(user):
    status, body = call("POST", "/api/v1/auth/login", {"username": user, "password": "ThangLong@2025"})
    assert status == 200, (user, status)
    return body["token"]


proc = start()
tokens = {u: login(u) for u in ("citizen", "desk", "specialist", "leader")}
acked = {}  # code -> highest version acknowledged to a client
lock = threading.Lock()
stop = threading.Event()
STEPS = [("desk", "receive", {}), ("desk", "assign", {"assignee": "specialist"}),
         ("specialist", "propose", {}), ("leader", "approve", {}), ("specialist", "issue-result", {}),
         ("desk", "return", {})]


# What the birth registration form (data/procedures/forms/1.001193-dang-ky-khai-sinh.json) requires.
BIRTH_FORM = {"relationship": "Cha",
              "child": {"full_name": "Nguyễn Minh Khôi", "date_of_birth": "2026-01-10", "sex": "Nam",
                        "place_of_birth": "Bệnh viện Phụ sản Hà Nội"},
              "mother": {"full_name": "Trần Thị Bình"}}


def worker():
    while not stop.is_set():
        try:
            status, d = call("POST", "/api/v1/dossiers", {
                "procedure_code": "1.001193", "unit_code": "00004",
                "applicant": {"full_name": "Nguyễn Văn An", "personal_id": "001090012345", "phone": "0912345678"},
                "form": BIRTH_FORM},
                tokens["citizen"])
            if status != 201:
                continue
            with lock:
                acked[d["code"]] = d["version"]
            for user, action, extra in STEPS:
                if stop.is_set():
                    return
                status, d2 = call("POST", f"/api/v1/dossiers/{d['code']}/actions/{action}",
                                  dict(extra, version=d["version"]), tokens[user])
                if status != 200:
                    break
                d = d2
                with lock:
                    acked[d["code"]] = d["version"]
        except Exception:
            return  # the server died under us


threads = [threading.Thread(target=worker) for _ in range(12)]
for t in threads:
    t.start()
time.sleep(3.0)
os.kill(proc.pid, signal.SIGKILL)
proc.wait()
stop.set()
for t in threads:
    t.join()
with lock:
    snapshot = dict(acked)
check("the load acknowledged transitions before the kill", sum(snapshot.values()) > 50,
      f"only {sum(snapshot.values())} acknowledged")

proc = start()
desk = login("desk")
missing = []
for code, version in snapshot.items():
    status, d = call("GET", f"/api/v1/dossiers/{code}", token=desk)
    if status != 200 or d["version"] < version or len(d["timeline"]) < version:
        missing.append((code, version, status, d.get("version")))
check(f"every acknowledged transition survived ({len(snapshot)} dossiers, {sum(snapshot.values())} transitions)",
      not missing, str(missing[:5]))

db = sqlite3.connect(os.path.join(DATA, "thanglong.db"))
rows = db.execute("SELECT d.code, d.version, COUNT(e.seq) FROM dossiers d LEFT JOIN dossier_events e "
                  "ON e.dossier_code = d.code GROUP BY d.code, d.version").fetchall()
half = [r for r in rows if r[1] != r[2]]
check(f"nothing half-done: every dossier's version equals its timeline ({len(rows)} dossiers)", not half, str(half[:5]))
audit_dossier = db.execute("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'dossier.%'").fetchone()[0]
events = db.execute("SELECT COUNT(*) FROM dossier_events").fetchone()[0]
check("every transition has its audit entry", audit_dossier == events, f"{audit_dossier} audit vs {events} events")
db.close()
proc.send_signal(signal.SIGTERM)
proc.wait()
verify = subprocess.run([BIN, "audit", "verify", "--data-dir", DATA], env=ENV, capture_output=True, text=True)
check("the audit chain verifies after the crash", verify.returncode == 0, verify.stdout + verify.stderr)
subprocess.run(["rm", "-rf", WORK])
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
