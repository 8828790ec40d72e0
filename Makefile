# audithound build. Plain make; sources are found by wildcard, so adding a
# module or a test needs no edit here.
#
#   make            build build/audithound
#   make check      install missing deps, build, run every test (plain and ASan+UBSan)
#   make demo       install missing deps, build, run a hunt over samples/
#   make bench      throughput and peak memory on large synthetic inputs
#   make bench-scale  peak memory of dump and hunt at 10 million records (not in check)
#   make scale-check  shards under a private single-node Slurm, merged = one run (root; not in check)
#   make clang-check build the binary and the unit tests with clang at -Werror
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS (tests/fuzz/)
#   make format     rewrite the C sources in the house style (.clang-format)
#   make format-check  list the C sources that differ from the house style
#   make install PREFIX=/usr/local

PREFIX   ?= /usr/local
CC       ?= cc
PKGS     := libarchive libpcre2-8 libcjson zlib libisal yaml-0.1 xlsxwriter
DEB_PKGS := libarchive-dev libpcre2-dev libcjson-dev zlib1g-dev libisal-dev libyaml-dev libcmocka-dev pkg-config python3 gzip zip p7zip-full \
            clang libclang-rt-14-dev time clang-format chromium libxlsxwriter-dev libreoffice-calc-nogui parallel

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -larchive -lpcre2-8 -lcjson -lz -lisal -lyaml -lxlsxwriter)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

CSTD  := -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64
WARN  := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
         -Wformat=2 -Wformat-security -Wimplicit-fallthrough -Wundef -Wpointer-arith \
         -Wno-format-nonliteral
OPT   ?= -O2 -g
SAN   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(PKG_CFLAGS) -I. -MMD -MP $(EXTRA_CFLAGS)

