#!/bin/bash
# Entrypoint of compose's Kafka (apache/kafka image, one broker and controller): the native path's
# broker (infra/config/kafka-server.properties, mounted beside this script: SASL for everyone, SCRAM
# for clients and brokers, PLAIN for the controller quorum) on the compose network. The image's own
# start formats the storage without SCRAM users, and the users can only be written at format (they
# live in the metadata log), so this script formats it itself with admin and app, as
# infra/components/kafka.sh does, then starts the broker: the services speak SCRAM-SHA-512 on both paths.
#   kafka.sh HOST   HOST: the name the other containers reach the broker by
set -euo pipefail
: "${KAFKA_PASSWORD:?}" "${KAFKA_ADMIN_PASSWORD:?}"
for password in "$KAFKA_PASSWORD" "$KAFKA_ADMIN_PASSWORD"; do
  case $password in
    *[!A-Za-z0-9._~+=/-]*)
      echo "kafka: KAFKA_PASSWORD and KAFKA_ADMIN_PASSWORD may hold only letters, digits and ._~+=/- (they are written into JAAS and --add-scram text)" >&2
      exit 1
      ;;
  esac
done
host=$1 data=/var/lib/kafka/data config=/opt/kafka/config/server.properties
umask 077
# Listen on every interface of the container, advertise HOST; a single node: replication 1.
sed -e '/^listeners=/s|127\.0\.0\.1||g' -e "s|127\.0\.0\.1|$host|g" -e "s|@DATA_DIR@|$data/logs|" \
  -e 's|@NODE_ID@|1|' -e 's|@PORT@|9092|' -e 's|@CONTROLLER_PORT@|9093|' -e "s|@VOTERS@|1@$host:9093|" \
  -e 's|@REPLICATION@|1|' -e 's|@MIN_ISR@|1|' -e "s|@ADMIN_PASSWORD@|$KAFKA_ADMIN_PASSWORD|g" \
  /etc/coupon-rush/kafka-server.properties > "$config"
# The app user's login, for the healthcheck and an operator's tools (--command-config).
printf '%s\n' security.protocol=SASL_PLAINTEXT sasl.mechanism=SCRAM-SHA-512 \
  "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"app\" password=\"$KAFKA_PASSWORD\";" \
  > /opt/kafka/config/client.properties
# Storage formatted with other passwords (the container's volume outlives a change of .env) cannot
# be logged into: it is formatted again, loudly.
fingerprint=$(printf '%s\n%s\n' "$KAFKA_ADMIN_PASSWORD" "$KAFKA_PASSWORD" | sha256sum | cut -c1-16)
if [ -f "$data/logs/meta.properties" ] && [ "$(cat "$data/credentials" 2>/dev/null)" != "$fingerprint" ]; then
  echo "kafka: the storage was formatted with other credentials; formatting it again (its records are dropped)" >&2
  rm -rf "$data/logs"
fi
if [ ! -f "$data/logs/meta.properties" ]; then
  /opt/kafka/bin/kafka-storage.sh format -c "$config" -t "$(/opt/kafka/bin/kafka-storage.sh random-uuid)" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=app,password=$KAFKA_PASSWORD]"
  echo "$fingerprint" > "$data/credentials"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$config"
