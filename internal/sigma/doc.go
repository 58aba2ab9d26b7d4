// Package sigma parses Sigma rules (specification v2) into an abstract syntax
// tree: rule metadata, log source, detection searches with their value
// modifiers already applied to the values, and the parsed condition.
//
// The package is pure: it reads no files and keeps no state. Callers hand it
// the bytes of one YAML file (which may hold several documents) and a name
// used in error messages. Compiling the tree into something that matches
// events is the job of package detect.
//
// Errors carry the file, the line where it is known and a reason. A rule that
// is valid Sigma but cannot be evaluated faithfully here (for example a
// regular expression that RE2 cannot express) is reported with an error that
// wraps ErrUnsupported, distinct from a malformed rule (ErrInvalid).
package sigma
