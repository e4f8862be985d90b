package detectors

// Numbers: phone numbers, resident IDs and card numbers are written as one
// run of digits or as groups ("138 1234 5678", "6222-0263-3741-7020",
// "(010) 8888 6666", "+86 138 1234 5678", "110101 19900307 123X"). The
// scanner collects the runs of a number, then tries its interpretations
// from the longest down, so "021-12345678-123" is a landline with an
// extension and "13812345678 13912345678" two mobiles.

// Confidence levels: a value that passes a strong check alone, a value whose
// check is weak (a numbering plan, a range), and either with a context word.
const (
	confStrong    = 0.9
	confPlan      = 0.85
	confWeak      = 0.7
	confInContext = 0.97
)

// number handles a word of digits (or digits ending in an X check
// character) at st.w and returns where scanning resumes.
func (st *scan) number() int {
	s := st.s
	w := &st.w
	if w.n > 19 {
		return w.end // longer than any number we look for; nothing matches inside it
	}
	if w.nl == 0 && w.n <= 3 && w.end < len(s) && s[w.end] == '.' && s[w.start] < 0x80 {
		if end, ok := st.ipv4(w.start); ok {
			return end
		}
	}
	if w.n < 8 && !groupGoesOn(s, w.end) && !(w.n == 4 && string(w.c[:4]) == "0086" && w.end < len(s) && s[w.end] == '(') {
		return w.end // a short number on its own: an amount, a date part, a time
	}

	k := 1
	st.setRun(0, w, w.start, w.end, 0)
	bracketed := false
	if w.start > 0 && (s[w.start-1] == '(' || s[w.start-1] == 0x88) && w.end < len(s) {
		c, bw := decodeBefore(s, w.start)
		if c != '(' {
			goto group
		}
		if c2, aw := decode(s, w.end); c2 == ')' {
			st.runs[0].start -= bw
			st.runs[0].end += aw
			bracketed = true
		}
	}
group:
	for pos := st.runs[0].end; k < maxRuns && !st.runs[k-1].x && pos < len(s); {
		p := pos
		c, cw := decode(s, p)
		sep := c == ' ' || c == '-'
		if sep {
			if p += cw; p >= len(s) {
				break
			}
			c, cw = decode(s, p)
		}
		open := 0
		if c == '(' {
			open = cw
			if p += cw; p >= len(s) {
				break
			}
			c, _ = decode(s, p)
		}
		if !isDigit(c) || !sep && open == 0 && !bracketed {
			break
		}
		readWord(s, p, w)
		if w.n > 19 || w.nl > 0 && !(w.nl == 1 && (w.c[w.n-1] == 'X' || w.c[w.n-1] == 'x')) {
			break
		}
		end := w.end
		if open > 0 {
			c2, aw := byte(cOther), 0
			if end < len(s) {
				c2, aw = decode(s, end)
			}
			if c2 != ')' {
				break
			}
			end += aw
		}
		st.setRun(k, w, p-open, end, st.runs[k-1].d1)
		k++
		pos = end
		bracketed = open > 0
	}

	if st.runs[k-1].d1 < 8 {
		return st.runs[k-1].end // too short for any number we look for
	}

	// A '+' makes the number international; a number right after "1." or
	// before ".5" or "@" is part of a decimal, a version or an address.
	first, last := st.runs[0], st.runs[k-1]
	plusAt := -1
	prefixOK := true
	if c, bw := decodeBefore(s, first.start); c == '+' {
		plusAt = first.start - bw
	} else if c == '.' {
		// After "1." a decimal or a version; after a letter ("qq.com.
		// 13987654321", a file name) a number all the same.
		d, _ := decodeBefore(s, first.start-bw)
		prefixOK = !isDigit(d)
	}
	suffixOK := true
	if last.end < len(s) {
		switch c, aw := decode(s, last.end); c {
		case '@':
			suffixOK = false
		case '.':
			suffixOK = last.end+aw >= len(s) || !isDigit(s[last.end+aw])
		}
	}

	matchedBefore := false
	for a := 0; a < k; {
		matched := false
		for b := k; b > a && (a > 0 || prefixOK); b-- {
			// After an unmatched run only a complete single run may start a
			// match: the tail of a longer number written in groups is not
			// a number of its own.
			if a > 0 && !matchedBefore && b != a+1 || b == k && !suffixOK {
				continue
			}
			// Nor may a grouped match stop where the next group goes on in
			// the same pattern ("138 1234 5678 9012").
			if b < k && b-a > 1 && st.runs[b].len() == st.runs[b-1].len() {
				continue
			}
			// Every number we look for is 10 digits or more (8 after a
			// '+'), and its inner groups have 3 digits or more: this rules
			// out dates, times and amounts at once.
			// (0086, the international prefix written out, is followed
			// by an area code of two digits as "+86" is: 0086 10 …)
			intl := a == 0 && plusAt >= 0 || st.runs[a].len() == 4 && string(st.dig[st.runs[a].d0:st.runs[a].d1]) == "0086"
			if n := st.runs[b-1].d1 - st.runs[a].d0; n < 8 || n < 10 && !intl || b-a > 2 && !intl && shortGroup(st.runs[a+1:b-1]) {
				continue
			}
			at := -1
			if a == 0 {
				at = plusAt
			}
			if st.classify(a, b, k, at) {
				a, matched = b, true
				break
			}
		}
		matchedBefore = matched
		if !matched {
			a++
		}
	}
	return last.end
}

