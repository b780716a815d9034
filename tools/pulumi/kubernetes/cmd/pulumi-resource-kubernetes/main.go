//go:build lab_k8s_staged

// Command pulumi-resource-kubernetes serves the Kubernetes provider from
// github.com/pulumi/pulumi-kubernetes/provider/v4. Upstream's main package
// embeds two files its Makefile generates (they are not in the Go module), so
// scripts/setup/pulumi.sh copies this module to a staging directory, writes the
// files there with ../../internal/genembed, and builds with -tags lab_k8s_staged.
// The tag keeps `go build ./...` / `go vet ./...` here from failing on the
// missing embed files.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
