package detectorstest

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// oracle is a slow, context-free reference scanner used only by the tests:
// it reports every value of the strong types (all but legacy resident IDs and
// passports, which need context) that the validators accept, with the span
// the labelling conventions give it. Where candidates overlap, the longest
// wins, so "+86 138 1234 5678" is one mobile and a grouped card is not read
// as the mobile number some of its groups happen to form.
func oracle(text string) []Span {
	norm, offs := narrow(text)
	var cands []Span
	add := func(typ string, start, end int) { cands = append(cands, Span{typ, start, end}) }

	atoms := alnumRuns(norm)
	for i := range atoms {
		var sb strings.Builder
		for j := i; j < len(atoms) && j < i+9; j++ {
			if j > i {
				if gap := norm[atoms[j-1][1]:atoms[j][0]]; gap != " " && gap != "-" {
					break
				}
			}
			sb.WriteString(norm[atoms[j][0]:atoms[j][1]])
			for _, typ := range classify(sb.String(), j > i) {
				add(typ, atoms[i][0], atoms[j][1])
			}
		}
		a := atoms[i]
		// HK ID with the check character in brackets.
		if end := a[1] + 3; end <= len(norm) && norm[a[1]] == '(' && norm[a[1]+2] == ')' {
			if ValidHKID(norm[a[0]:end]) {
				add("hk_id", a[0], end)
			}
		}
		// Licence plate: a province character right before the run.
		if r, size := utf8.DecodeLastRuneInString(norm[:a[0]]); strings.ContainsRune(plateProvinces, r) {
			end := a[1]
			if a[1]-a[0] == 1 && strings.HasPrefix(norm[a[1]:], "·") && i+1 < len(atoms) && atoms[i+1][0] == a[1]+len("·") {
				end = atoms[i+1][1]
			}
			if ValidPlate(norm[a[0]-size : end]) {
				add("cn_license_plate", a[0]-size, end)
			}
		}
	}
	for i := 0; i < len(norm); i++ {
		if norm[i] == '+' && (i == 0 || !isAlnum(norm[i-1])) {
			if typ, end := phoneAt(norm, i); end > 0 {
				add(typ, i, end)
			}
		}
	}
	for _, m := range emailRE.FindAllStringIndex(norm, -1) {
		if ValidEmail(norm[m[0]:m[1]]) {
			add("email", m[0], m[1])
		}
	}
	for _, m := range ipRE.FindAllStringIndex(norm, -1) {
		if (m[0] == 0 || !isAlnum(norm[m[0]-1])) && (m[1] == len(norm) || !isAlnum(norm[m[1]])) {
			s := strings.TrimRight(norm[m[0]:m[1]], ".")
			if ValidIP(s) && (strings.Count(s, ".") == 3 || strings.Contains(s, ":")) {
				add("ip_address", m[0], m[0]+len(s))
			}
		}
	}

	sort.SliceStable(cands, func(i, j int) bool {
		li, lj := cands[i].End-cands[i].Start, cands[j].End-cands[j].Start
		if li != lj {
			return li > lj
		}
		return cands[i].Start < cands[j].Start
	})
	var kept []Span
	for _, c := range cands {
		overlaps := false
		for _, k := range kept {
			if c.Start < k.End && k.Start < c.End {
				overlaps = true
				break
			}
		}
		if !overlaps {
			kept = append(kept, c)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Start < kept[j].Start })
	for i := range kept {
		kept[i].Start, kept[i].End = offs[kept[i].Start], offs[kept[i].End]
	}
	return kept
}

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	ipRE    = regexp.MustCompile(`[0-9A-Fa-f:.]+`)
)

// narrow converts full-width digits, letters and brackets to ASCII and
// returns the result with, for each of its byte offsets (and its length), the
// offset in text it came from.
func narrow(text string) (string, []int) {
	var b strings.Builder
	offs := make([]int, 0, len(text)+1)
	for i, r := range text {
		if r >= 0xFF10 && r <= 0xFF19 || r >= 0xFF21 && r <= 0xFF3A || r >= 0xFF41 && r <= 0xFF5A || r == 0xFF08 || r == 0xFF09 {
			b.WriteByte(byte(r - 0xFEE0))
			offs = append(offs, i)
			continue
		}
		n := utf8.RuneLen(r)
		b.WriteRune(r)
		for k := range n {
			offs = append(offs, i+k)
		}
	}
	offs = append(offs, len(text))
	return b.String(), offs
}

// alnumRuns returns the [start, end) of every maximal run of ASCII letters
// and digits.
func alnumRuns(s string) [][2]int {
	var runs [][2]int
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		runs = append(runs, [2]int{i, j})
		i = j
	}
	return runs
}

// classify returns the types s, a run of letters and digits (grouped if it
// was written in several groups), is valid as.
func classify(s string, grouped bool) []string {
	var types []string
	if ValidResidentID(s) {
		types = append(types, "cn_resident_id")
	}
	if allDigits(s) {
		if ValidMobile(stripCNPrefix(s)) {
			types = append(types, "cn_mobile")
		}
		if ValidLandline(s) {
			types = append(types, "cn_landline")
		}
		if ValidBankCard(s) {
			types = append(types, "bank_card")
		}
	}
	if !grouped && ValidTWID(s) {
		types = append(types, "tw_id")
	}
	if !grouped && ValidHKID(s) {
		types = append(types, "hk_id")
	}
	if ValidIBAN(s) {
		types = append(types, "iban")
	}
	return types
}

// phoneAt reads a number written with "+" at norm[i] and returns its type and
// end, or end 0 when no prefix of what follows is a valid number.
func phoneAt(norm string, i int) (string, int) {
	best, bestType := 0, ""
	j := i + 1
	for j < len(norm) {
		k := j
		for k < len(norm) && norm[k] >= '0' && norm[k] <= '9' {
			k++
		}
		if k == j || k < len(norm) && isLetter(norm[k]) {
			break
		}
		d := strip(norm[i:k], " -()")
		if n, err := phonenumbers.Parse(d, ""); err == nil && phonenumbers.IsValidNumber(n) {
			switch {
			case phonenumbers.GetRegionCodeForNumber(n) != "CN":
				best, bestType = k, "intl_phone"
			case ValidMobile(phonenumbers.GetNationalSignificantNumber(n)):
				best, bestType = k, "cn_mobile"
			case ValidLandline("0" + phonenumbers.GetNationalSignificantNumber(n)):
				best, bestType = k, "cn_landline"
			}
		}
		if k < len(norm) && strings.IndexByte(" -()", norm[k]) >= 0 && k+1 < len(norm) && (norm[k+1] >= '0' && norm[k+1] <= '9' || norm[k] == ')') {
			j = k + 1
			if norm[k] == ')' && norm[j] == ' ' {
				j++
			}
			continue
		}
		break
	}
	return bestType, best
}
