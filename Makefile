# Quick checks while working, and CI's full run.
#
#   make check   formatting, vet, staticcheck and the tests, without the
#                browser tests or the llama-server test (a minute or two)
#   make ci      what CI runs: .ci/run (builds llama-server once, installs
#                Chromium, runs every test under -race)

STATICCHECK = go run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: check ci

check:
	@test -z "$$(gofmt -l . | grep -v '^testdata/')" || { gofmt -l . | grep -v '^testdata/'; exit 1; }
	go vet ./...
	$(STATICCHECK) ./...
	PSVEVAL_SKIP_BROWSER=1 PSVEVAL_SKIP_REAL_SERVER=1 PSVEVAL_SKIP_SLURM=1 PSVEVAL_LLAMA_SERVER= go test ./...

ci:
	bash .ci/run
