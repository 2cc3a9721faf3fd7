"""Checks an ONNX policy written by `optima-gym export onnx` against the Swift network.

Usage: onnx_check.py MODEL.onnx RECORDED.jsonl [TOLERANCE]

RECORDED.jsonl holds one decision per line: the observation, the action mask and the action
probabilities the Swift network gave (`export onnx --record N`). The script runs onnx.checker
(full check, with shape inference) on the model, then ONNX Runtime on every recorded observation
and mask in one batch, and compares the probabilities. It prints the largest absolute difference
and exits 1 when the checker fails or any difference exceeds TOLERANCE (default 1e-5).
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main() -> int:
    model_path, recorded_path = sys.argv[1], sys.argv[2]
    tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-5
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    print(f"onnx-check: onnx.checker passed (opset {model.opset_import[0].version}, IR version {model.ir_version}, "
          f"{len(model.graph.node)} nodes, onnx {onnx.__version__})")
    rows = [json.loads(line) for line in open(recorded_path) if line.strip()]
    if not rows:
        print("onnx-check: FAILED: no recorded decisions")
        return 1
    obs = np.array([r["observation"] for r in rows], dtype=np.float32)
    mask = np.array([r["mask"] for r in rows], dtype=bool)
    want = np.array([r["probabilities"] for r in rows], dtype=np.float64)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    got = session.run(["probabilities"], {"observation": obs, "mask": mask})[0].astype(np.float64)
    if got.shape != want.shape:
        print(f"onnx-check: FAILED: ONNX Runtime gave shape {got.shape}, the recording has {want.shape}")
        return 1
    diff = np.abs(got - want)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
    masked_mass = float(np.abs(got[~mask]).max()) if (~mask).any() else 0.0
    print(f"onnx-check: {len(rows)} observations, {want.shape[1]} actions, ONNX Runtime {ort.__version__}: "
          f"largest |difference| {diff.max():.3e} (decision {worst[0]}, action {worst[1]}), mean {diff.mean():.3e}; "
          f"largest probability on a masked action {masked_mass:.1e}; tolerance {tolerance:g}")
    if not np.isfinite(got).all() or diff.max() > tolerance or masked_mass > 0:
        print("onnx-check: FAILED")
        return 1
    print("onnx-check: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
