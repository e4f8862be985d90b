package caddymodule

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/piigate/piigate/detectors/detectorstest"
)

// BenchmarkGateway runs a real Caddy in the process with the three
// configurations test/bench/run compares (plain reverse_proxy, pii_mask
// with the helpdesk field rules, and with scan all) in front of one
// upstream serving the 8 KB helpdesk response, and measures a keep-alive
// client's requests through each. The client's own cost is the same in
// all three: the differences are the gateway's, inside a real Caddy (its
// routing, reverse_proxy, net/http), with more samples for a CPU profile
// than the wrk run gives.
//
//	go test ./caddymodule -run '^$' -bench Gateway -benchmem
func BenchmarkGateway(b *testing.B) {
	body := detectorstest.HelpdeskJSON(1, 8192)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	defer up.Close()
	upAddr := strings.TrimPrefix(up.URL, "http://")

	ports := map[string]int{}
	var cf strings.Builder
	fmt.Fprintf(&cf, "{\n\tadmin off\n\tauto_https off\n\tpersist_config off\n\tstorage file_system %s\n"+
		"\tlog default {\n\t\toutput discard\n\t}\n", b.TempDir())
	cf.WriteString("\tpii {\n\t\trole online_agent {\n" +
		"\t\t\tcn_mobile mask\n\t\t\tcn_resident_id mask\n\t\t\tbank_card mask\n\t\t\temail mask\n" +
		"\t\t\tperson_name mask\n\t\t\taddress redact\n\t\t\t* redact\n\t\t}\n\t}\n}\n")
	for _, c := range []struct{ name, scan string }{{"plain", ""}, {"noop", "noop"}, {"fields", "off"}, {"scan_all", "all"}} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		ports[c.name] = l.Addr().(*net.TCPAddr).Port
		l.Close()
		fmt.Fprintf(&cf, "http://127.0.0.1:%d {\n\tvars role online_agent\n", ports[c.name])
		if c.scan == "noop" {
			cf.WriteString("\tpii_mask /api/* {\n\t\troles_from {http.vars.role}\n\t\tscan off\n\t}\n")
		} else if c.scan != "" {
			cf.WriteString("\tpii_mask /api/* {\n\t\troles_from {http.vars.role}\n")
			for _, f := range []string{"name person_name", "mobile cn_mobile", "phone cn_landline",
				"idCard cn_resident_id", "email email", "address address", "bankCard bank_card",
				"birthday birth_date", "plate cn_license_plate"} {
				fmt.Fprintf(&cf, "\t\tfield data.#.%s\n", f)
			}
			fmt.Fprintf(&cf, "\t\tscan %s\n\t}\n", c.scan)
		}
		fmt.Fprintf(&cf, "\treverse_proxy %s\n}\n", upAddr)
	}
	cfgJSON, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf.String()), nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := caddy.Load(cfgJSON, true); err != nil {
		b.Fatal(err)
	}
	defer caddy.Stop()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for _, name := range []string{"plain", "noop", "fields", "scan_all"} {
		url := fmt.Sprintf("http://127.0.0.1:%d/api/customers", ports[name])
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 16<<10)
			masked := 0
			for b.Loop() {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.ReadFull(resp.Body, buf)
				resp.Body.Close()
				if resp.StatusCode != 200 || n < 6000 {
					b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
				}
				if strings.Contains(string(buf[:n]), "****") {
					masked++
				}
			}
			if (name == "plain" || name == "noop") != (masked == 0) {
				b.Fatalf("%s: %d masked responses", name, masked)
			}
		})
	}
}
