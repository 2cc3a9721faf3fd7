#!/usr/bin/env bash
# Checks the dashboard of `optima-gym serve` in a real browser (Debian's chromium, headless,
# installed with apt-get when missing): makes two small runs in a fresh store (one whose gate
# passes, one whose gate fails), serves it on a free loopback port, loads `/`, `/runs/<id>` and
# `/compare?a=<id>&b=<id>` and checks the DOM the browser built (python3's html.parser):
# - `/`: the runs table has both runs, each with its verdict; the compare form offers both; the
#   registry table has the runs' models;
# - `/runs/<id>`: the metrics table has rows and the learning, parity and survival curves are inline <svg>s;
# - `/compare`: table#compare has rows, both verdicts are shown, and both learning curves are there.
# It then takes a 1366x900 screenshot of each page, and a 1366x3600 one of the whole page (and keeps its DOM) in ARTIFACTS_DIR (default
# test-artifacts/dashboard/; a relative path is taken from the repository root), checks that each
# is a PNG of that size and not blank, and finally stops the server with SIGTERM and requires a
# clean exit. Exits 1 naming the page and what is missing. When chromium cannot be installed it
# prints why and exits 0 (skipped).
# Usage: scripts/dashboard-test.sh [path/to/optima-gym]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-$root/.build/release/optima-gym}
[ -x "$bin" ] || { echo "dashboard-test: $bin not found" >&2; exit 1; }
artifacts=${ARTIFACTS_DIR:-$root/test-artifacts/dashboard}
started=$(date +%s)

if ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "dashboard-test: installing chromium"
  if ! ( $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } ); then
    echo "dashboard-test: SKIPPED: cannot install chromium with apt-get (no package source or no permission)"
    exit 0
  fi
fi
echo "dashboard-test: $(chromium --version 2>/dev/null | head -n 1)"

work=$(mktemp -d /tmp/optima-dashboard.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "dashboard-test: FAILED: $*"; exit 1; }

# Two small runs of the same scenario: seed 5 passes its gate, seed 6 has an unreachable one.
cat > "$work/pass.yaml" <<YAML
name: dashboard_test
seed: 5
population: {size: 150}
training: {episodes: 600, curve_window: 200}
evaluation: {episodes: 600, bootstrap_samples: 50}
agents: [random, epsilon_greedy]
gate:
  - {metric: mean_reward, agent: epsilon_greedy, min: -1}
YAML
sed -e 's/^seed: 5$/seed: 6/' -e 's/min: -1}/min: 100}/' "$work/pass.yaml" > "$work/fail.yaml"
"$bin" run "$work/pass.yaml" --store "$work/store.sqlite" --out "$work/run1" --quiet >/dev/null
# Exit code 1 means exactly "the gate failed" (docs/architecture.md), which is what this run is for.
rc=0; "$bin" run "$work/fail.yaml" --store "$work/store.sqlite" --out "$work/run2" --quiet >/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "the run with an unreachable gate exited $rc, expected 1 (gate failed)"
run_id() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_id"])' "$1" 2>/dev/null || true; }
id1=$(run_id "$work/run1/run.json"); id2=$(run_id "$work/run2/run.json")
[ -n "$id1" ] && [ -n "$id2" ] && [ "$id1" != "$id2" ] || fail "cannot read the two runs' ids from their run.json (got '$id1' and '$id2')"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --store "$work/store.sqlite" --port "$port" > "$work/serve.log" 2>&1 &
pid=$!
up=""
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$port/openapi.json" >/dev/null 2>&1 && { up=1; break; }
  sleep 0.2
done
[ -n "$up" ] || { cat "$work/serve.log"; fail "the server did not answer on port $port within 10 s"; }
base="http://127.0.0.1:$port"

