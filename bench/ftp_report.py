#!/usr/bin/env python3
"""Turn the raw results of bench/ftp_bench.sh into tables.

    python3 bench/ftp_report.py WORKDIR REPORT.md

Reads WORKDIR/results.tsv (section, scenario, tool, run, microseconds),
WORKDIR/counts.jsonl (commands counted by bench/ftp_proxy.py) and
WORKDIR/meta.json; prints the summary table to stdout and writes every
table as Markdown to REPORT.md. Only the Python standard library is used.
"""

import collections
import json
import statistics
import sys

# (label, polyops scenario, polyops tool, peer tool, target ratio)
TARGETS = [
    ("P1", "noop-plan-vsftpd", "polyops", "lftp", 1.5),
    ("P1b", "noop-plan-proftpd", "polyops", "lftp", 1.0),
    ("P2", "first-apply-vsftpd", "polyops", "lftp", 0.5),
    ("P2", "first-apply-vsftpd", "polyops", "rclone", 0.2),
    ("P2 (proftpd)", "first-apply-proftpd", "polyops", "lftp", 0.5),
    ("P2 (proftpd)", "first-apply-proftpd", "polyops", "rclone", 0.2),
    ("P3", "delayed-apply-vsftpd", "polyops", "lftp", 0.5),
    ("P3 (24 conn.)", "delayed-apply-vsftpd", "polyops --connections 24", "lftp", 0.5),
    ("P3 (no-op plan)", "delayed-noop-plan-vsftpd", "polyops", "lftp", None),
    ("P3 (no-op plan, proftpd)", "delayed-noop-plan-proftpd", "polyops", "lftp", None),
    ("P3 (no-op plan, proftpd, 4 conn.)", "delayed-noop-plan-proftpd", "polyops --connections 4", "lftp", None),
]

SCENARIOS = {
    "noop-plan-vsftpd": "no-op plan, vsftpd",
    "noop-plan-proftpd": "no-op plan, proftpd",
    "first-apply-vsftpd": "first apply, vsftpd",
    "first-apply-proftpd": "first apply, proftpd",
    "delayed-apply-vsftpd": "first apply, vsftpd +10 ms/reply",
    "delayed-noop-plan-vsftpd": "no-op plan, vsftpd +10 ms/reply",
    "delayed-noop-plan-proftpd": "no-op plan, proftpd +10 ms/reply",
    "local-render": "no network: load + render the site",
}

COMMANDS = {
    "polyops": "polyops -v plan --detailed-exitcode / apply --auto-approve",
    "lftp": 'lftp -e "mirror -R [--dry-run] --parallel=8 LOCAL DIR; quit"',
    "rclone": "rclone sync --transfers 8 LOCAL remote:DIR",
}


def load(work):
    times = collections.defaultdict(list)
    with open(f"{work}/results.tsv") as f:
        for line in f:
            section, scen, tool, _run, us = line.rstrip("\n").split("\t")
            times[(scen, tool)].append(int(us) / 1e6)
    counts = []
    try:
        with open(f"{work}/counts.jsonl") as f:
            counts = [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        pass
    with open(f"{work}/meta.json") as f:
        meta = json.load(f)
    failures = collections.defaultdict(list)
    try:
        with open(f"{work}/failures.tsv") as f:
            for line in f:
                _section, scen, tool, _run, why = line.rstrip("\n").split("\t", 4)
                failures[(scen, tool)].append(why)
    except FileNotFoundError:
        pass
    return times, counts, meta, failures


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, digits=3):
    return "–" if x is None else f"{x:.{digits}f}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def data_connections(cmds):
    return sum(cmds.get(v, 0) for v in ("PASV", "EPSV", "PORT", "EPRT"))


