// Command gencases writes fresh labelled detection cases in the corpus format
// of ../shared/corpus/sample.jsonl, so a scanner can be scored on texts that
// are not in the repository:
//
//	go run ./detectors/detectorstest/cmd/gencases -seed 7 -n 2000 > fresh.jsonl
//	go run ./detectors/detectorstest/cmd/gencases -seed 7 -n 2000 -text |
//		./caddy pii detect --lines > findings.jsonl
//	python3 ../shared/corpus/score_detect.py fresh.jsonl findings.jsonl
//
// The same seed and count always give the same cases, so -text prints the
// texts of exactly the cases the JSONL holds, one a line.
//
// With -sample only sample.jsonl's own templates are used; with -tickets N it
// writes N bytes of ticket text instead (-clean for text without personal
// data), and with -helpdesk N a helpdesk JSON response of about N bytes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/piigate/piigate/detectors/detectorstest"
)

func main() {
	seed := flag.Int64("seed", 1, "seed; the same seed gives the same output")
	n := flag.Int("n", 1000, "number of cases")
	sample := flag.Bool("sample", false, "use only the templates of sample.jsonl")
	text := flag.Bool("text", false, "print only the texts, one a line (input for 'caddy pii detect --lines')")
	tickets := flag.Int("tickets", 0, "print this many bytes of ticket text instead of cases")
	clean := flag.Bool("clean", false, "with -tickets: text without personal data")
	helpdesk := flag.Int("helpdesk", 0, "print a helpdesk JSON response of about this many bytes instead of cases")
	flag.Parse()
	if err := run(*seed, *n, *sample, *text, *tickets, *clean, *helpdesk); err != nil {
		fmt.Fprintln(os.Stderr, "gencases:", err)
		os.Exit(1)
	}
}

func run(seed int64, n int, sample, text bool, tickets int, clean bool, helpdesk int) error {
	w := bufio.NewWriter(os.Stdout)
	switch {
	case tickets > 0 && clean:
		w.WriteString(detectorstest.CleanTickets(seed, tickets))
	case tickets > 0:
		w.WriteString(detectorstest.Tickets(seed, tickets))
	case helpdesk > 0:
		w.Write(detectorstest.HelpdeskJSON(seed, helpdesk))
		w.WriteByte('\n')
	default:
		cases := detectorstest.Cases(seed, n)
		if sample {
			cases = detectorstest.SampleCases(seed, n)
		}
		if !text {
			if err := detectorstest.WriteJSONL(w, cases); err != nil {
				return err
			}
			break
		}
		for _, c := range cases {
			w.WriteString(c.Text)
			w.WriteByte('\n')
		}
	}
	return w.Flush()
}
