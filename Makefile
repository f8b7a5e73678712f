# mpbind: a FastCGI application (C17) that binds cloud-marketplace
# subscriptions to organizations. `make run` and `make test` are the two
# commands; see README.md. V=1 shows commands; SAN=1 builds with ASan+UBSan.

CC       ?= cc
PKGS     := fcgi libmariadb json-c libcurl libsodium libcrypto
OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wcast-qual \
            -Wpointer-arith -Wformat=2 -Wvla -fno-common $(if $(WERROR),-Werror)
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer
SANFLAGS := $(if $(SAN),$(SANITIZE))
CFLAGS   := -std=c17 $(OPT) $(WARN) $(HARDEN) $(SANFLAGS) -MMD -MP
CPPFLAGS := -Iinclude -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  := -pie -Wl,-z,relro -Wl,-z,now $(SANFLAGS)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
B        := build/$(if $(SAN),san,rel)
BIN      := $(if $(SAN),$(B)/bin,bin)
Q        := $(if $(V),,@)
PY       := /usr/bin/python3

LIB_SRCS := acs3 aliyun aliyunmeter aliyunspi aliyunsso auth aws awsapi awsmeter billing binding buf config db error events fields form health http \
            ledger log marketplace members meter metrics notify orgs page pool request router session \
            sns sqs subscriptions text ticket usage worker
LIB_OBJS := $(LIB_SRCS:%=$(B)/%.o)
BINS     := $(BIN)/mpbind-fcgi $(BIN)/mpbindctl $(BIN)/mpbind-meterd
TESTS    := acs3 aliyun aliyunmeter awsmeter buf config fields form pool sns sqs text ticket
TEST_BINS:= $(TESTS:%=$(B)/test_%)

all: $(BINS)
$(BIN)/mpbind-fcgi: $(B)/main.o $(B)/libmpbind.a
$(BIN)/mpbindctl: $(B)/ctl.o $(B)/migrate.o $(B)/libmpbind.a
$(BIN)/mpbind-meterd: $(B)/meterd.o $(B)/libmpbind.a
$(BINS): ; @mkdir -p $(BIN); $(if $(Q),echo "  LD    $@";) $(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/libmpbind.a: $(LIB_OBJS) ; $(Q)$(AR) rcs $@ $^
$(B)/%.o: fcgi/%.c ; @mkdir -p $(B); $(if $(Q),echo "  CC    $<";) $(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
$(B)/test_%: tests/unit/test_%.c $(B)/libmpbind.a
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

unit-bins: $(TEST_BINS)
deps: ; @scripts/deps.sh
run: deps ; @$(MAKE) --no-print-directory all && $(PY) scripts/stack.py up
stop: ; @$(PY) scripts/stack.py down
test: deps ; @scripts/test.sh
bench: deps ; @$(MAKE) --no-print-directory all build/rel/bench-bare && $(PY) tests/bench/bench.py
build/rel/bench-bare: tests/bench/bare.c ; @mkdir -p build/rel; $(if $(Q),echo "  LD    $@";) \
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs fcgi libmariadb) -lpthread
clean: ; rm -rf build bin

.PHONY: all unit-bins deps run stop test bench clean
-include $(wildcard $(B)/*.d)