// groupGoesOn reports whether the number ending at i may continue with
// another group: a separator or a closing bracket follows.
func groupGoesOn(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	switch s[i] {
	case ' ', '-', ')':
		return i+1 < len(s)
	case 0xEF, 0xE3, 0xE2, 0xC2: // full-width forms, ideographic, zero-width and no-break spaces, dashes
		c, _ := decode(s, i)
		return c == ' ' || c == '-' || c == ')'
	}
	return false
}

// shortGroup reports whether runs (the inner groups of a number) hold a
// group of one or two digits: a date or a time, not a phone, ID or card
// number, whose first group may be a country code and whose last group may
// be short (6222-0263-3741-7020-8).
func shortGroup(rs []run) bool {
	for _, r := range rs {
		if r.len() < 3 {
			return true
		}
	}
	return false
}

// setRun makes st.runs[k] the digits of w, stored in st.dig from off on.
func (st *scan) setRun(k int, w *word, start, end, off int) {
	r := &st.runs[k]
	r.start, r.end, r.d0, r.d1 = start, end, off, off+w.n
	d := st.dig[off : off+w.n]
	for i := range d {
		d[i] = w.c[i]
	}
	r.x = false
	if last := d[len(d)-1]; last == 'X' || last == 'x' {
		d[len(d)-1], r.x = 'X', true
	}
}

func (r run) len() int { return r.d1 - r.d0 }

// classify tries runs [a, b) of k as one number and emits it when it is one.
// plusAt is the offset of a leading '+', or -1.
func (st *scan) classify(a, b, k, plusAt int) bool {
	rs := st.runs[a:b]
	first, last := rs[0], rs[len(rs)-1]
	d := st.dig[first.d0:last.d1]
	start, end := first.start, last.end
	single := len(rs) == 1
	whole := b == k || single // a card or ID must not stop inside a grouped number

	if plusAt >= 0 {
		if !last.x {
			if len(d) > 2 && d[0] == '8' && d[1] == '6' {
				nat := d[2:]
				if nat[0] == '0' {
					nat = nat[1:] // "+86 (0)10 …", "+86 010 …"
				}
				switch {
				case isCNMobile(nat):
					return st.found(CNMobile, plusAt, end, confStrong)
				case isCNFixed(nat):
					return st.found(CNLandline, plusAt, end, confStrong)
				}
			} else if isIntlPhone(d) {
				return st.found(IntlPhone, plusAt, end, confPlan)
			}
		}
		// Not a number of any country's plan: the '+' is form data's
		// space ("call+me+at+13812345678", "手机+13812345678" once its
		// percent-escapes are decoded) or a stray one, and the digits
		// after it are read as a number of their own.
		if st.runs[b-1].d1-st.runs[a].d0 < 10 {
			return false
		}
		plusAt = -1
	}
	if last.x {
		return len(d) == 18 && whole && idGrouping(rs) && validResident18(d) &&
			st.found(CNResidentID, start, end, confStrong)
	}

	n := len(d)
	switch {
	case n == 11 && d[0] == '1':
		return phoneGrouping(rs) && isCNMobile(d) && st.found(CNMobile, start, end, confPlan)
	case n == 13 && d[0] == '8' && d[1] == '6' && (single || rs[0].len() == 2 && phoneGrouping(rs[1:])):
		return isCNMobile(d[2:]) && st.found(CNMobile, start, end, confStrong)
	case n >= 13 && n <= 16 && string(d[:4]) == "0086" && (single || rs[0].len() == 4):
		// The international prefix written out: a mobile, or a landline
		// (its area code without the trunk 0, or with it in brackets).
		nat := d[4:]
		if nat[0] == '0' {
			nat = nat[1:]
		}
		groups := rs[1:]
		if len(groups) > 1 && groups[0].len() == 1 {
			groups = groups[1:] // the trunk 0 in its brackets: 0086 (0)10 …
		}
		switch {
		case isCNMobile(nat) && (single || phoneGrouping(groups)):
			return st.found(CNMobile, start, end, confStrong)
		case isCNFixed(nat) && (single || intlLandlineGrouping(groups)):
			return st.found(CNLandline, start, end, confStrong)
		}
	case d[0] == '0':
		return n >= 10 && n <= 12 && landlineGrouping(rs) && isCNFixed(d[1:]) &&
			st.found(CNLandline, start, end, confWeak)
	case n == 10:
		return serviceGrouping(rs) && isCNService(d) && st.found(CNLandline, start, end, confWeak)
	}
	if !whole {
		return false
	}
	if n == 18 && idGrouping(rs) && validResident18(d) {
		return st.found(CNResidentID, start, end, confStrong)
	}
	card := n >= 12 && n <= 19 && cardGrouping(rs) && validCard(d)
	// A 15-digit legacy ID is only a date and a region: without a context
	// word it is as likely an order number, and an Amex number may look
	// like one: the nearer context word decides.
	if n == 15 && (single || lens(rs, 6, 6, 3)) && validResident15(d) {
		if dist := contextDistance(st.s, start, end, CNResidentID); dist >= 0 {
			if c := contextDistance(st.s, start, end, BankCard); card && c >= 0 && c < dist {
				return st.found(BankCard, start, end, confInContext)
			}
			return st.found(CNResidentID, start, end, confInContext)
		}
	}
	if card {
		// Cards of the rare lengths, and numbers laid out like a resident
		// ID that failed the ID checks, are far more often order numbers
		// and bad IDs that pass Luhn by chance (one in ten does): only a
		// context word makes them cards.
		common := n == 14 || n == 15 || n == 16 || n == 19
		if (!common || idShaped(d)) && !hasContext(st.s, start, end, BankCard) {
			return false
		}
		return st.found(BankCard, start, end, confPlan)
	}
	return false
}

