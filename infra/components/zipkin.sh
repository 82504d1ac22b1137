# Zipkin server with in-memory storage: its Lens UI is the trace page an operator opens in a browser
# (Jaeger's Go module has no UI assets). Jaeger's collector forwards every span it receives here
# through the OpenTelemetry zipkin exporter (components/jaeger.sh). Sourced after lib.sh.
# ZIPKIN_PORT (9411) serves the UI at /zipkin/, the API at /api/v2 and the span intake.
ZIPKIN_VERSION=3.6.1
ZIPKIN_PORT="${ZIPKIN_PORT:-9411}"
ZIPKIN_JAR="$CACHE_DIR/zipkin-server-$ZIPKIN_VERSION-exec.jar"
# Spans live on the heap, and ours are large: every OpenTelemetry resource attribute (host,
# process, service instance) becomes a tag on every span. 256 MB with 100,000 spans ran out of heap
# during npm test (java.lang.OutOfMemoryError, twice), so the cap is 50,000 spans — thousands of
# issue requests — in 768 MB, and the oldest traces are dropped past it: a bench run cannot grow
# the JVM beyond its heap.
ZIPKIN_HEAP="${ZIPKIN_HEAP:-768m}"
ZIPKIN_MAX_SPANS="${ZIPKIN_MAX_SPANS:-50000}"

zipkin_install() {
  [ -f "$ZIPKIN_JAR" ] && return 0
  command -v mvn >/dev/null || die "zipkin: Maven is needed to fetch the Zipkin server jar"
  local log="$LOG_DIR/zipkin-install.log" dir sha1 repo="${MAVEN_REPO:-$HOME/.m2/repository}"
  say "fetching Zipkin server $ZIPKIN_VERSION (135 MB) from Maven Central; log: $log"
  progress_begin "fetching Zipkin server $ZIPKIN_VERSION"
  dir=$(mktemp -d "$CACHE_DIR/zipkin-$ZIPKIN_VERSION.XXXXXX")
  # -C makes Maven fail on a checksum mismatch instead of warning.
  if ! mvn -B -C -Dmaven.repo.local="$repo" dependency:copy -Dartifact="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" \
      -DoutputDirectory="$dir" >"$log" 2>&1; then
    rm -rf "$dir"
    die "zipkin: the server jar could not be fetched, see $log"
  fi
  # And the check itself, against the .sha1 file Maven fetched beside the jar into its repository.
  sha1=$(cat "$repo/io/zipkin/zipkin-server/$ZIPKIN_VERSION/zipkin-server-$ZIPKIN_VERSION-exec.jar.sha1" 2>/dev/null)
  if [ -z "$sha1" ] || ! echo "$sha1  $dir/zipkin-server-$ZIPKIN_VERSION-exec.jar" | sha1sum -c --quiet >>"$log" 2>&1; then
    rm -rf "$dir"
    die "zipkin: the jar does not match Maven Central's sha1 ${sha1:-(none found)}, see $log"
  fi
  progress_end
  mv "$dir/zipkin-server-$ZIPKIN_VERSION-exec.jar" "$ZIPKIN_JAR"
  rm -rf "$dir"
}

zipkin_up() { curl -sf --max-time 1 "http://127.0.0.1:$ZIPKIN_PORT/health" >/dev/null; }

zipkin_start() {
  if port_open "$ZIPKIN_PORT"; then say "zipkin already listening on $ZIPKIN_PORT"; return 0; fi
  zipkin_install
  local log="$LOG_DIR/zipkin.log"
  [ -f "$log" ] && mv "$log" "$log.1"
  # The armeria.ports list is replaced whole by these arguments: the default binds every address.
  # C1 only (TieredStopAtLevel=1): up in 7-9 s instead of 11-12 s and 307 MB RSS instead of 345 MB
  # (measured here, load 2-3); a UI's few queries and the span intake do not need C2's code.
  start_bg zipkin "$log" java -Xms"$ZIPKIN_HEAP" -Xmx"$ZIPKIN_HEAP" -XX:+ExitOnOutOfMemoryError \
    -XX:TieredStopAtLevel=1 -Djava.awt.headless=true -Dlog4j2.disable.jmx=true -jar "$ZIPKIN_JAR" \
    --armeria.ports[0].ip=127.0.0.1 --armeria.ports[0].port="$ZIPKIN_PORT" \
    --armeria.ports[0].protocols[0]=http --zipkin.storage.type=mem \
    --zipkin.storage.mem.max-spans="$ZIPKIN_MAX_SPANS"
  wait_until zipkin "$log" 120 zipkin_up
  say "zipkin: up, trace UI on http://127.0.0.1:$ZIPKIN_PORT/zipkin/"
}

zipkin_stop() { stop_pid zipkin; }

zipkin_status() {
  local v up=1
  v=$(curl -sf --max-time 1 "http://127.0.0.1:$ZIPKIN_PORT/info" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
  [ -n "$v" ] && up=0
  status_line zipkin "$ZIPKIN_PORT" "${v:-$ZIPKIN_VERSION}" $up
}
