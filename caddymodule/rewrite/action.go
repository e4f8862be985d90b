package rewrite

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// A Tokenizer turns a value into a reversible token (the tokens feature
// provides one). Without it, tokenize redacts: failing closed.
type Tokenizer interface {
	Tokenize(dst []byte, t detectors.Type, value []byte) ([]byte, error)
}

// actor applies actions to values.
type actor struct {
	table     *config.Table
	hashPool  *sync.Pool // of hash.Hash, HMAC-SHA256 under the hash key
	tokenizer Tokenizer
	// conventional has a bit for each built-in type whose plain-digit
	// values take the national convention: no admin mask replaces it.
	conventional uint64
	// customEmail and customName are set when an admin mask replaces the
	// built-in e-mail or name mask (table.Mask), for walker.actString.
	customEmail, customName bool
	// customMobileMask: an admin mask replaces the mobile's, and applies
	// to whatever a mobile's key types (landlines under phone too).
	customMobileMask bool
	// customLandlineMask: an admin mask for landlines, which applies to a
	// landline under a mobile's key even when the mobile has one too.
	customLandlineMask bool
}

func newActor(table *config.Table, hashKey []byte, tok Tokenizer) *actor {
	a := &actor{table: table, tokenizer: tok}
	for t := range maskKeep {
		if _, custom := table.Mask(detectors.Type(t)); maskKeep[t].conventional && !custom {
			a.conventional |= 1 << t
		}
	}
	_, a.customEmail = table.Mask(detectors.Email)
	_, a.customName = table.Mask(detectors.PersonName)
	_, a.customMobileMask = table.Mask(detectors.CNMobile)
	_, a.customLandlineMask = table.Mask(detectors.CNLandline)
	if len(hashKey) > 0 {
		key := append([]byte(nil), hashKey...)
		a.hashPool = &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	}
	return a
}

// apply appends what an agent receives for value (decoded text) of type t
// under action act. It returns ok=false for drop: the caller removes the
// value (or, inside a text, leaves nothing).
func (a *actor) apply(dst []byte, t detectors.Type, act config.Action, value []byte) ([]byte, error) {
	return a.applyTo(dst, t, act, value, false)
}

// applyFound is apply for a value the detectors found in text: one value
// of its type by construction, which the mask need not check.
func (a *actor) applyFound(dst []byte, t detectors.Type, act config.Action, value []byte) ([]byte, error) {
	return a.applyTo(dst, t, act, value, true)
}

func (a *actor) applyTo(dst []byte, t detectors.Type, act config.Action, value []byte, found bool) ([]byte, error) {
	if t == detectors.CNMobile && (act == config.Hash || act == config.Mask && a.landlineMaskApplies()) && !(len(value) == 11 && allDigits(value)) {
		// A landline under a key that types mobiles (phone, 电话): the
		// mobile's action, with a landline's mask and pseudonym (its
		// shape, and the one it has under landline or in text).
		var buf [64]byte
		if tt, ok := detectors.NationalPhoneType(canonical(buf[:0], detectors.CNLandline, value)); ok && tt == detectors.CNLandline {
			t = tt
		}
	}
	switch act {
	case config.Plain:
		return append(dst, value...), nil
	case config.Mask:
		if found {
			return a.maskOne(dst, t, value), nil
		}
		return a.mask(dst, t, value), nil
	case config.Hash:
		if a.hashPool == nil {
			return redact(dst, t), nil
		}
		return a.hash(dst, t, value), nil
	case config.Tokenize:
		if a.tokenizer == nil {
			return redact(dst, t), nil
		}
		return a.tokenizer.Tokenize(dst, t, value)
	case config.Drop:
		return dst, nil
	default:
		return redact(dst, t), nil
	}
}

// landlineMaskApplies reports whether a landline under a mobile's key is
// masked as a landline: unless an admin set the mobile's mask and not a
// landline's that keeps as little (the stricter admin mask wins).
func (a *actor) landlineMaskApplies() bool {
	if !a.customMobileMask {
		return true
	}
	if !a.customLandlineMask {
		return false
	}
	m, _ := a.table.Mask(detectors.CNMobile)
	l, _ := a.table.Mask(detectors.CNLandline)
	return l.KeepFirst+l.KeepLast <= m.KeepFirst+m.KeepLast
}

// redactedJSON holds each built-in type's redaction as a JSON string:
// "[cn_mobile]".
var redactedJSON = func() (r [detectors.NumBuiltin][]byte) {
	for t := range r {
		r[t] = quote(nil, redact(nil, detectors.Type(t)))
	}
	return r
}()

// redact appends the placeholder for t: [cn_mobile].
func redact(dst []byte, t detectors.Type) []byte {
	dst = append(dst, '[')
	dst = append(dst, t.String()...)
	return append(dst, ']')
}

// hash appends "hash:<type>:<22 base64url characters>", an HMAC-SHA256 of
// the type and the value's canonical form, so that 138-1234-5678 and
// +8613812345678 give the same pseudonym while the value stays hidden.
func (a *actor) hash(dst []byte, t detectors.Type, value []byte) []byte {
	h := a.hashPool.Get().(hash.Hash)
	defer a.hashPool.Put(h)
	h.Reset()
	var canon [128]byte
	h.Write([]byte(t.String()))
	h.Write([]byte{0})
	h.Write(canonical(canon[:0], t, value))
	var sum [sha256.Size]byte
	dst = append(dst, "hash:"...)
	dst = append(dst, t.String()...)
	dst = append(dst, ':')
	return base64.RawURLEncoding.AppendEncode(dst, h.Sum(sum[:0])[:16])
}

