//go:build tools

// Package tools pins the docker-build provider so `go build` can build its main package.
package tools

import _ "github.com/pulumi/pulumi-docker-build/provider/cmd/pulumi-resource-docker-build"
