"""The local control plane, one job per module; `python -m localcluster` is its command line (cli).

- pins: the versions and Go modules the binaries are built from, and the cache key;
- layout: the cluster's shape (ports, components, namespaces, identities) and where
  each of its files lives in the cache directory;
- build: the Go builds (and the OpenShift sources and CRDs they need);
- pki: the certificate authorities, certificates and service-account keys;
- credentials: static tokens, kubeconfigs and connection.yml;
- stages: the kwok stages (local-cluster/kwok-stages/*.yaml) as kwok's config file;
- components: each process's command line, config file, environment and health check;
- processes: pid files, start, stop and wait, and finding our processes;
- openshift: the objects of the OpenShift half (CRDs, APIServices, RBAC rules);
- images: the registry's content, pushed with crane;
- bootstrap: what a start creates through the API, and the waits for it to settle;
- sessions: test sessions sharing one running cluster;
- cluster: the commands (start, stop, status, info);
- cli: the command line (build, start, stop, status, info), run by __main__.
"""


class ClusterError(Exception):
    """A failure reported to the user as one line."""