def main():
    work, report = sys.argv[1], sys.argv[2]
    times, counts, meta, failures = load(work)
    md = []

    # Targets.
    rows = []
    for label, scen, tool, peer, target in TARGETS:
        a, b = med(times.get((scen, tool), [])), med(times.get((scen, peer), []))
        if a is None or b is None:
            continue
        ratio = a / b
        if target is None:
            verdict, tgt = "(no target)", "–"
        else:
            verdict, tgt = ("met" if ratio <= target else "**not met**"), f"≤ {target}x"
        rows.append([label, SCENARIOS.get(scen, scen), tool, fmt(a), peer, fmt(b), f"{ratio:.2f}x", tgt, verdict])
    # P4.
    for c in counts:
        if c["scenario"] == "noop-plan-proftpd" and c["tool"] == "polyops":
            cmds = c["stats"]["commands"]
            retr = c["stats"].get("retr_names", [])
            site_retr = [n for n in retr if n != ".polyops-state.json"]
            verdict = "met" if cmds.get("RETR", 0) <= 1 and not site_retr else "**not met**"
            rows.append([
                "P4", "no-op plan, proftpd", "polyops",
                f"{data_connections(cmds)} data conn.", "", "",
                f"{cmds.get('RETR', 0)} RETR, {cmds.get('HASH', 0) + cmds.get('XSHA256', 0)} HASH/XSHA256",
                "no RETR of a site file", verdict,
            ])
    hdr = ["target", "scenario", "polyops", "median s", "vs", "median s", "ratio", "target", "met?"]
    if rows:  # none when only other sections ran (SECTIONS=p5)
        md.append("### Targets\n\n" + table(hdr, rows))
        print(table(hdr, rows))

    # Every measurement.
    rows = []
    for (scen, tool), xs in sorted(times.items()):
        rows.append([SCENARIOS.get(scen, scen), tool, len(xs), fmt(med(xs)), fmt(min(xs)), fmt(max(xs))])
    if rows:
        md.append("### Every measurement (wall seconds)\n\n" + table(["scenario", "tool", "runs", "median", "min", "max"], rows))

    # Connections sweep.
    sweep = [(k[0], k[1]) for k in times if k[0].startswith("sweep-")]
    if sweep:
        cols = ["sweep-noop-plan-vsftpd", "sweep-first-apply-vsftpd", "sweep-noop-plan-proftpd", "sweep-first-apply-proftpd"]
        rows = []
        for c in (1, 2, 4, 8):
            r = [str(c)]
            for col in cols:
                key = (col, f"polyops --connections {c}")
                cell = fmt(med(times.get(key, [])))
                if failures.get(key):
                    cell += f" ({len(failures[key])} of {len(failures[key]) + len(times.get(key, []))} runs failed)"
                r.append(cell)
            rows.append(r)
        md.append(
            "### `--connections` on loopback (median wall seconds; defaults on loopback: 2 to download, 4 to upload, 4 to hash)\n\n"
            + table(["connections", "no-op plan vsftpd", "first apply vsftpd", "no-op plan proftpd", "first apply proftpd"], rows)
        )

    # Protocol floor.
    floor = collections.defaultdict(list)
    try:
        with open(f"{work}/floor.jsonl") as f:
            for line in f:
                r = json.loads(line)
                floor[(r["server"], r["mode"], r["connections"], r["pipeline"], r["items"])].append(r)
    except FileNotFoundError:
        pass
    if floor:
        rows = []
        for (server, mode, conns, pipeline, items), rs in floor.items():
            what = {"list": "one listing", "hash": "XSHA256 every file", "retr": "RETR every file"}[mode]
            if mode == "hash":
                what += f", {pipeline if pipeline < 100000 else 'all'} in flight per connection"
            rows.append([server, what, items, conns, fmt(med([r["login_s"] for r in rs])),
                         fmt(med([r["work_s"] for r in rs])), fmt(med([r["total_s"] for r in rs])), len(rs)])
        md.append(
            "### Protocol floor: a bare Python client on the no-op folder (median seconds)\n\n"
            + table(["server", "work", "items", "connections", "logins", "work", "total", "runs"], rows)
        )

    if failures:
        rows = [[SCENARIOS.get(k[0], k[0]), k[1], len(v), v[0].replace("|", "/")] for k, v in sorted(failures.items())]
        md.append("### Failed runs\n\n" + table(["scenario", "tool", "failed runs", "first error"], rows))

    # Commands counted by the proxies.
    rows = []
    seen = set()
    for c in counts:
        key = (c["scenario"], c["tool"])
        if key in seen:
            continue
        seen.add(key)
        cmds = c["stats"]["commands"]
        stor = cmds.get("STOR", 0)
        rows.append([
            SCENARIOS.get(c["scenario"], c["scenario"]), c["tool"], c["stats"]["sessions"],
            sum(cmds.values()), data_connections(cmds), cmds.get("RETR", 0),
            cmds.get("HASH", 0) + cmds.get("XSHA256", 0), stor,
            ", ".join(f"{k} {v}" for k, v in sorted(cmds.items(), key=lambda kv: -kv[1])[:8]),
            c.get("verbose") or "",
        ])
    if rows:
        md.append(
            "### FTP commands counted by the proxy (one run each)\n\n"
            + table(["scenario", "tool", "sessions", "commands", "data conn. (PASV/EPSV)", "RETR", "HASH/XSHA256", "STOR", "most frequent", "polyops -v"], rows)
        )

    # P5: the tables bench/validate_render.sh printed, and a verdict per
    # row against the 0.5 s and 100 MB.
    try:
        with open(f"{work}/p5.md") as f:
            p5 = f.read().rstrip("\n").split("\n")
    except FileNotFoundError:
        p5 = None
    if p5 is not None:
        out = []
        for line in p5:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if line.startswith("| command"):
                line += " met? (≤ 0.5 s, ≤ 100 MB) |"
            elif line.startswith("|---"):
                line += "---|"
            elif line.startswith("| polyops") and len(cells) == 5:
                met = float(cells[1]) <= 0.5 and float(cells[4]) <= 100
                line += " met |" if met else " **not met** |"
            out.append(line)
        md.append("### P5: validate + render of 7,000 phones\n\n" + "\n".join(out))

    m = meta
    md.append(
        "### Run\n\n"
        f"- command: `{m['command']}` (RUNS={m['runs']}, DELAY_RUNS={m['delay_runs']}, SWEEP_RUNS={m['sweep_runs']}, "
        f"PAUSE={m['pause']} s, DELAY_MS={m['delay_ms']}); {m['seconds']} s in all\n"
        f"- site: {m['phones']} phones, {m['files']} files; server roots on {m['fs']}\n"
        f"- machine: nproc {m['nproc']}, CPU `{m['cpu']}`, {int(m['mem_kb']) / 1048576:.1f} GiB RAM, "
        f"Linux {m['kernel']}, {m['os']}; load average at the end {m['load']}\n"
        f"- versions: {m['polyops']} at {m.get('revision', '?')} ({m['rustc']}), lftp {m['lftp']}, rclone {m['rclone']}, "
        f"vsftpd {m['vsftpd']}, proftpd {m['proftpd']}\n"
        f"- server restarts (another test run reset the passwords): {m['restarts']}\n"
    )
    with open(report, "w") as f:
        f.write("\n\n".join(md) + "\n")


if __name__ == "__main__":
    main()
