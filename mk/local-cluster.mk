# A real Kubernetes control plane on 127.0.0.1 (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok), built from the pinned Go
# modules in local-cluster/ and cached in $(LOCAL_CLUSTER_CACHE). The first
# start builds the binaries (several minutes on 2 cores); later starts take
# seconds. Needs `go` on PATH. LOCAL_CLUSTER_CACHE is set by the top Makefile.
# The commands are the Python package local-cluster/localcluster, which make setup
# installs editable into the virtualenv (see local-cluster/README.md).

LOCAL_CLUSTER := $(PYTHON) -m localcluster

.PHONY: local-cluster local-cluster-stop local-cluster-status local-cluster-build
local-cluster: setup ## Start the local loopback cluster (building it first if needed) and show how to use it
	$(LOCAL_CLUSTER) start
	@echo
	@echo "Admin:    export KUBECONFIG=$(LOCAL_CLUSTER_CACHE)/admin.kubeconfig"
	@echo "Deployer: export KUBECONFIG=$(LOCAL_CLUSTER_CACHE)/deployer.kubeconfig  (admin in packit-dev, packit-dev-sandbox, stream-dev, stream-dev-sandbox)"
	@echo "Ansible:  -e @$(LOCAL_CLUSTER_CACHE)/connection.yml  (host, api_key, ca_cert, validate_certs)"
	@echo "Stop it with: make local-cluster-stop"

local-cluster-build: setup ## Build the local cluster binaries into the cache (no start)
	$(LOCAL_CLUSTER) build

local-cluster-stop: setup ## Stop every process of the local cluster (data and binaries stay cached)
	$(LOCAL_CLUSTER) stop

local-cluster-status: setup ## Show the local cluster's components, ports and readiness
	$(LOCAL_CLUSTER) status
