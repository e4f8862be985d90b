package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/piigate/piigate/detectors/detectorstest"
)

// protected are the customer fields the gateway configurations name in
// field rules, and whether the benchmark's role masks them (a partial
// value with '*') or redacts them (anything else that differs).
var protected = []struct {
	key  string
	mask bool
}{
	{"name", true},
	{"mobile", true},
	{"idCard", true},
	{"email", true},
	{"bankCard", true},
	{"phone", false},
	{"address", false},
	{"birthday", false},
	{"plate", false},
}

// verify fetches one response through a configuration and checks that it
// is what that configuration must produce: the upstream's bytes for plain
// reverse_proxy, every field rule applied for the gateway, and the notes'
// personal data gone as well with scan all. A benchmark of a gateway that
// passes data through, or answers with an error page, would measure
// nothing useful, so any difference is fatal.
func verify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	kind := fs.String("kind", "", "plain, route, noop, fields or scan")
	url := fs.String("url", "", "URL to fetch through the configuration")
	seed := fs.Int64("seed", 1, "seed the upstream uses")
	size := fs.Int("size", 8192, "body size the upstream uses")
	_ = fs.Parse(args)

	orig := detectorstest.HelpdeskJSON(*seed, *size)
	got, hdr, err := fetch(*url)
	if err != nil {
		return err
	}
	switch *kind {
	case "plain":
		if !bytes.Equal(got, orig) {
			return fmt.Errorf("plain reverse_proxy changed the body (%d bytes in, %d out)", len(orig), len(got))
		}
		fmt.Printf("verify plain:  ok, the upstream's %d bytes unchanged\n", len(got))
		return nil
	case "route":
		// One more directive on /api/*: the body unchanged, the header
		// it sets there.
		if !bytes.Equal(got, orig) {
			return fmt.Errorf("the route reference changed the body (%d bytes in, %d out)", len(orig), len(got))
		}
		if cc := hdr.Get("Cache-Control"); cc != "private, no-store" {
			return fmt.Errorf("the route reference: Cache-Control %q, not the header directive's: the request did not go through it", cc)
		}
		fmt.Printf("verify route:  ok, the upstream's %d bytes unchanged, through a header directive on /api/*\n", len(got))
		return nil
	case "noop":
		// pii_mask without rules: the body passes unchanged, but through
		// the gateway, which marks every guarded response as private.
		if !bytes.Equal(got, orig) {
			return fmt.Errorf("pii_mask without rules changed the body (%d bytes in, %d out)", len(orig), len(got))
		}
		if cc := hdr.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			return fmt.Errorf("pii_mask without rules: Cache-Control %q, not the gateway's no-store: the response did not go through pii_mask", cc)
		}
		fmt.Printf("verify noop:   ok, the upstream's %d bytes unchanged, through pii_mask (Cache-Control: %s)\n",
			len(got), hdr.Get("Cache-Control"))
		return nil
	case "fields", "scan":
		return verifyGateway(*kind, *seed, orig, got)
	}
	return fmt.Errorf("unknown -kind %q", *kind)
}

func fetch(url string) ([]byte, http.Header, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: %s: %.300s", url, resp.Status, body)
	}
	return body, resp.Header, nil
}

type page struct {
	Data []map[string]json.RawMessage `json:"data"`
}

func verifyGateway(kind string, seed int64, orig, got []byte) error {
	var in, out page
	if err := json.Unmarshal(orig, &in); err != nil {
		return fmt.Errorf("upstream body: %v", err)
	}
	if err := json.Unmarshal(got, &out); err != nil {
		return fmt.Errorf("gateway body is not JSON: %v: %.300s", err, got)
	}
	if len(out.Data) != len(in.Data) || len(in.Data) == 0 {
		return fmt.Errorf("gateway returned %d records, upstream %d", len(out.Data), len(in.Data))
	}

	// The same generator calls as HelpdeskJSON give the customers with the
	// labels of the personal data in their notes.
	g := detectorstest.New(seed)
	g.UUID()
	var problems []string
	fail := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	masked, spans, removed := 0, 0, 0
	survived := map[string]int{}
	var example string
	for i := range in.Data {
		c := g.Customer(10001 + i)
		var origNote, note string
		_ = json.Unmarshal(in.Data[i]["note"], &origNote)
		_ = json.Unmarshal(out.Data[i]["note"], &note)
		if origNote != c.Note {
			return errors.New("regenerated customers differ from the upstream's; detectorstest changed?")
		}
		for _, p := range protected {
			a, ok := in.Data[i][p.key]
			if !ok {
				continue // plate is optional
			}
			b := out.Data[i][p.key]
			var av, bv string
			_ = json.Unmarshal(a, &av)
			_ = json.Unmarshal(b, &bv)
			switch {
			case bytes.Equal(a, b) || (av != "" && strings.Contains(bv, av)):
				fail("data[%d].%s passed through unmasked", i, p.key)
			case p.mask && !strings.Contains(bv, "*"):
				fail("data[%d].%s = %s, want a masked value", i, p.key, b)
			default:
				masked++
				if example == "" && p.key == "mobile" {
					example = fmt.Sprintf("mobile %s → %s", av, bv)
				}
			}
		}
		if kind == "fields" {
			// scan off: the free text must be left alone, or the
			// configuration is not the field-rules-only one.
			if note != origNote {
				fail("data[%d].note changed with scan off", i)
			}
			continue
		}
		for _, s := range c.NoteSpans {
			spans++
			if strings.Contains(note, c.Note[s.Start:s.End]) {
				survived[s.Type]++
			} else {
				removed++
			}
		}
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("… and %d more", len(problems)-10))
		}
		return fmt.Errorf("%s gateway does not mask as configured:\n  %s", kind, strings.Join(problems, "\n  "))
	}
	if kind == "fields" {
		fmt.Printf("verify fields: ok, %d records, %d field values masked (%s), notes untouched\n",
			len(in.Data), masked, example)
		return nil
	}
	// With scan all, the notes' personal data must go. That no value at all
	// is found means scanning is off: fatal. A few missed values are the
	// detectors' business, not the benchmark's: reported, not fatal.
	if spans > 0 && removed == 0 {
		return fmt.Errorf("scan gateway left all %d personal values in the notes: scanning is not on", spans)
	}
	msg := fmt.Sprintf("verify scan:   ok, %d records, %d field values masked, %d/%d personal values in notes masked",
		len(in.Data), masked, removed, spans)
	if len(survived) > 0 {
		var ts []string
		for t, n := range survived {
			ts = append(ts, fmt.Sprintf("%s×%d", t, n))
		}
		sort.Strings(ts)
		msg += " (missed: " + strings.Join(ts, ", ") + ")"
	}
	fmt.Println(msg)
	return nil
}

// get saves what a URL answers to a file: the CPU profiles from Caddy's
// admin endpoint, without needing curl on the machine.
func get(args []string) error {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	out := fs.String("o", "", "file to write")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	_ = fs.Parse(args)
	if *out == "" || fs.NArg() != 1 {
		return errors.New("usage: get -o FILE URL")
	}
	c := &http.Client{Timeout: *timeout}
	resp, err := c.Get(fs.Arg(0))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.300s", fs.Arg(0), resp.Status, body)
	}
	return os.WriteFile(*out, body, 0o644)
}
