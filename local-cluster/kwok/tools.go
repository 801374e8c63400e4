//go:build tools

// Package tools records the kwok controller command this module builds.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
