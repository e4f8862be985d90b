package detectorstest

import (
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// vector is one entry of ../testdata/vectors.json: a published (or
// explicitly constructed) value with the verdict the scanner must reach.
type vector struct {
	Type   string `json:"type"`
	Value  string `json:"value"`
	Valid  bool   `json:"valid"`
	Source string `json:"source"`
	Note   string `json:"note,omitempty"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatalf("vectors.json: %v", err)
	}
	return vs
}

// TestVectors checks every published vector twice: with the package's
// validator and with a check written here from the vector's own definition.
func TestVectors(t *testing.T) {
	vs := loadVectors(t)
	verdicts := map[string]map[bool]int{}
	for _, v := range vs {
		if v.Source == "" || !contentTypes[v.Type] {
			t.Errorf("vector %+v: needs a source and a content-detected type", v)
			continue
		}
		if verdicts[v.Type] == nil {
			verdicts[v.Type] = map[bool]int{}
		}
		verdicts[v.Type][v.Valid]++
		if got := Valid(v.Type, v.Value); got != v.Valid {
			t.Errorf("Valid(%s, %q) = %v, vector says %v (%s; %s)", v.Type, v.Value, got, v.Valid, v.Source, v.Note)
		}
		if got, ok := independentCheck(v); ok && got != v.Valid {
			t.Errorf("independent check of %s %q gives %v, vector says %v (%s)", v.Type, v.Value, got, v.Valid, v.Note)
		}
	}
	for typ := range contentTypes {
		if verdicts[typ][true] == 0 || verdicts[typ][false] == 0 {
			t.Errorf("type %s: %d valid and %d invalid vectors, want both", typ, verdicts[typ][true], verdicts[typ][false])
		}
	}
}

// independentCheck decides a vector without the package's validators, for
// the checksum and numbering-plan types; ok is false where it has no opinion
// of its own (format-only types, and values whose invalidity lies elsewhere
// than in the check it computes).
func independentCheck(v vector) (valid, ok bool) {
	s := strings.ReplaceAll(v.Value, " ", "")
	switch v.Type {
	case "cn_resident_id":
		if len(s) != 18 || !allDigits(s[:17]) {
			return false, len(s) != 15
		}
		if iso7064Check(s[:17]) != strings.ToUpper(s)[17] {
			return false, true
		}
		return v.Valid, false // check right: date and region decide
	case "bank_card":
		if !allDigits(s) || luhnSum(s)%10 != 0 {
			return false, true
		}
		return v.Valid, false // Luhn right: IIN and length decide
	case "cn_mobile", "cn_landline":
		n, err := phonenumbers.Parse(strings.ReplaceAll(s, "-", ""), "CN")
		if err != nil || !phonenumbers.IsValidNumberForRegion(n, "CN") {
			return false, true
		}
		typ := phonenumbers.GetNumberType(n)
		if v.Type == "cn_mobile" {
			return typ == phonenumbers.MOBILE, true
		}
		return typ != phonenumbers.MOBILE, true
	case "intl_phone":
		n, err := phonenumbers.Parse(strings.ReplaceAll(s, "-", ""), "")
		return err == nil && phonenumbers.IsValidNumber(n) && n.GetCountryCode() != 86, true
	case "hk_id":
		if m := hkRE.FindStringSubmatch(s); m != nil {
			return hkCheckTest(m[1]) == m[2], true
		}
		if len(s) == 8 && s[0] >= 'A' && s[0] <= 'Z' && allDigits(s[1:7]) {
			return hkCheckTest(s[:7]) == s[7:], true
		}
		return false, true
	case "tw_id":
		return twRE.MatchString(s) && twCheckTest(s), true
	case "iban":
		var num strings.Builder
		for _, c := range s[4:] + s[:4] {
			if c >= 'A' && c <= 'Z' {
				num.WriteString(strconv.Itoa(int(c-'A') + 10))
			} else {
				num.WriteRune(c)
			}
		}
		n, good := new(big.Int).SetString(num.String(), 10)
		if !good || new(big.Int).Mod(n, big.NewInt(97)).Int64() != 1 {
			return false, true
		}
		return v.Valid, false // mod 97 right: country length and structure decide
	}
	return false, false
}
