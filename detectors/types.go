// Package detectors decides what counts as personal data in customer-service
// text: content detectors (a single-pass scanner with checksum, numbering-plan
// and date validation plus context words), normalisation of full-width forms,
// the field-name classifier and the vocabulary of entity types.
//
// Offsets are UTF-8 byte offsets into the original text, end exclusive.
// Nothing in this package imports Caddy.
package detectors

import (
	"fmt"
	"strings"
	"sync"
)

// Type is an entity type. The built-in types have fixed values; admin-defined
// custom types ("custom:<name>") are interned by ParseType and get values
// above those of the built-in ones.
type Type uint16

// The built-in entity types. Their String forms are the canonical names used
// in configuration, flow logs, metrics and the command line.
const (
	Unknown        Type = iota
	CNResidentID        // 18-digit GB 11643 resident ID (ISO 7064 MOD 11-2), 15-digit legacy with context
	CNMobile            // mainland mobile number (numbering plan from libphonenumber)
	CNLandline          // mainland fixed line with area code, 400/800 service numbers
	BankCard            // payment card number: Luhn, known IIN range and length
	Email               // e-mail address
	IPAddress           // IPv4 or IPv6 address
	HKID                // Hong Kong identity card number with check digit
	TWID                // Taiwan national ID with check digit
	CNPassport          // PRC passport number (with context)
	CNLicensePlate      // mainland vehicle licence plate
	IntlPhone           // international phone number in E.164 form with "+"
	IBAN                // International Bank Account Number (mod 97)
	PersonName          // field-only: a person's name
	Address             // field-only: a postal address
	BirthDate           // field-only: a date of birth
	numBuiltin
)

// NumBuiltin is one more than the largest built-in type: tables indexed
// by type have this length.
const NumBuiltin = int(numBuiltin)

// CustomPrefix starts the name of every admin-defined entity type.
const CustomPrefix = "custom:"

// maxCustomTypes bounds the intern table so a stream of config reloads with
// ever-new names cannot grow it without limit.
const maxCustomTypes = 4096

var builtinNames = [numBuiltin]string{
	Unknown:        "unknown",
	CNResidentID:   "cn_resident_id",
	CNMobile:       "cn_mobile",
	CNLandline:     "cn_landline",
	BankCard:       "bank_card",
	Email:          "email",
	IPAddress:      "ip_address",
	HKID:           "hk_id",
	TWID:           "tw_id",
	CNPassport:     "cn_passport",
	CNLicensePlate: "cn_license_plate",
	IntlPhone:      "intl_phone",
	IBAN:           "iban",
	PersonName:     "person_name",
	Address:        "address",
	BirthDate:      "birth_date",
}

var custom struct {
	sync.RWMutex
	names []string
	ids   map[string]Type
}

// String returns the canonical name of t.
func (t Type) String() string {
	if t < numBuiltin {
		return builtinNames[t]
	}
	custom.RLock()
	defer custom.RUnlock()
	if i := int(t - numBuiltin); i < len(custom.names) {
		return custom.names[i]
	}
	return fmt.Sprintf("type(%d)", uint16(t))
}

// IsCustom reports whether t is an admin-defined type.
func (t Type) IsCustom() bool { return t >= numBuiltin }

// FieldOnly reports whether t is found only through field rules and key
// names, never by scanning content.
func (t Type) FieldOnly() bool { return t == PersonName || t == Address || t == BirthDate }

// Builtin returns the built-in entity types in their canonical order.
func Builtin() []Type {
	ts := make([]Type, 0, numBuiltin-1)
	for t := Type(1); t < numBuiltin; t++ {
		ts = append(ts, t)
	}
	return ts
}

// ParseType returns the type named name: a built-in name or "custom:<name>",
// where <name> is 1–64 characters of [a-z0-9_]. Custom names are interned, so
// the same name always yields the same Type within a process.
func ParseType(name string) (Type, error) {
	for t := Type(1); t < numBuiltin; t++ {
		if builtinNames[t] == name {
			return t, nil
		}
	}
	rest, ok := strings.CutPrefix(name, CustomPrefix)
	if !ok {
		return Unknown, fmt.Errorf("unknown entity type %q", name)
	}
	if err := checkCustomName(rest); err != nil {
		return Unknown, fmt.Errorf("entity type %q: %w", name, err)
	}
	custom.RLock()
	t, ok := custom.ids[name]
	custom.RUnlock()
	if ok {
		return t, nil
	}
	custom.Lock()
	defer custom.Unlock()
	if t, ok := custom.ids[name]; ok {
		return t, nil
	}
	if len(custom.names) >= maxCustomTypes {
		return Unknown, fmt.Errorf("entity type %q: too many custom types (limit %d)", name, maxCustomTypes)
	}
	if custom.ids == nil {
		custom.ids = make(map[string]Type)
	}
	t = numBuiltin + Type(len(custom.names))
	custom.names = append(custom.names, name)
	custom.ids[name] = t
	return t, nil
}

func checkCustomName(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("custom name must be 1 to 64 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("custom name may contain only a-z, 0-9 and _, not %q", c)
		}
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler with the canonical name.
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler via ParseType.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
