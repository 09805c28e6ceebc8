# aigw build. Sources are found by wildcard: adding a module file or a test file
# needs no Makefile change. See docs/development.md.

CC        ?= cc
BUILD     ?= build
SHARED    ?= ../shared
PKGS      := libmicrohttpd gnutls jansson yaml-0.1 libcurl openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
             -Wmissing-prototypes -Wvla -Wpointer-arith -Wundef -Wcast-align \
             -Wnull-dereference -Wdouble-promotion
OPT       ?= -O2 -g
CFLAGS    ?=
CPPFLAGS  += -I. -D_GNU_SOURCE $(PKG_CFLAGS)
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) -fno-strict-aliasing $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS    += $(PKG_LIBS) -lpthread -lm
# Link only the libraries the code calls (already the default of Debian's gcc),
# and full RELRO: the GOT is resolved at start and made read-only. Measured cost
# for aigw serve: none (idle RSS within noise); see docs/decisions.md.
LDHARDEN  := -Wl,--as-needed -Wl,-z,relro -Wl,-z,now

MODULE_DIRS := common policy webhook injector reconciler reconciler/envoy certs
LIB_SRC   := $(sort $(foreach d,$(MODULE_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ  := $(UNIT_SRC:%.c=$(BUILD)/%.o)
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
# Test drivers: every tests/tools/<name>.c becomes $(BUILD)/tools/<name>, linked
# with the library; integration tests find them in $AIGW_TOOLS.
TOOL_SRC  := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
HDRS      := $(shell find common policy webhook injector reconciler certs cmd tests -name '*.h' 2>/dev/null)
ALL_C     := $(LIB_SRC) cmd/aigw.c $(UNIT_SRC) $(FUZZ_SRC) $(TOOL_SRC)

BIN       := aigw
ifeq ($(BUILD),build)
BIN_PATH  := $(BIN)
else
BIN_PATH  := $(BUILD)/$(BIN)
endif

.PHONY: all deps test unit integration golden lint fmt fmt-check sanitize valgrind \
        fuzz bench soak demo clean conformance

all: $(BIN_PATH)

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libaigw.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN_PATH): $(BUILD)/cmd/aigw.o $(BUILD)/libaigw.a
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_OBJ) $(BUILD)/libaigw.a
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcunit

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(BUILD)/libaigw.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Installs missing Debian packages (quick no-op when all are present).
deps:
	@hack/install-deps.sh

unit: $(BUILD)/unit_tests
	$(UNIT_WRAP) $(BUILD)/unit_tests

integration: $(BIN_PATH) $(TOOL_BIN)
	AIGW=$(abspath $(BIN_PATH)) AIGW_TOOLS=$(abspath $(BUILD)/tools) AIGW_SHARED=$(SHARED) AIGW_WRAP="$(AIGW_WRAP)" \
	  tests/integration/run.sh $(INTEGRATION)

test: deps
	$(MAKE) all $(BUILD)/unit_tests $(TOOL_BIN)
	$(MAKE) unit
	$(MAKE) integration

golden: $(BIN_PATH)
	AIGW=$(abspath $(BIN_PATH)) tests/golden/regenerate.sh

# ASan + UBSan build in its own folder, running the whole suite.
sanitize: deps
	$(MAKE) BUILD=build-san OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" test

VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full \
            --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
            --suppressions=$(abspath tests/valgrind.supp)
valgrind: deps
	$(MAKE) BUILD=build-vg OPT="-O0 -g" all build-vg/unit_tests
	$(MAKE) BUILD=build-vg OPT="-O0 -g" UNIT_WRAP="$(VALGRIND)" AIGW_WRAP="$(VALGRIND)" unit integration

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem --std=c11 -I. -D_GNU_SOURCE \
	  $(LIB_SRC) cmd/aigw.c
	clang-tidy --quiet $(LIB_SRC) cmd/aigw.c -- $(CPPFLAGS) -std=c11

fmt:
	clang-format -i $(ALL_C) $(HDRS)

fmt-check:
	clang-format --dry-run --Werror $(ALL_C) $(HDRS)

# libFuzzer targets: every tests/fuzz/fuzz_*.c, linked against the library
# built with clang and sanitizers. FUZZ_SECONDS=N runs each for N seconds.
FUZZ_SECONDS ?= 0
FUZZ_BUILD := build-fuzz
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" $(FUZZ_BUILD)/libaigw.a
	@set -e; for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "fuzz: building $$n"; \
	  clang $(CPPFLAGS) -std=c11 -O1 -g -Werror=implicit-function-declaration \
	    -fsanitize=fuzzer,address,undefined $$f \
	    $(FUZZ_BUILD)/libaigw.a -o $(FUZZ_BUILD)/$$n $(LDLIBS); done
	@if [ "$(FUZZ_SECONDS)" != "0" ]; then tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS); fi

bench:
	hack/bench.sh

soak:
	hack/soak.sh

demo: deps
	$(MAKE) all
	hack/demo.sh

clean:
	rm -rf build build-san build-vg build-fuzz $(BIN)
