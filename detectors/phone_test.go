package detectors

import (
	"slices"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/piigate/piigate/detectors/detectorstest"
)

// isIntlPhone re-implements libphonenumber's validity check on compiled
// patterns; it must agree with the library.
func TestIntlPhoneAgreesWithLibphonenumber(t *testing.T) {
	g := detectorstest.New(99)
	var nums []string
	for i := 0; i < 300; i++ {
		e164, _ := g.IntlPhone()
		nums = append(nums, e164[1:])
	}
	for _, region := range []string{"US", "GB", "HK", "TW", "JP", "SG", "DE", "FR", "IT", "AU", "IN", "BR", "RU", "KR", "MO"} {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE} {
			if n := phonenumbers.GetExampleNumberForType(region, typ); n != nil {
				nums = append(nums, phonenumbers.Format(n, phonenumbers.E164)[1:])
			}
		}
	}
	// Corrupted variants: a digit more, a digit less, a changed digit.
	for _, n := range slices.Clone(nums) {
		nums = append(nums, n+"1", n[:len(n)-1], n[:3]+"9"+n[4:])
	}
	for _, n := range nums {
		p, err := phonenumbers.Parse("+"+n, "ZZ")
		want := err == nil && p.GetCountryCode() != 86 && phonenumbers.IsValidNumber(p)
		if got := isIntlPhone([]byte(n)); got != want {
			t.Errorf("+%s: isIntlPhone %v, libphonenumber %v", n, got, want)
		}
	}
}