BUILD ?= build
# Builds inside `make check` compile on every core (the tests themselves run
# one phase at a time, so their output stays readable).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
LIB_SRC  := $(sort $(shell find parsers analyzer -name '*.c' -not -path 'analyzer/cli/*'))
CLI_SRC  := $(sort $(wildcard analyzer/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_SUPPORT := $(sort $(wildcard tests/unit/support/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
SUP_OBJ  := $(TEST_SUPPORT:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: clang-check fuzz fuzz-check fuzz-build format format-check FORCE
.PHONY: scale-check build-tests
.PHONY: all deps check test unit e2e rules-check corpus-check docs-check corrupt-check hostile-check oom-check layers-check san-check tsan-check demo bench bench-scale install clean man catalogue

all: $(BUILD)/audithound

$(BUILD)/obj/%.o: %.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libaudithound.a: $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/audithound: $(CLI_OBJ) $(BUILD)/libaudithound.a
	@echo "  LD      $@"
	$(Q)$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libaudithound.a $(PKG_LIBS) -lm -lpthread

$(BUILD)/tests/%: tests/unit/%.c $(SUP_OBJ) $(BUILD)/libaudithound.a $(BUILD)/flags
	@mkdir -p $(dir $@)
	@echo "  TEST-CC $<"
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(SUP_OBJ) $(BUILD)/libaudithound.a $(PKG_LIBS) $(CMOCKA_LIBS) -lm -lpthread

# The git revision baked into the binary (`audithound --version`, the hunt
# summary); "unknown" outside a git checkout. The stamp file changes only when
# the revision does, so a new commit rebuilds one object.
REVISION := $(shell [ -e .git ] && git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
$(BUILD)/revision: FORCE
	@mkdir -p $(dir $@)
	@echo '$(REVISION)' | cmp -s - $@ 2>/dev/null || echo '$(REVISION)' > $@
$(BUILD)/obj/analyzer/cli/version.o: $(BUILD)/revision
$(BUILD)/obj/analyzer/cli/version.o: CFLAGS_ALL += -DAH_BUILD_REVISION='"$(REVISION)"'
FORCE:

# The compiler and its flags, stamped like the revision: a build with other
# flags (OPT=, EXTRA_CFLAGS=, CC=) rebuilds everything in that build dir. A
# simple variable, so version.o's target-specific flags stay out of it.
FLAGS_STAMP := $(CC) $(CSTD) $(WARN) $(OPT) $(PKG_CFLAGS) $(EXTRA_CFLAGS) -- $(PKG_LIBS)
$(BUILD)/flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(FLAGS_STAMP)' | cmp -s - $@ 2>/dev/null || echo '$(FLAGS_STAMP)' > $@

# Header dependencies (-MMD) of the objects, the unit tests and the fuzz targets.
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null) $(wildcard $(BUILD)/tests/*.d $(BUILD)/fuzz/*.d)

# --- set-up ---------------------------------------------------------------
deps:
	@sh tests/tools/deps.sh $(DEB_PKGS)

# --- tests ----------------------------------------------------------------
unit: $(TEST_BIN)
	@sh tests/tools/run-unit.sh $(TEST_BIN)

# Two cases at a time (the CI machine has 2 cores; AH_E2E_JOBS=1 for one).
e2e: $(BUILD)/audithound
	@sh tests/tools/check-samples.sh
	@AH_E2E_JOBS=$${AH_E2E_JOBS:-2} sh tests/e2e/run.sh $(BUILD)/audithound

rules-check: $(BUILD)/audithound
	@sh tests/tools/rules-check.sh $(BUILD)/audithound

corpus-check: $(BUILD)/audithound
	@sh tests/corpus/run.sh $(BUILD)/audithound

docs-check: $(BUILD)/audithound
	@python3 tests/tools/gen-man.py --check $(BUILD)/audithound
	@sh tests/tools/check-catalogue.sh $(BUILD)/audithound
	@python3 tests/tools/check-doc-options.py $(BUILD)/audithound
	@python3 tests/tools/check-ecs.py $(BUILD)/audithound
	@python3 tests/tools/check-timesketch.py $(BUILD)/audithound
	@python3 tests/tools/check-readme.py $(BUILD)/audithound

man: $(BUILD)/audithound
	python3 tests/tools/gen-man.py $(BUILD)/audithound > docs/audithound.1

catalogue: $(BUILD)/audithound
	python3 tests/tools/gen-catalogue.py $(BUILD)/audithound rules > docs/rules-catalogue.md

corrupt-check: $(BUILD)/audithound
	@python3 tests/tools/corrupt-smoke.py $(BUILD)/audithound 150

# The hostile-input corpus (tests/hostile/); its memory bound only in the plain build.
hostile-check: $(BUILD)/audithound
	@python3 tests/hostile/run.py $(BUILD)/audithound $(if $(filter build,$(BUILD)),,--no-memory)

# Allocation failure (tests/oom/): the binary linked again with wrappers that
# fail the N-th allocation (our own, cJSON's and PCRE2's); run.py samples N
# over a small hunt and a dump. Fewer runs in the sanitizer build (its budget).
OOM_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup \
            -Wl,--wrap=pcre2_compile_8,--wrap=pcre2_match_data_create_8,--wrap=pcre2_match_context_create_8 \
            -Wl,--wrap=pcre2_jit_stack_create_8,--wrap=ah_hunt_new
$(BUILD)/oom/alloc_fail.o: tests/oom/alloc_fail.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/oom/audithound: $(CLI_OBJ) $(BUILD)/libaudithound.a $(BUILD)/oom/alloc_fail.o
	@echo "  LD      $@"
	$(Q)$(CC) $(OPT) $(EXTRA_CFLAGS) $(OOM_WRAP) -o $@ $(CLI_OBJ) $(BUILD)/oom/alloc_fail.o $(BUILD)/libaudithound.a $(PKG_LIBS) -lm -lpthread

oom-check: $(BUILD)/oom/audithound
	@python3 tests/oom/run.py $(BUILD)/oom/audithound $(if $(filter build,$(BUILD)),--runs 900,--runs 120)

# Arrows between layers point down only and no files use each other in a
# circle, read from the objects' symbols (tests/tools/check-layers.py, which
# test-check-layers.sh checks on a tiny tree first); a file over 800 lines
# says why it is one file (check-size.sh).
layers-check: $(BUILD)/audithound
	@p=0; f=0; \
	 if sh tests/tools/test-check-layers.sh; then p=$$((p + 1)); else f=$$((f + 1)); fi; \
	 if python3 tests/tools/check-layers.py $(BUILD)/obj; then p=$$((p + 1)); echo "  PASS    layers"; \
	 else f=$$((f + 1)); echo "  FAIL    layers"; fi; \
	 if sh tests/tools/check-size.sh; then p=$$((p + 1)); else f=$$((f + 1)); fi; \
	 mkdir -p build; echo "layers $$p $$f" >> build/.results; [ $$f -eq 0 ]

# Everything the tests run, built first on every core.
build-tests: $(BUILD)/audithound $(TEST_BIN) $(BUILD)/oom/audithound

test: unit e2e rules-check corpus-check docs-check corrupt-check hostile-check oom-check layers-check

# Plain build and tests, then the same tests under AddressSanitizer and UBSan.
check: deps
	@rm -f build/.results
	@$(MAKE) --no-print-directory -j$(JOBS) build-tests
	@$(MAKE) --no-print-directory -k test; plain=$$?; \
	 $(MAKE) --no-print-directory fuzz-check || plain=1; \
	 $(MAKE) --no-print-directory format-check || plain=1; \
	 $(MAKE) --no-print-directory -k tsan-check || plain=1; \
	 $(MAKE) --no-print-directory -k san-check; san=$$?; \
	 sh tests/tools/summary.sh && [ $$plain -eq 0 ] && [ $$san -eq 0 ]

san-check:
	@echo "== sanitizer build (ASan + UBSan) =="
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/san OPT="-O1 -g" EXTRA_CFLAGS="$(SAN)" build-tests
	@$(MAKE) --no-print-directory BUILD=build/san OPT="-O1 -g" EXTRA_CFLAGS="$(SAN)" test

# The threaded parts once under ThreadSanitizer (not the whole suite: the
# CI budget): the workers' unit tests and the thread-count e2e case.
TSAN_TESTS := test_hunt_threads test_event_pack
tsan-check:
	@echo "== ThreadSanitizer: $(TSAN_TESTS) and e2e hunt_threads =="
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/tsan OPT="-O1 -g" EXTRA_CFLAGS="-fsanitize=thread" \
	  build/tsan/audithound $(TSAN_TESTS:%=build/tsan/tests/%)
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66" sh tests/tools/run-unit.sh $(TSAN_TESTS:%=build/tsan/tests/%)
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66" sh tests/e2e/run.sh build/tsan/audithound hunt_threads

# The tree must also build with clang at -Werror (its warnings differ from gcc's).
clang-check:
	@echo "== clang build =="
	@$(MAKE) --no-print-directory CC=clang BUILD=build/clang all $(TEST_SRC:tests/unit/%.c=build/clang/tests/%)

# libFuzzer targets (tests/fuzz/): `make fuzz FUZZ_SECONDS=N` runs each for N
# seconds; `make check` runs each briefly, plus the saved reproducers, once
# (not again in the sanitizer pass: the targets carry ASan and UBSan already).
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 12

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libaudithound.a $(BUILD)/flags
	@mkdir -p $(dir $@)
	@echo "  FUZZ-CC $<"
	$(Q)$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(BUILD)/libaudithound.a $(PKG_LIBS) -lm -lpthread

fuzz-build:
	@$(MAKE) --no-print-directory -j$(JOBS) CC=clang BUILD=build/fuzz OPT="-O1 -g" EXTRA_CFLAGS="$(FUZZ_SAN)" \
	  $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/fuzz/%)

fuzz:
	@sh tests/fuzz/run.sh fuzz $(FUZZ_SECONDS)

fuzz-check:
	@sh tests/fuzz/run.sh check $(FUZZ_CHECK_SECONDS)

# --- formatting ---------------------------------------------------------
# The house style is .clang-format; `make check` runs format-check once.
CLANG_FORMAT ?= clang-format
FORMAT_SRC = $(sort $(shell find parsers analyzer tests -name '*.[ch]'))

format:
	$(CLANG_FORMAT) -i --style=file $(FORMAT_SRC)

format-check:
	@n=0; for f in $(FORMAT_SRC); do \
	   $(CLANG_FORMAT) --style=file "$$f" | cmp -s - "$$f" || { echo "  differs: $$f"; n=$$((n + 1)); }; \
	 done; \
	 mkdir -p build; \
	 if [ $$n -gt 0 ]; then echo "format-check: $$n file(s) differ from .clang-format (make format)"; \
	   echo "format 0 1" >> build/.results; exit 1; fi; \
	 echo "format 1 0" >> build/.results; \
	 echo "format-check: every C source is in the house style"

# --- demo and bench -------------------------------------------------------
demo: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@sh samples/demo.sh $(BUILD)/audithound

bench: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@sh tests/bench/bench.sh $(BUILD)/audithound

# peak memory at 10 million records (issue 13); generates about 1.4 GB once
bench-scale: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/bench/bench_scale.py $(BUILD)/audithound

# Slurm job array + dependent merge (issue 16); installs slurm-wlm and munge,
# starts its own daemons as root, so it stays out of `make check` and `deps`.
SCALE_DEB_PKGS := slurm-wlm munge
scale-check: deps
	@sh tests/tools/deps.sh $(SCALE_DEB_PKGS)
	@$(MAKE) --no-print-directory all
	@sh tests/scale/slurm-check.sh $(BUILD)/audithound

# --- install --------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/audithound/rules $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/audithound $(DESTDIR)$(PREFIX)/bin/audithound
	cp -R rules/. $(DESTDIR)$(PREFIX)/share/audithound/rules/
	install -m 644 docs/audithound.1 $(DESTDIR)$(PREFIX)/share/man/man1/audithound.1

clean:
	rm -rf build