// canonical is the form hashed: for number-like types the significant
// characters (full width folded, separators and the +86 prefix dropped,
// upper case); for e-mail, lower case; otherwise the value itself.
func canonical(dst []byte, t detectors.Type, v []byte) []byte {
	base := len(dst)
	switch t {
	case detectors.Email:
		// Full-width forms (ｚｈａｎｇ＠…) as ASCII, as the detector reads
		// them, and letters in one case; surrounding space left out.
		v = trimSpace(v)
		for i := 0; i < len(v); {
			r, w := utf8.DecodeRune(v[i:])
			i += w
			if r = fold(r); r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst = utf8.AppendRune(dst, r)
		}
		return dst
	case detectors.PersonName, detectors.Address:
		// Full-width forms folded, surrounding space left out.
		return appendFolded(dst, trimSpace(v))
	case detectors.BirthDate:
		// A date's digits in year, month, day order when it reads as
		// one (1990-03-07, 1990年3月7日, １９９０/３/７), else folded.
		f := appendFolded(dst, trimSpace(v))
		if ymd, ok := dateDigits(f[base:]); ok {
			return append(dst[:base], ymd[:]...)
		}
		return f
	case detectors.IPAddress:
		// The separators are the address: 192.168.1.10 is not
		// 19.216.81.10. An address's one spelling, or the value as
		// written when it does not parse.
		if a, ok := parseIP(v); ok {
			return a.Unmap().AppendTo(dst) // ::ffff:192.168.1.10 is 192.168.1.10
		}
		return append(dst, v...)
	}
	// Numbers and codes: their letters and digits, full-width forms as
	// ASCII, letters in one case; separators of any kind (dashes, spaces,
	// zero-width and no-break spaces, dots) are not part of the value.
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		i += w
		r = fold(r)
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			dst = append(dst, byte(r))
		case r >= 'a' && r <= 'z':
			dst = append(dst, byte(r-'a'+'A'))
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsNumber(r)):
			dst = utf8.AppendRune(dst, r)
		}
	}
	c := dst[base:]
	if t == detectors.CNMobile || t == detectors.CNLandline {
		if p := plusAt(v); p >= 0 {
			_, w := utf8.DecodeRune(v[p:])
			if !plus86(v[p+w:]) {
				// Another country's number: +1 347 555 0123 is not
				// the mainland's 13475550123.
				dst = append(dst, 0)
				copy(dst[base+1:], dst[base:len(dst)-1])
				dst[base] = '+'
				return dst
			}
		}
	}
	switch t {
	case detectors.CNMobile:
		// 0086 138…, +86 138…, 86138…, and with a trunk 0 after the
		// country code (+86 (0)138 …), are 138….
		rest := c
		switch {
		case len(c) >= 15 && string(c[:4]) == "0086":
			rest = c[4:]
		case len(c) == 13 && string(c[:2]) == "86", len(c) == 14 && string(c[:3]) == "860" && foreignCode(v):
			rest = c[2:]
		}
		if len(rest) == 12 && rest[0] == '0' && len(rest) != len(c) {
			rest = rest[1:]
		}
		if len(rest) == 11 && len(rest) != len(c) {
			dst = append(dst[:base], rest...)
		}
	case detectors.CNLandline:
		// +86 10 1234 5678 is 010-12345678: the country code stands
		// where the trunk prefix 0 does (+86 (0)10 … writes both). Only
		// a code written as one (+86, 0086) counts: a bare 86 may begin
		// a local number.
		switch {
		case len(c) >= 13 && len(c) <= 16 && string(c[:4]) == "0086":
			if c[4] == '0' {
				dst = append(dst[:base], c[4:]...)
			} else {
				c[3] = '0'
				dst = append(dst[:base], c[3:]...)
			}
		case len(c) >= 11 && len(c) <= 14 && c[0] == '8' && c[1] == '6' && foreignCode(v):
			if c[2] == '0' {
				dst = append(dst[:base], c[2:]...)
			} else {
				c[1] = '0'
				dst = append(dst[:base], c[1:]...)
			}
		}
	}
	return dst
}

// trimSpace leaves out white space around v, no-break and zero-width
// spaces included.
func trimSpace(v []byte) []byte {
	return bytes.TrimFunc(v, func(r rune) bool {
		return unicode.IsSpace(r) || r == 0x200B || r == 0xFEFF || r == 0x3000
	})
}

// appendFolded appends v with full-width forms folded.
func appendFolded(dst, v []byte) []byte {
	if ascii(v) {
		return append(dst, v...)
	}
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		dst = utf8.AppendRune(dst, fold(r))
		i += w
	}
	return dst
}

// dateDigits reads a date written year first (1990-03-07, 1990/3/7,
// 1990.03.07, 19900307, 1990年3月7日) as YYYYMMDD.
func dateDigits(v []byte) (out [8]byte, ok bool) {
	var parts [3][]byte
	n := 0
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		if j > i {
			if n == 3 || n == 1 && len(parts[0]) == 8 {
				// A time of day after the date (1990-03-07T00:00:00Z,
				// 1990-03-07 00:00, 19900307T000000Z): the date is what
				// came before. Anything else is another value.
				if timeAt(v, i) {
					break
				}
				return out, false
			}
			parts[n] = v[i:j]
			n++
			i = j
			continue
		}
		i++
	}
	switch {
	case n == 1 && len(parts[0]) == 8:
		copy(out[:], parts[0])
		return out, true
	case n == 3 && len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2:
		copy(out[:4], parts[0])
		out[4], out[5] = '0', '0'
		copy(out[6-len(parts[1]):6], parts[1])
		out[6], out[7] = '0', '0'
		copy(out[8-len(parts[2]):], parts[2])
		return out, true
	}
	return out, false
}

