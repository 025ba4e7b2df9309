#!/usr/bin/env bash
# npm ci, exactly as package-lock.json pins it, retried twice: the first install on a fresh machine downloads
# ~60 MB from the registry (the pinned Node among it), and one dropped or refused connection on the way should
# cost a retry, not the whole run. A lock that cannot be installed still fails after the third attempt.
set -uo pipefail
for attempt in 1 2 3; do
  npm ci --no-audit --no-fund --loglevel=error && exit 0
  ((attempt < 3)) && { echo "npm-ci: attempt $attempt failed; retrying in $((attempt * 5)) s" >&2; sleep $((attempt * 5)); }
done
echo "npm-ci: npm ci failed 3 times; see the errors above" >&2
exit 1
