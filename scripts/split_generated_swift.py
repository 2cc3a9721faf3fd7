"""Splits protoc-gen-swift's one file for onnx.proto into files of at most MAX_LINES lines.

Usage: split_generated_swift.py GENERATED.swift OUT_DIR PREFIX

The generated file declares every message first and then their SwiftProtobuf runtime support
(extensions). Its top-level declarations (with the comments before them) are packed in order into
files named PREFIX+<first type>.swift (declarations) and PREFIX+<first type>Coding.swift (runtime
support). The generator's `fileprivate` becomes internal, so that a message's storage can be
declared in one file and used in another (every such name is nested in its own message type);
the shared header and the version check go to PREFIX.swift. Nothing else changes.
"""
import os
import re
import sys

MAX_LINES = 480


def main() -> None:
    source, out_dir, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    lines = open(source).read().replace("fileprivate ", "").split("\n")
    first_decl = next(i for i, l in enumerate(lines) if l.startswith("nonisolated struct _GeneratedWithProtocGenSwiftVersion")
                      or l.startswith("struct _GeneratedWithProtocGenSwiftVersion"))
    header = [l for l in lines[:first_decl] if l.startswith(("//", "#", "import")) or l == ""]
    imports = [l for l in header if l.startswith(("#", "import"))]
    banner = [l for l in header if l.startswith("//")][:9]
    preamble = banner + ["// Split into files of at most %d lines by scripts/split_generated_swift.py." % MAX_LINES, ""] + imports + [""]
    # Top-level blocks: a declaration at column 0 up to its closing brace at column 0, with the
    # comment lines just before it.
    blocks, i, pending = [], first_decl, []
    while i < len(lines):
        line = lines[i]
        if line.startswith("//") or line == "":
            pending.append(line); i += 1; continue
        start = i
        if line.rstrip().endswith("{"):
            while not lines[i].startswith("}"):
                i += 1
        block = pending + lines[start:i + 1]
        pending = []
        m = re.search(r"(?:struct|enum|extension) (Onnx_[\w.]+)", line)
        blocks.append((m.group(1) if m else None, "extension" in line.split("{")[0] or line.startswith("nonisolated let") or line.startswith("let"), block))
        i += 1
    common = [b for name, _, b in blocks if name is None]
    files = {prefix: preamble + sum(common, [])}
    for runtime in (False, True):
        chunk, first = [], None
        def flush():
            if chunk:
                name = f"{prefix}+{first[len('Onnx_'):].replace('.', '')}{'Coding' if runtime else ''}"
                assert name not in files, name
                files[name] = preamble + chunk
        for name, is_ext, block in blocks:
            if name is None or is_ext != runtime:
                continue
            if chunk and len(preamble) + len(chunk) + len(block) > MAX_LINES:
                flush(); chunk = []
            if not chunk:
                first = name
            chunk += [l for l in block]
        flush()
    for name, body in files.items():
        text = "\n".join(body).rstrip("\n") + "\n"
        assert text.count("\n") <= MAX_LINES + 20, (name, text.count("\n"))
        open(os.path.join(out_dir, name + ".swift"), "w").write(text)
        print(f"{name}.swift: {text.count(chr(10))} lines")


if __name__ == "__main__":
    main()
