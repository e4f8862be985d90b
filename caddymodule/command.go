package caddymodule

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/piigate/piigate/detectors"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "pii",
		Usage: "<detect|scan> [flags]",
		Short: "piigate tools: detect personal data, dry-run masking rules",
		Long: `
Tools of the piigate PII gateway.

  caddy pii detect [--lines] [--types a,b]
      Reads text on stdin and prints one JSON object per finding:
      {"type":..,"start":..,"end":..} with UTF-8 byte offsets (end exclusive).

  caddy pii scan --config <Caddyfile> --role <role> [--path <path>]
      Reads a response body on stdin and prints what that role would
      receive on that path: a dry run of the masking rules.
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.AddCommand(detectCommand())
			cmd.AddCommand(scanCommand())
		},
	})
}

func detectCommand() *cobra.Command {
	var lines bool
	var types string
	cmd := &cobra.Command{
		Use:   "detect [--lines] [--types a,b]",
		Short: "Find personal data in text read on stdin",
		Long: `Reads text on stdin and prints one JSON object per finding, in order:

  {"type":"cn_mobile","start":36,"end":47}

Offsets are UTF-8 byte offsets into the input, end exclusive. With --lines,
each input line is a separate text: every finding also carries "line"
(1-based) and its offsets are within that line (without the line ending).
--types restricts the entity types, e.g. --types cn_mobile,email.

Entity types: ` + strings.Join(typeNames(), ", "),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := scannerForTypes(types)
			if err != nil {
				return err
			}
			out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
			if err := detect(sc, cmd.InOrStdin(), out, lines); err != nil {
				return err
			}
			return out.Flush()
		},
	}
	cmd.Flags().BoolVar(&lines, "lines", false, "treat each line as a separate text and report its line number")
	cmd.Flags().StringVar(&types, "types", "", "comma-separated entity types to report (default: all)")
	return cmd
}

func typeNames() []string {
	var names []string
	for _, t := range detectors.Builtin() {
		if !t.FieldOnly() {
			names = append(names, t.String())
		}
	}
	return names
}

func scannerForTypes(list string) (*detectors.Scanner, error) {
	var opts detectors.Options
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		t, err := detectors.ParseType(name)
		if err != nil {
			return nil, fmt.Errorf("--types: %w (known: %s)", err, strings.Join(typeNames(), ", "))
		}
		opts.Types = append(opts.Types, t)
	}
	sc, err := detectors.NewScanner(opts)
	if err != nil {
		return nil, fmt.Errorf("--types: %w", err)
	}
	return sc, nil
}

// detect writes the findings of in to out, one JSON object a line.
func detect(sc *detectors.Scanner, in io.Reader, out io.Writer, lines bool) error {
	var buf []byte
	var fs []detectors.Finding
	if !lines {
		text, err := io.ReadAll(in)
		if err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
		fs = sc.ScanBytes(text, fs)
		for _, f := range fs {
			buf = appendFinding(buf[:0], f, 0)
			if _, err := out.Write(buf); err != nil {
				return err
			}
		}
		return nil
	}
	r := bufio.NewReaderSize(in, 64<<10)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 && errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading stdin, line %d: %w", n, err)
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		fs = sc.ScanBytes(line, fs[:0])
		for _, f := range fs {
			buf = appendFinding(buf[:0], f, n)
			if _, err := out.Write(buf); err != nil {
				return err
			}
		}
		if err != nil {
			return nil
		}
	}
}

// appendFinding formats f as the stable JSON line `caddy pii detect` prints;
// line 0 means no line field.
func appendFinding(b []byte, f detectors.Finding, line int) []byte {
	b = append(b, '{')
	if line > 0 {
		b = append(b, `"line":`...)
		b = strconv.AppendInt(b, int64(line), 10)
		b = append(b, ',')
	}
	b = append(b, `"type":`...)
	b = strconv.AppendQuote(b, f.Type.String())
	b = append(b, `,"start":`...)
	b = strconv.AppendInt(b, int64(f.Start), 10)
	b = append(b, `,"end":`...)
	b = strconv.AppendInt(b, int64(f.End), 10)
	return append(b, '}', '\n')
}
