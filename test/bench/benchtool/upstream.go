package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/piigate/piigate/detectors/detectorstest"
)

// upstream plays the legacy helpdesk: every request gets the same helpdesk
// list page. It does as little as possible per request (the body and its
// header are prepared once) so that the machine's CPU goes to Caddy, which
// is what the benchmark compares.
func upstream(args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	addrFile := fs.String("addr-file", "", "write the listening address here once ready (required)")
	seed := fs.Int64("seed", 1, "seed of the generated customers")
	size := fs.Int("size", 8192, "largest body size in bytes")
	_ = fs.Parse(args)
	if *addrFile == "" {
		return errors.New("-addr-file is required")
	}

	body := detectorstest.HelpdeskJSON(*seed, *size)
	length := []string{strconv.Itoa(len(body))}
	ctype := []string{"application/json; charset=utf-8"}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		// Assigning the slices directly skips canonicalisation and
		// allocation on every request.
		hdr["Content-Type"] = ctype
		hdr["Content-Length"] = length
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})

	// Loopback only, on a port the kernel picks, so two runs never clash.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// The address goes to the file through a rename, so the script never
	// reads half of it.
	tmp := *addrFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, *addrFile); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "upstream: %d-byte helpdesk JSON (%d customers) on http://%s\n",
		len(body), strings.Count(string(body), `"orders":`), ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// ports prints n free loopback ports, one a line. The listeners are
// closed before Caddy binds them, so another process could take one in
// between; Caddy would then fail to start and the script stop, never
// measure the wrong server.
func ports(args []string) error {
	if len(args) != 1 {
		return errors.New("want the number of ports")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		return fmt.Errorf("bad count %q", args[0])
	}
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	}
	return nil
}
