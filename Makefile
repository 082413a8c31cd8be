# Tern — a WebRTC media server in C.
#   make          build build/tern
#   make run      install what is missing, build, start the server (.env: LISTEN=:3000)
#   make test     install what is missing, then every test: unit, ASan+UBSan, API, browsers
#   make deps     install Debian and npm packages the build and tests need
CC      ?= gcc
PKGS    := libuv libwebsockets jansson openssl libsrtp2 usrsctp opus vpx cairo libavformat libavcodec libavutil libnats
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lm

SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

# EXCLUDE leaves sources or tests out (patterns), e.g. while a module is
# being written: make EXCLUDE='src/rtp/% tests/unit/test_rtp.c'
SRCS      := $(filter-out $(EXCLUDE),$(sort $(shell find src -name '*.c' ! -path src/main.c)))
TEST_SRCS := $(filter-out $(EXCLUDE),$(sort $(wildcard tests/unit/test_*.c)))

OBJS      := $(SRCS:%.c=build/obj/%.o)
TESTS     := $(TEST_SRCS:tests/unit/%.c=build/tests/%)
SAN_OBJS  := $(SRCS:%.c=build/san/obj/%.o)
SAN_TESTS := $(TEST_SRCS:tests/unit/%.c=build/san/tests/%)

.PHONY: all run test deps unit unit-san api e2e clean
all: build/tern

deps:
	@bash scripts/deps.sh

build/libtern.a: $(OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

build/tern: build/obj/src/main.o build/libtern.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

build/tests/%: tests/unit/%.c build/libtern.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< build/libtern.a $(LDLIBS)

# The same sources and tests again under AddressSanitizer + UBSan.
build/san/libtern.a: $(SAN_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

build/san/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c -o $@ $<

build/san/tern: build/san/obj/src/main.o build/san/libtern.a
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

build/san/tests/%: tests/unit/%.c build/san/libtern.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< build/san/libtern.a $(LDLIBS)

run: deps-build build/tern
	./build/tern

deps-build:
	@bash scripts/deps.sh --build-only

unit: $(TESTS)
	@bash tests/run-unit.sh $(TESTS)

unit-san: $(SAN_TESTS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  bash tests/run-unit.sh $(SAN_TESTS)

# The HTTP API tests run against the sanitized server: hostile requests
# must not only get the right status but leave no memory error behind.
api: build/tern build/san/tern
	@TERN_BIN=build/san/tern bash tests/api/run.sh

e2e: build/tern
	@bash tests/e2e/run.sh

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-san
	$(MAKE) fuzz-smoke
	$(MAKE) api
	$(MAKE) e2e

clean:
	rm -rf build

# ---- fuzzing (libFuzzer + ASan + UBSan, clang): tests/fuzz/, docs/fuzzing.md ----
# The sources are compiled again with clang into build/fuzz/ (the normal
# build uses gcc). make fuzz runs every target FUZZ_SECONDS each (or only
# FUZZ_TARGET, e.g. make fuzz FUZZ_TARGET=stun FUZZ_SECONDS=600); make
# fuzz-smoke runs each for a few seconds, replaying the seed corpora first.
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_TARGET        ?=
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -O1 -g -fno-omit-frame-pointer \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJS  := $(SRCS:%.c=build/fuzz/obj/%.o)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_RUN   := $(if $(FUZZ_TARGET),$(FUZZ_TARGET:%=build/fuzz/fuzz_%),$(FUZZ_BINS))

.PHONY: fuzz fuzz-smoke fuzz-build
build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build/fuzz/libtern.a: $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h build/fuzz/libtern.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -Wall -Wextra -Werror -fsanitize=fuzzer -o $@ $< build/fuzz/libtern.a $(LDLIBS)

fuzz-build: $(FUZZ_RUN)

fuzz: fuzz-build
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_RUN)

fuzz-smoke: fuzz-build
	@bash tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_RUN)

-include $(FUZZ_OBJS:.o=.d)
# ---- end of fuzzing ----

# ---- bench: the load generator (bench/client/, bench/README.md) ----
# build/tern-client is Tern's own client role (src/ via build/libtern.a)
# driving a server through the REST API; make bench runs bench/negotiate.sh
# (starts build/tern on free loopback ports, measures, prints the figures).
BENCH_SRCS := $(sort $(wildcard bench/client/*.c))

.PHONY: bench
bench: build/tern build/tern-client
	@bash bench/negotiate.sh

build/tern-client: $(BENCH_SRCS) $(wildcard bench/client/*.h) build/libtern.a
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -Ibench/client -o $@ $(BENCH_SRCS) build/libtern.a $(LDLIBS)
# ---- end of bench ----

-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d) build/obj/src/main.d
