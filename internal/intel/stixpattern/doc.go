// Package stixpattern parses, validates and evaluates STIX 2.1 patterns
// (STIX 2.1 section 9, "STIX Patterning").
//
// The parser is a hand-written recursive-descent parser for the whole OASIS
// grammar (STIXPattern.g4): observation expressions joined by AND, OR and
// FOLLOWEDBY, the WITHIN, REPEATS and START/STOP qualifiers, comparison
// expressions with every operator, object paths with list indexes, "[*]"
// and quoted components, and every literal type.
//
// There are three levels of checking:
//
//   - [Parse] accepts what the grammar accepts (literals are checked too:
//     timestamps, base64, hex).
//   - [Validate] adds the semantic rules of the specification and of the
//     OASIS reference validator: hash values must fit their algorithm, a
//     qualifier type may appear only once on one bracketed observation
//     expression, WITHIN and REPEATS need positive numbers, START must be
//     before STOP. [Options.Strict] adds the naming rules for object types
//     and property names and the rule that comparisons joined by AND in one
//     observation expression name one object type.
//   - [Pattern.Match] evaluates a pattern against observed-data, following
//     the OASIS reference matcher: an evaluation problem (an unsupported
//     regular expression, a malformed timestamp in the data, a set literal
//     of mixed types, WITHIN 0) is reported as an [EvalError].
//
// [Pattern.Equalities] extracts the simple "=" and "IN" tests of a pattern
// that is only a disjunction of such tests, so that callers can index them;
// [Pattern.Inspect] gives the qualifiers, observation operators and
// comparisons of any pattern.
package stixpattern
