#!/usr/bin/env python3
"""Kills the server with SIGKILL while its MQTT ingester holds messages it has acknowledged to the
broker but not yet written, restarts it, and proves that none of them is lost.

libmosquitto acknowledges a QoS 1 message (PUBACK) as soon as it has read it, before the ingester
applies it; from then on the broker forgets it. The ingester's journal (docs/mqtt.md) is what keeps
those messages across a crash. The test publishes N updates (one per entity, each to a value of its
own) through a real Mosquitto broker, kills the server as soon as the first of them is visible (so
most are still queued in memory), restarts it, and then expects every entity to carry its value.

usage: mqtt_kill9_test.py PATH/TO/thanglong   (needs THANGLONG_TEST_MQTT_URL: scripts/test.sh starts a broker)"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from harness import Harness

N = 20000
BROKER = os.environ.get("THANGLONG_TEST_MQTT_URL", "")
if not BROKER.startswith("mqtt://"):
    # Not a quiet skip: without a broker this test cannot say anything, so it fails.
    raise SystemExit("FAIL: THANGLONG_TEST_MQTT_URL is not set (run the tests through scripts/test.sh)")
HOST, BROKER_PORT = BROKER[len("mqtt://"):].rsplit(":", 1)
PREFIX = f"kill9-{os.getpid()}/"  # a topic prefix of its own: other tests may share the broker
h = Harness(sys.argv[1], "mqtt-kill9", {"THANGLONG_MQTT_TOPIC_PREFIX": PREFIX,
                                        "THANGLONG_MQTT_CLIENT_ID": f"kill9-{os.getpid()}",
                                        "THANGLONG_MQTT_GROUP": f"kill9-{os.getpid()}"})
check = h.check
BASE = h.base
# The context MQTT messages are read with (docs/mqtt.md), so names mean the same on both sides.
LINK = {"Link": f'<{BASE}/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld>; '
                'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'}


def start():
    return h.start(["--mqtt", BROKER])


def call(method, path, body=None, token=None):
    return h.call(method, path, body, token, LINK if path.startswith("/ngsi-ld/") else None)


def login():
    return h.login("operator")


def entity_id(i):
    return f"urn:ngsi-ld:Streetlight:kill9-{i:05d}"


def count_applied(token):
    """How many of the N streetlights already carry the value their message set."""
    status, headers, _ = call("GET", "/ngsi-ld/v1/entities?type=Streetlight&q=illuminanceLevel%3E%3D1&limit=0&count=true",
                              token=token)
    if status != 200:
        return -1
    return int(headers.get("NGSILD-Results-Count", "-1"))


def ingester_counts():
    """(received, applied): the ingester's counters of messages taken from the broker and applied."""
    with urllib.request.urlopen(BASE + "/metrics", timeout=5) as r:
        metrics = r.read().decode()
    counts = {}
    for line in metrics.splitlines():
        for name in ("received", "applied"):
            if line.startswith(f"thanglong_mqtt_messages_{name}_total"):
                counts[name] = int(float(line.split()[-1]))
    return counts.get("received", 0), counts.get("applied", 0)


def all_values(token):
    """entity id -> illuminanceLevel, for every streetlight of the test."""
    out = {}
    offset = 0
    while True:
        status, _, body = call("GET", f"/ngsi-ld/v1/entities?type=Streetlight&attrs=illuminanceLevel&options=keyValues"
                                      f"&limit=1000&offset={offset}", token=token)
        if status != 200 or not body:
            return out
        for e in body:
            out[e["id"]] = e.get("illuminanceLevel")
        offset += len(body)


proc = None
try:
    proc = start()
    token = login()
    # N streetlights at level 0, through the API.
    for start_i in range(0, N, 1000):
        batch = [{"id": entity_id(i), "type": "Streetlight",
                  "illuminanceLevel": {"type": "Property", "value": 0},
                  "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [105.85, 21.03]}}}
                 for i in range(start_i, min(N, start_i + 1000))]
        status, _, body = call("POST", "/ngsi-ld/v1/entityOperations/create", batch, token=token)
        assert status in (200, 201), (status, body)
    check("the streetlights exist before the messages", count_applied(token) == 0, str(count_applied(token)))

    # Wait until the ingester is subscribed (its metrics say so), or the broker would drop the messages.
    deadline = time.time() + 20
    while time.time() < deadline:
        with urllib.request.urlopen(BASE + "/metrics", timeout=5) as r:
            if "thanglong_mqtt_connected 1" in r.read().decode():
                break
        time.sleep(0.1)

    # N messages, one per streetlight, each setting a value of its own (i + 1), QoS 1.
    lines = "\n".join(json.dumps({"id": entity_id(i), "type": "Streetlight",
                                  "illuminanceLevel": {"type": "Property", "value": i + 1}}) for i in range(N))
    pub = subprocess.Popen(["mosquitto_pub", "-h", HOST, "-p", BROKER_PORT, "-q", "1", "-l",
                            "-t", PREFIX + "ngsi-ld/v1/entities"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    pub.stdin.write(lines.encode())
    pub.stdin.close()

    # Kill once the first messages are applied while the ingester holds messages it has taken (and the
    # broker has forgotten: acknowledged) but not applied, which only its journal keeps. Its counters say
    # when: each message is journaled as it is received. Waiting for the first applied entity alone could
    # land in a moment when the ingester had caught up with the publisher (it did under a loaded
    # machine), and then there is nothing for the journal to bring back. What the broker has not yet
    # handed over waits in the ingester's persistent session.
    deadline = time.time() + 30
    seen = 0
    while time.time() < deadline:
        received, seen = ingester_counts()
        if seen > 0 and received - seen >= 50:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc = None
    print(f"killed with {seen} of {N} applied")
    check("the kill came while messages were still queued", 0 < seen < N, f"applied {seen} of {N} before the kill")
    pub_err = pub.stderr.read().decode()
    check("the broker acknowledged every message (mosquitto_pub)", pub.wait(timeout=120) == 0, pub_err)

    proc = start()
    token = login()
    deadline = time.time() + 60
    applied = 0
    while time.time() < deadline:
        applied = count_applied(token)
        if applied >= N:
            break
        time.sleep(0.2)
    check("every acknowledged message was applied after the restart", applied == N, f"{applied} of {N}")
    with urllib.request.urlopen(BASE + "/metrics", timeout=5) as r:
        metrics = r.read().decode()
    recovered = [int(float(line.split()[-1])) for line in metrics.splitlines()
                 if line.startswith("thanglong_mqtt_messages_recovered_total")]
    print(f"recovered from the journal: {recovered}")
    # The broker had forgotten these (acknowledged): only the journal can have brought them back.
    check("the journal brought back the messages taken but not applied", recovered and recovered[0] > 0, str(recovered))
    values = all_values(token)
    wrong = [k for k in range(N) if values.get(entity_id(k)) != k + 1]
    check("each streetlight carries the value of its own message", not wrong,
          f"{len(wrong)} wrong, e.g. {wrong[:5]}")
finally:
    if proc:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()

sys.exit(h.finish())
