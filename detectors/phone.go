package detectors

import (
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// The mainland numbering plan comes from libphonenumber's metadata (through
// github.com/nyaruka/phonenumbers), so it follows the ranges the ITU and
// MIIT publish as that library updates, rather than a table kept here.
var cnPlan struct {
	once sync.Once
	// mobile classifies the first five digits 1xxxx of an 11-digit mobile
	// number: 0 not in the plan, 1 in the plan, 2 decided by the full pattern.
	mobile    [10000]uint8
	mobileRe  *digitMatcher
	fixedRe   *digitMatcher // national significant number of a fixed line
	serviceRe *digitMatcher // 400 and 800 numbers
}

func loadCNPlan() {
	cnPlan.once.Do(func() {
		var md *phonenumbers.PhoneMetadata
		coll, err := phonenumbers.MetadataCollection()
		if err != nil {
			panic("detectors: libphonenumber metadata: " + err.Error())
		}
		for _, m := range coll.GetMetadata() {
			if m.GetId() == "CN" {
				md = m
				break
			}
		}
		if md == nil {
			panic("detectors: libphonenumber metadata has no CN region")
		}
		cnPlan.mobileRe = anchored(md.GetMobile().GetNationalNumberPattern())
		cnPlan.fixedRe = anchored(md.GetFixedLine().GetNationalNumberPattern())
		// Of the toll-free and shared-cost ranges only 400 and 800 numbers
		// are written as contact numbers; 95xxx and 96xxx are short codes.
		cnPlan.serviceRe = compileDigits(`(?:` + md.GetTollFree().GetNationalNumberPattern() +
			`)|(?:` + md.GetSharedCost().GetNationalNumberPattern() + `)`)

		// Every pattern branch of the mobile plan fixes at most the first
		// five digits, so three probe suffixes per prefix classify it; a
		// prefix where they disagree falls back to the full pattern.
		var buf [11]byte
		buf[0] = '1'
		for p := 0; p < 10000; p++ {
			buf[1], buf[2], buf[3], buf[4] = byte('0'+p/1000), byte('0'+p/100%10), byte('0'+p/10%10), byte('0'+p%10)
			hits := 0
			for _, fill := range []byte{'0', '5', '9'} {
				for j := 5; j < 11; j++ {
					buf[j] = fill
				}
				if cnPlan.mobileRe.match(buf[:]) {
					hits++
				}
			}
			switch hits {
			case 3:
				cnPlan.mobile[p] = 1
			case 0:
			default:
				cnPlan.mobile[p] = 2
			}
		}
	})
}

// isCNMobile reports whether the 11 digits d are a mainland mobile number in
// the current plan.
func isCNMobile(d []byte) bool {
	if len(d) != 11 || d[0] != '1' || !allDigits(d) {
		return false
	}
	loadCNPlan()
	switch cnPlan.mobile[num(d[1:5])] {
	case 1:
		return true
	case 2:
		return cnPlan.mobileRe.match(d)
	}
	return false
}

// isCNFixed reports whether nsn (a national significant number: the area
// code without its leading 0, then the subscriber number) is a fixed line
// with a 7- or 8-digit subscriber number.
func isCNFixed(nsn []byte) bool {
	if len(nsn) < 9 || len(nsn) > 11 || nsn[0] == '0' || nsn[0] == '1' && nsn[1] != '0' {
		return false
	}
	loadCNPlan()
	return cnPlan.fixedRe.match(nsn)
}

// isCNService reports whether d is a 400 or 800 service number.
func isCNService(d []byte) bool {
	if len(d) != 10 || (d[0] != '4' && d[0] != '8') || d[1] != '0' || d[2] != '0' {
		return false
	}
	loadCNPlan()
	return cnPlan.serviceRe.match(d)
}

// matchBufs hold copies of candidates for the regexp engine, which keeps a
// reference to its input and so would move the scanner's buffers to the heap.
var matchBufs = sync.Pool{New: func() any { return new([24]byte) }}

func matchDigits(re *regexp.Regexp, d []byte) bool {
	b := matchBufs.Get().(*[24]byte)
	n := copy(b[:], d)
	ok := n == len(d) && re.Match(b[:n])
	matchBufs.Put(b)
	return ok
}

// isIntlPhone reports whether d (digits after a '+') is a valid number of
// some country other than China; for +86 the scanner uses the CN checks,
// which report cn_mobile and cn_landline. The check is libphonenumber's
// (a region's general pattern and possible lengths, then one of its number
// types), run on precompiled patterns without allocating.
func isIntlPhone(d []byte) bool {
	if len(d) < 8 || len(d) > 20 || d[0] == '0' {
		return false
	}
	for n := 1; n <= 3; n++ {
		cc := num(d[:n])
		if cc == 86 {
			return false
		}
		regions := intlRegions(cc)
		if regions == nil {
			continue
		}
		nsn := d[n:]
		for _, r := range regions {
			if r.valid(nsn) {
				return true
			}
		}
		return false // calling codes are prefix-free
	}
	return false
}

// regionPlan is one region's numbering plan, compiled.
type regionPlan struct {
	lengths uint32 // bit n: a national number of n digits is possible
	general *digitMatcher
	types   []*digitMatcher
}

func (r *regionPlan) valid(nsn []byte) bool {
	if len(nsn) >= 32 || r.lengths&(1<<len(nsn)) == 0 || !r.general.match(nsn) {
		return false
	}
	for _, t := range r.types {
		if t.match(nsn) {
			return true
		}
	}
	return false
}

var intlPlans struct {
	compiled   [1000]atomic.Pointer[[]*regionPlan] // by calling code, read without a lock
	sync.Mutex                                     // held while compiling
	known      map[int][]*phonenumbers.PhoneMetadata
}

// intlRegions returns the compiled plans of calling code cc, nil if no
// region uses it.
func intlRegions(cc int) []*regionPlan {
	if cc < 0 || cc >= len(intlPlans.compiled) {
		return nil
	}
	if p := intlPlans.compiled[cc].Load(); p != nil {
		return *p
	}
	intlPlans.Lock()
	defer intlPlans.Unlock()
	if intlPlans.known == nil {
		coll, err := phonenumbers.MetadataCollection()
		if err != nil {
			panic("detectors: libphonenumber metadata: " + err.Error())
		}
		intlPlans.known = map[int][]*phonenumbers.PhoneMetadata{}
		for _, m := range coll.GetMetadata() {
			c := int(m.GetCountryCode())
			intlPlans.known[c] = append(intlPlans.known[c], m)
		}
	}
	if p := intlPlans.compiled[cc].Load(); p != nil {
		return *p // compiled while this call waited for the lock
	}
	var plans []*regionPlan
	for _, m := range intlPlans.known[cc] {
		g := m.GetGeneralDesc()
		if g.GetNationalNumberPattern() == "" {
			continue
		}
		r := &regionPlan{general: anchored(g.GetNationalNumberPattern())}
		for _, l := range g.GetPossibleLength() {
			if l > 0 && l < 32 {
				r.lengths |= 1 << l
			}
		}
		for _, t := range []*phonenumbers.PhoneNumberDesc{
			// the common types first; any match makes the number valid
			m.GetMobile(), m.GetFixedLine(), m.GetTollFree(), m.GetPremiumRate(), m.GetSharedCost(),
			m.GetVoip(), m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail(),
		} {
			if p := t.GetNationalNumberPattern(); p != "" && p != "NA" {
				r.types = append(r.types, anchored(p))
			}
		}
		if m.GetMainCountryForCode() {
			// The main region (the US for +1) holds most numbers: try it first.
			plans = append([]*regionPlan{r}, plans...)
		} else {
			plans = append(plans, r)
		}
	}
	intlPlans.compiled[cc].Store(&plans)
	return plans
}

func anchored(p string) *digitMatcher { return compileDigits(p) }

// NationalPhoneType reports whether d, the digits of a mainland number
// in its national form (a landline with its trunk 0), is a mobile or a
// landline by the numbering plan.
func NationalPhoneType(d []byte) (Type, bool) {
	switch {
	case len(d) == 11 && d[0] == '1' && isCNMobile(d):
		return CNMobile, true
	case len(d) >= 10 && len(d) <= 12 && d[0] == '0' && isCNFixed(d[1:]):
		return CNLandline, true
	}
	return Unknown, false
}
