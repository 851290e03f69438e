// vcsim as the VMware lane runs it: govmomi's vCenter simulator (the one
// govmomi and the Terraform vSphere provider test against) with one
// datacenter DC0, cluster DC0_C0, two hosts, datastore LocalDS_0, networks
// "VM Network" and DC0_DVPG0, and template-able VMs such as DC0_H0_VM0.
//
// Environment: VCSIM_TLS=1 serves https (pyVmomi 6.7 cannot talk plain
// http); VCSIM_CERT/VCSIM_KEY a PEM pair to serve instead of the built-in
// test certificate (so clients can verify against a CA); VCSIM_USERNAME and
// VCSIM_PASSWORD the only login accepted (else any non-empty one is).
// Prints VCSIM_URL=https://user:pass@127.0.0.1:PORT/sdk and serves until
// SIGINT or SIGTERM.
package main

import (
	"crypto/tls"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

func main() {
	model := simulator.VPX()
	model.Datacenter = 1
	model.Cluster = 1
	model.Host = 2
	model.Machine = 1
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	model.Service.Listen = &url.URL{Host: "127.0.0.1:0"}
	if user := os.Getenv("VCSIM_USERNAME"); user != "" {
		model.Service.Listen.User = url.UserPassword(user, os.Getenv("VCSIM_PASSWORD"))
	}
	if os.Getenv("VCSIM_TLS") != "" {
		model.Service.TLS = new(tls.Config)
		if certFile := os.Getenv("VCSIM_CERT"); certFile != "" {
			cert, err := tls.LoadX509KeyPair(certFile, os.Getenv("VCSIM_KEY"))
			if err != nil {
				log.Fatal(err)
			}
			model.Service.TLS.Certificates = []tls.Certificate{cert}
		}
	}
	s := model.Service.NewServer()
	fmt.Printf("VCSIM_URL=%s\n", s.URL)
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	<-c
	s.Close()
	model.Remove()
}
