#!/usr/bin/env bash
# npm run jmeter [-- --plan rush|steady|queue --users N --quantity N --threads N --rampup S --duration S --rate R --admit-per-second N --patience S]
# Resolves JMeter from Maven Central (once, into the download cache), starts the platform if it is
# not running (as npm start does), then runs a plan of jmeter/ in non-GUI mode and checks the counts.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The options are read from the sources as they are (jmeter/src/options.ts, parseArgs) before
# anything is resolved or started: --help answers at once, a bad option fails at once.
usage=$(node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON jmeter/src/options.ts "$@")
[ -z "$usage" ] || { printf '%s\n' "$usage"; exit 0; }

JMETER_VERSION=$(sed -n 's:.*<jmeter.version>\(.*\)</jmeter.version>.*:\1:p' "$ROOT_DIR/jmeter/pom.xml")
export JMETER_HOME="$CACHE_DIR/jmeter-$JMETER_VERSION"

# Lays the Maven jars out as a JMeter home: NewDriver takes the home from bin/ApacheJMeter.jar,
# puts lib/ and lib/ext/ on the classpath, and functions and elements are searched in lib/ext/.
jmeter_install() {
  [ -f "$JMETER_HOME/bin/ApacheJMeter.jar" ] && return 0
  apt_install unzip
  say "resolving JMeter $JMETER_VERSION jars from Maven Central"
  local staging="$JMETER_HOME.partial"
  rm -rf "$staging"
  mkdir -p "$staging/bin" "$staging/lib/ext" "$staging/lib/junit"
  (cd "$ROOT_DIR/jmeter" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$staging/lib") >"$LOG_DIR/jmeter-install.log" 2>&1 \
    || { rm -rf "$staging"; die "JMeter jars could not be resolved, see $LOG_DIR/jmeter-install.log"; }
  mv "$staging/lib/ApacheJMeter-$JMETER_VERSION.jar" "$staging/bin/ApacheJMeter.jar"
  mv "$staging"/lib/ApacheJMeter_*.jar "$staging/lib/ext/"
  unzip -q -o "$staging/lib/ext/ApacheJMeter_config-$JMETER_VERSION.jar" 'bin/*' -d "$staging"
  mv "$staging" "$JMETER_HOME"
}

jmeter_install
bash "$ROOT_DIR/scripts/start.sh" >/dev/null
platform_secrets
node jmeter/dist/src/main.js "$@"
