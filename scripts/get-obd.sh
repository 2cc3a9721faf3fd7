#!/usr/bin/env bash
# Fetches the small Open Bandit Dataset sample (10,000 rows per policy and campaign, ZOZO, Inc.,
# CC BY 4.0) and the ZOZOTOWN BTS prior into data/obd/, from PyPI only.
#
# The sample ships inside the Open Bandit Pipeline package (obp 0.5.7). PyPI has obp 0.5.7 only as
# a source archive (obp-0.5.7.tar.gz; no wheel), so the script downloads that with
# `python3 -m pip download --no-deps --ignore-requires-python` (obp declares Python < 3.11, which
# only matters for installing it) and copies out, with python3's tarfile/zipfile modules:
#   obp/dataset/obd/<policy>/<campaign>/{<campaign>.csv,item_context.csv} -> <dest>/<policy>/<campaign>/
#   obp/policy/conf/prior_bts.yaml                                        -> <dest>/prior_bts.yaml
# Every file is checked against the SHA-256 table below. The files are unpacked into a temporary
# folder beside <dest> and renamed into place only when all of them match: a mismatch exits 1 and
# leaves <dest> as it was. When <dest> already holds every file with the right checksum, the script
# says so and exits 0 without touching the network.
#
# Usage: scripts/get-obd.sh [DEST]     (DEST defaults to data/obd in the repository; a relative
#                                       DEST is taken from the current directory)
set -euo pipefail

OBP_VERSION=0.5.7