// timeAt reports whether a time of day starts at v[i] after a T or a
// space: hh:mm (seconds, fraction and zone may follow) or ISO 8601's
// basic hhmm or hhmmss, with nothing after it but a fraction and a zone.
func timeAt(v []byte, i int) bool {
	if c := v[i-1]; c != 'T' && c != 't' && c != ' ' {
		return false
	}
	j := i
	for j < len(v) && v[j] >= '0' && v[j] <= '9' {
		j++
	}
	switch n := j - i; {
	case n <= 2 && j+2 < len(v) && v[j] == ':' && v[j+1] >= '0' && v[j+1] <= '9' && v[j+2] >= '0' && v[j+2] <= '9':
	case (n == 4 || n == 6) && v[i-1] != ' ': // the basic form after its T only
	default:
		return false
	}
	// Seconds, a fraction and a zone may follow: Z, ±hh[:mm], a name
	// (UTC, CST), a region in brackets ([Asia/Shanghai]).
	for ; j < len(v); j++ {
		switch c := v[j]; {
		case c >= '0' && c <= '9', c == ':', c == '.', c == ',', c == '+', c == '-', c == ' ',
			c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '[', c == ']', c == '/', c == '_':
		default:
			return false
		}
	}
	return true
}

// parseIP reads an IP address as the detectors find it (full-width forms
// folded, surrounding space ignored).
func parseIP(v []byte) (netip.Addr, bool) {
	if ascii(v) {
		a, err := netip.ParseAddr(strings.TrimSpace(view(v))) // a zone is copied (unique.Make)
		return a, err == nil
	}
	folded := appendFolded(make([]byte, 0, len(v)), v) // full-width forms, as everywhere
	a, err := netip.ParseAddr(strings.TrimSpace(string(folded)))
	return a, err == nil
}

// The mask conventions. The three number formats keep what the national
// conventions show (GB/T 35273 and JR/T 0171 examples: a mobile's first 3
// and last 4 digits, an ID's region and last 4, a card's IIN and last 4);
// they are the only masks that show more than half of a value, and only
// when the value has its type's length (canonicalLength). Every other mask,
// and every mask an admin configures, shows at most half of the
// significant characters.
type keep struct{ first, last int }

// maskKeep holds, per built-in type, the kept characters and whether
// they are one of the conventions.
var maskKeep = func() (t [detectors.NumBuiltin]struct {
	keep
	set, conventional bool
}) {
	for typ, k := range map[detectors.Type]keep{
		detectors.CNMobile: {3, 4}, detectors.CNResidentID: {6, 4}, detectors.BankCard: {6, 4},
	} {
		t[typ].keep, t[typ].set, t[typ].conventional = k, true, true
	}
	for typ, k := range map[detectors.Type]keep{
		detectors.CNLandline: {3, 2}, detectors.HKID: {3, 0}, detectors.TWID: {2, 2},
		detectors.CNPassport: {2, 2}, detectors.IntlPhone: {3, 2}, detectors.IBAN: {4, 4},
		detectors.BirthDate: {4, 0},
	} {
		t[typ].keep, t[typ].set = k, true
	}
	return t
}()

const maskRune = '*'

// mask appends value with its significant characters hidden, format-aware:
// separators, brackets and prefixes stay where they were.
func (a *actor) mask(dst []byte, t detectors.Type, v []byte) []byte {
	return a.maskValue(dst, t, v, false)
}

// maskOne is mask for a value known to be one value of its type (the
// detectors found it so).
func (a *actor) maskOne(dst []byte, t detectors.Type, v []byte) []byte {
	return a.maskValue(dst, t, v, true)
}

func (a *actor) maskValue(dst []byte, t detectors.Type, v []byte, one bool) []byte {
	if t == detectors.Email {
		return a.maskEmail(dst, v)
	}
	if a.conventional&(1<<(uint(t)&63)) != 0 {
		if k, ok := digitsOnly(t, v); ok {
			// The common case: a mobile, ID or card number as plain
			// digits, under the national convention.
			return maskDigits(dst, v, k)
		}
	}
	spec, custom := a.table.Mask(t)
	if t == detectors.PersonName && !custom && hanOnly(v) && len(v) >= 6 {
		return maskHan(dst, v) // the common case: one word of Chinese characters
	}
	if t == detectors.Address {
		// An address keeps only its divisions, and only when it starts
		// with them: what stands before (a name, a mobile) is not the
		// address.
		if !custom || !startsWithProvince(v) {
			return maskAddress(dst, v)
		}
	} else if !one && !oneValue(t, v) {
		// More than one value of the type (a name and a mobile, two
		// mobiles): nothing of it shows, as nothing tells which part is
		// the value.
		return maskRange(dst, v, keep{}, countSignificant(v))
	}
	if !custom {
		switch t {
		case detectors.PersonName:
			return maskName(dst, v)
		case detectors.IPAddress:
			return maskIP(dst, v)
		case detectors.CNLicensePlate:
			return maskPlate(dst, v)
		}
	}
	skip, n := prefixAndCount(t, v)
	if t == detectors.BirthDate && !custom {
		return maskBirthDate(dst, v, n)
	}
	var k keep
	switch {
	case custom:
		k = halve(keep{spec.KeepFirst, spec.KeepLast}, n)
		if t == detectors.Address && bytes.ContainsAny(v, " \t,;，；、") {
			// What follows a break in an address may be a name or a
			// number (收件人张三丰, a mobile): its end is not shown.
			k.last = 0
		}
	case int(t) < len(maskKeep) && maskKeep[t].set:
		k = maskKeep[t].keep
		if !maskKeep[t].conventional || !canonicalLength(t, n) || skip == 0 && foreignCode(v) ||
			t == detectors.CNMobile && !firstDigitOne(v[skip:]) {
			// (+1 202 555 0123 has a mobile's 11 digits, but is not
			// one: the convention is the mainland's.)
			k = halve(k, n)
		}
	default:
		k = halve(keep{n / 4, n / 4}, n)
	}
	dst = append(dst, v[:skip]...)
	return maskRange(dst, v[skip:], k, n)
}

