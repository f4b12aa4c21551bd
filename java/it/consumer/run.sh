#!/usr/bin/env bash
# The published shape, tested (issue #16 item 4): builds and runs java/it/consumer, a project
# outside the reactor that depends on io.lkr:lkr-crypt from the local repository alone, and
# prints its dependency tree (the library alone). Run after `mvn -f java/pom.xml install`.
set -euo pipefail
cd "$(dirname "$0")"
MVN=(mvn -f pom.xml -B -ntp)
"${MVN[@]}" clean verify
"${MVN[@]}" dependency:tree
