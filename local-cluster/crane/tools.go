//go:build tools

// Package tools records crane, which pushes the local registry's test images
// without a container engine, so that go.mod and go.sum pin what it needs.
package tools

import (
	_ "github.com/google/go-containerregistry/cmd/crane"
)
