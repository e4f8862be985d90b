package detectors

import (
	"fmt"
	"regexp"
	"unsafe"
)

// A Finding is one piece of personal data found in a text: its type and its
// UTF-8 byte offsets [Start, End) in the original text.
type Finding struct {
	Type       Type
	Start, End int
	// Confidence is the scanner's belief that the span is personal data of
	// Type, from 0 to 1: checksum-validated values score high, and a context
	// word (手机, 身份证, card, …) near the value raises the score.
	Confidence float32
}

// Options configures a Scanner.
type Options struct {
	// Types restricts the content types reported; empty means every
	// built-in content type. Field-only types are ignored here.
	Types []Type
	// Custom adds admin-defined detectors.
	Custom []CustomDetector
	// NoConfidence skips the context lookup that raises the confidence of
	// a validated value (every Finding reports the base confidence of its
	// check). Context words still decide weak patterns and look-alikes.
	// For callers that do not read Confidence and scan a lot of text.
	NoConfidence bool
}

// A CustomDetector finds an admin-defined custom:<name> type by a regular
// expression (RE2 syntax), optionally confirmed by a built-in validator
// (see ValidatorNames). A match may not touch a letter or digit on either
// side, as for the built-in types.
type CustomDetector struct {
	Type      Type
	Pattern   string
	Validator string
}

// A Scanner finds personal data in text. It is safe for concurrent use.
type Scanner struct {
	enabled      [numBuiltin]bool
	custom       []customDetector
	noConfidence bool
}

type customDetector struct {
	t     Type
	re    *regexp.Regexp
	valid Validator
}

// NewScanner returns a Scanner for opts.
func NewScanner(opts Options) (*Scanner, error) {
	sc := &Scanner{noConfidence: opts.NoConfidence}
	if len(opts.Types) == 0 {
		for t := Type(1); t < numBuiltin; t++ {
			sc.enabled[t] = !t.FieldOnly()
		}
	}
	for _, t := range opts.Types {
		switch {
		case t == Unknown || t.IsCustom() && !customDeclared(opts.Custom, t):
			return nil, fmt.Errorf("type %s: no detector for it", t)
		case t.FieldOnly():
			return nil, fmt.Errorf("type %s is found only by field rules and key names, not by content", t)
		case !t.IsCustom():
			sc.enabled[t] = true
		}
	}
	for _, c := range opts.Custom {
		if !c.Type.IsCustom() {
			return nil, fmt.Errorf("custom detector for %s: type must be %s<name>", c.Type, CustomPrefix)
		}
		if len(opts.Types) > 0 && !typeListed(opts.Types, c.Type) {
			continue
		}
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("custom detector for %s: pattern: %w", c.Type, err)
		}
		if re.MatchString("") {
			return nil, fmt.Errorf("custom detector for %s: pattern %q matches the empty string", c.Type, c.Pattern)
		}
		d := customDetector{t: c.Type, re: re}
		if c.Validator != "" {
			v, ok := LookupValidator(c.Validator)
			if !ok {
				return nil, fmt.Errorf("custom detector for %s: unknown validator %q (known: %v)", c.Type, c.Validator, ValidatorNames())
			}
			d.valid = v
		}
		sc.custom = append(sc.custom, d)
	}
	return sc, nil
}

func customDeclared(cs []CustomDetector, t Type) bool {
	for _, c := range cs {
		if c.Type == t {
			return true
		}
	}
	return false
}

func typeListed(ts []Type, t Type) bool {
	for _, u := range ts {
		if u == t {
			return true
		}
	}
	return false
}

// Default is a Scanner for every built-in content type.
var Default = func() *Scanner {
	sc, err := NewScanner(Options{})
	if err != nil {
		panic(err)
	}
	return sc
}()

// Scan appends the findings in text to dst and returns it. Findings are in
// order of Start and do not overlap. Scan does not allocate when text holds
// no personal data (and when dst has room for what it finds).
func (sc *Scanner) Scan(text string, dst []Finding) []Finding {
	var st scan
	return st.do(sc, text, dst)
}

// ScanBytes is Scan for a byte slice; offsets are into b.
func (sc *Scanner) ScanBytes(b []byte, dst []Finding) []Finding {
	if len(b) == 0 {
		return dst
	}
	return sc.Scan(unsafe.String(&b[0], len(b)), dst)
}

// HasCustom reports whether the scanner runs custom detectors, which may
// find values without the characters every built-in one needs.
func (sc *Scanner) HasCustom() bool { return len(sc.custom) > 0 }

// A Workspace is scratch memory for ScanWith. Callers that scan many short
// texts (the values of a JSON document) keep one to save setting it up for
// each; it must not be used by two scans at once.
type Workspace struct{ st scan }

// ScanWith is ScanBytes with the caller's workspace.
func (sc *Scanner) ScanWith(b []byte, dst []Finding, ws *Workspace) []Finding {
	if len(b) == 0 {
		return dst
	}
	return ws.st.do(sc, unsafe.String(&b[0], len(b)), dst)
}

