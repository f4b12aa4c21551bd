#!/usr/bin/env python3
"""Plots throughput against record size from the JMH JSON of the Java benchmark (README,
"Performance"): lkr-crypt's caller-owned and byte[] APIs, the same envelope in pure
javax.crypto, SunJCE's bare AES-GCM call and the engine alone (Rust-only), one panel per
direction. Standard library only; writes an SVG and prints the README's table (Markdown).

    python3 docs/perf/plot_jmh.py docs/perf/jmh.json docs/perf/throughput.svg
"""
import json
import math
import sys

SERIES = [  # (benchmark method suffix, label, colour, dashed)
    ("rustOnly{op}", "Rust engine alone (no JNI)", "#888888", True),
    ("lkr{op}Array", "lkr-crypt, caller-owned byte[] (offsets)", "#1f77b4", False),
    ("lkr{op}Bytes", "lkr-crypt, byte[] (new result per call)", "#2ca02c", False),
    ("pure{op}Bytes", "pure javax.crypto envelope v1, byte[]", "#d62728", False),
    ("jce{op}", "SunJCE bare AES-GCM, one key (no derivation)", "#ff7f0e", True),
]
W, H = 460, 330  # one panel
LEFT, RIGHT, TOP, BOTTOM = 60, 15, 40, 45


def load(path):
    """{method: {size: ns/op}} from JMH's JSON result file."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for r in json.load(f):
            method = r["benchmark"].rsplit(".", 1)[1]
            size = int(r["params"]["size"])
            out.setdefault(method, {})[size] = r["primaryMetric"]["score"]
    return out


def panel(ns, op, x0):
    sizes = sorted(ns.get("lkr%sBytes" % op, {}))
    if not sizes:
        return "", 1
    gbps = {}
    for key, *_ in SERIES:
        m = key.format(op=op)
        gbps[m] = {s: s / ns[m][s] for s in sizes if m in ns and s in ns[m]}  # bytes/ns = GB/s
    top = max(v for d in gbps.values() for v in d.values())
    ymax = max(1, math.ceil(top))
    lo, hi = math.log2(sizes[0]), math.log2(sizes[-1])
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(s):
        return x0 + LEFT + (math.log2(s) - lo) / (hi - lo) * pw

    def py(v):
        return TOP + ph - v / ymax * ph

    parts = [
        '<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>' % (x0 + LEFT, op.lower()),
        '<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#000"/>'
        % (x0 + LEFT, TOP, pw, ph),
    ]
    step = max(1, ymax // 8)
    for v in range(0, ymax + 1, step):
        parts.append(
            '<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>'
            '<text x="%d" y="%.1f" font-size="11" text-anchor="end">%d</text>'
            % (x0 + LEFT, x0 + LEFT + pw, py(v), py(v), x0 + LEFT - 5, py(v) + 4, v)
        )
    for s in sizes:
        label = "%d B" % s if s < 1024 else ("%d KiB" % (s // 1024) if s < 1 << 20 else "%d MiB" % (s >> 20))
        parts.append(
            '<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>'
            % (px(s), TOP + ph + 16, label)
        )
    parts.append(
        '<text x="%d" y="%d" font-size="12" text-anchor="middle">record size (log scale)</text>'
        % (x0 + LEFT + pw // 2, H - 8)
    )
    parts.append(
        '<text x="%d" y="%d" font-size="12" text-anchor="middle" transform="rotate(-90 %d %d)">'
        "GB/s (plaintext)</text>" % (x0 + 16, TOP + ph // 2, x0 + 16, TOP + ph // 2)
    )
    for key, _, colour, dashed in SERIES:
        pts = sorted(gbps[key.format(op=op)].items())
        if not pts:
            continue
        path = " ".join("%.1f,%.1f" % (px(s), py(v)) for s, v in pts)
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        parts.append(
            '<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (path, colour, dash)
        )
        for s, v in pts:
            parts.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (px(s), py(v), colour))
    return "\n".join(parts), ymax


def main():
    src, dst = sys.argv[1], sys.argv[2]
    ns = load(src)
    enc, _ = panel(ns, "Encrypt", 0)
    dec, _ = panel(ns, "Decrypt", W)
    legend = []
    for i, (_, label, colour, dashed) in enumerate(SERIES):
        y = H + 18 + i * 18
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        legend.append(
            '<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/>'
            '<text x="%d" y="%d" font-size="12">%s</text>'
            % (LEFT, LEFT + 30, y, y, colour, dash, LEFT + 38, y + 4, label)
        )
    height = H + 18 + len(SERIES) * 18 + 10
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
        'font-family="sans-serif">\n<rect width="100%%" height="100%%" fill="#fff"/>\n%s\n%s\n%s\n</svg>\n'
        % (2 * W, height, enc, dec, "\n".join(legend))
    )
    with open(dst, "w", encoding="utf-8") as f:
        f.write(svg)
    print(table(ns))


def table(ns):
    """The README's table: ns/op and the ratios of issue 20 (speed ratios, higher is faster)."""
    rows = [
        "| op | size | Rust-only | caller-owned | byte[] | pure-Java byte[] | pure-Java caller-owned"
        " | caller-owned / Rust | byte[] / Rust | caller-owned vs pure | byte[] vs pure |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for op in ("Encrypt", "Decrypt"):
        for s in sorted(ns.get("lkr%sBytes" % op, {})):
            g = lambda m: ns.get(m % op, {}).get(s, float("nan"))  # noqa: E731
            rust, arr, byt = g("rustOnly%s"), g("lkr%sArray"), g("lkr%sBytes")
            pb, pa = g("pure%sBytes"), g("pure%sArray")
            rows.append(
                "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |"
                % (op.lower(), s, rust, arr, byt, pb, pa, rust / arr, rust / byt, pa / arr, pb / byt)
            )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
