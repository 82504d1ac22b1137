#!/bin/bash
# Entrypoint of compose's Redis containers: the same ACL users as the native path, from the same
# functions (infra/components/redis.sh, mounted beside this script), written into a 0600 file rather
# than onto redis-server's command line, where every `ps` would show the passwords.
#   redis.sh data [MASTER_HOST]   a data node, the replica of MASTER_HOST when given
#   redis.sh sentinel MASTER_HOST a Sentinel watching MASTER_HOST
# The image's own entrypoint then hands /data to the redis user and drops to it.
set -euo pipefail
source /etc/coupon-rush/redis-users.sh
cd /data
umask 077
case $1 in
  data)
    {
      # Nobody gets in without a password (default off), so protected mode (which the image
      # already turns off) would only lock the other containers out.
      echo "protected-mode no"
      echo "appendonly yes"
      [ -n "${2:-}" ] && echo "replicaof $2 6379"
      redis_data_users
    } > redis.conf
    exec docker-entrypoint.sh redis-server /data/redis.conf
    ;;
  sentinel)
    # Sentinel rewrites its file (the redis user owns it after the image's entrypoint).
    cat > sentinel.conf <<CONF
port 26379
protected-mode no
sentinel resolve-hostnames yes
sentinel monitor $REDIS_MASTER_NAME $2 6379 2
sentinel down-after-milliseconds $REDIS_MASTER_NAME 2000
sentinel failover-timeout $REDIS_MASTER_NAME 10000
$(redis_sentinel_users)
CONF
    exec docker-entrypoint.sh redis-server /data/sentinel.conf --sentinel
    ;;
  *) echo "usage: redis.sh data [MASTER_HOST] | sentinel MASTER_HOST" >&2; exit 2 ;;
esac
