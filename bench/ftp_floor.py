#!/usr/bin/env python3
"""What a no-op plan costs at the protocol level, without polyops.

    python3 bench/ftp_floor.py [--user NAME] PORT PASSWORD FOLDER NAMES_DIR MODE CONNECTIONS [PIPELINE]

Logs in as NAME (default PlcmSpIp) to 127.0.0.1:PORT CONNECTIONS times (one
after another, as polyops does), changes to FOLDER, then splits the file
names found in the local folder NAMES_DIR over the connections (one thread
each):

    list   one listing (MLSD if the server lists it in FEAT as MLST, else
           LIST) on the first connection
    hash   XSHA256 of every file, PIPELINE commands sent before their
           replies are read (default 16, as polyops)
    retr   RETR of every file through its own passive data connection
    stor   upload every file of NAMES_DIR: STOR to NAME.floor-tmp through its
           own passive data connection, then RNFR + RNTO to NAME (what a
           careful uploader does, one command at a time)

Prints one JSON object: seconds for the logins, for the work, in all. This
is the floor for each way of checking files on that server: a client in
Python's standard library, doing nothing else. Only 127.0.0.1 is contacted.
"""

import ftplib
import json
import os
import sys
import threading
import time


def login(port, user, password, folder):
    f = ftplib.FTP()
    f.connect("127.0.0.1", port, timeout=30)
    f.login(user, password)
    f.voidcmd("TYPE I")
    f.cwd(folder)
    return f


def hash_all(f, names, pipeline):
    sock = f.sock
    for i in range(0, len(names), pipeline):
        chunk = names[i : i + pipeline]
        sock.sendall("".join(f"XSHA256 {n}\r\n" for n in chunk).encode())
        for _ in chunk:
            reply = f.getresp()
            if not reply.startswith("2"):
                raise RuntimeError(reply)


def retr_all(f, names):
    for n in names:
        f.retrbinary(f"RETR {n}", lambda _b: None)


def stor_all(f, names_dir, names):
    for n in names:
        with open(os.path.join(names_dir, n), "rb") as data:
            f.storbinary(f"STOR {n}.floor-tmp", data)
        f.rename(f"{n}.floor-tmp", n)


def main():
    args = sys.argv[1:]
    user = "PlcmSpIp"
    if args[:1] == ["--user"] and len(args) > 1:
        user, args = args[1], args[2:]
    if len(args) not in (6, 7) or args[4] not in ("list", "hash", "retr", "stor"):
        sys.exit(__doc__)
    port, password, folder, names_dir, mode = int(args[0]), args[1], args[2], args[3], args[4]
    conns = int(args[5])
    pipeline = int(args[6]) if len(args) == 7 else 16
    names = sorted(os.listdir(names_dir))
    t0 = time.perf_counter()
    ftps = [login(port, user, password, folder) for _ in range(conns)]
    t1 = time.perf_counter()
    if mode == "list":
        f = ftps[0]
        feat = f.sendcmd("FEAT").upper()
        lines = []
        if "MLST" in feat:
            f.retrlines("MLSD", lines.append)
        else:
            f.retrlines("LIST -a", lines.append)
        count = len(lines)
    else:
        parts = [names[i::conns] for i in range(conns)]
        errors = []

        def work(f, part):
            try:
                if mode == "hash":
                    hash_all(f, part, pipeline)
                elif mode == "stor":
                    stor_all(f, names_dir, part)
                else:
                    retr_all(f, part)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=work, args=(f, p)) for f, p in zip(ftps, parts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            sys.exit(f"ftp_floor: {errors[0]}")
        count = len(names)
    t2 = time.perf_counter()
    for f in ftps:
        f.quit()
    t3 = time.perf_counter()
    print(json.dumps({
        "mode": mode, "connections": conns, "pipeline": pipeline, "items": count,
        "login_s": round(t1 - t0, 4), "work_s": round(t2 - t1, 4), "total_s": round(t3 - t0, 4),
    }))


if __name__ == "__main__":
    main()
