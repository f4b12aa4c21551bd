#!/usr/bin/env bash
# An arm64 JVM loading lkr-crypt through the jar (docs/platforms.md#linux-aarch64): Debian's
# openjdk-17-jre-headless:arm64 under qemu-user runs io.lkr.crypt.SmokeProbe with only the
# operator jar (java/target/lkr-crypt.jar, built with -Paarch64) and the probe class on the class
# path: the loader picks /native/linux-aarch64/ by os.arch, then a record is encrypted, decrypted,
# and refused once changed. Run after java/ci.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA=/usr/lib/jvm/java-17-openjdk-arm64/bin/java
JAR=java/target/lkr-crypt.jar
[ -x "$JAVA" ] || { echo "$JAVA is missing: bash .ci/setup (openjdk-17-jre-headless:arm64)"; exit 1; }
[ -f "$JAR" ] || { echo "$JAR is missing: build it first (java/ci.sh)"; exit 1; }
start=$SECONDS
# No -L: the JVM runs on Debian's arm64 libraries at their multiarch paths (see tests/aarch64.sh).
out=$(qemu-aarch64-static "$JAVA" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  --enable-native-access=ALL-UNNAMED -cp "$JAR:java/lkr-crypt/target/test-classes" io.lkr.crypt.SmokeProbe)
echo "$out"
[ "$out" = "SMOKE OK linux-aarch64 loaded=bundled" ] || { echo "the arm64 JVM smoke test failed"; exit 1; }
echo "-- arm64 JVM (qemu-user) through the jar: $((SECONDS - start)) s"
