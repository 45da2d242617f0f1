#!/bin/sh
# Seconds an upload takes alone, and while one address floods wrong-password logins
# (docs/security.md, "A login flood"). Run from the repository: sh bench/login-flood.sh
set -e
cd "$(dirname "$0")/.."
. bench/lib/setup.sh
DATA=$(mktemp -d)
KEY=$(node $CLI user add ci@example.com --data "$DATA" --json | node -pe 'JSON.parse(require("fs").readFileSync(0)).apiKey')
echo 'a real password' | node $CLI user add victim@example.com --password-stdin --data "$DATA" > /dev/null
node $CLI serve --port 0 --host 127.0.0.1 --data "$DATA" --no-request-log > "$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER; rm -rf "$DATA"' EXIT
until grep -q listening "$DATA/server.log"; do sleep 0.2; done
URL=$(grep -o 'http://[^ ]*' "$DATA/server.log" | head -1)
DEVICE=$(curl -s -X POST "$URL/v1/devices" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{}')
ID=$(echo "$DEVICE" | node -pe 'JSON.parse(require("fs").readFileSync(0))._id')
TOKEN=$(echo "$DEVICE" | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
N=0
uploads() {
  for i in 1 2 3 4 5; do
    N=$((N + 1))
    curl -s -o /dev/null -w "upload 1.0.$N: %{http_code} in %{time_total} s\n" "$URL/v1/ota/device" \
      -H "Authorization: Bearer $KEY" -F device="$ID" -F token="$TOKEN" -F version="1.0.$N" -F firmware=@"$IMAGE"
  done
}
echo "uploads alone:"
uploads
# Wrong passwords for a real email, then for unknown ones: scrypt runs for each until throttled.
$AC -c 32 -d 12 -m POST -H 'Content-Type=application/json' \
  -b '{"email":"victim@example.com","password":"guess"}' "$URL/v1/auth/login" > "$DATA/flood.txt" 2>&1 &
FLOOD=$!
sleep 2
echo "uploads during the login flood:"
uploads
wait $FLOOD
echo "the flood:"
grep -E 'Req/Sec|requests in|2xx' "$DATA/flood.txt"
