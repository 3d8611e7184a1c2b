#!/usr/bin/env bash
# Back up the broker's PostgreSQL database: a custom-format pg_dump, checked by listing it.
# Usage: backup.sh DATABASE_URL OUTPUT_FILE
# The dump holds no usable private key (they are wrapped under the key-encryption key, which is
# backed up separately, offline). It does hold personal data: store it encrypted.
set -euo pipefail
url="${1:?database URL}"; out="${2:?output file}"
pg_dump --format=custom --no-owner --no-privileges --file="$out" "$url"
pg_restore --list "$out" >/dev/null
echo "backed up to $out ($(wc -c <"$out") bytes)"