// firstDigitOne reports whether v's first digit is 1, as a mobile's is:
// the mobile convention (138****5678) is for mobiles only.
func firstDigitOne(v []byte) bool {
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		if r = fold(r); r >= '0' && r <= '9' {
			return r == '1'
		}
		i += w
	}
	return false
}

// maskBirthDate shows of a birth date only a year written as one, at
// its start (1990-**-**) or at its end (**/**/1990): a number of
// another shape (an epoch in seconds or milliseconds, 6367…, pins the
// day), or a date whose year is not four digits at one end, shows none
// of its digits.
func maskBirthDate(dst, v []byte, n int) []byte {
	first, last, cur := 0, 0, 0 // the lengths of the digit runs at either end
	runs := 0
	var lead rune
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		i += w
		if r = fold(r); r >= '0' && r <= '9' {
			if cur == 0 {
				runs++
				if runs == 1 {
					lead = r
				}
			}
			cur++
			if runs == 1 {
				first = cur
			}
			last = cur
			continue
		}
		cur = 0
	}
	switch {
	case runs >= 2 && first == 4:
		return maskRange(dst, v, halve(keep{4, 0}, n), n)
	case runs >= 2 && last == 4:
		return maskRange(dst, v, halve(keep{0, 4}, n), n)
	case runs == 1 && first == 8 && n == 8:
		var d [8]byte
		for i, j := 0, 0; i < len(v) && j < 8; {
			r, w := utf8.DecodeRune(v[i:])
			i += w
			if r = fold(r); r >= '0' && r <= '9' {
				d[j] = byte(r)
				j++
			}
		}
		switch {
		case (lead == '1' || lead == '2') && monthDay(d[4:6], d[6:8]):
			return maskRange(dst, v, keep{4, 0}, n) // 19900307
		case monthDay(d[2:4], d[0:2]) && (d[4] == '1' || d[4] == '2'):
			return maskRange(dst, v, keep{0, 4}, n) // 07031990
		}
	}
	return maskRange(dst, v, keep{}, n)
}

// monthDay reports whether two two-digit fields are a month and a day.
func monthDay(m, d []byte) bool {
	mm := int(m[0]-'0')*10 + int(m[1]-'0')
	dd := int(d[0]-'0')*10 + int(d[1]-'0')
	return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31
}

// oneValue reports whether v, typed t, can be a single value of its type:
// a number without letters (an ID's X check character aside) and without
// more digits than its type has, a well-formed IP address or plate, and
// otherwise one token (no space or list punctuation between characters:
// "张三 13812345678" under person_name is a name and a mobile).
func oneValue(t detectors.Type, v []byte) bool {
	switch t {
	case detectors.CNMobile, detectors.CNLandline, detectors.CNResidentID, detectors.BankCard:
		if ascii(v) {
			skip, n := prefixAndCount(t, v)
			if n > maxDigits(t) {
				return false
			}
			for i, c := range v[skip:] {
				if c|0x20 >= 'a' && c|0x20 <= 'z' && !(t == detectors.CNResidentID && c|0x20 == 'x' && !anyAlnum(v[skip+i+1:])) {
					return false // a letter (an ID's X only at its end)
				}
			}
			return true
		}
		skip := prefixLen(t, v)
		digits, last := 0, rune(0)
		for i := skip; i < len(v); {
			r, w := rune(v[i]), 1
			if r >= utf8.RuneSelf {
				r, w = utf8.DecodeRune(v[i:])
			}
			i += w
			if !significant(r) {
				continue
			}
			if last == 'X' || last == 'x' {
				return false // an X that was not last
			}
			switch f := fold(r); {
			case f >= '0' && f <= '9':
				digits++
			case t == detectors.CNResidentID && (f == 'X' || f == 'x'):
				digits++
				last = f
			default:
				return false
			}
		}
		return digits <= maxDigits(t)
	case detectors.IPAddress:
		_, ok := parseIP(v)
		return ok
	case detectors.CNLicensePlate:
		return plateLike(v)
	case detectors.IBAN:
		return ibanLike(v)
	}
	return !severalTokens(v)
}

