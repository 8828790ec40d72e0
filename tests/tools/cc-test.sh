#!/bin/sh
# Build and run one cmocka test against just the sources it names, with the
# project's warnings and ASan+UBSan. For working on a module while other
# modules are mid-edit:  sh tests/tools/cc-test.sh tests/unit/test_csv.c parsers/frame/csv.c parsers/util/*.c
set -e
test_src=$1; shift
out=build/cc-test/$(basename "$test_src" .c)
mkdir -p build/cc-test
cc -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
   -Wmissing-prototypes -Wformat=2 -Wimplicit-fallthrough -Wundef -Wpointer-arith -Wno-format-nonliteral \
   -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
   $(pkg-config --cflags libarchive libpcre2-8 libcjson zlib libisal) -I. -Itests/unit \
   -o "$out" "$test_src" "$@" $(pkg-config --libs libarchive libpcre2-8 libcjson zlib libisal cmocka) -lm -lpthread
AH_CORPUS=${AH_CORPUS:-../shared/corpus} "$out"
