//go:build tools

// Package tools records the OpenShift API server command this module builds,
// so that go.mod and go.sum pin everything it needs.
package tools

import (
	_ "github.com/openshift/openshift-apiserver/cmd/openshift-apiserver"
)
