#!/usr/bin/env bash
# Set-up for the browser drills: Debian's chromium (apt); the page's vendored JavaScript, built
# once from the npm registry into src/moncheck/service/static/vendor/ (git-ignored): the real
# web-vitals IIFE build and the parts of @sentry/browser the page uses, bundled by esbuild; and
# Lighthouse CI with Lighthouse in .moncheck/node/ (git-ignored) for the local budget check.
# Nothing is fetched at run time, and no tool downloads a browser of its own (Lighthouse uses
# CHROME_PATH=/usr/bin/chromium). A second run installs and builds nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
vendor="$here/src/moncheck/service/static/vendor"
WEB_VITALS=5.3.0
SENTRY_BROWSER=9.47.2
ESBUILD=0.28.2
LHCI=0.14.0          # newer @lhci/cli and lighthouse 13 need a newer Node than Debian's
LIGHTHOUSE=12.2.3
node_dir="$here/.moncheck/node"

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
if [ -n "${MONCHECK_CHROMIUM:-}" ] && [ -x "$MONCHECK_CHROMIUM" ]; then
  :  # a browser already on the machine (see tests/load/telemetry_stack.py)
elif ! command -v chromium >/dev/null; then
  if command -v apt-get >/dev/null; then
    echo "moncheck setup: installing chromium with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "moncheck setup: chromium is missing and apt-get is not available; the browser drill will fail" >&2
  fi
fi

if command -v npm >/dev/null && [ "$(cat "$node_dir/.versions" 2>/dev/null)" != "@lhci/cli@$LHCI lighthouse@$LIGHTHOUSE" ]; then
  echo "moncheck setup: installing @lhci/cli@$LHCI and lighthouse@$LIGHTHOUSE into .moncheck/node"
  mkdir -p "$node_dir"
  (cd "$node_dir" && { [ -f package.json ] || npm init -y >/dev/null; } &&
   npm install --no-audit --no-fund --silent -E "@lhci/cli@$LHCI" "lighthouse@$LIGHTHOUSE" >/dev/null)
  echo "@lhci/cli@$LHCI lighthouse@$LIGHTHOUSE" > "$node_dir/.versions"
fi

stamp="$vendor/.versions"
want="web-vitals@$WEB_VITALS @sentry/browser@$SENTRY_BROWSER esbuild@$ESBUILD (init, globalHandlers, dedupe)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$vendor/web-vitals.iife.js" ] && [ -f "$vendor/sentry.iife.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "moncheck setup: npm is missing: cannot vendor web-vitals and @sentry/browser (the browser drill will fail)" >&2
  exit 2
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/moncheck-vendor-XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "moncheck setup: building the browser page's vendor files ($want)"
(
  cd "$work"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --silent -E "web-vitals@$WEB_VITALS" "@sentry/browser@$SENTRY_BROWSER" "esbuild@$ESBUILD" >/dev/null
  # Only what static/app.js uses: the full SDK would break the page's script budget (lighthouserc).
  echo "export { init, globalHandlersIntegration, dedupeIntegration } from '@sentry/browser';" > sentry-entry.js
  ./node_modules/.bin/esbuild sentry-entry.js --bundle --minify --format=iife --global-name=Sentry \
    --target=es2020 --log-level=warning --outfile=sentry.iife.js
)
mkdir -p "$vendor"
cp "$work/node_modules/web-vitals/dist/web-vitals.iife.js" "$vendor/web-vitals.iife.js.tmp"
cp "$work/sentry.iife.js" "$vendor/sentry.iife.js.tmp"
mv "$vendor/web-vitals.iife.js.tmp" "$vendor/web-vitals.iife.js"
mv "$vendor/sentry.iife.js.tmp" "$vendor/sentry.iife.js"
echo "$want" > "$stamp"