// do scans text; the scratch arrays are reused as they are.
func (st *scan) do(sc *Scanner, text string, dst []Finding) []Finding {
	st.sc, st.s, st.out, st.base, st.v6Until = sc, text, dst, len(dst), 0
	// Short texts (JSON values) are the ones a prefilter pays off for.
	if len(text) > 256 || mayMatch(text) {
		st.run()
	}
	if len(sc.custom) > 0 {
		st.runCustom()
	}
	out := st.out
	st.s, st.out = "", nil // hold on to no caller memory
	return out
}

// The scanner looks at every byte once: bytes that cannot start personal
// data (Han characters, punctuation, spaces) are skipped through a table;
// a letter or digit starts a word, '@' an e-mail address, ':' an IPv6
// address. Candidates are confirmed by checksums, numbering plans, dates
// and context words before they are reported.
const (
	trigNone = iota
	trigWord
	trigAt
	trigColon
	trigWide // 0xEF: the lead byte of full-width forms
)

var trigger = func() (t [256]uint8) {
	for c := 0; c < 128; c++ {
		if asciiClass[c] != clNone {
			t[c] = trigWord
		}
	}
	t['@'] = trigAt
	t[':'] = trigColon
	t[0xEF] = trigWide
	return t
}()

// mayMatch reports whether text holds a byte that every built-in finding
// needs one of: an ASCII digit, '@', ':' (IPv6), or 0xEF (the lead byte of
// full-width forms). Most short JSON values ("delivered", a name) hold
// none, and are passed over eight bytes at a time.
func mayMatch(text string) bool {
	const (
		lsb  = 0x0101010101010101
		msb  = 0x8080808080808080
		low7 = 0x7F7F7F7F7F7F7F7F
	)
	i := 0
	for ; i+8 <= len(text); i += 8 {
		v := uint64(text[i]) | uint64(text[i+1])<<8 | uint64(text[i+2])<<16 | uint64(text[i+3])<<24 |
			uint64(text[i+4])<<32 | uint64(text[i+5])<<40 | uint64(text[i+6])<<48 | uint64(text[i+7])<<56
		lo := v & low7
		// ASCII bytes from '0' to ':': at least 0x30 and not at least 0x3B.
		digitColon := (lo + lsb*(0x80-0x30)) &^ (lo + lsb*(0x80-0x3B)) &^ v
		x, y := v^lsb*'@', v^lsb*0xEF // zero bytes where '@' and 0xEF are
		zero := ^(x&low7 + low7 | x | low7) | ^(y&low7 + low7 | y | low7)
		if (digitColon|zero)&msb != 0 {
			return true
		}
	}
	for ; i < len(text); i++ {
		if c := text[i]; c >= '0' && c <= ':' || c == '@' || c == 0xEF {
			return true
		}
	}
	return false
}

// MayMatch reports whether text holds a byte every built-in finding needs
// one of (mayMatch): text without one holds nothing the built-in
// detectors find.
func MayMatch(text []byte) bool { return mayMatch(unsafe.String(unsafe.SliceData(text), len(text))) }

// maxWord bounds the characters of a word kept for validation; the longest
// value (an IBAN) has 34.
const maxWord = 48

// maxRuns bounds the digit runs joined into one number ("138 1234 5678").
const maxRuns = 8

type scan struct {
	sc   *Scanner
	s    string
	out  []Finding
	base int // findings before base belong to the caller

	// v6Until is the end of the last rejected IPv6 candidate, so that the
	// colons inside it are not tried again.
	v6Until int

	w    word
	runs [maxRuns]run
	dig  [maxRuns * 20]byte
}

// A word is a maximal run of letters and digits (ASCII or full-width).
type word struct {
	start, end int
	n, nd, nl  int           // characters, digits, letters
	c          [maxWord]byte // the first maxWord characters, as ASCII
}

// A run is one group of digits of a number written in groups.
type run struct {
	start, end int // bytes, brackets included
	d0, d1     int // its digits in scan.dig
	x          bool
}

func (st *scan) run() {
	s := st.s
	for i := 0; i < len(s); {
		switch trigger[s[i]] {
		case trigNone:
			i++
			for i < len(s) && trigger[s[i]] == trigNone {
				i++
			}
		case trigWord:
			// Most words are plain ASCII letters, which are personal data
			// only as part of something else (an e-mail address, found
			// at its '@'; a one-letter plate office, 京A 12345): skip them.
			j := i
			for j < len(s) && asciiClass[s[j]] >= clUpper {
				j++
			}
			if j-i > 1 && (j == len(s) || trigger[s[j]] != trigWord && s[j] != 0xEF) {
				i = j
				continue
			}
			// Dates and timestamps (2026-06-05T15:59:32+08:00) are
			// everywhere in tickets and APIs and are never personal data
			// the detectors report: passed over whole.
			if n := dateTimeLen(s, i); n > 0 {
				i += n
				continue
			}
			i = st.word(i)
		case trigAt:
			i = st.email(i, 1)
		case trigColon:
			i = st.ipv6(i)
		case trigWide:
			if c, w := decode(s, i); isAlnum(c) {
				i = st.word(i)
			} else if c == '@' {
				i = st.email(i, w) // the full-width ＠
			} else {
				i++
			}
		}
	}
}