// ibanLike reports whether v is written as one IBAN: two letters, then
// letters and digits, 34 at most, in one piece or in groups of four (the
// last shorter) separated by single spaces.
func ibanLike(v []byte) bool {
	n, group, groups := 0, 0, 0
	for i, c := range v {
		switch {
		case c == ' ':
			if group != 4 {
				return false
			}
			group = 0
			groups++
			continue
		case c >= '0' && c <= '9', c|0x20 >= 'a' && c|0x20 <= 'z':
		default:
			return false
		}
		if i < 2 && c|0x20 < 'a' {
			return false // the country's letters
		}
		n++
		group++
	}
	return n <= 34 && group > 0 && (groups == 0 || group <= 4)
}

// anyAlnum reports whether v holds an ASCII letter or digit.
func anyAlnum(v []byte) bool {
	for _, c := range v {
		if isAlnumASCII(c) {
			return true
		}
	}
	return false
}

// maxDigits returns the most digits a value of each number type has (after a
// country code): a mobile's 11, a landline's 12 with its trunk prefix, an
// ID's 18, a card's 19.
func maxDigits(t detectors.Type) int {
	switch t {
	case detectors.CNMobile:
		return 11
	case detectors.CNLandline:
		return 12
	case detectors.CNResidentID:
		return 18
	}
	return 19 // a bank card's
}

// severalTokens reports whether white space or list punctuation stands
// between two significant characters of v.
func severalTokens(v []byte) bool {
	if !mayHoldGap(v) {
		return false // the common case: no byte of a separator below
	}
	seen, gap := false, false
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		i += w
		switch {
		case significant(r):
			if gap {
				return true
			}
			seen = true
		case seen && (unicode.IsSpace(r) || r == 0x3000 || r == 0x200B || r == ',' || r == ';' ||
			r == '，' || r == '；' || r == '、' || r == '|'):
			gap = true
		}
	}
	return false
}

// mayHoldGap reports whether v holds a byte of one of the separators
// severalTokens reads: ASCII ones, or the lead byte of a Unicode space
// (U+0085, U+00A0, U+1680, U+2000–U+205F, U+3000) or of a full-width comma,
// semicolon or enumeration comma (U+FF0C, U+FF1B, U+3001).
func mayHoldGap(v []byte) bool {
	for _, c := range v {
		switch c {
		case ' ', '\t', '\n', '\r', '\v', '\f', ',', ';', '|', 0xC2, 0xE1, 0xE2, 0xE3, 0xEF:
			return true
		}
	}
	return false
}

// plateLike reports whether v has a mainland plate's shape: a province's
// character, a letter, then five or six letters and digits (separators
// aside).
func plateLike(v []byte) bool {
	n := 0
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		i += w
		if r == 0xB7 || r == '-' || r == ' ' {
			if n < 2 {
				return false
			}
			continue
		}
		f := fold(r)
		switch {
		case n == 0:
			if !unicode.Is(unicode.Han, r) {
				return false
			}
		case n == 1:
			if !(f >= 'A' && f <= 'Z') {
				return false
			}
		case !(f >= 'A' && f <= 'Z' || f >= '0' && f <= '9' || unicode.Is(unicode.Han, r) && n == 6):
			return false // the last may be 学, 警, 挂 …
		}
		n++
	}
	return n == 7 || n == 8
}

// maskDigits appends v, all digits, with those k does not keep masked.
func maskDigits(dst, v []byte, k keep) []byte {
	dst = append(dst, v[:k.first]...)
	dst = append(dst, stars[:len(v)-k.first-k.last]...)
	return append(dst, v[len(v)-k.last:]...)
}

// stars is what maskDigits writes for hidden digits (the longest value it
// masks is a 19-digit card).
const stars = "********************************"

// halve reduces k until it shows at most half of n characters, taking
// from the end first.
func halve(k keep, n int) keep {
	for k.first+k.last > n/2 {
		if k.last > 0 {
			k.last--
		} else {
			k.first--
		}
	}
	return k
}

// canonicalLength reports whether a value of type t with n significant
// characters has the length its national convention is for: 11 digits for
// a mobile, 18 for an ID, 16 to 19 for a mainland bank card (JR/T 0171).
// The IIN and last 4 of a shorter card (12 to 15 digits: Amex, Maestro)
// would show more than half of it.
func canonicalLength(t detectors.Type, n int) bool {
	switch t {
	case detectors.CNMobile:
		return n == 11
	case detectors.CNResidentID:
		return n == 18
	case detectors.BankCard:
		return n >= 16 && n <= 19
	}
	return false
}

// digitsOnly returns the conventional keep for a value that is nothing but
// the digits of its type's canonical length (an X check character allowed
// at the end of an ID), the masks' fast path.
func digitsOnly(t detectors.Type, v []byte) (keep, bool) {
	if int(t) >= len(maskKeep) || !maskKeep[t].conventional || !canonicalLength(t, len(v)) {
		return keep{}, false
	}
	n := len(v)
	if t == detectors.CNResidentID && (v[n-1] == 'X' || v[n-1] == 'x') {
		n-- // the check character may be X
	}
	if !allDigits(v[:n]) {
		return keep{}, false
	}
	return maskKeep[t].keep, true
}

// allDigits reports whether v holds only ASCII digits, eight bytes at a
// time: a byte is a digit when it is ASCII, at least '0' and below ':'.
func allDigits(v []byte) bool {
	const lo, hi, top = 0x3030303030303030, 0x4646464646464646, 0x8080808080808080
	for len(v) >= 8 {
		x := binary.LittleEndian.Uint64(v)
		// x+hi sets a byte's top bit when it is ':' or above (ASCII bytes
		// do not carry); (x|top)-lo clears it when the byte is below '0'
		// (no byte borrows).
		if (x|(x+hi)|^((x|top)-lo))&top != 0 {
			return false
		}
		v = v[8:]
	}
	for _, c := range v {
		if !isDigitASCII(c) {
			return false
		}
	}
	return true
}

