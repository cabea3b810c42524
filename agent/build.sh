#!/bin/sh
# Builds the guest agent as one static x86-64 binary: agent/build/banger-agent.
# Static so it runs in any guest whatever its libc; no third-party dependencies.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/build"
${CC:-cc} -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	-o "$here/build/banger-agent.tmp" "$here"/*.c
mv "$here/build/banger-agent.tmp" "$here/build/banger-agent"
