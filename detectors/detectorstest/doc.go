// Package detectorstest generates test data for the PII detectors: fake
// personal data with valid checksums, look-alikes that are not personal data,
// labelled texts in the style of the shared detection sample
// (../shared/corpus/sample.jsonl), a customer-service ticket corpus for
// benchmarks and helpdesk JSON for gateway tests.
//
// It is an oracle that is independent of the scanner under test: it does not
// import the detectors package, and its validators (Valid and the Valid*
// functions) are written separately from its generators, so each checks the
// other. Entity types are the canonical names of DESIGN.md as plain strings.
//
// Everything is deterministic for a seed and generated: no value is real
// personal data. Offsets in spans are UTF-8 byte offsets, end exclusive.
//
// Labelling conventions (the same as sample.jsonl):
//   - a span covers the whole value as written: separators inside numbers
//     ("138-1234-5678", "6222 0212 3456 7890"), country prefixes of mainland
//     mobiles ("+86", "+86 ", "86", "0086 "), the check digit of an HK ID with
//     its brackets ("A123456(3)"), the "·" of a licence plate, the spaces of
//     a grouped IBAN and the "+" of an international number;
//   - full-width digits and letters are labelled like ASCII ones;
//   - context words (手机, 身份证, card, …) and punctuation are outside spans;
//   - a mainland number written with +86 is cn_mobile (or cn_landline), never
//     intl_phone;
//   - weak types (15-digit legacy resident IDs, passports) are labelled only
//     next to a context word; texts never contain them without one;
//   - person names, addresses and birth dates in free text are not labelled:
//     they are field-only types, found by field rules, not by scanning text;
//   - a number that fails its checksum, date, numbering plan or length rule,
//     or that sits inside a longer run of digits or letters, is not labelled.
package detectorstest
