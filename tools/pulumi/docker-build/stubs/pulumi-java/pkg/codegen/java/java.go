// Package java is a local stand-in for the Java code generator of
// github.com/pulumi/pulumi-java, which the Go module proxy reachable here does
// not serve. pulumi-docker-build only uses PackageInfo as schema metadata
// ("language.java"); nothing here generates code.
package java

// PackageInfo holds the fields pulumi-docker-build sets, with the JSON names
// (and omitempty choices) seen in the provider's published schema.
type PackageInfo struct {
	BasePackage                     string            `json:"basePackage"`
	BuildFiles                      string            `json:"buildFiles"`
	Dependencies                    map[string]string `json:"dependencies,omitempty"`
	GradleNexusPublishPluginVersion string            `json:"gradleNexusPublishPluginVersion"`
	GradleTest                      string            `json:"gradleTest"`
}
