//go:build tools

// Package tools records the node's Kubernetes commands this module builds (the
// real node of the local cluster), so that go.mod and go.sum pin all they need.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
