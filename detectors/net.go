package detectors

// E-mail and IP addresses.

// localChar reports whether c may appear in the local part of an address.
func localChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// email finds an address around the '@' at at (atw bytes: '@', or the
// full-width '＠') and returns where scanning resumes. Full-width forms
// (ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ) read as their ASCII, as everywhere in
// the detectors. What the scanner made of the local part before it saw
// the '@' (a phone number in 13812345678@qq.com) gives way to the address.
func (st *scan) email(at, atw int) int {
	s := st.s
	j, chars := at, 0
	for j > 0 && chars < 64 {
		c, w := decodeBefore(s, j)
		if !localChar(c) {
			break
		}
		j -= w
		chars++
	}
	for j < at {
		if c, w := decode(s, j); c == '.' {
			j += w
			continue
		}
		break
	}
	if j == at || j > 0 && (localCharBefore(s, j) || isWordBefore(s, j)) || localDots(s, j, at) {
		return at + atw // RFC 5322: a dot neither ends the local part nor doubles
	}
	// The domain: labels of letters, digits and '-', ending with the last
	// label of letters only (the top-level domain) after at least one
	// other; what follows it (li@qq.com.13987654321) is not the address.
	end, labels, hyphened := 0, 0, 0
	for p := at + atw; ; {
		q, n := p, 0
		var first, last byte
		letters := true
		lead, leadEnd := 0, p // the label's leading letters
		for q < len(s) && n < 63 {
			c, w := decode(s, q)
			if !isAlnum(c) && c != '-' {
				break
			}
			if n == 0 {
				first = c
			}
			if letters = letters && isLetter(c); letters {
				lead, leadEnd = lead+1, q+w
			}
			last = c
			q += w
			n++
		}
		if q == p || first == '-' {
			break
		}
		labels++
		if labels >= 2 && !letters && lead >= 2 && leadEnd < len(s) && s[leadEnd] == '-' {
			if gluedOn(s[leadEnd:q], last) {
				// A top-level domain with something glued on by a '-'
				// (example.com-13812345678, example.com-备用): the
				// address ends with it.
				end = leadEnd
				break
			}
			if hyphened == 0 {
				// A hyphenated label (uni-bonn), or a top-level domain
				// with a word glued on (example.com-office): the
				// address ends here unless a top-level domain follows.
				hyphened = leadEnd
			}
		}
		if last == '-' {
			break
		}
		if labels >= 2 && letters && n >= 2 {
			end = q
		}
		if q < len(s) {
			if c, w := decode(s, q); c == '.' && q+w < len(s) && isWordAt(s, q+w) {
				p = q + w
				continue
			}
		}
		break
	}
	if end == 0 {
		end = hyphened
	}
	if end == 0 || isWordAt(s, end) {
		return at + atw
	}
	// In a chain of addresses (a@b.cn@c.cn) this local part is the domain
	// of the address before it: one finding covers the chain, so that no
	// address is left whole next to a masked one.
	if n := len(st.out); n > st.base && st.out[n-1].Type == Email && st.out[n-1].End > j && st.out[n-1].Start < j {
		j = st.out[n-1].Start
	}
	st.dropOverlapping(j)
	st.found(Email, j, end, confStrong)
	return end
}

