// Package codegen is a local stand-in for the .NET code generator of
// github.com/pulumi/pulumi-dotnet, which the Go module proxy reachable here does
// not serve. pulumi-docker-build only uses CSharpPackageInfo as schema metadata
// ("language.csharp"); nothing here generates code.
package codegen

// CSharpPackageInfo holds the fields pulumi-docker-build sets, with the JSON
// names used in Pulumi package schemas.
type CSharpPackageInfo struct {
	PackageReferences    map[string]string `json:"packageReferences,omitempty"`
	Namespaces           map[string]string `json:"namespaces,omitempty"`
	RootNamespace        string            `json:"rootNamespace,omitempty"`
	RespectSchemaVersion bool              `json:"respectSchemaVersion,omitempty"`
}
