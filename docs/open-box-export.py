#!/usr/bin/env python3
"""Opens a Cairn box export (format 1) without Cairn, as docs/BOX-EXPORT.md describes.

    python3 open-box-export.py FILE > box-state.json     (asks the passphrase; piped: reads one line)

Needs Python 3.6+ (hashlib.scrypt) and the `cryptography` package (Debian: python3-cryptography).
"""
import base64
import getpass
import hashlib
import json
import sys
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

with open(sys.argv[1], "rb") as file:
    lines = file.read().split(b"\n")
header_line = lines[0]  # authenticated byte for byte as the GCM additional data
header = json.loads(header_line)
if header.get("format") != "cairn-box-export" or header.get("version") != 1:
    sys.exit("not a Cairn box export of format 1")
kdf, cipher = header["kdf"], header["cipher"]
passphrase = getpass.getpass("Passphrase: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
key = hashlib.scrypt(
    unicodedata.normalize("NFC", passphrase).encode("utf-8"),
    salt=base64.b64decode(kdf["salt"]),
    n=kdf["n"], r=kdf["r"], p=kdf["p"],
    maxmem=2 * 128 * kdf["n"] * kdf["r"] * kdf["p"] + 2**20,
    dklen=kdf["key_length"],
)
# Line 2 is the ciphertext with the 16-byte tag at its end: the layout AESGCM.decrypt takes.
try:
    plaintext = AESGCM(key).decrypt(base64.b64decode(cipher["iv"]), base64.b64decode(lines[1]), header_line)
except InvalidTag:
    sys.exit("wrong passphrase, or the file was altered")
sys.stdout.write(plaintext.decode("utf-8"))
