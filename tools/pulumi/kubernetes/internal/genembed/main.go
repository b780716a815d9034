// Command genembed writes the two files the kubernetes provider's main package
// embeds: schema-embed.json (the provider schema with "version" set) and
// terraform-mapping-embed.json (the compacted Terraform mapping), from the
// schema.json and terraform-mapping.json shipped in the provider's Go module.
//
// Usage: genembed -src <module dir>/cmd/pulumi-resource-kubernetes -out <dir> -version 4.34.2
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	src := flag.String("src", "", "directory holding schema.json and terraform-mapping.json")
	out := flag.String("out", ".", "directory to write the *-embed.json files to")
	version := flag.String("version", "", "version to record in the schema")
	flag.Parse()
	if *src == "" || *version == "" {
		log.Fatal("genembed: -src and -version are required")
	}

	raw, err := os.ReadFile(filepath.Join(*src, "schema.json"))
	if err != nil {
		log.Fatal(err)
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		log.Fatalf("genembed: parsing schema: %v", err)
	}
	spec.Version = *version
	versioned, err := json.Marshal(spec)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "schema-embed.json"), versioned, 0o644); err != nil {
		log.Fatal(err)
	}

	raw, err = os.ReadFile(filepath.Join(*src, "terraform-mapping.json"))
	if err != nil {
		log.Fatal(err)
	}
	var mapping any
	if err := json.Unmarshal(raw, &mapping); err != nil {
		log.Fatalf("genembed: parsing terraform mapping: %v", err)
	}
	compact, err := json.Marshal(mapping)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "terraform-mapping-embed.json"), compact, 0o644); err != nil {
		log.Fatal(err)
	}
}
