# MariaDB 10.11 from Debian, run as our own mariadbd with its data under .run/ (not the system one).
MARIADB_SOCKET="$RUN_DIR/mariadb.sock"
# Another port (with another COUPON_RUSH_RUN) runs a second server, e.g. the fault suite's own.
MARIADB_PORT="${MARIADB_PORT:-3306}"
DB_USER="${DB_USER:-coupon}"
DB_PASSWORD="${DB_PASSWORD:-coupon}"

mariadb_install() { apt_install mariadb-server mariadb-client; }

mariadb_sql() { mariadb --protocol=socket --socket="$MARIADB_SOCKET" -uroot "$@"; }

mariadb_start() {
  if port_open "$MARIADB_PORT"; then say "mariadb already listening on $MARIADB_PORT"; return 0; fi
  local dir="$DATA_DIR/mariadb" log="$LOG_DIR/mariadb.log"
  if [ ! -d "$dir/mysql" ]; then
    mkdir -p "$dir"
    mariadb-install-db --no-defaults --datadir="$dir" --user=root --auth-root-authentication-method=socket \
      >>"$log" 2>&1 || die "mariadb-install-db failed, see $log"
  fi
  # Durable on commit: the redo log is flushed to disk at every commit (a committed row survives a
  # crash), and so would the binary log be if it were turned on (it is off: no replica reads it).
  start_bg mariadb "$log" mariadbd --no-defaults --user=root --datadir="$dir" \
    --bind-address=127.0.0.1 --port="$MARIADB_PORT" --socket="$MARIADB_SOCKET" --pid-file="$dir/mariadbd.pid" \
    --log-error="$log" --max-connections=1000 --innodb-buffer-pool-size=512M \
    --innodb-log-file-size=256M --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
    --skip-name-resolve --innodb-flush-log-at-trx-commit=1 --sync-binlog=1
  wait_until mariadb "$log" 60 mariadb_sql -e 'SELECT 1'
  # One TCP account for the project; it may create any database named coupon_rush* (tests make
  # their own throwaway databases).
  mariadb_sql <<SQL || die "mariadb provisioning failed"
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`coupon\\_rush%\`.* TO '$DB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`coupon\\_rush%\`.* TO '$DB_USER'@'localhost';
CREATE DATABASE IF NOT EXISTS coupon_rush;
FLUSH PRIVILEGES;
SQL
}

mariadb_stop() { stop_pid mariadb; }

mariadb_status() {
  local v
  v=$(mariadb -h127.0.0.1 -P"$MARIADB_PORT" -u"$DB_USER" -p"$DB_PASSWORD" -N -e 'SELECT VERSION()' 2>/dev/null)
  local up=1; [ -n "$v" ] && up=0
  status_line mariadb "$MARIADB_PORT" "${v:-$(mariadbd --version 2>/dev/null | awk '{print $3}')}" $up
}
