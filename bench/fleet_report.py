#!/usr/bin/env python3
"""Turn the raw results of bench/fleet_bench.sh into tables.

    python3 bench/fleet_report.py WORKDIR REPORT.md

Reads WORKDIR/results.tsv (section, scenario, tool, run, microseconds, CPU
seconds of the machine, of vsftpd, of the proxy), WORKDIR/counts.jsonl
(what bench/ftp_proxy.py counted) and WORKDIR/meta.json; prints the tables
to stdout and writes them as Markdown to REPORT.md. Only the Python
standard library is used.
"""

import collections
import json
import statistics
import sys


def load(work):
    rows = collections.defaultdict(list)
    with open(f"{work}/results.tsv") as f:
        for line in f:
            _section, scen, tool, _run, us, cpu, vsftpd, proxy = line.rstrip("\n").split("\t")
            rows[(scen, tool)].append((int(us) / 1e6, float(cpu), float(vsftpd), float(proxy)))
    counts = []
    try:
        with open(f"{work}/counts.jsonl") as f:
            counts = [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        pass
    with open(f"{work}/meta.json") as f:
        meta = json.load(f)
    return rows, counts, meta


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, digits=3):
    return "–" if x is None else f"{x:.{digits}f}"


def table(header, body):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(out)


def main() -> None:
    work, report = sys.argv[1], sys.argv[2]
    rows, counts, meta = load(work)
    n, big, par = meta["sites"], meta["big_sites"], meta["parallel"]
    polyops = "polyops" + (f" --parallel {par}" if meta.get("has_parallel") else " (sites one after another)")
    if meta.get("polyops_args"):
        polyops += f" {meta['polyops_args']}"

    def wall(scen, tool):
        return med([r[0] for r in rows.get((scen, tool), [])])

    targets = [
        (f"drift, {n} sites", f"drift-{n}", "polyops", "lftp loop", 0.15),
        (f"drift, {n} sites", f"drift-{n}", "polyops", f"lftp xargs -P {par}", 0.5),
        (f"drift, {big} sites", f"drift-{big}", "polyops", "lftp loop", None),
        (f"drift, {big} sites", f"drift-{big}", "polyops", f"lftp xargs -P {par}", None),
        (f"first apply, {n} sites", f"apply-{n}", "polyops", f"lftp xargs -P {par}", None),
        (f"phones, {n} sites", f"phones-{n}", "polyops phones", "polyops drift", 1.5),
    ]
    body = []
    for label, scen, tool, peer, goal in targets:
        a, b = wall(scen, tool), wall(scen, peer)
        if a is None or b is None:
            continue
        ratio = a / b
        met = "(no target)" if goal is None else ("met" if ratio <= goal else "**not met**")
        body.append([label, polyops, fmt(a), peer, fmt(b), f"{ratio:.2f}x",
                     "–" if goal is None else f"≤ {goal}x", met])
    targets_md = table(["scenario", "polyops", "median s", "vs", "median s", "ratio", "target", "met?"], body)

    body = []
    for (scen, tool), rs in sorted(rows.items()):
        walls = [r[0] for r in rs]
        body.append([scen, tool, len(rs), fmt(med(walls)), fmt(min(walls)), fmt(max(walls)),
                     fmt(med([r[1] for r in rs]), 2), fmt(med([r[2] for r in rs]), 2),
                     fmt(med([r[3] for r in rs]), 2)])
    every_md = table(["scenario", "tool", "runs", "median s", "min s", "max s",
                      "machine CPU-s", "vsftpd CPU-s", "proxy CPU-s"], body)

    delay = float(meta["delay_ms"]) / 1000
    body = []
    for c in counts:
        st = c["stats"]
        w = wall(c["scenario"], c["tool"]) if c["scenario"].endswith("-1") else None
        cmds = st["commands"]
        top = ", ".join(f"{k} {v}" for k, v in sorted(cmds.items(), key=lambda kv: (-kv[1], kv[0]))[:8])
        body.append([c["scenario"], c["tool"], st["sessions"], st.get("max_sessions", "–"),
                     sum(cmds.values()), st.get("rounds", "–"), st.get("data_connections", "–"),
                     fmt(w), "–" if w is None else f"{w / delay:.1f}", top, c.get("verbose", "")])
    counts_md = table(["scenario", "tool", "sessions", "most at once", "commands", "rounds",
                       "data conn.", "wall s", f"wall / {meta['delay_ms']} ms", "most frequent",
                       "polyops -v"], body)

    run_md = "\n".join([
        f"- command: `{meta['command']}` (RUNS={meta['runs']}, BIG_RUNS={meta['big_runs']}, "
        f"LFTP_BIG_RUNS={meta['lftp_big_runs']}, APPLY_RUNS={meta['apply_runs']}, "
        f"PARALLEL={par}, DELAY_MS={meta['delay_ms']}, PAUSE={meta['pause']} s); {meta['seconds']} s in all",
        f"- fleet: {n} sites ({big} for drift-{big}) of {meta['phones']} phones, "
        f"{meta['files']} files a site, one vsftpd, each site its own folder",
        f"- machine: nproc {meta['nproc']}, CPU `{meta['cpu']}`, Linux {meta['kernel']}, {meta['os']}; "
        f"load average at the end {meta['load']}",
        f"- versions: {meta['polyops']} at {meta['revision']}, lftp {meta['lftp']}, vsftpd {meta['vsftpd']}",
    ])
    md = "\n\n".join([
        "### Targets", targets_md,
        "### Counted by the proxy", counts_md,
        "### Every measurement (wall seconds; CPU seconds during the command)", every_md,
        "### Run", run_md,
    ]) + "\n"
    with open(report, "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
