#!/usr/bin/env bash
# Concurrency stress of the Java binding (issue #8): THREADS JVM threads x OPS mixed operations on
# one shared LkrCrypt handle (every result checked; tampered and wrong-context values must fail),
# then close while busy. Exits non-zero on any error. Needs java/target/lkr-crypt.jar and the test
# classes: mvn -f java/pom.xml -B -DskipTests package test-compile
#
#   bash tests/stress.sh [THREADS] [OPS]     # default 8 x 1000000
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-8}
OPS=${2:-1000000}
JAR=java/target/lkr-crypt.jar
TEST_CLASSES=java/lkr-crypt/target/test-classes
[ -f "$JAR" ] && [ -d "$TEST_CLASSES" ] || { echo "build first: mvn -f java/pom.xml -B -DskipTests package test-compile" >&2; exit 2; }
export LKR_MASTER_KEY_ENV=${LKR_MASTER_KEY_ENV:-$(openssl rand -base64 32)}
unset LKR_MASTER_KEY_FILE LKR_AWS_CMK
TIME=()
if [ -x /usr/bin/time ]; then TIME=(/usr/bin/time -f "peak RSS %M KiB, %e s wall, %U s user"); fi
"${TIME[@]}" java --enable-native-access=ALL-UNNAMED -Xmx512m -cp "$JAR:$TEST_CLASSES" \
  io.lkr.crypt.Stress "$THREADS" "$OPS"
