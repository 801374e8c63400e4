//go:build tools

// Package tools records the crictl command this module builds.
package tools

import _ "sigs.k8s.io/cri-tools/cmd/crictl"
