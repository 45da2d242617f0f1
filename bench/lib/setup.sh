# Sourced by the bench's shell scripts (bench/*.sh), from the repository root they cd to:
# the production build, the CLI, autocannon, and an ESP image to upload.
npm run -s build:server
CLI=build/server/cli/main.js
AC=node_modules/.bin/autocannon
# Any ESP application image will do: the first of the fixtures, or yours (IMAGE=...).
IMAGE=${IMAGE:-../shared/fixtures/firmware/$(ls ../shared/fixtures/firmware | grep '\.bin$' | head -1)}
