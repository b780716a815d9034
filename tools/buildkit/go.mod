// Tools module: pins the BuildKit daemon and client that scripts/setup/buildkit.sh
// builds. `go install github.com/moby/buildkit/cmd/buildkitd@vX` refuses to
// work because buildkit's go.mod carries exclude directives, so they are
// repeated here and the binaries are built from this module instead.
module multiarch-lab/tools/buildkit

go 1.26.8

exclude (
	github.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc
	github.com/pmezard/go-difflib v1.0.1-0.20181226105442-5d4384ee4fb2
)
