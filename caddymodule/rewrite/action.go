package rewrite

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"net/netip"
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
}

func newActor(table *config.Table, hashKey []byte, tok Tokenizer) *actor {
	a := &actor{table: table, tokenizer: tok}
	for t := range maskKeep {
		if _, custom := table.Mask(detectors.Type(t)); maskKeep[t].conventional && !custom {
			a.conventional |= 1 << t
		}
	}
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
	switch act {
	case config.Plain:
		return append(dst, value...), nil
	case config.Mask:
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
	switch t {
	case detectors.Email:
		for _, c := range v {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
		return dst
	case detectors.PersonName, detectors.Address, detectors.BirthDate:
		return append(dst, v...)
	case detectors.IPAddress:
		// The separators are the address: 192.168.1.10 is not
		// 19.216.81.10. An address's one spelling, or the value as
		// written when it does not parse.
		folded := make([]byte, 0, len(v))
		for i := 0; i < len(v); {
			r, w := utf8.DecodeRune(v[i:])
			folded = utf8.AppendRune(folded, fold(r)) // full-width forms, as everywhere
			i += w
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(string(folded))); err == nil {
			return a.Unmap().AppendTo(dst) // ::ffff:192.168.1.10 is 192.168.1.10
		}
		return append(dst, v...)
	}
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		i += w
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			dst = append(dst, byte(r))
		case r >= 'a' && r <= 'z':
			dst = append(dst, byte(r-'a'+'A'))
		case r >= utf8.RuneSelf && !(r == 0x3000 || r == 0xB7):
			dst = utf8.AppendRune(dst, r)
		}
	}
	if t == detectors.CNMobile || t == detectors.CNLandline {
		switch {
		case len(dst) == 15 && string(dst[:4]) == "0086":
			dst = dst[4:]
		case len(dst) == 13 && string(dst[:2]) == "86":
			dst = dst[2:]
		}
	}
	return dst
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
	switch t {
	case detectors.Email:
		return a.maskEmail(dst, v)
	case detectors.PersonName:
		return maskName(dst, v)
	case detectors.Address:
		return maskAddress(dst, v)
	case detectors.IPAddress:
		return maskIP(dst, v)
	case detectors.CNLicensePlate:
		return maskPlate(dst, v)
	}
	if a.conventional&(1<<(uint(t)&63)) != 0 {
		if k, ok := digitsOnly(t, v); ok {
			// The common case: a mobile, ID or card number as plain
			// digits, under the national convention.
			return maskDigits(dst, v, k)
		}
	}
	spec, custom := a.table.Mask(t)
	skip, n := prefixAndCount(t, v)
	var k keep
	switch {
	case custom:
		k = halve(keep{spec.KeepFirst, spec.KeepLast}, n)
	case int(t) < len(maskKeep) && maskKeep[t].set:
		k = maskKeep[t].keep
		if !maskKeep[t].conventional || !canonicalLength(t, n) {
			k = halve(k, n)
		}
	default:
		k = halve(keep{n / 4, n / 4}, n)
	}
	dst = append(dst, v[:skip]...)
	return maskRange(dst, v[skip:], k, n)
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
	case v[0] == '+' && len(v) >= 3 && isDigitASCII(v[1]) && isDigitASCII(v[2]):
		return 3, n - 2
	case n == 15 && len(v) >= 4 && string(v[:4]) == "0086":
		return 4, n - 4
	case n == 13 && string(v[:2]) == "86":
		return 2, n - 2
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
	case i > 0 && digits >= 2:
		return i + digitsWidth(v[i:], 2)
	case n == 15 && digits == 4 && string(v[:4]) == "0086":
		return 4
	case n == 13 && digits >= 2 && string(v[:2]) == "86":
		return 2
	}
	return 0
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
		// Any other letter or digit: a number in Chinese numerals
		// (一三八…), Arabic-Indic or mathematical digits is as much the
		// value as in ASCII.
		r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsNumber(r))
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
		first = halve(keep{spec.KeepFirst, 0}, utf8.RuneCountInString(view(v[:at]))).first
	} else if at >= 2 && (v[0] < utf8.RuneSelf || utf8.RuneCountInString(view(v[:at])) >= 2) {
		first = 1 // at least two characters before the '@'
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
	digits, dot, tld := 0, -1, true
	for i, c := range d {
		switch domainClass[c] {
		case dcLetter:
		case dcDigit:
			digits++
			tld = false
		case dcHyphen:
			tld = false
		case dcDot:
			if i == dot+1 {
				return false // an empty label (a leading dot, or "..")
			}
			dot, tld = i, true
		default:
			return false
		}
	}
	return tld && digits < 5 && dot > 0 && len(d)-dot > 2
}

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
		n := utf8.RuneCountInString(view(v))
		if n >= 2 {
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
	n := 0
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		if r != ' ' && r != 0x3000 && r != '.' && r != 0xB7 && r != '-' {
			n++
		}
		i += w
	}
	shown, budget := 0, n/2
	start := true
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		sep := r == ' ' || r == 0x3000 || r == '.' || r == 0xB7 || r == '-'
		switch {
		case sep:
			dst = append(dst, v[i:i+w]...)
			start = true
		case start && shown < budget:
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
	n := utf8.RuneCountInString(view(v))
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
	sep, limit := byte('.'), 2
	for _, c := range v {
		if c == ':' {
			sep, limit = ':', 2
			break
		}
	}
	seen := 0
	for _, c := range v {
		switch {
		case c == sep:
			seen++
			dst = append(dst, c)
		case seen >= limit && c != ':' && c != '.':
			dst = append(dst, maskRune)
		default:
			dst = append(dst, c)
		}
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
