# The C library, installed like one (docs/platforms.md#the-c-library): cargo builds it, this installs
#   $(LIBDIR)/liblkr_crypt.so.$(SOVERSION)   soname liblkr_crypt.so.$(MAJOR) (set by build.rs)
#   $(LIBDIR)/liblkr_crypt.so.$(MAJOR)        -> liblkr_crypt.so.$(SOVERSION)
#   $(LIBDIR)/liblkr_crypt.so                 -> liblkr_crypt.so.$(MAJOR)
#   $(INCLUDEDIR)/lkr_crypt.h
#   $(LIBDIR)/pkgconfig/lkr_crypt.pc
#
#   make                          cargo build --release --lib (default features)
#   make install PREFIX=/opt/lkr  (and DESTDIR=/staging for packaging; PREFIX defaults to /usr/local)
#   make uninstall PREFIX=/opt/lkr
#   make FEATURES=aws-lc,ring     a slimmer library: no default features, these instead
#   make TARGET=aarch64-unknown-linux-gnu   a cross build (see docs/platforms.md#linux-aarch64)
#
# CARGO_TARGET_DIR is honoured. Run `make` as the user who builds and `make install` as the one
# who may write PREFIX: install does not build when the library is already there.

CARGO ?= cargo
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
FEATURES ?=
TARGET ?=
INSTALL ?= install

# The soname's major number is build.rs's SONAME; the file name's minor.patch are the crate
# version's (0.1.0 -> liblkr_crypt.so.1.1.0).
MAJOR := $(shell sed -n 's/^const SONAME: &str = "liblkr_crypt\.so\.\([0-9][0-9]*\)";/\1/p' build.rs)
VERSION := $(shell sed -n 's/^version = "\([^"]*\)"/\1/p' Cargo.toml | head -n 1)
SOVERSION := $(MAJOR).$(word 2,$(subst ., ,$(VERSION))).$(word 3,$(subst ., ,$(VERSION)))
ifeq ($(MAJOR),)
$(error build.rs declares no SONAME "liblkr_crypt.so.N")
endif

CARGO_TARGET_DIR ?= target
CARGO_ARGS := --release --lib --locked $(if $(FEATURES),--no-default-features --features $(FEATURES)) $(if $(TARGET),--target $(TARGET))
BUILT := $(CARGO_TARGET_DIR)/$(if $(TARGET),$(TARGET)/)release/liblkr_crypt.so

LIB_FILE := liblkr_crypt.so.$(SOVERSION)
INSTALLED := $(DESTDIR)$(LIBDIR)/$(LIB_FILE) $(DESTDIR)$(LIBDIR)/liblkr_crypt.so.$(MAJOR) \
	$(DESTDIR)$(LIBDIR)/liblkr_crypt.so $(DESTDIR)$(INCLUDEDIR)/lkr_crypt.h \
	$(DESTDIR)$(PKGCONFIGDIR)/lkr_crypt.pc

.PHONY: all build install uninstall
all: build

build:
	CARGO_TARGET_DIR=$(CARGO_TARGET_DIR) $(CARGO) build $(CARGO_ARGS)

$(BUILT):
	CARGO_TARGET_DIR=$(CARGO_TARGET_DIR) $(CARGO) build $(CARGO_ARGS)

install: $(BUILT)
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 0755 $(BUILT) $(DESTDIR)$(LIBDIR)/$(LIB_FILE)
	ln -sfn $(LIB_FILE) $(DESTDIR)$(LIBDIR)/liblkr_crypt.so.$(MAJOR)
	ln -sfn liblkr_crypt.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/liblkr_crypt.so
	$(INSTALL) -m 0644 include/lkr_crypt.h $(DESTDIR)$(INCLUDEDIR)/lkr_crypt.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	  -e 's|@VERSION@|$(VERSION)|' lkr_crypt.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/lkr_crypt.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/lkr_crypt.pc

# Removes exactly the files install wrote (directories stay: they may be shared).
uninstall:
	rm -f $(INSTALLED)
