# Prometheus 2.42 from Debian; scrape targets come from Consul (config/prometheus.yml).
prometheus_install() { apt_install prometheus; }

prometheus_start() {
  if port_open 9090; then say "prometheus already listening on 9090"; return 0; fi
  local dir="$DATA_DIR/prometheus" log="$LOG_DIR/prometheus.log"
  mkdir -p "$dir"
  start_bg prometheus "$log" prometheus --config.file="$INFRA_DIR/config/prometheus.yml" \
    --storage.tsdb.path="$dir" --storage.tsdb.retention.time=2d \
    --web.listen-address=127.0.0.1:9090 --web.enable-lifecycle
  wait_until prometheus "$log" 60 curl -sf --max-time 1 http://127.0.0.1:9090/-/ready
}

prometheus_stop() { stop_pid prometheus; }

prometheus_status() {
  local v
  v=$(curl -sf --max-time 1 http://127.0.0.1:9090/api/v1/status/buildinfo | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
  local up=1; [ -n "$v" ] && up=0
  status_line prometheus 9090 "${v:-$(prometheus --version 2>&1 | awk 'NR==1{print $3}')}" $up
}