// gluedOn reports whether rest, what follows a label's leading letters
// from its '-' to its end, is something glued on rather than the rest of
// a hyphenated label (uni-bonn.de, my-company.com): five digits or more
// in a row, or nothing but the '-' before a character no domain holds.
func gluedOn(rest string, last byte) bool {
	if last == '-' {
		return true
	}
	run := 0
	for i := 0; i < len(rest); i++ {
		if isDigit(rest[i]) {
			if run++; run >= 5 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// localCharBefore reports whether the character ending at s[i-1] may be
// part of a local part (so one starting at i would not be whole).
func localCharBefore(s string, i int) bool {
	c, _ := decodeBefore(s, i)
	return localChar(c)
}

// localDots reports whether the local part s[j:at] ends with a dot or
// holds two in a row.
func localDots(s string, j, at int) bool {
	prevDot := false
	for i := j; i < at; {
		c, w := decode(s, i)
		if c == '.' && prevDot {
			return true
		}
		prevDot = c == '.'
		i += w
	}
	return prevDot
}

// ipv4 finds a dotted quad starting at start (ASCII digits) and reports
// where it ends. Longer dotted sequences (versions, OIDs) are not addresses.
func (st *scan) ipv4(start int) (int, bool) {
	s := st.s
	p, end := start, 0
	for part := 0; part < 4; part++ {
		q, v := p, 0
		for q < len(s) && isDigit(s[q]) && q-p < 4 {
			v = v*10 + int(s[q]-'0')
			q++
		}
		if q == p || q-p > 3 || v > 255 || q-p > 1 && s[p] == '0' {
			return 0, false
		}
		end = q
		if part < 3 {
			if q >= len(s) || s[q] != '.' {
				return 0, false
			}
			p = q + 1
		}
	}
	if isWordAt(s, end) || end+1 < len(s) && s[end] == '.' && isDigit(s[end+1]) {
		return 0, false
	}
	if c, w := decodeBefore(s, start); c == '.' && isWordBefore(s, start-w) {
		return 0, false
	}
	st.found(IPAddress, start, end, confPlan)
	return end, true
}

func isHex(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

// ipv6 finds an IPv6 address around the ':' at i and returns where scanning
// resumes.
func (st *scan) ipv6(i int) int {
	s := st.s
	if i < st.v6Until || i+1 >= len(s) || !isHex(s[i+1]) && s[i+1] != ':' {
		return i + 1 // a colon followed by a space or a letter ends no address
	}
	j := i
	for j > 0 && i-j < 40 && (isHex(s[j-1]) || s[j-1] == ':') {
		j--
	}
	k := i
	for k < len(s) && k-j < 45 && (isHex(s[k]) || s[k] == ':' || s[k] == '.') {
		k++
	}
	st.v6Until = k
	for k > i && s[k-1] == '.' {
		k--
	}
	if k-1 > i && s[k-1] == ':' && s[k-2] != ':' {
		k-- // "… 2001:db8::1: blocked"
	}
	if isWordBefore(s, j) || j > 0 && s[j-1] == '.' || isWordAt(s, k) || !validIPv6(s[j:k]) {
		return i + 1
	}
	st.dropOverlapping(j)
	st.found(IPAddress, j, k, confPlan)
	return k
}

// validIPv6 checks RFC 4291 text form: eight groups of one to four hex
// digits, one "::" standing for one or more zero groups, an optional
// dotted quad in place of the last two groups. It does not allocate, unlike
// netip.ParseAddr on invalid input.
func validIPv6(s string) bool {
	groups, gap := 0, false
	if len(s) < 2 {
		return false
	}
	i := 0
	if s[0] == ':' {
		if s[1] != ':' {
			return false
		}
		gap, i = true, 2
		if i == len(s) {
			return false // "::" alone is the unspecified address, not someone's
		}
	}
	for i < len(s) {
		q := i
		for q < len(s) && isHex(s[q]) && q-i < 5 {
			q++
		}
		if q < len(s) && s[q] == '.' {
			if groups > 6 || !validIPv4(s[i:]) {
				return false
			}
			groups += 2
			break
		}
		if q == i || q-i > 4 {
			return false
		}
		groups++
		if q == len(s) {
			break
		}
		if s[q] != ':' || q+1 == len(s) {
			return false
		}
		i = q + 1
		if s[i] == ':' {
			if gap {
				return false
			}
			gap = true
			i++
			if i == len(s) {
				break
			}
		}
	}
	if gap {
		return groups < 8
	}
	return groups == 8
}
