#!/usr/bin/env bash
# Restore a backup into an EMPTY database, then check it: migrations at head, audit chain intact.
# Usage: restore.sh BACKUP_FILE DATABASE_URL   (with the broker's environment for `broker` commands)
set -euo pipefail
dump="${1:?backup file}"; url="${2:?database URL}"
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$url" "$dump"
BROKER_DATABASE_URL="$url" broker migrate
BROKER_DATABASE_URL="$url" broker audit verify
echo "restored into $url and verified"
