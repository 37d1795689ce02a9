#!/usr/bin/env python3
"""Which B-trees the commits in a SQLite WAL file touch: pages per commit, by table or index.

    bench/wal_pages.py DB WAL [TOP]

DB is a copy of the database opened with its WAL beside it (so that dbstat names the pages the WAL
holds), WAL a second copy of the WAL file taken at the same moment (opening DB checkpoints and deletes
the WAL beside it). Only the frames of the WAL's current cycle (the salt of its header) are read.
How docs/benchmarks-one-stop-shop.md's pages per commit were counted: a lifecycle run killed with
SIGKILL after some seconds, then

    cp thanglong.db thanglong.db-wal /tmp/snap/ && cp thanglong.db-wal /tmp/snap/wal.copy
    bench/wal_pages.py /tmp/snap/thanglong.db /tmp/snap/wal.copy

Needs Python's sqlite3 module built with SQLITE_ENABLE_DBSTAT_VTAB (Debian's is).
"""
import collections
import sqlite3
import struct
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    db, wal = sys.argv[1], sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    with open(wal, "rb") as f:
        data = f.read()
    if len(data) < 32:
        sys.exit(f"{wal}: not a WAL file (shorter than its header)")
    magic, _version, page_size, _ckpt, salt1, salt2, _c1, _c2 = struct.unpack(">IIIIIIII", data[:32])
    if magic not in (0x377F0682, 0x377F0683):
        sys.exit(f"{wal}: not a WAL file (magic {magic:#x})")
    owner = {}
    with sqlite3.connect(db) as con:
        for name, pageno in con.execute("SELECT name, pageno FROM dbstat"):
            owner[pageno] = name
    commits, current = [], []
    off = 32
    while off + 24 + page_size <= len(data):
        page, db_size_after_commit, s1, s2 = struct.unpack(">IIII", data[off:off + 16])
        if (s1, s2) != (salt1, salt2):
            break  # a frame of an earlier cycle: the current one ends here
        current.append(page)
        if db_size_after_commit:
            commits.append(current)
            current = []
        off += 24 + page_size
    if not commits:
        sys.exit("no committed frames in the WAL's current cycle")
    by_tree = collections.Counter()
    for pages in commits:
        for page in set(pages):
            by_tree[owner.get(page, "(page not in the database: freed since)")] += 1
    n = len(commits)
    print(f"commits {n}, frames {sum(map(len, commits))}, "
          f"distinct pages per commit {sum(len(set(c)) for c in commits) / n:.1f}")
    for name, count in by_tree.most_common(top):
        print(f"{count / n:8.2f}  {name}")


if __name__ == "__main__":
    main()
