#!/usr/bin/env bash
# Regenerates Sources/GymONNX/OnnxSchema*.swift, the Swift types of ONNX's schema (onnx.proto), with
# protoc (Debian's protobuf-compiler) and swift-protobuf's plugin (protoc-gen-swift, built from the
# swift-protobuf version Package.swift names; about 1 to 10 minutes). The schema comes from the
# onnx package on PyPI (ONNX_VERSION, default the version the committed file was made from). CI
# never runs this: the generated file is committed. Run it only to move to another ONNX version.
# Usage: scripts/generate-onnx-swift.sh [ONNX_VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
onnx_version=${1:-1.23.2}
protobuf_version=$(sed -n 's|.*swift-protobuf", from: "\([0-9.]*\)".*|\1|p' Package.swift)
work=$(mktemp -d /tmp/optima-onnxgen.XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v protoc >/dev/null || { apt-get install -y -qq protobuf-compiler >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null; }; }
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "onnx==$onnx_version"
cp "$("$work/venv/bin/python" -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "onnx.proto"))')" "$work/onnx.proto"
git clone -q https://github.com/apple/swift-protobuf "$work/swift-protobuf"
git -C "$work/swift-protobuf" checkout -q "$protobuf_version"
(cd "$work/swift-protobuf" && swift build -c release --product protoc-gen-swift)
protoc --plugin="$work/swift-protobuf/.build/release/protoc-gen-swift" --swift_out="$work" --proto_path="$work" "$work/onnx.proto"
# One generated file of about 4,000 lines, split into files of at most 480 lines.
rm -f "$root"/Sources/GymONNX/OnnxSchema*.swift
python3 "$root/scripts/split_generated_swift.py" "$work/onnx.pb.swift" "$root/Sources/GymONNX" OnnxSchema
echo "generate-onnx-swift: Sources/GymONNX/OnnxSchema*.swift from onnx $onnx_version's onnx.proto (protoc $(protoc --version | cut -d' ' -f2), swift-protobuf $protobuf_version)"
