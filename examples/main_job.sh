#!/usr/bin/env bash
# The main job on the embedded default: builds lkr-crypt.jar (with the native library inside),
# then, in a fresh working directory, performs the operator procedure of docs/native-interfaces.md — a new CMK, a
# sample internal database (embedded HyperSQL ./.db/lkr) holding legacy AES-128-CBC values,
# migrate_encryption to AES-256-GCM, the log line, a value read back, and status.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
mvn -f "$ROOT/java/pom.xml" -B -q -ntp -DskipTests package
JAR="$ROOT/java/target/lkr-crypt.jar"

WORK=$(mktemp -d /tmp/lkr-main-job.XXXXXX)
# The working directory holds a CMK file: nothing of it stays in /tmp once the job ends.
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
echo "== working directory $WORK"
set -x
java -jar "$JAR" generate_master_key --file cmk.key
export LKR_MASTER_KEY_FILE="$WORK/cmk.key"
{ set +x; } 2>/dev/null   # a key is not traced into the log
export LKR_LEGACY_KEY_ENV="$(openssl rand -base64 16)"
echo "+ export LKR_LEGACY_KEY_ENV=<a new random AES-128 key, base64>"
set -x
java -jar "$JAR" create_sample_db --rows 10000
java -jar "$JAR" migrate_encryption
grep GCM log/lkr-crypt.log
java -jar "$JAR" read_value CONNECTION.PASSWORD 42
java -jar "$JAR" status