// prefixAndCount returns the length of a prefix that mask keeps whole (a
// country code, +86 or 0086, before a mainland number) and the number of
// significant characters after it.
func prefixAndCount(t detectors.Type, v []byte) (int, int) {
	if !ascii(v) {
		skip := prefixLen(t, v)
		return skip, countSignificant(v[skip:])
	}
	n := 0
	for _, c := range v {
		if isAlnumASCII(c) {
			n++
		}
	}
	if t != detectors.CNMobile && t != detectors.CNLandline || len(v) < 2 {
		return 0, n
	}
	switch {
	case v[0] == '+' && len(v) >= 3 && v[1] == '8' && v[2] == '6':
		return 3, n - 2 // the mainland's country code; any other is digits of the value
	case n == 15 && len(v) >= 4 && string(v[:4]) == "0086":
		return 4, n - 4
	case n == 13 && string(v[:2]) == "86" && t == detectors.CNMobile:
		return 2, n - 2 // (a bare 86 may begin a landline's local number)
	}
	return 0, n
}

func isDigitASCII(c byte) bool { return c >= '0' && c <= '9' }

// prefixLen is the length of a prefix that mask keeps whole: a country
// code (+86, 0086) before a mainland number.
func prefixLen(t detectors.Type, v []byte) int {
	if t != detectors.CNMobile && t != detectors.CNLandline {
		return 0
	}
	i := 0
	if i < len(v) && v[i] == '+' {
		i++
	} else if len(v) >= 3 && v[0] == 0xEF && v[1] == 0xBC && v[2] == 0x8B { // ＋
		i += 3
	}
	digits := 0
	j := i
	for j < len(v) && digits < 4 {
		r, w := utf8.DecodeRune(v[j:])
		if fold(r) < '0' || fold(r) > '9' {
			break
		}
		digits++
		j += w
	}
	// With a '+', the country code is 86; without, 0086 or 86 before a
	// 13- or 15-digit number.
	n := countSignificant(v)
	switch {
	case i > 0 && digits >= 2 && plus86(v[i:]):
		return i + digitsWidth(v[i:], 2)
	case n == 15 && digits == 4 && string(v[:4]) == "0086":
		return 4
	case n == 13 && digits >= 2 && string(v[:2]) == "86" && t == detectors.CNMobile:
		return 2
	}
	return 0
}

// foreignCode reports whether v starts with a '+' (ASCII or full-width):
// with no mainland prefix read, a country code other than 86.
func foreignCode(v []byte) bool {
	return plusAt(v) >= 0
}

// plusAt returns the index of a '+' (ASCII or full-width) that stands
// before the value's first letter or digit, whatever else comes before it
// (spaces of any kind, brackets), or -1.
func plusAt(v []byte) int {
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		switch {
		case r == '+' || r == '＋':
			return i
		case significant(r):
			return -1
		}
		i += w
	}
	return -1
}

// plus86 reports whether v, what follows a '+', starts with the digits 86
// (ASCII or full-width), separators before them aside ("+ 86", "+(86)").
func plus86(v []byte) bool {
	want := "86"
	for i := 0; i < len(v) && want != ""; {
		r, w := utf8.DecodeRune(v[i:])
		i += w
		if !significant(r) {
			continue
		}
		if fold(r) != rune(want[0]) {
			return false
		}
		want = want[1:]
	}
	return want == ""
}

func digitsWidth(v []byte, n int) int {
	w := 0
	for ; n > 0 && w < len(v); n-- {
		_, s := utf8.DecodeRune(v[w:])
		w += s
	}
	return w
}

// ascii reports whether v is all ASCII, for the fast paths.
func ascii(v []byte) bool {
	for _, c := range v {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isAlnumASCII(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
}

// fold maps full-width forms to ASCII.
func fold(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		return r - 0xFEE0
	}
	return r
}

func significant(r rune) bool {
	r = fold(r)
	return r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' ||
		r >= 0x4E00 && r <= 0x9FFF || // CJK ideographs, the common case, without the tables
		// Any other letter or digit: a number in Chinese numerals
		// (一三八…), Arabic-Indic or mathematical digits is as much the
		// value as in ASCII.
		r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsNumber(r))
}

// twoSignificant reports whether v holds two significant characters or
// more.
func twoSignificant(v []byte) bool {
	n := 0
	for i := 0; i < len(v) && n < 2; {
		if c := v[i]; c < utf8.RuneSelf {
			if isAlnumASCII(c) {
				n++
			}
			i++
			continue
		}
		r, w := utf8.DecodeRune(v[i:])
		if significant(r) {
			n++
		}
		i += w
	}
	return n >= 2
}

// maskHan masks a name of two or more Chinese characters (hanOnly): the
// first, then a star for each of the others.
func maskHan(dst, v []byte) []byte {
	return append(append(dst, v[:3]...), stars[:len(v)/3-1]...)
}

// hanOnly reports whether v is CJK ideographs of U+4E00–U+9FFF only (three
// bytes each, lead bytes E4–E9), up to 32 of them.
func hanOnly(v []byte) bool {
	if len(v)%3 != 0 || len(v) > 3*len(stars) {
		return false
	}
	for i := 0; i < len(v); i += 3 {
		if v[i] < 0xE4 || v[i] > 0xE9 || v[i+1]&0xC0 != 0x80 || v[i+2]&0xC0 != 0x80 {
			return false
		}
	}
	return true
}

