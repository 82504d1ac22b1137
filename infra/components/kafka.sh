# Apache Kafka as a KRaft cluster of KAFKA_NODES processes on 127.0.0.1 (each one broker and
# controller, all voters), from Maven Central jars. Node i listens on KAFKA_PORT + 2(i-1), its
# controller on the port after. Three nodes by default: topics are replicated three times and an
# acknowledged record survives the loss of any one broker (min.insync.replicas=2).
# KAFKA_NODES=1 runs a single broker, which survives no broker loss at all (see README).
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$INFRA_DIR/kafka/pom.xml")
KAFKA_LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
KAFKA_NODES="${KAFKA_NODES:-3}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
# Three JVMs share two cores and the rest of the platform: small heaps, G1 with short pauses.
KAFKA_HEAP="${KAFKA_HEAP:-384m}"

kafka_install() {
  [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] && return 0
  say "resolving Kafka $KAFKA_VERSION jars from Maven Central; log: $LOG_DIR/kafka-install.log"
  progress_begin "resolving Kafka $KAFKA_VERSION jars"
  mkdir -p "$KAFKA_LIBS"
  (cd "$INFRA_DIR/kafka" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$KAFKA_LIBS") >"$LOG_DIR/kafka-install.log" 2>&1 \
    || { rm -rf "$KAFKA_LIBS"; die "Kafka jars could not be resolved, see $LOG_DIR/kafka-install.log"; }
  progress_end
}

kafka_java() { java -Dlog4j.configuration="file:$INFRA_DIR/config/kafka-log4j.properties" -cp "$KAFKA_LIBS/*" "$@"; }

kafka_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }

kafka_voters() {
  local i voters=()
  for ((i = 1; i <= KAFKA_NODES; i++)); do voters+=("$i@127.0.0.1:$(($(kafka_port $i) + 1))"); done
  (IFS=,; echo "${voters[*]}")
}

# One cluster id for every node of this run directory, kept so restarts rejoin the same cluster.
kafka_cluster_id() {
  local file="$DATA_DIR/kafka-cluster-id"
  [ -s "$file" ] || kafka_java kafka.tools.StorageTool random-uuid > "$file"
  cat "$file"
}

# The SCRAM users are written into the metadata log when a node's storage is formatted: admin (the
# brokers among themselves, operators) and app (the services, tests and tools). A fingerprint of
# their passwords is kept beside the data; storage formatted with other credentials (or none, by a
# version before them) cannot be logged into, so it is formatted again (the log's records are lost:
# say so, and only when no node runs).
kafka_credentials_fingerprint() { printf '%s\n%s\n' "$KAFKA_ADMIN_PASSWORD" "$KAFKA_PASSWORD" | sha256sum | cut -c1-16; }

kafka_reformat_if_credentials_changed() {
  local i dir stale=0 fingerprint
  # A running cluster is used as it is (another checkout's, whose secrets load_secrets took).
  for ((i = 1; i <= KAFKA_NODES; i++)); do port_open "$(kafka_port "$i")" && return 0; done
  fingerprint=$(kafka_credentials_fingerprint)
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    dir="$DATA_DIR/kafka-$i"
    [ -f "$dir/logs/meta.properties" ] || continue
    [ "$(cat "$dir/credentials" 2>/dev/null)" = "$fingerprint" ] || stale=1
  done
  [ $stale = 1 ] || return 0
  say "kafka: the storage was formatted with other credentials (or none); formatting it again (its records are dropped)"
  for ((i = 1; i <= KAFKA_NODES; i++)); do rm -rf "$DATA_DIR/kafka-$i"; done
  rm -f "$DATA_DIR/kafka-cluster-id"
}

kafka_node_start() {
  local i=$1 port dir log replication=$((KAFKA_NODES < 3 ? KAFKA_NODES : 3)) min_isr=$((KAFKA_NODES < 3 ? 1 : 2))
  port=$(kafka_port "$i") dir="$DATA_DIR/kafka-$i" log="$LOG_DIR/kafka-$i.log"
  if port_open "$port"; then say "kafka node $i already listening on $port"; return 0; fi
  mkdir -p "$dir"
  [ -f "$log" ] && mv "$log" "$log.1"
  sed -e "s|@DATA_DIR@|$dir/logs|" -e "s|@NODE_ID@|$i|" -e "s|@PORT@|$port|" \
      -e "s|@CONTROLLER_PORT@|$((port + 1))|" -e "s|@VOTERS@|$(kafka_voters)|" \
      -e "s|@REPLICATION@|$replication|" -e "s|@MIN_ISR@|$min_isr|" -e "s|@ADMIN_PASSWORD@|$KAFKA_ADMIN_PASSWORD|g" \
      "$INFRA_DIR/config/kafka-server.properties" > "$dir/server.properties"
  chmod 600 "$dir/server.properties"
  if [ ! -f "$dir/logs/meta.properties" ]; then
    kafka_java kafka.tools.StorageTool format --ignore-formatted -c "$dir/server.properties" -t "$(kafka_cluster_id)" \
      --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]" \
      --add-scram "SCRAM-SHA-512=[name=app,password=$KAFKA_PASSWORD]" \
      >>"$log" 2>&1 || die "kafka node $i storage format failed, see $log"
    kafka_credentials_fingerprint > "$dir/credentials"
  fi
  start_bg "kafka-$i" "$log" java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$INFRA_DIR/config/kafka-log4j.properties" \
    -Dkafka.logs.dir="$LOG_DIR" -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties"
}

kafka_start() {
  local i
  : "${KAFKA_PASSWORD:?}" "${KAFKA_ADMIN_PASSWORD:?}"
  kafka_reformat_if_credentials_changed
  # All nodes start before any is awaited: a node joins only once a quorum of voters is up.
  for ((i = 1; i <= KAFKA_NODES; i++)); do kafka_node_start "$i"; done
  for ((i = 1; i <= KAFKA_NODES; i++)); do wait_until "kafka node $i" "$LOG_DIR/kafka-$i.log" 120 kafka_node_ready "$i"; done
}

# The port opens before the broker has joined the quorum; "started" in the log is the real signal
# (a node that was already running when this script started has no fresh log: its port is enough).
kafka_node_ready() {
  port_open "$(kafka_port "$1")" || return 1
  [ -f "$PID_DIR/kafka-$1.pid" ] || return 0
  grep -q 'Kafka Server started' "$LOG_DIR/kafka-$1.log"
}

kafka_stop() {
  local i
  for ((i = KAFKA_NODES; i >= 1; i--)); do stop_pid "kafka-$i"; done
}

kafka_status() {
  local i port up
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    port=$(kafka_port "$i")
    port_open "$port"; up=$?
    status_line "kafka-$i" "$port,$((port + 1))" "$KAFKA_VERSION (KRaft, node $i of $KAFKA_NODES)" $up
  done
}
