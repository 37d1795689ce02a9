"""What the reliability tests share: a server of their own on a free loopback port over a temporary data
directory, JSON calls to it, and PASS/FAIL lines with a tally.

    h = Harness(sys.argv[1], "kill9", extra_env={...})
    proc = h.start(["--mqtt", url])
    status, headers, body = h.call("GET", "/readyz")
    h.check("it answers", status == 200)
    sys.exit(h.finish())"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Harness:
    def __init__(self, binary, name, extra_env=None):
        self.bin = binary
        self.work = tempfile.mkdtemp(prefix=f"thanglong-{name}.")
        self.data = os.path.join(self.work, "var")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, THANGLONG_PASSWORD_COST="minimum", THANGLONG_ACCESS_LOG="false",
                        THANGLONG_DEMO_DOSSIERS="0", THANGLONG_DATA_ROOT=os.path.join(ROOT, "data"),
                        THANGLONG_WEB_ROOT=os.path.join(ROOT, "web", "dist"), **(extra_env or {}))
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}")
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}")

    def start(self, extra_args=()):
        """Starts `thanglong serve` on the data directory and waits until it is ready."""
        proc = subprocess.Popen([self.bin, "serve", "--data-dir", self.data, "--listen", f"127.0.0.1:{self.port}",
                                 *extra_args], env=self.env, stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(self.work, "serve.err"), "ab"))
        for _ in range(800):
            try:
                urllib.request.urlopen(self.base + "/readyz", timeout=1)
                return proc
            except Exception:
                time.sleep(0.025)
        raise SystemExit("server did not start")

    def call(self, method, path, body=None, token=None, headers=None):
        """(status, response headers, parsed JSON body or None)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, None

    def login(self, user):
        status, _, body = self.call("POST", "/api/v1/auth/login", {"username": user, "password": "ThangLong@2025"})
        assert status == 200, (user, status)
        return body["token"]

    def finish(self):
        """Prints the tally (and the server's log on failure), removes the directory; the exit code."""
        if self.failed:
            try:
                print(open(os.path.join(self.work, "serve.err")).read()[-3000:])
            except OSError:
                pass
        shutil.rmtree(self.work, ignore_errors=True)
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
