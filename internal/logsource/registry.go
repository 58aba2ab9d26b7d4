package logsource

// formats are the known types, in detection order: the most specific
// sniffers first. Adding a format is one entry here.
var formats = []*Format{}
