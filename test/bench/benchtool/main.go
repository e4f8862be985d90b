// Command benchtool is the Go side of test/bench/run: the upstream that
// serves the helpdesk JSON, a free-port picker, the check that a gateway
// really masks before it is measured, and the report of the measurements.
// The load itself comes from wrk (see test/bench/run for why).
//
//	benchtool upstream -addr-file F [-seed N] [-size B]
//	benchtool ports N
//	benchtool verify -kind plain|route|noop|fields|scan -url U [-seed N] [-size B]
//	benchtool report -results F [-fields-target R] [-scan-target R]
//	benchtool get -o FILE URL
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "upstream":
		err = upstream(args)
	case "ports":
		err = ports(args)
	case "verify":
		err = verify(args)
	case "get":
		err = get(args)
	case "report":
		err = report(args)
	default:
		usage()
	}
	if errors.Is(err, errTargetMissed) {
		fmt.Fprintf(os.Stderr, "benchtool %s: %v\n", os.Args[1], err)
		os.Exit(3) // measured fine, but slower than DESIGN.md allows
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchtool upstream|ports|verify|report|get [flags]")
	os.Exit(2)
}