// idShaped reports whether an 18- or 15-digit number is laid out like a
// resident ID: a region, then something like a date (look-alikes with an
// unknown province or an impossible date such as the 32nd count too).
func idShaped(d []byte) bool {
	var y, m, day int
	switch len(d) {
	case 18:
		y, m, day = num(d[6:10]), num(d[10:12]), num(d[12:14])
	case 15:
		y, m, day = 1900+num(d[6:8]), num(d[8:10]), num(d[10:12])
	default:
		return false
	}
	return d[0] >= '1' && d[0] <= '8' && y >= 1900 && y < 2100 && m <= 19 && day <= 39
}

// found emits a finding of t, raising its confidence when a context word is
// near, and reports true: the span is consumed even when t is not enabled,
// so that its parts are not reported as something else.
func (st *scan) found(t Type, start, end int, conf float32) bool {
	if !st.sc.enabled[t] {
		return true
	}
	if conf < confInContext && !st.sc.noConfidence && hasContext(st.s, start, end, t) {
		conf = confInContext
	}
	st.emit(t, start, end, conf)
	return true
}

// lens reports whether the runs have exactly the given digit counts.
func lens(rs []run, want ...int) bool {
	if len(rs) != len(want) {
		return false
	}
	for i, r := range rs {
		if r.len() != want[i] {
			return false
		}
	}
	return true
}

// phoneGrouping accepts 11 digits as one run or as up to three groups of at
// least three digits (138 1234 5678, 138-12345678).
func phoneGrouping(rs []run) bool {
	if len(rs) > 3 {
		return false
	}
	for _, r := range rs {
		if r.len() < 3 {
			return false
		}
	}
	return true
}

// landlineGrouping accepts an area code and subscriber number written
// together, apart (025 66654259, (010)8888-6666) or with the subscriber
// number in two groups.
// intlLandlineGrouping accepts a landline after its country code as one
// run or as area code and number (10 12345678, 755 1234 5678).
func intlLandlineGrouping(rs []run) bool {
	switch len(rs) {
	case 1:
		return true
	case 2:
		return rs[0].len() >= 2 && rs[0].len() <= 4 && rs[1].len() >= 7 && rs[1].len() <= 8
	case 3:
		return rs[0].len() >= 2 && rs[0].len() <= 4 && rs[1].len() >= 3 && rs[1].len() <= 4 && rs[2].len() == 4
	}
	return false
}

func landlineGrouping(rs []run) bool {
	switch len(rs) {
	case 1:
		return true
	case 2:
		return rs[0].len() >= 3 && rs[0].len() <= 4 && rs[1].len() >= 7 && rs[1].len() <= 8
	case 3:
		return rs[0].len() >= 3 && rs[0].len() <= 4 && rs[1].len() >= 3 && rs[1].len() <= 4 && rs[2].len() == 4
	}
	return false
}

// serviceGrouping accepts 400/800 numbers as 4008208820, 400-820-8820,
// 4008-820-820 or 400 8208820.
func serviceGrouping(rs []run) bool { return phoneGrouping(rs) }

// idGrouping accepts a resident ID as one run or as region, birth date and
// sequence (110101 19900307 123X, 110101 1990 0307 123X).
func idGrouping(rs []run) bool {
	return len(rs) == 1 || lens(rs, 6, 8, 4) || lens(rs, 6, 4, 4, 4)
}

// cardGrouping accepts a card number as one run, in groups of four with a
// shorter last group, or as Amex/Diners print it (4-6-5, 4-6-4).
func cardGrouping(rs []run) bool {
	if len(rs) == 1 {
		return true
	}
	if lens(rs, 4, 6, 5) || lens(rs, 4, 6, 4) {
		return true
	}
	if len(rs) < 3 {
		return false
	}
	for _, r := range rs[:len(rs)-1] {
		if r.len() != 4 {
			return false
		}
	}
	return rs[len(rs)-1].len() <= 4
}