// significantAt reports whether the character at v[i:] is significant.
func significantAt(v []byte, i int) bool {
	if v[i] < utf8.RuneSelf {
		return isAlnumASCII(v[i])
	}
	r, _ := utf8.DecodeRune(v[i:])
	return significant(r)
}

func countSignificant(v []byte) int {
	n := 0
	if ascii(v) {
		for _, c := range v {
			if isAlnumASCII(c) {
				n++
			}
		}
		return n
	}
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		if significant(r) {
			n++
		}
		i += w
	}
	return n
}

// maskRange hides the significant characters of v outside the first
// k.first and the last k.last of its n.
func maskRange(dst, v []byte, k keep, n int) []byte {
	idx := 0
	if ascii(v) {
		base := len(dst)
		dst = append(dst, v...)
		hide := dst[base:]
		for i, c := range v {
			if isAlnumASCII(c) {
				if idx >= k.first && idx < n-k.last {
					hide[i] = maskRune
				}
				idx++
			}
		}
		return dst
	}
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		if significant(r) {
			if idx >= k.first && idx < n-k.last {
				dst = append(dst, maskRune)
			} else {
				dst = append(dst, v[i:i+w]...)
			}
			idx++
		} else {
			dst = append(dst, v[i:i+w]...)
		}
		i += w
	}
	return dst
}

// maskEmail keeps the first character of the local part and the domain:
// zhang.san@example.com → z***@example.com. Three stars whatever the
// length, so the mask does not tell it.
func (a *actor) maskEmail(dst, v []byte) []byte {
	at := bytes.LastIndexByte(v, '@')
	if at < 0 {
		return maskRange(dst, v, halve(keep{1, 0}, countSignificant(v)), countSignificant(v))
	}
	first := 0
	if spec, ok := a.table.Mask(detectors.Email); ok {
		first = halve(keep{spec.KeepFirst, 0}, countSignificant(v[:at])).first
	} else if at >= 2 && significantAt(v, 0) && twoSignificant(v[:at]) {
		first = 1 // a letter or digit, of at least two before the '@'
	}
	w := digitsWidth(v[:at], first)
	dst = append(dst, v[:w]...)
	dst = append(dst, "***"...)
	// The domain, and nothing after it: a value that goes on past the
	// address (a mobile, a street) has the rest masked whole. The domain
	// ends with its last label of letters (the top-level domain), after
	// at least one other, as the e-mail detector reads it. A label of
	// five digits or more may be a number glued into the domain
	// (a@13812345678.cn): its characters are hidden too.
	if simpleDomain(v[at+1:]) {
		return append(dst, v[at:]...) // the common case: nothing after it
	}
	end, digitLabel := at+1, len(v)
	for p, labels := at+1, 0; ; {
		q, digits, letters := p, 0, true
		for q < len(v) {
			switch c := v[q]; {
			case c|0x20 >= 'a' && c|0x20 <= 'z':
			case c >= '0' && c <= '9':
				digits++
				letters = false
			case c == '-':
				letters = false
			default:
				goto label
			}
			q++
		}
	label:
		if q == p {
			break
		}
		if digits >= 5 && p < digitLabel {
			digitLabel = p
		}
		if labels++; labels >= 2 && letters && q-p >= 2 {
			end = q
		}
		if q+1 < len(v) && v[q] == '.' {
			p = q + 1
			continue
		}
		break
	}
	if digitLabel >= end {
		dst = append(dst, v[at:end]...) // the common case
	} else {
		for p := at; p < end; {
			q := p + 1
			for q < end && v[q] != '.' {
				q++
			}
			label := v[p:q] // with the '@' or '.' before it
			digits := 0
			for _, c := range label {
				if isDigitASCII(c) {
					digits++
				}
			}
			dst = append(dst, label[0])
			for _, c := range label[1:] {
				if digits >= 5 && isAlnumASCII(c) {
					c = maskRune
				}
				dst = append(dst, c)
			}
			p = q
		}
	}
	if rest := v[end:]; len(rest) > 0 {
		dst = maskRange(dst, rest, keep{}, countSignificant(rest))
	}
	return dst
}

// simpleDomain reports whether d is a domain and nothing more: letters,
// digits, '-' and '.', fewer than five digits in all, a top-level domain
// of two letters or more after a '.'. (On every e-mail the role masks:
// one table lookup a byte.)
func simpleDomain(d []byte) bool {
	// Without a branch a byte (the dots fall anywhere): bad collects a
	// byte of no domain and an empty label (a dot first or after a dot),
	// tld is whether no digit or '-' follows the last dot, dot is where
	// that dot is.
	var bad, digits uint
	tld, prevDot, dot := uint(1), uint(1), -1
	for i, c := range d {
		f := uint(domainFlags[c])
		isDot := f >> 3 & 1
		bad |= f&1 | isDot&prevDot
		digits += f >> 1 & 1
		tld = isDot | tld&^(f>>2&1)
		prevDot = isDot
		if isDot != 0 {
			dot = i
		}
	}
	return bad == 0 && tld != 0 && digits < 5 && dot > 0 && len(d)-dot > 2
}

