package detectorstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Span is a labelled value in a text: its entity type and its UTF-8 byte
// offsets, end exclusive. In JSON it is the array [type, start, end].
type Span struct {
	Type       string
	Start, End int
}

// MarshalJSON writes the span as [type, start, end].
func (s Span) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{s.Type, s.Start, s.End})
}

// UnmarshalJSON reads a span written as [type, start, end].
func (s *Span) UnmarshalJSON(b []byte) error {
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("span: %w", err)
	}
	if len(a) != 3 {
		return fmt.Errorf("span: want [type, start, end], got %d elements", len(a))
	}
	if err := json.Unmarshal(a[0], &s.Type); err != nil {
		return fmt.Errorf("span type: %w", err)
	}
	if err := json.Unmarshal(a[1], &s.Start); err != nil {
		return fmt.Errorf("span start: %w", err)
	}
	if err := json.Unmarshal(a[2], &s.End); err != nil {
		return fmt.Errorf("span end: %w", err)
	}
	return nil
}

// Case is a labelled text: every value of personal data in Text has a span,
// in order of position, and nothing else has one.
type Case struct {
	Text  string `json:"text"`
	Spans []Span `json:"spans"`
}

// WriteJSONL writes cases one a line in the corpus format of
// ../shared/corpus/sample.jsonl: {"text": …, "spans": [[type, start, end], …]}.
func WriteJSONL(w io.Writer, cases []Case) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i, c := range cases {
		if c.Spans == nil {
			c.Spans = []Span{}
		}
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("case %d: %w", i+1, err)
		}
	}
	return bw.Flush()
}

// ReadJSONL reads cases written one a line in the corpus format.
func ReadJSONL(r io.Reader) ([]Case, error) {
	var cases []Case
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var c Case
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		cases = append(cases, c)
	}
	return cases, sc.Err()
}

// Cases returns n labelled texts in the style of sample.jsonl: its own
// templates and many more (Chinese and English sentences, several findings a
// text, values next to Han characters and full-width punctuation, full-width
// digits and letters, separators, +86/86/0086 prefixes, context words) and
// texts with look-alikes only. About 40 % of the texts have no span.
func Cases(seed int64, n int) []Case {
	g := New(seed)
	out := make([]Case, n)
	for i := range out {
		out[i] = g.Case()
	}
	return out
}

// SampleCases returns n labelled texts drawn only from the templates, value
// formats and look-alikes that sample.jsonl itself uses.
func SampleCases(seed int64, n int) []Case {
	g := New(seed)
	out := make([]Case, n)
	for i := range out {
		out[i] = g.SampleCase()
	}
	return out
}

// Case returns one labelled text drawn from all templates.
func (g *Gen) Case() Case { return g.newCase(false) }

// SampleCase returns one labelled text drawn from sample.jsonl's templates.
func (g *Gen) SampleCase() Case { return g.newCase(true) }

// builder writes a text and records the spans of the values written into it.
type builder struct {
	sb    strings.Builder
	spans []Span
}

func (b *builder) text(s string) { b.sb.WriteString(s) }

func (b *builder) value(typ, s string) {
	start := b.sb.Len()
	b.sb.WriteString(s)
	b.spans = append(b.spans, Span{Type: typ, Start: start, End: b.sb.Len()})
}

func (b *builder) done() Case {
	spans := b.spans
	if spans == nil {
		spans = []Span{}
	}
	return Case{Text: b.sb.String(), Spans: spans}
}

func (g *Gen) newCase(sample bool) Case {
	// Each clause is a template: a positive one fills {v} with a value of
	// its type, a negative one fills {x} with a look-alike.
	var cs []*template
	if g.chance(0.4) {
		cs = append(cs, g.negTemplate(sample))
		if !sample && g.chance(0.15) {
			cs = append(cs, g.negTemplate(sample))
		}
	} else {
		k := 1 + g.weighted(70, 25, 5)
		if sample {
			k = 1 + g.weighted(75, 25)
		}
		for range k {
			cs = append(cs, g.posTemplate(sample))
		}
		if !sample && g.chance(0.2) {
			cs = append(cs, g.negTemplate(sample))
			g.r.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
		}
	}
	var b builder
	sep := "；"
	if !sample {
		sep = pick(g, []string{"；", "；", "，", "。", "; ", " | ", "；"})
	}
	for i, c := range cs {
		if i > 0 {
			b.text(sep)
		}
		g.write(&b, c, sample)
	}
	return b.done()
}

// write expands a template into b.
func (g *Gen) write(b *builder, t *template, sample bool) {
	s := t.text
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.text(s)
			return
		}
		b.text(s[:i])
		j := strings.IndexByte(s[i:], '}')
		ph := s[i+1 : i+j]
		s = s[i+j+1:]
		switch ph {
		case "v":
			b.value(t.typ, g.render(t.typ, t.variant, sample))
		case "x":
			kinds := t.kinds
			if kinds == nil {
				kinds = LookAlikeKinds
				if sample {
					kinds = sampleKinds
				}
			}
			b.text(g.sampleLookAlike(pick(g, kinds), sample))
		case "name":
			b.text(g.Name())
		case "addr":
			b.text(g.Address())
		case "bank":
			b.text(pick(g, []string{"招商银行", "中国工商银行", "中国建设银行", "中国银行", "交通银行", "中国农业银行"}))
		case "date":
			b.text(g.LookAlike(KindDate))
		case "clock":
			b.text(g.LookAlike(KindClock))
		case "order":
			b.text(g.LookAlike(KindOrderNumber))
		default:
			panic("detectorstest: unknown placeholder {" + ph + "} in " + t.text)
		}
	}
}

