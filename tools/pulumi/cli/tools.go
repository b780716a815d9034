//go:build tools

// Package tools pins the Pulumi CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
// so `go build` in this module builds it at the version in go.mod. The Node.js
// language host is this module's own ./cmd/pulumi-language-nodejs.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
