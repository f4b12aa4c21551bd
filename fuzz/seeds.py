#!/usr/bin/env python3
"""Writes fuzz seeds, in each target's input layout, to fuzz/seeds/<target>/ from the
known-answer vectors in tests/vectors/*.json (envelopes, streams, the keystore) and from
legacy values made with `openssl enc -aes-128-cbc` under the fuzz targets' legacy key
(fuzz/src/lib.rs: LEGACY_KEY). Usage: fuzz/seeds.py OUT_DIR"""
import base64
import hashlib
import json
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VEC = os.path.join(ROOT, "tests", "vectors")
LEGACY_KEY = bytes(range(0x70, 0x80))


def load(name):
    with open(os.path.join(VEC, name)) as f:
        return json.load(f)


def short(b):
    b = b[:255]
    return bytes([len(b)]) + b


def long(b):
    b = b[:65535]
    return struct.pack("<H", len(b)) + b


def legacy(plaintext, iv):
    ct = subprocess.run(
        ["openssl", "enc", "-aes-128-cbc", "-K", LEGACY_KEY.hex(), "-iv", iv.hex(), "-nosalt"],
        input=plaintext, capture_output=True, check=True).stdout
    return iv + ct


ks = load("keystore_v1.json")
env_cases = load("envelope_v1.json")["cases"]
stream_cases = load("stream_v1.json")["cases"]

ks_ctx = ks["context"].encode()
ks_env = base64.b64decode(ks["envelope_base64"])
# (envelope, context): the first is authentic under the fuzz keystore, the others have the
# right structure under KEKs the keystore does not hold.
envelopes = [(ks_env, ks_ctx)] + [(bytes.fromhex(c["envelope"]), bytes.fromhex(c["context"]))
                                  for c in env_cases]
streams = [(bytes.fromhex(c["stream"]), bytes.fromhex(c["context"])) for c in stream_cases]
legacies = [
    (legacy(b"hunter2", bytes(range(16))), ks_ctx),
    (legacy(b"", bytes(16)), b""),
    (legacy(b"exactly sixteen!", bytes(range(16, 32))), b"T.C:1"),
    (legacy(bytes([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]), bytes(range(32, 48))), b"bin"),
    (legacy("pässwörd ✓".encode() * 5, bytes(range(48, 64))), ks_ctx),
]
keystore_doc = json.dumps(ks["keystore"]).encode()

seeds = {t: [] for t in ["envelope_decrypt", "stream_decrypt", "keystore_parse",
                         "legacy_migrate", "text_paths", "c_abi", "c_stream"]}

for env, ctx in envelopes:
    seeds["envelope_decrypt"] += [bytes([0x08]) + short(ctx) + env,
                                  bytes([0x07]) + short(ctx) + env]
for st, ctx in streams:
    for sizes in ([], [1000, 4113], [4112, 0, 1]):
        seeds["stream_decrypt"].append(short(ctx) + bytes([len(sizes)]) +
                                       b"".join(struct.pack("<H", s) for s in sizes) + b"\x01" + st)
seeds["keystore_parse"] += [keystore_doc, json.dumps(ks["keystore"], indent=2).encode()]
two = json.loads(json.dumps(ks["keystore"]))
two["keks"].append(dict(two["keks"][0], id=2))
two["active_kek"] = 2
seeds["keystore_parse"].append(json.dumps(two).encode())
for value, ctx in legacies + envelopes[:2]:
    for flags in (0x80, 0x81, 0x82, 0x84):
        seeds["legacy_migrate"].append(bytes([flags]) + short(ctx) + value)
for value, ctx in envelopes + legacies:
    for flags in (0, 2):
        seeds["text_paths"].append(bytes([flags]) + short(ctx) + base64.b64encode(value))

# c_abi: a sequence of operations (see fuzz/src/targets/c_abi.rs).
ops = b""
ops += bytes([1]) + long(ks_env) + short(ks_ctx) + bytes([1])           # decrypt, exact
ops += bytes([0]) + long(b"s3cret") + short(ks_ctx) + bytes([2])        # encrypt, one short
ops += bytes([2]) + long(legacies[0][0]) + short(ks_ctx) + bytes([3])   # migrate, larger
ops += bytes([3, 1, 0x40]) + long(legacies[0][0]) + short(ks_ctx) + bytes([60])  # migrate_ex
ops += bytes([4, 40, 5, 1, 9, 6, 3, 2])                                  # last_error, NULLs, overlap
seeds["c_abi"].append(ops)
seeds["c_abi"].append(bytes([1]) + long(envelopes[1][0]) + short(envelopes[1][1]) + bytes([0]))
seeds["c_abi"].append(bytes([2]) + long(ks_env) + short(ks_ctx) + bytes([4 | 0x80]))

# c_stream: decryptions of the vectors, and round trips of small plaintexts.
for st, ctx in streams:
    seeds["c_stream"].append(bytes([0]) + short(ctx) + bytes([2]) + struct.pack("<HH", 777, 4200) + st)
    seeds["c_stream"].append(bytes([0x20]) + short(ctx) + bytes([0]) + st)
for seg in range(12):
    seeds["c_stream"].append(bytes([1 | (seg << 1)]) + short(b"backup:x") + bytes([1]) +
                             struct.pack("<H", 5000) + bytes(range(256)) * 20)

out = sys.argv[1]
total = 0
for target, items in seeds.items():
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    for item in items:
        with open(os.path.join(d, hashlib.sha1(item).hexdigest()), "wb") as f:
            f.write(item)
        total += 1
print(f"seeds.py: {total} seeds in {out}")
