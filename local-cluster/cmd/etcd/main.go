// Command etcd is the stock etcd server entry point, built from the pinned
// go.etcd.io/etcd/server module so the local cluster needs no release binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
