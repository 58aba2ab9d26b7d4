package vlogs

import "github.com/tarian-soc/tarian/internal/logstore/logsql"

// textFields are the fields, besides the message, that a text filter naming
// no field searches (see logsql.TextFields and logsql.TextQuery).
var textFields = logsql.TextFields
