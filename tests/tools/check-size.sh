#!/bin/sh
# A source file over 800 lines says why it is one file: a "Size:" paragraph
# in its header comment (issue 12: files a newcomer can take in).
# Prints PASS/FAIL; exit 1 when one does not.
bad=0
for f in $(find parsers analyzer -name '*.[ch]' | sort); do
    n=$(wc -l < "$f")
    [ "$n" -gt 800 ] || continue
    if ! sed -n '1,/\*\//p' "$f" | grep -q '^ \* Size: '; then
        echo "  FAIL    $f: $n lines and no 'Size:' note in its header saying why it is one file"
        bad=1
    fi
done
[ $bad -eq 0 ] && echo "  PASS    every source file over 800 lines says why"
exit $bad
