# Apache Kafka, KRaft combined mode (broker + controller in one JVM), from Maven Central jars.
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$INFRA_DIR/kafka/pom.xml")
KAFKA_LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"

kafka_install() {
  [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] && return 0
  say "resolving Kafka $KAFKA_VERSION jars from Maven Central"
  mkdir -p "$KAFKA_LIBS"
  (cd "$INFRA_DIR/kafka" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$KAFKA_LIBS") >"$LOG_DIR/kafka-install.log" 2>&1 \
    || { rm -rf "$KAFKA_LIBS"; die "Kafka jars could not be resolved, see $LOG_DIR/kafka-install.log"; }
}

kafka_java() { java -Dlog4j.configuration="file:$INFRA_DIR/config/kafka-log4j.properties" -cp "$KAFKA_LIBS/*" "$@"; }

kafka_start() {
  if port_open 9092; then say "kafka already listening on 9092"; return 0; fi
  local dir="$DATA_DIR/kafka" log="$LOG_DIR/kafka.log"
  mkdir -p "$dir"
  [ -f "$log" ] && mv "$log" "$log.1"
  sed "s:@DATA_DIR@:$dir/logs:" "$INFRA_DIR/config/kafka-server.properties" > "$dir/server.properties"
  if [ ! -f "$dir/logs/meta.properties" ]; then
    kafka_java kafka.tools.StorageTool format --ignore-formatted -c "$dir/server.properties" \
      -t "$(kafka_java kafka.tools.StorageTool random-uuid)" >>"$log" 2>&1 \
      || die "kafka storage format failed, see $log"
  fi
  start_bg kafka "$log" java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$INFRA_DIR/config/kafka-log4j.properties" \
    -Dkafka.logs.dir="$LOG_DIR" -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties"
  wait_until kafka "$log" 120 kafka_ready
}

# The port opens before the broker has joined the quorum; "started" in the log is the real signal.
kafka_ready() { port_open 9092 && grep -q 'Kafka Server started' "$LOG_DIR/kafka.log"; }

kafka_stop() { stop_pid kafka; }

kafka_status() {
  port_open 9092; status_line kafka "9092,9093" "$KAFKA_VERSION (KRaft)" $?
}
