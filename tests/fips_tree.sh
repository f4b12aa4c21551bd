#!/usr/bin/env bash
# The FIPS build (docs/fips.md) compiles no cryptography but AWS-LC's FIPS module: checks the
# normal dependencies of `--no-default-features --features fips` with cargo tree. ring,
# RustCrypto (aes, aes-gcm, cbc, hkdf, hmac, sha2, ...), rand and the plain aws-lc-sys must be
# absent; aws-lc-fips-sys present.
#
#   bash tests/fips_tree.sh              # the local-CMK FIPS build
#   bash tests/fips_tree.sh fips,aws-kms # another feature set (see docs/fips.md for what it adds)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
features=${1:-fips}
tree=$(cargo tree --locked --no-default-features --features "$features" -e normal --prefix none |
  sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u)
forbidden='^(ring|aes|aes-gcm|aes-gcm-siv|cbc|ctr|ghash|polyval|hkdf|hmac|sha1|sha2|sha3|digest|chacha20|chacha20poly1305|rand|rand_core|rand_chacha|getrandom|aws-lc-sys|openssl|openssl-sys) v'
if found=$(grep -E "$forbidden" <<<"$tree"); then
  echo "FIPS build ($features) compiles cryptography outside AWS-LC's FIPS module:" >&2
  echo "$found" >&2
  exit 1
fi
grep -q '^aws-lc-fips-sys v' <<<"$tree" || { echo "FIPS build ($features): aws-lc-fips-sys is missing" >&2; exit 1; }
echo "FIPS build ($features): $(wc -l <<<"$tree") crates, none of them cryptography but aws-lc-fips-sys"
