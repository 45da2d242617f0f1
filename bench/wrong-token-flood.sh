#!/bin/sh
# Polls/s of a real device's `latest`, alone and while another address floods wrong-token
# downloads, without the device failure limit (--device-failure-limit 0) and with it (the
# default), in one run (docs/security.md, "Floods of wrong tokens").
# Run from the repository: sh bench/wrong-token-flood.sh
set -e
cd "$(dirname "$0")/.."
. bench/lib/setup.sh
# --trust-proxy lets one machine stand for two addresses: the device's and the attacker's.
DEVICE_ADDRESS=198.51.100.1
ATTACKER_ADDRESS=203.0.113.9
SERVER=
DATA=
trap 'test -n "$SERVER" && kill $SERVER; test -n "$DATA" && rm -rf "$DATA"' EXIT

run() {
  LIMIT=$1
  DATA=$(mktemp -d)
  KEY=$(node $CLI user add flood@example.com --data "$DATA" --json | node -pe 'JSON.parse(require("fs").readFileSync(0)).apiKey')
  node $CLI serve --port 0 --host 127.0.0.1 --data "$DATA" --no-request-log --trust-proxy \
    --device-failure-limit "$LIMIT" > "$DATA/server.log" 2>&1 &
  SERVER=$!
  until grep -q listening "$DATA/server.log"; do sleep 0.2; done
  URL=$(grep -o 'http://[^ ]*' "$DATA/server.log" | head -1)
  DEVICE=$(curl -s -X POST "$URL/v1/devices" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{}')
  ID=$(echo "$DEVICE" | node -pe 'JSON.parse(require("fs").readFileSync(0))._id')
  TOKEN=$(echo "$DEVICE" | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
  curl -sf -o /dev/null "$URL/v1/ota/device" -H "Authorization: Bearer $KEY" \
    -F device="$ID" -F token="$TOKEN" -F version=1.0.0 -F firmware=@"$IMAGE"
  echo "== --device-failure-limit $LIMIT"
  echo "device polls alone:"
  $AC -c 4 -d 10 -H "X-Forwarded-For=$DEVICE_ADDRESS" "$URL/v1/ota/device/latest/$ID" 2>&1 | grep -E 'Req/Sec|requests in|2xx'
  $AC -c 32 -d 14 -H "X-Forwarded-For=$ATTACKER_ADDRESS" "$URL/v1/ota/device/download/${ID}WRONGTOKEN12345" > "$DATA/flood.txt" 2>&1 &
  FLOOD=$!
  sleep 2
  echo "device polls during the flood:"
  $AC -c 4 -d 10 -H "X-Forwarded-For=$DEVICE_ADDRESS" "$URL/v1/ota/device/latest/$ID" 2>&1 | grep -E 'Req/Sec|requests in|2xx'
  wait $FLOOD
  echo "the flood:"
  grep -E 'Req/Sec|requests in|2xx' "$DATA/flood.txt"
  kill $SERVER
  wait $SERVER || true
  SERVER=
  rm -rf "$DATA"
  DATA=
}

run 0
run 100
