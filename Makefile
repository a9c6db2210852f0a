# coldpost: the two commands README gives, and the pieces behind them.
#   make run    install what running needs, build, start the demo
#   make test   install what testing needs, build twice (normal, ASan+UBSan),
#               run every suite in both; ends with "N passed, N failed"
#   make web    the dashboard: npm ci && npm run build in web/ (into web/dist)
BUILD ?= build

PREFIX ?= /usr/local
DESTDIR ?=
UNITDIR ?= /lib/systemd/system

.PHONY: all build web run test bench fuzz clean install

all: build

build:
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --werror >/dev/null
	ninja -C $(BUILD)

# The dashboard's files (plain HTML, CSS, ES modules; Chart.js vendored
# from npm), served by `coldpost serve` on listen.http. Node.js and npm
# come with the machine.
web:
	cd web && npm ci --no-audit --no-fund && npm run build

run:
	scripts/deps.sh run
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory web || echo "make web failed: the demo runs without the dashboard"
	scripts/demo.sh $(BUILD)

test:
	scripts/deps.sh test
	$(MAKE) --no-print-directory web || echo "make web failed: the browser test will say so"
	tests/run.sh

bench:
	scripts/deps.sh bench
	$(MAKE) --no-print-directory build
	bench/explain/run.sh

fuzz:
	scripts/deps.sh test
	tests/fuzz/run.sh $${FUZZ_SECONDS:-60}

# The binary, the man pages, the systemd unit, an example configuration
# (never over an existing one) and the coldpost system user.
install: build
	install -D -m 0755 $(BUILD)/coldpost $(DESTDIR)$(PREFIX)/bin/coldpost
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	[ ! -f web/dist/index.html ] || { install -d $(DESTDIR)$(PREFIX)/share/coldpost/web && \
	    cp -r web/dist/. $(DESTDIR)$(PREFIX)/share/coldpost/web/; }
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' dist/coldpost.service \
	    > $(DESTDIR)$(UNITDIR)/coldpost.service
	install -d -m 0755 $(DESTDIR)/etc/coldpost
	[ -e $(DESTDIR)/etc/coldpost/coldpost.conf ] || \
	    install -m 0640 docs/config/example.conf \
	    $(DESTDIR)/etc/coldpost/coldpost.conf
	[ -n "$(DESTDIR)" ] || getent passwd coldpost >/dev/null || \
	    useradd --system --home-dir /var/lib/coldpost --shell \
	    /usr/sbin/nologin coldpost
	@echo "installed; start with: systemctl daemon-reload && systemctl enable --now coldpost"

clean:
	rm -rf build build-san build-fuzz web/dist