// dateTimeLen returns the length of the ISO 8601 / RFC 3339 date or
// date-time starting at s[i] (at a word start), or 0: YYYY-MM-DD (or with
// '/'), years 1900–2099, then optionally [T or space]hh:mm[:ss[.frac]]
// and a zone (Z, ±hh:mm, ±hhmm). The text after it must not go on with a
// letter or digit. No mainland phone, ID, card or account number has the
// 4-2-2 grouping of a date with a valid month and day.
func dateTimeLen(s string, i int) int {
	if i > 0 && isAlnum(s[i-1]) || len(s)-i < 10 {
		return 0
	}
	d := s[i : i+10]
	sep := d[4]
	if (sep != '-' && sep != '/') || d[7] != sep ||
		!(d[0] == '1' && d[1] == '9' || d[0] == '2' && d[1] == '0') ||
		!isDigit(d[2]) || !isDigit(d[3]) || !twoDigits(d[5:7], 1, 12) || !twoDigits(d[8:10], 1, 31) {
		return 0
	}
	n := i + 10
	// The time, when there is one.
	if n+6 <= len(s) && (s[n] == 'T' || s[n] == ' ') && twoDigits(s[n+1:n+3], 0, 23) && s[n+3] == ':' && twoDigits(s[n+4:n+6], 0, 59) {
		n += 6
		if n+3 <= len(s) && s[n] == ':' && twoDigits(s[n+1:n+3], 0, 60) {
			n += 3
			if n+1 < len(s) && s[n] == '.' && isDigit(s[n+1]) {
				n++
				for n < len(s) && isDigit(s[n]) {
					n++
				}
			}
		}
		switch {
		case n < len(s) && s[n] == 'Z':
			n++
		case n+6 <= len(s) && (s[n] == '+' || s[n] == '-') && twoDigits(s[n+1:n+3], 0, 14) && s[n+3] == ':' && twoDigits(s[n+4:n+6], 0, 59):
			n += 6
		case n+5 <= len(s) && (s[n] == '+' || s[n] == '-') && twoDigits(s[n+1:n+3], 0, 14) && twoDigits(s[n+3:n+5], 0, 59):
			n += 5
		}
	}
	if n < len(s) && (isAlnum(s[n]) || s[n] == 0xEF) {
		return 0 // it goes on: not a date after all
	}
	return n - i
}

// twoDigits reports whether d is two ASCII digits from lo to hi.
func twoDigits(d string, lo, hi int) bool {
	if !isDigit(d[0]) || !isDigit(d[1]) {
		return false
	}
	v := int(d[0]-'0')*10 + int(d[1]-'0')
	return v >= lo && v <= hi
}

// readWord reads the word starting at i into w.
func readWord(s string, i int, w *word) {
	w.start = i
	// Most words are ASCII: count them through the class table and copy.
	j, nd := i, 0
	for j < len(s) {
		k := asciiClass[s[j]]
		if k == clNone {
			break
		}
		if k == clDigit {
			nd++
		}
		j++
	}
	if j == len(s) || s[j] != 0xEF {
		w.end, w.n, w.nd, w.nl = j, j-i, nd, j-i-nd
		copy(w.c[:], s[i:j])
		return
	}
	w.n, w.nd, w.nl = 0, 0, 0
	for i < len(s) {
		c := s[i]
		width := 1
		if c >= 0x80 {
			c, width = decode(s, i)
		}
		switch asciiClass[c] {
		case clNone:
			w.end = i
			return
		case clDigit:
			w.nd++
		default:
			w.nl++
		}
		if w.n < maxWord {
			w.c[w.n] = c
		}
		w.n++
		i += width
	}
	w.end = i
}

func (st *scan) emit(t Type, start, end int, conf float32) {
	if !st.sc.enabled[t] {
		return
	}
	st.out = append(st.out, Finding{Type: t, Start: start, End: end, Confidence: conf})
}

// dropOverlapping removes findings that end after start: an e-mail or IPv6
// address found at its '@' or ':' replaces what its first part looked like.
func (st *scan) dropOverlapping(start int) {
	for len(st.out) > st.base && st.out[len(st.out)-1].End > start {
		st.out = st.out[:len(st.out)-1]
	}
}

// word handles the word at i and returns where scanning resumes.
func (st *scan) word(i int) int {
	w := &st.w
	readWord(st.s, i, w)
	if w.n > maxWord {
		return w.end // too long to be anything; nothing matches inside a word
	}
	last := w.c[w.n-1]
	switch {
	case w.nl == 0, w.nl == 1 && (last == 'X' || last == 'x') && w.nd >= 14:
		return st.number()
	case w.nd == 0:
		if w.n == 1 && isUpper(w.c[0]) {
			return st.plateSplit()
		}
		return w.end
	default:
		return st.alnum()
	}
}
