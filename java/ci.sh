#!/usr/bin/env bash
# The Java part of CI: called by .ci/run after the cargo suites. Builds the native library
# (cargo, through the pom), runs the JUnit suite on Java 17 and, when the machine has it, on
# the Temurin 25 JDK, leaves java/target/lkr-crypt.jar (with the linux-x86_64 and linux-aarch64
# libraries), installs io.lkr:lkr-crypt{,-jdbc,-cli} into the local repository and runs the
# consumer check (java/it/consumer) against it. No -q: Surefire's and Failsafe's summary lines
# ("Tests run: N, Failures: 0 ...") are what CI reads.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v mvn >/dev/null || ! command -v javac >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends maven openjdk-17-jdk-headless
fi
# -Paarch64: the jars bundle the linux-aarch64 library too (.ci/setup installs the cross
# toolchain; tests/aarch64.sh has built it by then, so cargo only checks it is fresh).
MVN=(mvn -f java/pom.xml -B -ntp -Paarch64)
# verify (tests, lkr-crypt.jar, jar checks), then the three artifacts into the local repository.
"${MVN[@]}" clean install
JDK25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
if [ -x "$JDK25" ]; then
  # The library is already built; run the tests again on Java 25.
  "${MVN[@]}" -Pjdk25 -Dcargo.skip=true verify
else
  echo "ci.sh: $JDK25 not found; Java 25 run skipped" >&2
fi
# The published shape: a project outside the reactor on io.lkr:lkr-crypt alone (its dependency
# tree is printed: the library and nothing else).
bash java/it/consumer/run.sh