// sampleKinds are the look-alikes sample.jsonl contains.
var sampleKinds = []string{
	KindOrderNumber, KindOrderNumber, KindUnixMillis, KindUUID, KindHexHash, KindTracking,
	KindVersion, KindMoney, KindBadIDDate, KindBadIDCheck, KindBadCard, KindBadMobile,
}

// sampleLookAlike draws a look-alike; in sample mode only in the forms the
// sample shows.
func (g *Gen) sampleLookAlike(kind string, sample bool) string {
	if !sample {
		return g.LookAlike(kind)
	}
	switch kind {
	case KindTracking:
		if g.chance(0.5) {
			return "SF" + g.digits(13)
		}
		return "TK" + g.digits(11)
	case KindMoney:
		return fmt.Sprintf("%d.%02d", g.between(1000, 99999), g.intn(100))
	case KindHexHash:
		return g.hex(32)
	case KindVersion:
		return fmt.Sprintf("v%d.%d.%d", g.between(1, 15), g.between(0, 19), g.between(0, 20))
	case KindOrderNumber:
		return g.LookAlike(KindOrderNumber)
	}
	return g.LookAlike(kind)
}

// render writes a value of typ in one of the forms people write it in.
func (g *Gen) render(typ, variant string, sample bool) string {
	switch typ {
	case "cn_mobile":
		m := g.Mobile()
		if sample {
			switch g.weighted(55, 20, 10, 7, 5, 3) {
			case 0:
				return m
			case 1:
				return FullWidth(m)
			case 2:
				return group(m, "-", 3, 4)
			case 3:
				return group(m, " ", 3, 4)
			case 4:
				return "+86" + m
			default:
				return "+86 " + group(m, " ", 3, 4)
			}
		}
		switch g.weighted(42, 12, 10, 8, 7, 5, 3, 3, 3, 3, 2, 2) {
		case 0:
			return m
		case 1:
			return FullWidth(m)
		case 2:
			return group(m, "-", 3, 4)
		case 3:
			return group(m, " ", 3, 4)
		case 4:
			return "+86" + m
		case 5:
			return "+86 " + group(m, " ", 3, 4)
		case 6:
			return "86" + m
		case 7:
			return "0086 " + m
		case 8:
			return "0086" + m
		case 9:
			return "+86-" + group(m, "-", 3, 4)
		case 10:
			return "+86 " + m
		default:
			return FullWidth(group(m, " ", 3, 4))
		}
	case "cn_landline":
		if variant == "service" {
			s := g.ServiceNumber()
			switch g.weighted(50, 20, 30) {
			case 0:
				return group(s, "-", 3, 3)
			case 1:
				return group(s, " ", 3, 3)
			default:
				return s
			}
		}
		area, sub := g.Landline()
		w := g.weighted(35, 30, 30, 5)
		if sample {
			w = g.weighted(35, 35, 30)
		}
		switch w {
		case 0:
			return area + "-" + sub
		case 1:
			return area + " " + sub
		case 2:
			return area + sub
		default:
			return FullWidth(area + sub)
		}
	case "cn_resident_id":
		if variant == "legacy" {
			return g.LegacyResidentID()
		}
		id := g.ResidentID()
		if sample {
			return id
		}
		switch g.weighted(80, 8, 5, 4) {
		case 1:
			return FullWidth(id)
		case 2:
			return strings.ToLower(id)
		case 3:
			return group(id, " ", 6, 8)
		}
		return id
	case "bank_card":
		c := g.BankCard()
		if sample {
			// The sample's cards have 16 or 19 digits.
			for len(c) != 16 && len(c) != 19 {
				c = g.BankCard()
			}
			return c
		}
		switch g.weighted(70, 18, 5, 3, 4) {
		case 1:
			if len(c) == 15 {
				return group(c, " ", 4, 6)
			}
			return groupsOf4(c, " ")
		case 2:
			return groupsOf4(c, "-")
		case 3:
			return FullWidth(c)
		case 4:
			return g.Card("amex")
		}
		return c
	case "email":
		if !sample && g.chance(0.06) {
			return g.MobileEmail()
		}
		return g.Email()
	case "ip_address":
		if g.chance(0.7) {
			return g.IPv4()
		}
		return g.IPv6()
	case "hk_id":
		if sample {
			body, check := g.hkidParts()
			for len(body) != 7 {
				body, check = g.hkidParts()
			}
			return body + "(" + string(check) + ")"
		}
		switch g.weighted(84, 10, 6) {
		case 1:
			body, check := g.hkidParts()
			return body + string(check)
		case 2:
			return FullWidth(g.HKID())
		}
		return g.HKID()
	case "tw_id":
		if !sample && g.chance(0.05) {
			return FullWidth(g.TWID())
		}
		return g.TWID()
	case "cn_passport":
		if g.chance(0.05) {
			return FullWidth(g.Passport())
		}
		return g.Passport()
	case "cn_license_plate":
		p := g.Plate()
		if g.chance(0.4) {
			r := []rune(p)
			return string(r[:2]) + "·" + string(r[2:])
		}
		return p
	case "intl_phone":
		e, _ := g.IntlPhone()
		if g.chance(0.5) {
			return FormatIntl(e)
		}
		return e
	case "iban":
		i := g.IBAN()
		if g.chance(0.5) {
			return GroupIBAN(i)
		}
		return i
	}
	panic("detectorstest: cannot render type " + typ)
}