dest_arg=${1:-}
if [ -n "$dest_arg" ]; then
  case "$dest_arg" in
    /*) dest=$dest_arg ;;
    *) dest=$(pwd)/$dest_arg ;;
  esac
fi
cd "$(dirname "$0")/.."
root=$(pwd)
dest=${dest:-$root/data/obd}
dest=${dest%/}

command -v python3 >/dev/null 2>&1 || { echo "get-obd: python3 is needed" >&2; exit 1; }

# SHA-256 of each file, path relative to DEST.
manifest='0ad874e4dbf6902f0845dd478ad8dde5ef6903583d3ffaace78411bdad064106  bts/all/all.csv
5d4359ba1cfa3ae88f0f1bae66bd633859fe6323817183632ee57b83539d9153  bts/all/item_context.csv
db6d1f7ed2d591ba521533e45286d4c1fba7fe57a8ad2e80342210335f43c527  bts/men/men.csv
3b411ed6b0471316321a6b93f4f756bb25888eac6218cd71d0b603d41d85732d  bts/men/item_context.csv
e5d1b49a39b608585a2f3014a3f54970430cd37a495c1b73fceb85cdf428a5b8  bts/women/women.csv
a56295bad066a558eb783055afd9279f5f4e209a4776eafc22151c53f0ac89d4  bts/women/item_context.csv
7168295b6e0a9eabcf3392320a5dd434e542b68e705d5cd9491499af589812f1  random/all/all.csv
eba04cc23d5f130a93ff174c5392986882b94c3839433cb8143870eaa6221358  random/all/item_context.csv
ede6d08c6877f99cd3770f7d09e26c738e6aa6de4445ccccfb1356ba5d06b1eb  random/men/men.csv
6d855c2b7e917d0448d71bbe62c023147495882c0fdc8c41e86fef86abf9fe09  random/men/item_context.csv
e65f3bd3beb17664fa69cc129bf7bf852a775f8ffa630506e505fc905315bb34  random/women/women.csv
b1ca4905f97703d196004f2ad4552c1e90c2afad8b50688d333b0d2dc0b33147  random/women/item_context.csv
81a54fbdc184021ccc62ab97de81ec35461c032e3d7f99ccaa0a9745f732d251  prior_bts.yaml'
export OBD_MANIFEST=$manifest

# verify DIR [quiet]: exit 0 when DIR holds every file of the manifest with its checksum;
# otherwise lists the missing and mismatched files (unless quiet) and exits 1.
verify() {
  python3 - "$@" <<'PY'
import hashlib, os, sys
d = sys.argv[1]
quiet = len(sys.argv) > 2
bad = 0
for line in os.environ["OBD_MANIFEST"].splitlines():
    want, rel = line.split()
    p = os.path.join(d, rel)
    if not os.path.isfile(p):
        bad += 1
        if not quiet: print(f"get-obd:   missing  {rel}", file=sys.stderr)
        continue
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != want:
        bad += 1
        if not quiet: print(f"get-obd:   MISMATCH {rel}: sha256 {h.hexdigest()}, expected {want}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

write_readme() {
  cat > "$1/README.md" <<'EOF'
# Open Bandit Dataset, small sample

Written by `scripts/get-obd.sh`, which copies these files unchanged (checked by SHA-256) from the
Open Bandit Pipeline package `obp` 0.5.7 on PyPI: `obp/dataset/obd/` and
`obp/policy/conf/prior_bts.yaml`. This folder is not part of the repository (`/data/` is
git-ignored); run the script again to restore it.

## Credit and licences

- The data (every `*.csv`): the Open Bandit Dataset by ZOZO, Inc., licensed under Creative Commons
  Attribution 4.0 International (CC BY 4.0). When you use it, credit ZOZO, Inc. and cite:
  Yuta Saito, Shunsuke Aihara, Megumi Matsutani, Yusuke Narita. "Open Bandit Dataset and Pipeline:
  Towards Realistic and Reproducible Off-Policy Evaluation". NeurIPS 2021 Datasets and Benchmarks
  Track. arXiv:2008.07146.
- `prior_bts.yaml`: from the Open Bandit Pipeline software, Apache License 2.0 (Copyright Yuta
  Saito, Yusuke Narita, and ZOZO Technologies, Inc.).

## What the data is

Fashion-item recommendations on ZOZOTOWN, a Japanese fashion e-commerce site, logged during a
week-long experiment at the end of November 2019. Three campaigns: `all` (80 items), `men` (34)
and `women` (46). Each impression shows 3 items, at positions 1 (left), 2 (centre) and 3 (right),
and was served by one of two logging policies, picked at random per impression:

- `random`: uniform; every item has probability 1/n_items at every position;
- `bts`: Bernoulli Thompson sampling, pre-trained for about a month before the week.

The reward is a click. Every row carries the logging policy's probability of showing that item at
that position, so either policy can be evaluated off-policy on the other's log, with the other's
mean click as the truth to compare with. This sample has 10,000 rows per (policy, campaign); the
full dataset (about 26 million rows) is published by ZOZO Research.

## Layout

```
<policy>/<campaign>/<campaign>.csv     logs; policy in {random, bts}, campaign in {all, men, women}
<policy>/<campaign>/item_context.csv   one row per item of that campaign
prior_bts.yaml                         Beta prior of the BTS policy, per campaign
```

This is the layout `obp.dataset.OpenBanditDataset(behavior_policy, campaign, data_path=...)` reads.

## Columns of `<campaign>.csv` (one row per item shown at one position)

- first column, unnamed: row number 0-9999 (read it as the index);
- `timestamp`: impression time, UTC, ISO 8601 with microseconds; rows are in time order;
- `item_id`: the item shown (the action), 0 to n_items - 1;
- `position`: 1, 2 or 3;
- `click`: 1 when the item was clicked, else 0;
- `propensity_score`: the logging policy's probability of this item at this position (a
  per-position marginal, not the probability of the whole slate). Exactly 1/n_items in `random`;
  in `bts`, as computed by the production system at the time, from about 1e-6 to 0.96;
- `user_feature_0` to `user_feature_3`: categorical user features, hashed to 32-hex strings;
- `user-item_affinity_<i>` for each item i: a non-negative user-item score derived from past
  clicks; almost all entries are 0.

## Columns of `item_context.csv`

- first column, unnamed: row number (equal to `item_id`);
- `item_id`;
- `item_feature_0`: a standardised numeric feature;
- `item_feature_1` to `item_feature_3`: categorical features, hashed. The hash strings differ
  between the `random` and `bts` copies of a campaign, though the categories they induce are the
  same, so compare them within one file only.

## prior_bts.yaml

For each campaign, `alpha` and `beta` lists indexed by `item_id`: item i's click probability has
the prior Beta(alpha_i, beta_i). These are the parameters the ZOZOTOWN BTS started the week with.
The prior-only BTS draws one value per item from these priors and shows the three largest, in
order, at positions 1, 2 and 3. `obp.policy.BernoulliTS(n_actions, len_list=3,
is_zozotown_prior=True, campaign=...)` loads them. The production policy's parameters moved during
the week, so the `bts` logs' propensities are not those of the prior-only policy.
EOF
}

echo "get-obd: destination $dest"
if [ -d "$dest" ] && verify "$dest" quiet; then
  [ -f "$dest/README.md" ] || { write_readme "$dest"; echo "get-obd: wrote $dest/README.md"; }
  echo "get-obd: all 13 files are present with the expected SHA-256; nothing to download"
  exit 0
fi
if [ -d "$dest" ]; then
  echo "get-obd: $dest is incomplete or altered:"
  verify "$dest" 2>&1 || true
fi

parent=$(dirname "$dest")
made_parent=
[ -d "$parent" ] || { mkdir -p "$parent"; made_parent=1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/get-obd.XXXXXX")
stage=$(mktemp -d "$parent/.$(basename "$dest").partial.XXXXXX")
chmod "$(printf '%o' $(( 0777 & ~0$(umask) )))" "$stage"   # mktemp makes it 0700
cleanup() {
  rm -rf "$tmp" "$stage"
  if [ -n "$made_parent" ] && [ ! -e "$dest" ]; then rmdir "$parent" 2>/dev/null || true; fi
}
trap cleanup EXIT

echo "get-obd: downloading obp==$OBP_VERSION from PyPI (pip download --no-deps)"
if ! python3 -m pip download --no-deps --ignore-requires-python --disable-pip-version-check \
       "obp==$OBP_VERSION" -d "$tmp/dl" > "$tmp/pip.log" 2>&1; then
  cat "$tmp/pip.log" >&2
  echo "get-obd: pip download failed (no network to PyPI, or no pip for python3)" >&2
  exit 1
fi
archive=$(ls "$tmp"/dl/obp-"$OBP_VERSION"* 2>/dev/null | head -n 1 || true)
[ -n "$archive" ] || { cat "$tmp/pip.log" >&2; echo "get-obd: pip saved no obp archive" >&2; exit 1; }
echo "get-obd: got $(basename "$archive") ($(wc -c < "$archive" | tr -d ' ') bytes)"

echo "get-obd: extracting into a temporary folder"
python3 - "$archive" "$stage" <<'PY'
import os, sys, tarfile, zipfile
archive, stage = sys.argv[1], sys.argv[2]
wanted = [line.split()[1] for line in os.environ["OBD_MANIFEST"].splitlines()]
# Where each file sits in the package: a wheel has obp/..., a source archive obp-0.5.7/obp/...
def source_suffix(rel):
    return "obp/policy/conf/prior_bts.yaml" if rel == "prior_bts.yaml" else "obp/dataset/obd/" + rel

if archive.endswith(".whl") or archive.endswith(".zip"):
    z = zipfile.ZipFile(archive)
    members = {n: n for n in z.namelist() if not n.endswith("/")}
    read = lambda name: z.read(name)
else:
    t = tarfile.open(archive)
    members = {m.name: m for m in t.getmembers() if m.isfile()}
    read = lambda name: t.extractfile(members[name]).read()

missing = []
for rel in wanted:
    suffix = source_suffix(rel)
    hits = [n for n in members if n == suffix or n.endswith("/" + suffix)]
    if len(hits) != 1:
        missing.append(f"{suffix} ({len(hits)} matches)")
        continue
    out = os.path.join(stage, rel)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(read(hits[0]))
    print(f"get-obd:   {hits[0]} -> {rel}")
if missing:
    print("get-obd: the archive lacks: " + ", ".join(missing), file=sys.stderr)
    sys.exit(1)
PY

echo "get-obd: checking SHA-256"
if ! verify "$stage"; then
  echo "get-obd: ERROR: the files in $(basename "$archive") do not match the expected checksums; nothing was installed" >&2
  exit 1
fi
write_readme "$stage"

if [ -e "$dest" ]; then
  old="$dest.old-$(date +%Y%m%d%H%M%S)"
  mv "$dest" "$old"
  echo "get-obd: moved the previous $dest aside to $old"
fi
mv "$stage" "$dest"
echo "get-obd: installed 13 files and README.md into $dest (all checksums match)"