// domainFlags has, per byte, what simpleDomain counts: 1 for a byte that is
// not a letter, a digit, '-' or '.', 2 for a digit, 4 for a digit or '-'
// (no top-level domain has them), 8 for '.'.
var domainFlags = func() (t [256]uint8) {
	for c := range t {
		switch domainClass[c] {
		case dcOther:
			t[c] = 1
		case dcDigit:
			t[c] = 2 | 4
		case dcHyphen:
			t[c] = 4
		case dcDot:
			t[c] = 8
		}
	}
	return t
}()

const (
	dcOther = iota
	dcLetter
	dcDigit
	dcHyphen
	dcDot
)

var domainClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = dcLetter, dcLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = dcDigit
	}
	t['-'], t['.'] = dcHyphen, dcDot
	return t
}()

// maskName keeps the first character of each word: 张三 → 张*,
// Zhang San → Z**** S**.
func maskName(dst, v []byte) []byte {
	if !nameHasSeparator(v) {
		// One word, the common case (张三, 欧阳娜娜): its first character
		// when it has two or more, then a '*' for each of the others.
		if hanOnly(v) && len(v) >= 6 {
			return maskHan(dst, v)
		}
		n := utf8.RuneCountInString(view(v))
		if n >= 2 && significantAt(v, 0) && twoSignificant(v) {
			_, w := utf8.DecodeRune(v)
			dst = append(dst, v[:w]...)
			n--
		}
		for ; n > len(stars); n -= len(stars) {
			dst = append(dst, stars...)
		}
		return append(dst, stars[:n]...)
	}
	return maskNameWords(dst, v)
}

// maskNameWords is maskName for any name, word by word.
func maskNameWords(dst, v []byte) []byte {
	shown, budget := 0, countSignificant(v)/2
	start := true
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		sep := r == ' ' || r == 0x3000 || r == '.' || r == 0xB7 || r == '-'
		switch {
		case sep:
			dst = append(dst, v[i:i+w]...)
			start = true
		case start && shown < budget && significant(r):
			dst = append(dst, v[i:i+w]...)
			shown++
			start = false
		default:
			dst = append(dst, maskRune)
			start = false
		}
		i += w
	}
	return dst
}

// nameHasSeparator reports whether v may hold a separator between the
// words of a name: ' ', '.', '-', or the lead byte of U+00B7 (·) or of
// U+3000 (the ideographic space; its lead byte 0xE3 also starts kana, which
// then take the general path).
func nameHasSeparator(v []byte) bool {
	for _, c := range v {
		switch c {
		case ' ', '.', '-', 0xC2, 0xE3:
			return true
		}
	}
	return false
}

// maskAddress keeps the administrative divisions at the start, up to the
// last 省/市/区/县/旗/州/盟 within the first half (北京市朝阳区****), and
// hides the rest: street, building, room.
func maskAddress(dst, v []byte) []byte {
	n := countSignificant(v) // spaces and commas are not half of an address
	keepN, idx := 0, 0
	if startsWithProvince(v) {
		// Only an address that starts with its province (or
		// municipality, or region) keeps its divisions, and only while
		// they are Chinese characters: "张三 13812345678 北京市…"
		// keeps nothing.
		for i := 0; i < len(v) && idx < n/2; {
			r, w := utf8.DecodeRune(v[i:])
			if !unicode.Is(unicode.Han, r) {
				break
			}
			idx++
			switch r {
			case '省', '市', '区', '县', '旗', '州', '盟':
				keepN = idx
			}
			i += w
		}
	}
	idx = 0
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		switch {
		case idx < keepN, r == ' ', r == ',':
			dst = append(dst, v[i:i+w]...)
		default:
			dst = append(dst, maskRune)
		}
		idx++
		i += w
	}
	return dst
}

// provinces are the provincial-level divisions' short names (GB/T 2260).
var provinces = []string{"北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
	"安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃",
	"青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门"}

func startsWithProvince(v []byte) bool {
	for _, p := range provinces {
		if bytes.HasPrefix(v, []byte(p)) {
			return true
		}
	}
	return false
}

// maskIP keeps the network half: 192.168.*.*, 2001:db8:*:*:*:*:*:*.
func maskIP(dst, v []byte) []byte {
	if a, ok := parseIP(v); ok && a.Is6() && !a.Is4In6() {
		// From the parsed address, whatever its spelling: :: would
		// tell which groups are zero.
		b := a.As16()
		for g := 0; g < 2; g++ {
			dst = strconv.AppendUint(dst, uint64(b[2*g])<<8|uint64(b[2*g+1]), 16)
			dst = append(dst, ':')
		}
		return append(dst, "*:*:*:*:*:*"...)
	}
	// Separators may be full-width (parseIP folds them, as the
	// detectors do): 192．168．*．*.
	sep := '.'
	if bytes.IndexByte(v, ':') >= 0 || bytes.Contains(v, []byte("：")) {
		sep = ':'
	}
	seen := 0
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		switch f := fold(r); {
		case f == sep:
			seen++
			dst = append(dst, v[i:i+w]...)
		case seen >= 2 && f != ':' && f != '.':
			dst = append(dst, maskRune)
		default:
			dst = append(dst, v[i:i+w]...)
		}
		i += w
	}
	return dst
}

// maskPlate keeps the province and the issuing office: 京A·*****.
func maskPlate(dst, v []byte) []byte {
	idx := 0
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		switch {
		case idx < 2 || r == 0xB7 || r == '-' || r == ' ':
			dst = append(dst, v[i:i+w]...)
		default:
			dst = append(dst, maskRune)
		}
		if r != 0xB7 && r != '-' && r != ' ' {
			idx++
		}
		i += w
	}
	return dst
}