# One profile for every browser start, inside the work directory (never the user's own).
chrome=(chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$work/profile")
mkdir -p "$artifacts"

cat > "$work/check.py" <<'PY'
"""Checks one page's DOM as dumped by the browser. Usage: check.py PAGE FILE ID1 ID2."""
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []
    def classes(self): return (self.attrs.get("class") or "").split()
    def text(self): return "".join(c if isinstance(c, str) else c.text() for c in self.children)
    def all(self, tag=None, cls=None, id=None):
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and (cls is None or cls in c.classes()) and (id is None or c.attrs.get("id") == id):
                    out.append(c)
                out += c.all(tag, cls, id)
        return out
    def one(self, tag=None, cls=None, id=None):
        found = self.all(tag, cls, id)
        return found[0] if found else None

class Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#document", [], None)
    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID: self.cur = n
    def handle_startendtag(self, tag, attrs): self.cur.children.append(Node(tag, attrs, self.cur))
    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag: n = n.parent
        if n is not None and n.parent is not None: self.cur = n.parent
    def handle_data(self, data): self.cur.children.append(data)

page, path, id1, id2 = sys.argv[1:5]
b = Builder(); b.feed(open(path, encoding="utf-8").read()); doc = b.root
problems = []
def need(ok, what):
    if not ok: problems.append(what)
def verdict(cell):
    t = " ".join(cell.text().split()) if cell is not None else ""
    return t if t in ("PASSED", "FAILED", "no gate") else None

if page == "index":
    runs = doc.one("table", id="runs")
    need(runs is not None, "table#runs (the runs and sweeps)")
    if runs is not None:
        rows = runs.all("tr", cls="run")
        byid = {}
        for r in rows:
            link = r.one("a")
            if link is not None: byid[link.text().strip()] = r
        for rid, want in ((id1, "PASSED"), (id2, "FAILED")):
            r = byid.get(rid)
            need(r is not None, f"a row for run {rid} in table#runs")
            if r is not None:
                v = verdict(r.one("td", cls="verdict"))
                need(v is not None, f"a verdict cell (PASSED/FAILED/no gate) in run {rid}'s row")
                need(v is None or v == want, f"run {rid}'s verdict {want} (got {v})")
    models = doc.one("table", id="models")
    need(models is not None, "table#models (the registry)")
    need(models is None or len(models.all("tr", cls="model")) >= 4, "the runs' 4 models in table#models")
    form = doc.one("form", id="compare-form")
    need(form is not None and form.attrs.get("action") == "/compare" and (form.attrs.get("method") or "get").lower() == "get",
         "form#compare-form (GET /compare)")
    if form is not None:
        for name in ("a", "b"):
            sel = [s for s in form.all("select") if s.attrs.get("name") == name]
            values = {o.attrs.get("value") for o in sel[0].all("option")} if sel else set()
            need({id1, id2} <= values, f"a select '{name}' offering both runs in form#compare-form")
elif page == "run":
    head = " ".join(doc.one("h1").text().split()) if doc.one("h1") else ""
    need(id1 in head, f"the heading naming run {id1}")
    need(verdict(doc.one("span", id="verdict")) == "PASSED", "the release gate verdict PASSED (span#verdict)")
    metrics = doc.one("table", id="metrics")
    need(metrics is not None, "table#metrics")
    need(metrics is None or len(metrics.all("tr", cls="metric")) > 0, "metric rows (tr.metric) in table#metrics")
    for chart_id, what in (("learning_curve", "learning curves"), ("parity", "parity chart"), ("survival", "survival curves")):
        chart = doc.one("div", id=chart_id)
        need(chart is not None and chart.one("svg") is not None, f"the {what} (an inline <svg> in div#{chart_id})")
elif page == "compare":
    head = " ".join(doc.one("h1").text().split()) if doc.one("h1") else ""
    need(id1 in head and id2 in head, f"the heading naming runs {id1} and {id2}")
    verdicts = [verdict(c) for c in doc.all("td", cls="verdict")]
    need(verdicts[:2] == ["PASSED", "FAILED"], f"the verdicts PASSED (run A) and FAILED (run B) in td.verdict cells (got {verdicts})")
    table = doc.one("table", id="compare")
    need(table is not None, "table#compare")
    if table is not None:
        rows = table.all("tr", cls="metric")
        need(len(rows) > 0, "metric rows (tr.metric) in table#compare")
        need(any(len(r.all("td")) >= 7 and r.all("td")[6].text().strip() not in ("", "n/a") for r in rows),
             "at least one row with a difference B − A (7th cell) that is a number")
    for side in ("a", "b"):
        chart = doc.one("div", id=f"learning_curve-{side}")
        need(chart is not None and chart.one("svg") is not None, f"run {side.upper()}'s learning curve (an inline <svg> in div#learning_curve-{side})")
    need(len(doc.all("svg")) >= 2, "two <svg> charts")
if problems:
    body = " ".join((doc.one("body") or doc).text().split())[:300]
    print(f"dashboard-test: FAILED: page {page}: missing " + "; missing ".join(problems))
    print(f"dashboard-test:   the page's text begins: {body}")
    sys.exit(1)
print(f"dashboard-test: page {page}: ok")
PY

cat > "$work/png.py" <<'PY'
"""Checks a screenshot: a PNG of the expected size, non-trivial in bytes. Usage: png.py FILE W H MINBYTES."""
import os, struct, sys
path, w, h, minimum = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if not os.path.isfile(path): sys.exit(f"dashboard-test: FAILED: no screenshot {path}")
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR": sys.exit(f"dashboard-test: FAILED: {path} is not a PNG")
width, height = struct.unpack(">II", data[16:24])
if (width, height) != (w, h): sys.exit(f"dashboard-test: FAILED: {path} is {width}x{height}, expected {w}x{h}")
if len(data) < minimum: sys.exit(f"dashboard-test: FAILED: {path} is only {len(data)} bytes (a blank page?), expected at least {minimum}")
print(f"dashboard-test: {os.path.basename(path)}: {width}x{height}, {len(data)} bytes")
PY

status=0
# page name, path and query; each is fetched once with curl (for its status), dumped and shot.
for spec in "index /" "run /runs/$id1" "compare /compare?a=$id1&b=$id2"; do
  name=${spec%% *}; url="$base${spec#* }"
  code=$(curl -s -o "$work/$name.raw" -w '%{http_code}' "$url" || true)
  if [ "$code" != 200 ]; then
    echo "dashboard-test: FAILED: page $name: GET ${spec#* } answered $code: $(head -c 200 "$work/$name.raw" 2>/dev/null)"
    status=1; continue
  fi
  if ! timeout 90 "${chrome[@]}" --dump-dom "$url" > "$work/$name.html" 2>> "$work/chromium.log"; then
    echo "dashboard-test: FAILED: page $name: chromium --dump-dom did not finish"; tail -n 5 "$work/chromium.log"; status=1; continue
  fi
  cp "$work/$name.html" "$artifacts/$name.dom.html"
  python3 "$work/check.py" "$name" "$work/$name.html" "$id1" "$id2" || status=1
  rm -f "$artifacts/$name.png"
  timeout 90 "${chrome[@]}" --screenshot="$artifacts/$name.png" --window-size=1366,900 "$url" >> "$work/chromium.log" 2>&1 || true
  python3 "$work/png.py" "$artifacts/$name.png" 1366 900 15000 || { tail -n 5 "$work/chromium.log"; status=1; }
  # The whole page (charts below the fold): a tall window.
  rm -f "$artifacts/$name-full.png"
  timeout 90 "${chrome[@]}" --screenshot="$artifacts/$name-full.png" --window-size=1366,3600 "$url" >> "$work/chromium.log" 2>&1 || true
  python3 "$work/png.py" "$artifacts/$name-full.png" 1366 3600 15000 || { tail -n 5 "$work/chromium.log"; status=1; }
done

# Printable: the run and compare pages printed to PDF by the browser (the print stylesheet), kept
# beside the screenshots; each must be a PDF of at least one page.
for spec in "run /runs/$id1" "compare /compare?a=$id1&b=$id2"; do
  name=${spec%% *}; url="$base${spec#* }"
  rm -f "$artifacts/$name.pdf"
  timeout 90 "${chrome[@]}" --no-pdf-header-footer --print-to-pdf="$artifacts/$name.pdf" "$url" >> "$work/chromium.log" 2>&1 || true
  pages=$(python3 -c 'import re, sys; d = open(sys.argv[1], "rb").read(); print(len(re.findall(rb"/Type\s*/Page(?!s)", d)) if d.startswith(b"%PDF") else 0)' "$artifacts/$name.pdf" 2>/dev/null || echo 0)
  if [ "$pages" -ge 1 ]; then echo "dashboard-test: $name.pdf: $pages printed page(s)"; else echo "dashboard-test: FAILED: page $name does not print to PDF"; tail -n 5 "$work/chromium.log"; status=1; fi
done

kill -TERM "$pid"
if wait "$pid"; then echo "dashboard-test: the server stopped cleanly on SIGTERM"; else echo "dashboard-test: FAILED: the server exited $? on SIGTERM"; cat "$work/serve.log"; status=1; fi
pid=""
echo "dashboard-test: screenshots and DOM dumps in $artifacts ($(( $(date +%s) - started )) s)"
[ "$status" -eq 0 ] && echo "dashboard-test: passed"
exit "$status"
