#!/usr/bin/env python3
"""Turn bench/engine_bench.sh's results into Markdown.

    python3 bench/engine_report.py WORK_DIR REPORT.md

Reads WORK_DIR/results.tsv (scenario, tool, run, wall microseconds, vsftpd
CPU-s, tool CPU-s, the floor's own total_s or empty), counts.jsonl (the
proxy's counters), profile.jsonl (system calls, threads, CPU, context
switches of one run) and meta.json; prints the report and writes it to REPORT.md. Only the Python
standard library is used.
"""

import collections
import json
import os
import statistics
import sys

# scenario -> (the floor's tool name, target ratio, how the target reads)
TARGETS = {
    "noop-plan": ("ftplib RETR, 2 sessions", 1.0, "≤ 1.0x"),
    "first-apply": ("ftplib STOR+rename, 4 sessions", 1.0, "< 1.0x"),
}
SCENARIO_TEXT = {
    "noop-plan": "no-op plan, 2,001 files, content verified",
    "first-apply": "first apply, 2,001 files",
}


def met(ratio, limit, text):
    ok = ratio < limit if text.startswith("<") else ratio <= limit
    return "met" if ok else "**not met**"


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    work, report = sys.argv[1], sys.argv[2]
    rows = collections.defaultdict(list)
    with open(os.path.join(work, "results.tsv"), encoding="utf-8") as f:
        for line in f:
            scen, tool, _run, us, vcpu, tcpu, inner = line.rstrip("\n").split("\t")
            rows[(scen, tool)].append(
                (int(us) / 1e6, float(vcpu), float(tcpu), float(inner) if inner else None)
            )
    with open(os.path.join(work, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    med = {k: statistics.median(r[0] for r in v) for k, v in rows.items()}
    out = []
    out.append("| scenario | tool | median s | vs | median s (inside python) | ratio (to inside) | target | met? |")
    out.append("|---|---|---|---|---|---|---|---|")
    for scen, (floor, limit, text) in TARGETS.items():
        if (scen, floor) not in rows:
            continue
        fm = med[(scen, floor)]
        inner = [r[3] for r in rows[(scen, floor)] if r[3] is not None]
        im = statistics.median(inner) if inner else None
        for (s, tool), m in sorted(med.items()):
            if s != scen or tool == floor:
                continue
            ratio = m / fm
            inner_text = f"{fm:.3f} ({im:.3f})" if im else f"{fm:.3f}"
            ratio_text = f"{ratio:.2f}x ({m / im:.2f}x)" if im else f"{ratio:.2f}x"
            out.append(
                f"| {SCENARIO_TEXT[scen]} | {tool} | {m:.3f} | {floor} | {inner_text} | {ratio_text} | {text} | {met(ratio, limit, text)} |"
            )
    out.append("")
    out.append("| scenario | tool | runs | median s | min s | max s | vsftpd CPU-s (median) | tool CPU-s (median) |")
    out.append("|---|---|---|---|---|---|---|---|")
    for (scen, tool), v in sorted(rows.items()):
        walls = [r[0] for r in v]
        out.append(
            f"| {scen} | {tool} | {len(v)} | {statistics.median(walls):.3f} | {min(walls):.3f} | {max(walls):.3f} "
            f"| {statistics.median(r[1] for r in v):.2f} | {statistics.median(r[2] for r in v):.2f} |"
        )
    counts_path = os.path.join(work, "counts.jsonl")
    counts = []
    if os.path.exists(counts_path):
        with open(counts_path, encoding="utf-8") as f:
            counts = [json.loads(line) for line in f if line.strip()]
    if counts:
        out.append("")
        out.append("| scenario | tool | sessions | commands | rounds | data conn. | most frequent |")
        out.append("|---|---|---|---|---|---|---|")
        for c in counts:
            st = c["stats"]
            cmds = st.get("commands", {})
            top = ", ".join(f"{k} {n}" for k, n in sorted(cmds.items(), key=lambda kv: (-kv[1], kv[0]))[:8])
            out.append(
                f"| {c['scenario']} | {c['tool']} | {st.get('sessions')} | {sum(cmds.values())} | {st.get('rounds')} "
                f"| {st.get('data_connections')} | {top} |"
            )
    profile_path = os.path.join(work, "profile.jsonl")
    profile = []
    if os.path.exists(profile_path):
        with open(profile_path, encoding="utf-8") as f:
            profile = [json.loads(line) for line in f if line.strip()]
    if profile:
        out.append("")
        out.append("| scenario | tool | system calls | threads started | futex | connects | user CPU-s | system CPU-s | voluntary / involuntary context switches |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for p in profile:
            out.append(
                f"| {p['scenario']} | {p['tool']} | {p['syscalls']} | {p['threads']} | {p['futex']} | {p['connects']} "
                f"| {p['user_s']:.2f} | {p['sys_s']:.2f} | {p['voluntary_cs']} / {p['involuntary_cs']} |"
            )
    out.append("")
    out.append(
        f"- polyops {meta['polyops']} at {meta['revision']}"
        + (f"; also {meta['extra']}" if meta.get("extra") else "")
        + f"; vsftpd {meta['vsftpd']}, Python {meta['python']}"
    )
    out.append(
        f"- {meta['files']} files, RUNS={meta['runs']}, PAUSE={meta['pause']} s, {meta['seconds']} s in all; "
        f"nproc {meta['nproc']} ({meta['cpu']}), Linux {meta['kernel']}, load average at the end {meta['load']}"
    )
    text = "\n".join(out) + "\n"
    print(text)
    with open(report, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
