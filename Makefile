# Tern — a WebRTC media server in C.
#   make          build build/tern
#   make run      install what is missing, build, start the server (.env: LISTEN=:3000)
#   make test     install what is missing, then every test: unit, ASan+UBSan, API, browsers
#   make deps     install Debian and npm packages the build and tests need
CC      ?= gcc
PKGS    := libuv libwebsockets jansson openssl libsrtp2 usrsctp opus
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lm

SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

SRCS      := $(sort $(shell find src -name '*.c' ! -path src/main.c))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))

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

api: build/tern
	@bash tests/api/run.sh

e2e: build/tern
	@bash tests/e2e/run.sh

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-san
	$(MAKE) api
	$(MAKE) e2e

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d) build/obj/src/main.d
