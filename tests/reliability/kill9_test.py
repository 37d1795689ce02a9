#!/usr/bin/env python3
"""Kills the server with SIGKILL in the middle of a write load, restarts it, and proves that every
acknowledged dossier transition is there and nothing half-done is: for every dossier, its version
equals the number of events on its timeline, and the audit chain verifies.

usage: kill9_test.py PATH/TO/thanglong"""
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from harness import Harness

h = Harness(sys.argv[1], "kill9")
BIN, DATA, ENV = h.bin, h.data, h.env
check, start, login = h.check, h.start, h.login


def call(method, path, body=None, token=None):
    status, _, parsed = h.call(method, path, body, token)
    return status, parsed if parsed is not None else {}


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
sys.exit(h.finish())
