# coldpost: the two commands README gives, and the pieces behind them.
#   make run    install what running needs, build, start the demo
#   make test   install what testing needs, build twice (normal, ASan+UBSan),
#               run every suite in both; ends with "N passed, N failed"
BUILD ?= build

.PHONY: all build run test bench fuzz clean

all: build

build:
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --werror >/dev/null
	ninja -C $(BUILD)

run:
	scripts/deps.sh run
	$(MAKE) --no-print-directory build
	scripts/demo.sh $(BUILD)

test:
	scripts/deps.sh test
	tests/run.sh

bench:
	scripts/deps.sh bench
	$(MAKE) --no-print-directory build
	bench/explain/run.sh

fuzz:
	scripts/deps.sh test
	tests/fuzz/run.sh $${FUZZ_SECONDS:-60}

clean:
	rm -rf build build-san build-fuzz
