#!/bin/sh
# Debian 12's whip-client (simple-whip-client 0.0~git20230309) aborts before it sends anything:
#   libsoup-ERROR: libsoup2 symbols detected. Using libsoup2 and libsoup3 in the same process is not supported.
# It links libsoup2, while libnice pulls libsoup3 in through libgupnp-igd (UPnP port mapping). This
# wrapper builds a no-op libgupnp-igd once (gupnp-igd-stub.c, with `cc`: apt install gcc) into
# ${XDG_CACHE_HOME:-~/.cache}/amphi/whip-client and runs whip-client with it first on the library
# path, so only that process skips UPnP; every argument goes to whip-client unchanged.
# libnice also ignores loopback addresses: publish to a stage on a non-loopback address
# (docs/networks.md). Checked by test/stage/whip-client.test.ts, which publishes through this script.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/amphi/whip-client"
lib="$cache/libgupnp-igd-1.0.so.4"
if [ ! -f "$lib" ] || [ "$here/gupnp-igd-stub.c" -nt "$lib" ]; then
  command -v cc > /dev/null || { echo "whip-client-debian12: needs a C compiler to build its libgupnp-igd stand-in (apt install gcc)" >&2; exit 1; }
  mkdir -p "$cache"
  cc -shared -fPIC -o "$lib.$$" "$here/gupnp-igd-stub.c"
  mv "$lib.$$" "$lib"
fi
LD_LIBRARY_PATH="$cache${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec whip-client "$@"
